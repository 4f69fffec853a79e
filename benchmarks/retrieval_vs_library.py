"""Our retrieval evaluator against sentence-transformers' InformationRetrievalEvaluator: time and metrics.

``sbert_teach.retrieval.evaluate_retrieval`` and ``InformationRetrievalEvaluator`` (its defaults:
accuracy@1/3/5/10, precision and recall@1/3/5/10, MRR@10, NDCG@10, MAP@100, batch 64,
``write_csv=False``) in one process, alternating repetitions, on the same task:
``nli_retrieval_task("test")`` (3,261 queries, 3,323 premises; ``--quick``: 600 queries drawn
with seed 0 and a 1,500-document corpus; ``--tiny``: 50 queries, 200 documents), as in
``tests/test_retrieval.py``. Both give the same 15 figures under the same names.

Two comparisons, like with like:

* **same vectors** (pre-encoded): both evaluators get one stand-in model whose
  ``encode_query``/``encode_document`` return vectors computed beforehand by the packaged
  all-MiniLM-L6-v2 (the library also reads its ``similarity``, cosine). What is timed is the
  search (scoring every document for every query, the top 100) and the metrics.
* **end to end**: each evaluator gets its own library's model of the same weights (our
  ``SentenceEncoder``; a ``SentenceTransformer`` loaded from the same folder) and encodes the
  queries and the corpus itself. Encoding is nearly all of this time (``encode_vs_st.py``
  measures it at length), so it runs two repetitions fewer (at least one).

What is timed: one call of each evaluator (the evaluator object and the task are built
beforehand); wall time and this process's CPU time. One untimed warm-up call per side first
(end to end: one batch encoded by each model).

Printed: ``retrieval_vs_library_ratio`` (the library's time / ours on the same vectors: above 1
means ours is faster), ``retrieval_end_to_end_vs_library_ratio`` (the same, encoding included),
each also from CPU time (``..._cpu_time_ratio``, steadier on a busy machine), and the largest difference between the two evaluators' figures in each comparison.

    OMP_NUM_THREADS=1 python benchmarks/retrieval_vs_library.py
    python benchmarks/retrieval_vs_library.py --quick
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import _common as C  # noqa: E402

BATCH = 64
SIZES = {"tiny": (50, 200, 1), "quick": (600, 1500, 3), "full": (None, None, 3)}  # queries, corpus, reps


class VectorModel:
    """Just enough of a SentenceTransformer for both evaluators: vectors looked up in a {text: vector} dict."""

    similarity_fn_name = "cosine"

    class _Card:
        def set_evaluation_metrics(self, *args, **kwargs):  # the library records figures on the model card
            pass

    def __init__(self, vectors):
        self.vectors = vectors
        self.model_card_data = self._Card()

    def encode_document(self, texts, **_):
        import torch

        return torch.stack([self.vectors[t] for t in texts])

    encode_query = encode_document

    @staticmethod
    def similarity(a, b):
        from sentence_transformers.util import cos_sim
        return cos_sim(a, b)


def main(argv=None):
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator

    import sbert_teach as st
    from sbert_teach.library import reference_location
    from sbert_teach.retrieval import evaluate_retrieval, nli_retrieval_task

    args = C.parser(__doc__.split("\n\n")[0]).parse_args(argv)
    args.threads = args.threads or 1
    device = C.setup_torch(args)
    limit, corpus_size, reps = SIZES[C.mode(args)]
    reps = args.reps or reps
    task = nli_retrieval_task("test", limit=limit, corpus_size=corpus_size, seed=0)
    evaluator = InformationRetrievalEvaluator(task.queries, task.corpus, task.relevant, batch_size=BATCH,
                                              write_csv=False)
    ours_model = st.get_model("reference").to(device).eval()
    theirs_model = SentenceTransformer(reference_location(), device=str(device)).eval()
    texts = list(dict.fromkeys(list(task.queries.values()) + list(task.corpus.values())))
    vectors = VectorModel(dict(zip(texts, ours_model.encode(texts, batch_size=BATCH).cpu())))
    print(f"retrieval: {len(task.queries):,} queries, {len(task.corpus):,} documents, {reps} repetitions per side, "
          f"{torch.get_num_threads()} torch thread(s)", flush=True)

    last = {}

    def timed(key, evaluate, model):
        def run():
            with C.Clock(device) as clock:
                last[key] = evaluate(model)
            return {"seconds": clock.wall, "cpu_seconds": clock.cpu}
        return run

    def ours(model):
        return evaluate_retrieval(model, task, batch_size=BATCH)

    # encoding is nearly all of the end-to-end time (encode_vs_st.py measures it at length): fewer repetitions
    comparisons = {"same_vectors": (vectors, vectors, reps), "end_to_end": (ours_model, theirs_model, max(1, reps - 2))}
    theirs_model.encode(texts[:BATCH], batch_size=BATCH)  # warm-up (ours warmed up on the vectors above)
    results = {}
    for name, (our_model, their_model, n) in comparisons.items():
        print(f"{name}:", flush=True)
        sides = {"sbert_teach": timed("ours", ours, our_model), "library": timed("library", evaluator, their_model)}
        if name == "same_vectors" and not args.tiny:
            sides["sbert_teach"](), sides["library"]()  # warm-up
        runs = C.alternate(sides, n)
        secs = {side: [r["seconds"] for r in rs] for side, rs in runs.items()}
        cpus = {side: [r["cpu_seconds"] for r in rs] for side, rs in runs.items()}
        figures_ours, figures_theirs = last["ours"], last["library"]
        if set(figures_ours) != set(figures_theirs):
            raise RuntimeError(f"the evaluators name their figures differently: {sorted(figures_ours)} vs "
                               f"{sorted(figures_theirs)}")
        differences = {k: abs(figures_ours[k] - figures_theirs[k]) for k in figures_theirs}
        results[name] = {"seconds": {side: C.stats(v) for side, v in secs.items()},
                         "cpu_seconds": {side: C.stats(v) for side, v in cpus.items()}, "reps": n,
                         "paired_ratio": C.ratio_stats(secs["library"], secs["sbert_teach"]),
                         "cpu_time_ratio": C.ratio_stats(cpus["library"], cpus["sbert_teach"]),
                         "figures": {"sbert_teach": figures_ours, "library": figures_theirs},
                         "max_abs_difference": max(differences.values()),
                         "largest_difference_at": max(differences, key=differences.get)}
        print(f"  largest difference between the figures: {results[name]['max_abs_difference']:.1e} "
              f"({results[name]['largest_difference_at']}); cosine_ndcg@10 {figures_ours['cosine_ndcg@10']:.4f}",
              flush=True)
    print("\n| comparison | sbert_teach s | library s | library / ours (wall) | (CPU time) | largest difference |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, r in results.items():
        print(f"| {name} | {r['seconds']['sbert_teach']['median']:.3f} | {r['seconds']['library']['median']:.3f} | "
              f"{r['paired_ratio']['median']:.2f} | {r['cpu_time_ratio']['median']:.2f} | "
              f"{r['max_abs_difference']:.1e} |")
    record = {
        "benchmark": "retrieval_vs_library", "machine": C.machine(device),
        "settings": {"queries": len(task.queries), "corpus": len(task.corpus),
                     "task": "nli_retrieval_task('test', seed=0)" + (f", limit={limit}, corpus_size={corpus_size}"
                                                                      if limit else ""),
                     "reps": reps, "batch_size": BATCH, "model": "all-MiniLM-L6-v2 (packaged)",
                     "metrics": sorted(results["same_vectors"]["figures"]["library"]),
                     "omp_num_threads": os.environ.get("OMP_NUM_THREADS")},
        "results": results,
    }
    C.finish("retrieval_vs_library", args, record,
             {"retrieval_vs_library_ratio": results["same_vectors"]["paired_ratio"]["median"],
              "retrieval_vs_library_cpu_time_ratio": results["same_vectors"]["cpu_time_ratio"]["median"],
              "retrieval_end_to_end_vs_library_ratio": results["end_to_end"]["paired_ratio"]["median"],
              "retrieval_end_to_end_vs_library_cpu_time_ratio": results["end_to_end"]["cpu_time_ratio"]["median"]})
    for name, r in results.items():
        print(f"{name}_max_metric_difference: {r['max_abs_difference']:.2e}")


if __name__ == "__main__":
    main()
