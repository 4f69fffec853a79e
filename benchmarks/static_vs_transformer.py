"""Static embeddings vs the transformer they come from: encoding speed and STSb quality.

Both in one process, alternating repetitions, on the same sentences (2,000 of the STS Benchmark
test split's sentences, both columns in file order, evenly spaced so every genre is represented;
``--tiny``: 64) and the same batch size (64), one torch thread unless ``--threads`` says otherwise
(``OMP_NUM_THREADS=1`` is set before torch loads):

* ``transformer``: the packaged all-MiniLM-L6-v2 through ``SentenceEncoder.encode`` (six layers,
  mean pooling, ``max_length`` 128, the package's fast path);
* ``static``: :class:`sbert_teach.static.StaticEncoder` with MiniLM's word-piece table copied by
  ``StaticEncoder.from_model`` (untrained): a table look-up and a mean per sentence.

What is timed: the whole ``encode`` call, from the list of strings to a tensor of vectors
(tokenisation included), after one untimed warm-up call per side. The ratio line
``static_vs_transformer_ratio`` is the transformer's time over the static model's (how many times
faster the static model encodes). Then both are scored on the STSb test split
(``sbert_teach.evaluation.evaluate_sts``, Spearman of cosine similarity; ``--tiny``: 64 pairs).

    OMP_NUM_THREADS=1 python benchmarks/static_vs_transformer.py
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import _common as C  # noqa: E402

BATCH = 64
SIZES = {"tiny": (64, 1, 64), "quick": (2000, 3, None), "full": (2000, 5, None)}  # sentences, reps, STS pairs


def sts_sentences(limit: int) -> list[str]:
    import sbert_teach as st

    sts = st.load_sts("test")
    sentences = list(sts["sentence1"]) + list(sts["sentence2"])
    step = len(sentences) / min(limit, len(sentences))  # evenly spaced: every genre of the file is represented
    return [sentences[int(i * step)] for i in range(min(limit, len(sentences)))]


def main(argv=None):
    import torch

    import sbert_teach as st
    from sbert_teach.evaluation import evaluate_sts
    from sbert_teach.static import StaticEncoder

    args = C.parser(__doc__.split("\n\n")[0]).parse_args(argv)
    args.threads = args.threads or 1
    device = C.setup_torch(args)
    limit, reps, sts_pairs = SIZES[C.mode(args)]
    reps = args.reps or reps
    sentences = sts_sentences(limit)
    transformer = st.get_model("reference").to(device).eval()
    static = StaticEncoder.from_model(transformer).to(device).eval()
    models = {"transformer": transformer, "static": static}
    for model in models.values():  # warm-up
        model.encode(sentences[:BATCH], batch_size=BATCH)

    def timed(model):
        with C.Clock(device) as clock:
            model.encode(sentences, batch_size=BATCH)
        return {"seconds": clock.wall, "cpu_seconds": clock.cpu}

    print(f"encoding {len(sentences)} STSb sentences, batch {BATCH}, {reps} repetitions per side, "
          f"{torch.get_num_threads()} torch thread(s)", flush=True)
    runs = C.alternate({name: (lambda m=model: timed(m)) for name, model in models.items()}, reps)
    secs = {name: [r["seconds"] for r in rs] for name, rs in runs.items()}
    cpus = {name: [r["cpu_seconds"] for r in rs] for name, rs in runs.items()}
    n = len(sentences)

    sts = st.load_sts("test", limit=sts_pairs)
    quality = {name: evaluate_sts(model, sts, batch_size=BATCH) for name, model in models.items()}
    for name, q in quality.items():
        print(f"  STSb test Spearman ({q['n']} pairs) {name:>12s}: {q['spearman_cosine']:.4f}", flush=True)

    record = {
        "benchmark": "static_vs_transformer", "machine": C.machine(device),
        "settings": {"sentences": n, "source": "STSb test, both columns, evenly spaced", "batch_size": BATCH,
                     "reps": reps, "transformer": "all-MiniLM-L6-v2 (packaged), max_length 128",
                     "static": "its word-piece table copied (StaticEncoder.from_model), untrained",
                     "omp_num_threads": os.environ.get("OMP_NUM_THREADS")},
        "results": {
            "sentences_per_second": {name: C.stats([n / s for s in v]) for name, v in secs.items()},
            "seconds": {name: C.stats(v) for name, v in secs.items()},
            "cpu_seconds": {name: C.stats(v) for name, v in cpus.items()},
            "paired_ratio": C.ratio_stats(secs["transformer"], secs["static"]),
            "cpu_time_ratio": C.ratio_stats(cpus["transformer"], cpus["static"]),
            "sts_test": quality,
        },
    }
    C.finish("static_vs_transformer", args, record,
             {"static_vs_transformer_ratio": record["results"]["paired_ratio"]["median"]})
    print(f"static_spearman: {quality['static']['spearman_cosine']:.4f}")
    print(f"transformer_spearman: {quality['transformer']['spearman_cosine']:.4f}")


if __name__ == "__main__":
    main()
