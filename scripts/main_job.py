"""Main job (until the book lands): train every objective from the untuned start and evaluate.

Writes OUTPUT/results.json and OUTPUT/results.md and prints the table.
Usage: python scripts/main_job.py --scale local --output _build/results
"""

import argparse
import json
import platform
import time
from pathlib import Path

import torch

from sbert_teach import evaluate_sts, get_model, get_profile, get_scale, load_sts
from sbert_teach.recipes import RECIPE_OBJECTIVES, run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", default="local")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--output", default="_build/results")
    parser.add_argument("--objectives", nargs="+", default=list(RECIPE_OBJECTIVES))
    args = parser.parse_args()
    out = Path(args.output)
    out.mkdir(parents=True, exist_ok=True)
    profile, scale = get_profile(), get_scale(args.scale)
    test = load_sts("test", profile)
    rows = []
    for name in ("untuned", "reference"):
        t = time.perf_counter()
        rows.append({"model": name, "test_spearman": evaluate_sts(get_model(name, profile, seed=args.seed), test)["spearman_cosine"],
                     "seconds": time.perf_counter() - t})
        print(f"{name}: STSb test spearman {rows[-1]['test_spearman']:.4f}", flush=True)
    for objective in args.objectives:
        t = time.perf_counter()
        result = run(objective, scale, seed=args.seed, output_dir=out / "models" / objective, resources_profile=profile)
        encoder = get_model(str(out / "models" / objective), profile)
        rows.append({"model": f"{objective} ({scale.name})", "steps": result.train.steps,
                     "dev_before": result.before["spearman_cosine"], "dev_after": result.after["spearman_cosine"],
                     "test_spearman": evaluate_sts(encoder, test)["spearman_cosine"],
                     "train_seconds": result.train.seconds, "seconds": time.perf_counter() - t,
                     "losses": result.train.losses})
        print(f"{objective}: dev {result.before['spearman_cosine']:.4f} -> {result.after['spearman_cosine']:.4f}, "
              f"test {rows[-1]['test_spearman']:.4f}, {result.train.seconds:.0f} s training", flush=True)
    record = {"profile": profile.name, "scale": scale.__dict__, "torch": torch.__version__,
              "machine": platform.platform(), "cpus": torch.get_num_threads(), "rows": rows}
    (out / "results.json").write_text(json.dumps(record, indent=2))
    lines = ["| model | steps | STSb dev before | STSb dev after | STSb test | seconds |", "|---|---|---|---|---|---|"]
    for r in rows:
        fmt = lambda k: f"{100 * r[k]:.2f}" if k in r else ""  # noqa: E731
        lines.append(f"| {r['model']} | {r.get('steps', '')} | {fmt('dev_before')} | {fmt('dev_after')} | "
                     f"{fmt('test_spearman')} | {r['seconds']:.0f} |")
    (out / "results.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
