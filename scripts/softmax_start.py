"""Softmax on NLI from the packaged untuned start: the paper's way vs the head learning alone first.

Trains the softmax objective twice from the same start on the same SNLI pairs and records STSb dev
Spearman (all 1,500 pairs) every ``--eval-every`` steps:

* ``together``: head and encoder learn from step 1, as in the paper, at the recipe's learning rates
  (encoder 1e-4, head 2e-3);
* ``head_first``: the packaged softmax recipe's own settings (``sbert_teach.recipe_registry``): the
  head alone for 100 steps, then everything, at the same two learning rates, with the encoder's own
  warm-up.

The two runs differ in one thing only, the head-only phase: same start, data, order, steps and
learning rates. Chapter 4 plots the record (``sbert_teach/records/softmax_start.json``, read
with ``shipped_records.record``), measured in float32::

    python scripts/softmax_start.py --device cuda                 # about a minute on an H100
    python scripts/softmax_start.py --device cpu                  # about 15 minutes on 2 CPU cores
    python scripts/softmax_start.py --steps 60 --eval-every 20    # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import torch

from sbert_teach import data, recipe_registry, resources
from sbert_teach.evaluation import evaluate_sts
from sbert_teach.models import get_model
from sbert_teach.objectives import make_objective
from sbert_teach.training import TrainConfig, train

RECORD = Path(__file__).resolve().parents[1] / "sbert_teach" / "records" / "softmax_start.json"


def curve(settings: dict, steps: int, eval_every: int, nli, dev, seed: int, device: str | None) -> dict:
    encoder = get_model("untuned", "packaged", seed=seed)
    points = [{"step": 0, **evaluate_sts(encoder, dev)}]
    config = TrainConfig(batch_size=16, max_steps=steps, eval_every=eval_every, seed=seed, device=device,
                         mixed_precision="off", show_progress=False, **settings)
    start = time.perf_counter()
    result = train(make_objective("softmax", encoder), nli, config, evaluate=lambda enc: evaluate_sts(enc, dev))
    points += [e for e in result.evaluations]
    return {"settings": settings, "seconds": round(time.perf_counter() - start, 1),
            "points": [{"step": p["step"], "spearman_cosine": round(p["spearman_cosine"], 4)} for p in points]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=1000, help="steps of each run")
    parser.add_argument("--eval-every", type=int, default=100)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--device", default=None)
    parser.add_argument("--output", type=Path, default=RECORD)
    args = parser.parse_args()
    profile = resources.get_profile("packaged")
    nli = data.load_nli("train", profile, limit=None)
    dev = data.load_sts("dev", profile)
    recipe_settings = recipe_registry.get("softmax").profile_settings[profile.name]
    together = {k: v for k, v in recipe_settings.items() if k != "head_only_steps"}
    runs = {
        "together": curve(together, args.steps, args.eval_every, nli, dev, args.seed, args.device),
        "head_first": curve(dict(recipe_settings), args.steps, args.eval_every, nli, dev, args.seed,
                            args.device),
    }
    for name, run in runs.items():
        print(name, " ".join(f"{p['step']}:{p['spearman_cosine']:.3f}" for p in run["points"]), f"({run['seconds']} s)")
    on_gpu = torch.cuda.is_available() and args.device != "cpu"
    device = torch.cuda.get_device_name(0) if on_gpu else f"a {os.cpu_count()}-core CPU"
    command = " ".join(a for a in sys.argv[1:] if a != "--output" and Path(a) != args.output)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"script": f"scripts/softmax_start.py {command}".strip(),
                                       "precision": "float32 (mixed precision off)", "device": device,
                                       "torch": torch.__version__, "seed": args.seed, "batch_size": 16,
                                       "dev_pairs": len(dev), "runs": runs}, indent=1))
    print("record:", args.output)


if __name__ == "__main__":
    main()
