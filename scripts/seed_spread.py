"""How much does a recipe's STS gain move with the seed and with mixed precision?

Runs ``recipes.run(objective, scale="local", seed=s, mixed_precision=m)`` for every objective,
seed and autocast mode given, and records STSb dev Spearman (all 1,500 pairs) before and after.
The seed also draws the random layers of the untuned start, so each seed is a different start.
Chapter 4 and the instructors page read the record (``sbert_teach/records/seed_spread.json``,
``shipped_records.record("seed_spread")``). Autocast works on CUDA only, so run it on a GPU::

    python scripts/seed_spread.py                          # 4 objectives x 4 seeds x (off, auto): about 12 min on an H100
    python scripts/seed_spread.py --modes fp16 --seeds 42  # the mode "auto" picks on a Colab T4 (no bf16 there)

Runs are added to the record (a run with the same objective, seed and mode replaces the old one).
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import torch

from sbert_teach import recipes

RECORD = Path(__file__).resolve().parents[1] / "sbert_teach" / "records" / "seed_spread.json"


def one_run(objective: str, seed: int, mode: str) -> dict:
    start = time.perf_counter()
    r = recipes.run(objective, scale="local", seed=seed, show_progress=False, mixed_precision=mode)
    losses = r.train.losses
    return {"objective": objective, "seed": seed, "mixed_precision": mode,
            "before": round(r.before["spearman_cosine"], 4), "after": round(r.after["spearman_cosine"], 4),
            "gain": round(r.gain, 4), "steps": len(losses), "all_losses_finite": all(map(math.isfinite, losses)),
            "seconds": round(time.perf_counter() - start, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--objectives", default=",".join(recipes.RECIPE_OBJECTIVES))
    parser.add_argument("--seeds", default="42,1,2,3")
    parser.add_argument("--modes", default="off,auto", help="mixed_precision values: off, auto (bf16), fp16")
    parser.add_argument("--output", type=Path, default=RECORD)
    args = parser.parse_args()
    record = json.loads(args.output.read_text()) if args.output.exists() else {"runs": []}
    if torch.cuda.is_available():
        record["device"] = torch.cuda.get_device_name(0)
    record.update({"script": "scripts/seed_spread.py", "scale": "local", "resources": "packaged",
                   "torch": torch.__version__, "dev_pairs": 1500})
    for objective in args.objectives.split(","):
        for seed in map(int, args.seeds.split(",")):
            for mode in args.modes.split(","):
                run = one_run(objective, seed, mode)
                print(run, flush=True)
                record["runs"] = [r for r in record["runs"]
                                  if (r["objective"], r["seed"], r["mixed_precision"]) != (objective, seed, mode)]
                record["runs"].append(run)
                args.output.write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
