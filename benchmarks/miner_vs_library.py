"""Our hard-negative miner against sentence-transformers': time, and whether the rows are the same.

``sbert_teach.mining.mine_hard_negatives`` and ``sentence_transformers.util.mine_hard_negatives``
(exact search: ``use_faiss=False``, ``sampling_strategy="top"``, ``verbose=False``) in one
process, alternating repetitions, on the same pairs and settings. The pairs: every (premise,
entailed hypothesis) pair of the packaged SNLI test split, premise as anchor; the extra corpus:
the first 2,000 of that split's distinct neutral and contradicting hypotheses (the positives are
added on both sides, as both miners do). ``--quick``: the first 500 pairs and 1,000 other
hypotheses; ``--tiny``: 60 and 100. Three settings, as in ``tests/test_mining.py``: top 3; 3
with ``absolute_margin=0.05``; 5 with ``relative_margin=0.05, range_max=30``. Encoding batch 32
on both sides.

Two comparisons, like with like:

* **same vectors**: both miners get one stand-in model that returns vectors computed beforehand
  by the packaged all-MiniLM-L6-v2 (``encode_query``/``encode_document`` look them up; the
  library also calls its ``similarity`` functions). What is timed is the mining itself: the
  search, the filters and building the dataset.
* **end to end**: each miner gets its own library's model of the same weights (our
  ``SentenceEncoder``; a ``SentenceTransformer`` loaded from the same folder) and encodes the
  texts itself, then mines. Encoding is nearly all of this time (``encode_vs_st.py`` measures
  it at length), so only the first setting runs here, with two repetitions fewer (at least one).

What is timed: one repetition runs the settings one after the other (the library's input
``Dataset`` is built beforehand); wall time and this process's CPU time. One untimed warm-up
repetition per side comes first (end to end: one batch encoded by each model). The rows are compared column by column (anchor, positive,
negative, in order); a row counts as different if any text differs.

Printed: ``miner_vs_library_ratio`` (the library's time / ours from the same vectors: above 1
means ours is faster), ``miner_end_to_end_vs_library_ratio`` (the same, encoding included), each
also from CPU time (``..._cpu_time_ratio``, steadier on a busy machine), and the number of rows
that differ in each comparison. For each differing row the record keeps the two negatives'
scores against the anchor under each model (their gap shows whether they were as good as tied).

    OMP_NUM_THREADS=1 python benchmarks/miner_vs_library.py
    python benchmarks/miner_vs_library.py --quick
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import _common as C  # noqa: E402

BATCH = 32
SETTINGS = [
    {"num_negatives": 3},
    {"num_negatives": 3, "absolute_margin": 0.05},
    {"num_negatives": 5, "relative_margin": 0.05, "range_max": 30},
]
SIZES = {"tiny": (60, 100, 1), "quick": (500, 1000, 2), "full": (None, 2000, 3)}  # pairs, other texts (None: all), reps


class VectorModel:
    """Just enough of a SentenceTransformer for both miners: vectors looked up in a {text: vector} dict."""

    def __init__(self, vectors):
        import torch

        self.vectors = vectors
        self.device = torch.device("cpu")

    def encode_document(self, texts, **_):
        import numpy as np

        return np.stack([self.vectors[t] for t in texts])

    encode_query = encode_document

    @staticmethod
    def similarity(a, b):
        from sentence_transformers.util import cos_sim
        return cos_sim(a, b)

    @staticmethod
    def similarity_pairwise(a, b):
        from sentence_transformers.util import pairwise_cos_sim
        return pairwise_cos_sim(a, b)


def snli_pairs(limit, others_limit):
    import sbert_teach as st

    nli = st.load_nli("test")
    pairs = [(a, b) for a, b, y in zip(nli["sentence1"], nli["sentence2"], nli["label"]) if y == 0]
    others = list(dict.fromkeys(b for b, y in zip(nli["sentence2"], nli["label"]) if y != 0))
    pairs = pairs[:limit] if limit else pairs
    others = others[:others_limit] if others_limit else others
    anchors, positives = map(list, zip(*pairs))
    return anchors, positives, others


def differing_rows(ours, theirs) -> dict:
    """How many rows differ in any text column, and the largest score difference (if scores are there)."""
    if ours.column_names != theirs.column_names:
        return {"columns_differ": True, "rows_ours": len(ours), "rows_theirs": len(theirs), "differing": None}
    texts = [c for c in theirs.column_names if c != "scores"]
    columns_ours = [list(ours[c]) for c in texts]
    columns_theirs = [list(theirs[c]) for c in texts]
    where = [i for i, (a, b) in enumerate(zip(zip(*columns_ours), zip(*columns_theirs))) if a != b]
    return {"columns_differ": False, "rows_ours": len(ours), "rows_theirs": len(theirs),
            "differing": len(where) + abs(len(ours) - len(theirs)), "differing_at": where}


def score_gaps(ours, theirs, where, models) -> list[dict]:
    """For each differing triplet row: the two negatives' cosines with the anchor under each model's vectors.

    A gap near float rounding under both models means the two candidates were as good as tied, and
    the models' last-bit differences decided their order."""
    import torch
    import torch.nn.functional as F

    gaps = []
    for i in where:
        anchor, mine, library = ours["anchor"][i], ours["negative"][i], theirs["negative"][i]
        row = {"anchor": anchor, "negative_ours": mine, "negative_library": library}
        for name, encode in models.items():
            v = F.normalize(torch.as_tensor(encode([anchor, mine, library])).float(), dim=-1)
            row[f"score_gap_{name}"] = float(v[0] @ v[1] - v[0] @ v[2])  # our negative's score minus theirs
        gaps.append(row)
    return gaps


def main(argv=None):
    import torch
    from datasets import Dataset
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.util import mine_hard_negatives as library_mine

    import sbert_teach as st
    from sbert_teach.library import reference_location
    from sbert_teach.mining import mine_hard_negatives

    args = C.parser(__doc__.split("\n\n")[0]).parse_args(argv)
    args.threads = args.threads or 1
    device = C.setup_torch(args)
    limit, others_limit, reps = SIZES[C.mode(args)]
    reps = args.reps or reps
    anchors, positives, others = snli_pairs(limit, others_limit)
    dataset = Dataset.from_dict({"anchor": anchors, "positive": positives})
    ours_model = st.get_model("reference").to(device).eval()
    theirs_model = SentenceTransformer(reference_location(), device=str(device)).eval()
    texts = list(dict.fromkeys(anchors + positives + others))
    vectors = VectorModel(dict(zip(texts, ours_model.encode(texts, batch_size=BATCH, normalize=True).cpu().numpy())))
    print(f"mining {len(anchors):,} SNLI test pairs ({len(set(anchors)):,} distinct anchors) against "
          f"{len(others):,} other hypotheses plus the positives, {len(SETTINGS)} settings, {reps} repetitions "
          f"per side, {torch.get_num_threads()} torch thread(s)", flush=True)

    last = {}

    def ours(model, settings):
        def run():
            with C.Clock(device) as clock:
                out = [mine_hard_negatives(anchors, positives, model, corpus=others, batch_size=BATCH, **s)[0]
                       for s in settings]
            last["ours"] = out
            return {"seconds": clock.wall, "cpu_seconds": clock.cpu}
        return run

    def theirs(model, settings):
        def run():
            with C.Clock(device) as clock:
                out = [library_mine(dataset, model, corpus=others, sampling_strategy="top", use_faiss=False,
                                    verbose=False, batch_size=BATCH, **s) for s in settings]
            last["library"] = out
            return {"seconds": clock.wall, "cpu_seconds": clock.cpu}
        return run

    # encoding dominates end to end, and encode_vs_st.py measures it at length: one setting, fewer repetitions
    comparisons = {"same_vectors": (SETTINGS, ours(vectors, SETTINGS), theirs(vectors, SETTINGS), reps),
                   "end_to_end": (SETTINGS[:1], ours(ours_model, SETTINGS[:1]), theirs(theirs_model, SETTINGS[:1]),
                                  max(1, reps - 2))}
    theirs_model.encode(texts[:BATCH], batch_size=BATCH)  # warm-up (ours warmed up on the vectors above)
    results = {}
    for name, (settings, ours_run, theirs_run, n) in comparisons.items():
        print(f"{name}:", flush=True)
        if name == "same_vectors" and not args.tiny:
            ours_run(), theirs_run()  # warm-up
        runs = C.alternate({"sbert_teach": ours_run, "library": theirs_run}, n)
        secs = {side: [r["seconds"] for r in rs] for side, rs in runs.items()}
        cpus = {side: [r["cpu_seconds"] for r in rs] for side, rs in runs.items()}
        rows = [differing_rows(a, b) for a, b in zip(last["ours"], last["library"])]
        for row, a, b in zip(rows, last["ours"], last["library"]):
            if row["differing_at"] and "negative" in a.column_names:
                row["gaps"] = score_gaps(a, b, row["differing_at"][:50], {
                    "sbert_teach": lambda t: ours_model.encode(t, batch_size=BATCH).cpu(),
                    "library": lambda t: theirs_model.encode(t, batch_size=BATCH, convert_to_tensor=True).cpu()})
        results[name] = {"seconds": {side: C.stats(v) for side, v in secs.items()},
                         "cpu_seconds": {side: C.stats(v) for side, v in cpus.items()},
                         "paired_ratio": C.ratio_stats(secs["library"], secs["sbert_teach"]),
                         "cpu_time_ratio": C.ratio_stats(cpus["library"], cpus["sbert_teach"]),
                         "reps": n, "rows": [{"settings": s, **r} for s, r in zip(settings, rows)]}
        for s, r in zip(settings, rows):
            gaps = [abs(g[f"score_gap_{m}"]) for g in r.get("gaps", []) for m in ("sbert_teach", "library")]
            largest = f" (largest score gap between the swapped negatives: {max(gaps):.1e})" if gaps else ""
            print(f"  {s}: {r['rows_ours']:,} rows ours, {r['rows_theirs']:,} the library's, "
                  f"{r['differing']} differing{largest}", flush=True)
    ratios = {"miner_vs_library_ratio": results["same_vectors"]["paired_ratio"]["median"],
              "miner_vs_library_cpu_time_ratio": results["same_vectors"]["cpu_time_ratio"]["median"],
              "miner_end_to_end_vs_library_ratio": results["end_to_end"]["paired_ratio"]["median"],
              "miner_end_to_end_vs_library_cpu_time_ratio": results["end_to_end"]["cpu_time_ratio"]["median"]}
    print("\n| comparison | sbert_teach s | library s | library / ours (wall) | (CPU time) | rows | differing |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for name, r in results.items():
        print(f"| {name} | {r['seconds']['sbert_teach']['median']:.3f} | {r['seconds']['library']['median']:.3f} | "
              f"{r['paired_ratio']['median']:.2f} | {r['cpu_time_ratio']['median']:.2f} | "
              f"{sum(x['rows_theirs'] for x in r['rows']):,} | {sum(x['differing'] or 0 for x in r['rows'])} |")
    record = {
        "benchmark": "miner_vs_library", "machine": C.machine(device),
        "settings": {"pairs": len(anchors), "anchors": len(set(anchors)), "extra_corpus": len(others),
                     "source": "SNLI test (packaged): (premise, entailed hypothesis); corpus: the neutral and "
                               "contradicting hypotheses", "mining_settings": SETTINGS, "reps": reps,
                     "batch_size": BATCH, "model": "all-MiniLM-L6-v2 (packaged)",
                     "library_options": {"sampling_strategy": "top", "use_faiss": False},
                     "omp_num_threads": os.environ.get("OMP_NUM_THREADS")},
        "results": results,
    }
    C.finish("miner_vs_library", args, record, ratios)
    for name, r in results.items():
        print(f"{name}_differing_rows: {sum(x['differing'] or 0 for x in r['rows'])}")


if __name__ == "__main__":
    main()
