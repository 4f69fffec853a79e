"""Evaluation: STS correlation, similarity matrices and semantic search (chapter 7)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from .validation import check_same_length, check_sentences


def cosine_similarity_matrix(a: torch.Tensor, b: torch.Tensor | None = None) -> torch.Tensor:
    """``(len(a), len(b))`` cosine similarities (``b`` defaults to ``a``)."""
    a = torch.as_tensor(a, dtype=torch.float32)
    b = a if b is None else torch.as_tensor(b, dtype=torch.float32)
    return F.normalize(a, dim=-1) @ F.normalize(b, dim=-1).T


def similarity_matrix(encoder, sentences, batch_size: int = 64) -> torch.Tensor:
    """Encode ``sentences`` and return their pairwise cosine similarities."""
    return cosine_similarity_matrix(encoder.encode(check_sentences(sentences), batch_size=batch_size))


def correlations(predicted, gold) -> dict[str, float]:
    """Spearman and Pearson correlation between two equally long score lists."""
    from scipy.stats import pearsonr, spearmanr

    n = check_same_length(predicted=predicted, gold=gold)
    if n < 2:
        raise ValueError(f"Need at least 2 pairs to compute a correlation, got {n}.")
    predicted, gold = np.asarray(predicted, dtype=np.float64), np.asarray(gold, dtype=np.float64)
    return {"spearman": float(spearmanr(predicted, gold).statistic), "pearson": float(pearsonr(predicted, gold).statistic)}


def sts_scores(encoder, sentences1, sentences2, batch_size: int = 64) -> np.ndarray:
    """Cosine similarity of each pair; each distinct sentence is encoded once."""
    check_same_length(sentences1=sentences1, sentences2=sentences2)
    s1, s2 = check_sentences(sentences1, "sentences1"), check_sentences(sentences2, "sentences2")
    unique = list(dict.fromkeys(s1 + s2))
    index = {s: i for i, s in enumerate(unique)}
    emb = encoder.encode(unique, batch_size=batch_size)
    a = emb[torch.tensor([index[s] for s in s1])]
    b = emb[torch.tensor([index[s] for s in s2])]
    return F.cosine_similarity(a, b, dim=-1).cpu().numpy()


def evaluate_sts(encoder, dataset, batch_size: int = 64) -> dict[str, float]:
    """STS Spearman/Pearson (x1, not x100) of cosine similarity against gold scores.

    ``dataset`` has columns ``sentence1``, ``sentence2`` and ``score`` (see
    :func:`sbert_teach.data.load_sts`). Returns ``spearman_cosine``,
    ``pearson_cosine`` and ``n``.
    """
    predicted = sts_scores(encoder, dataset["sentence1"], dataset["sentence2"], batch_size)
    corr = correlations(predicted, list(dataset["score"]))
    return {"spearman_cosine": corr["spearman"], "pearson_cosine": corr["pearson"], "n": len(predicted)}


def semantic_search(query_embeddings, corpus_embeddings, top_k: int = 5) -> list[list[tuple[int, float]]]:
    """For each query, the ``top_k`` corpus entries as ``(corpus_index, cosine)``, best first."""
    scores = cosine_similarity_matrix(query_embeddings, corpus_embeddings)
    k = min(top_k, scores.shape[1])
    if k < 1:
        raise ValueError("top_k must be at least 1 and the corpus must not be empty.")
    values, indices = scores.topk(k, dim=1)
    return [[(int(i), float(v)) for i, v in zip(ri, rv)] for ri, rv in zip(indices.tolist(), values.tolist())]


def search(encoder, queries, corpus, top_k: int = 5) -> list[list[tuple[str, float]]]:
    """Encode ``queries`` and ``corpus`` and return the best corpus sentences per query."""
    corpus = check_sentences(corpus, "corpus")
    hits = semantic_search(encoder.encode(check_sentences(queries, "queries")), encoder.encode(corpus), top_k)
    return [[(corpus[i], s) for i, s in row] for row in hits]


@torch.inference_mode()
def nli_accuracy(objective, dataset, batch_size: int = 64) -> float:
    """Accuracy of a :class:`~sbert_teach.objectives.SoftmaxObjective` on NLI pairs."""
    from .data import TextColumnsCollator

    collate = TextColumnsCollator(objective.encoder.tokenizer, objective.text_columns, "label",
                                  max_length=objective.encoder.max_length)
    was_training = objective.training
    objective.eval()
    correct = 0
    try:
        for start in range(0, len(dataset), batch_size):
            features, labels = collate(dataset.select(range(start, min(start + batch_size, len(dataset)))))
            correct += int((objective.predict(features).cpu() == labels).sum())
    finally:
        objective.train(was_training)
    return correct / len(dataset)


def bootstrap_resamples(n: int, count: int = 1000, seed: int = 0) -> np.ndarray:
    """``count`` rows of ``n`` indices into ``0 .. n-1``, drawn with replacement (one bootstrap resample a row).

    Score every model on the *same* rows, so that :func:`paired_bootstrap` can compare them resample by resample.
    """
    if int(n) != n or n < 2:
        raise ValueError(f"n must be a whole number of pairs, at least 2, got {n!r}.")
    if int(count) != count or count < 1:
        raise ValueError(f"count must be a whole number of resamples, at least 1, got {count!r}.")
    return np.random.default_rng(seed).integers(0, int(n), size=(int(count), int(n)))


def _scores_array(values, what: str) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"{what} must be a list of numbers, one per pair ({error}).") from None
    if array.ndim != 1:
        raise ValueError(f"{what} must be one number per pair (a flat list), got shape {array.shape}.")
    if not np.isfinite(array).all():
        bad = int(np.flatnonzero(~np.isfinite(array))[0])
        raise ValueError(f"{what}[{bad}] is {array[bad]}: every pair needs a finite score; drop or fix that pair.")
    return array


def paired_bootstrap(scores_a, scores_b, gold, resamples=1000, seed: int = 0, confidence: float = 0.95) -> dict:
    """Is model A's STS Spearman above model B's on these pairs, beyond the luck of which pairs were drawn?

    ``scores_a`` and ``scores_b`` are the two models' cosines for the same pairs (see :func:`sts_scores`), ``gold``
    the people's ratings. Both models are scored on the same bootstrap resamples of the pairs, and the interval is
    taken of the *difference* of their Spearman correlations, resample by resample: the noise the two share (an
    easy or a hard draw of pairs) cancels. Two models' own intervals can overlap widely while this one excludes 0.

    ``resamples`` is a number of resamples to draw (with ``seed``; see :func:`bootstrap_resamples`) or the
    resamples themselves, rows of indices into the pairs, to reuse ones the models were already scored on.

    Returns ``a`` and ``b`` (each model's Spearman on all pairs), ``difference`` (``a - b``), ``interval`` (the
    ``confidence`` percentile interval of the difference), ``a_better_share`` (the share of resamples where A's
    Spearman is higher) and ``resamples`` (how many).
    """
    a, b = _scores_array(scores_a, "scores_a"), _scores_array(scores_b, "scores_b")
    y = _scores_array(gold, "gold")
    n = check_same_length(scores_a=a, scores_b=b, gold=y)
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie strictly between 0 and 1 (0.95 for a 95% interval), got {confidence}.")
    if isinstance(resamples, (int, np.integer)):
        rows = bootstrap_resamples(n, int(resamples), seed)
    else:
        try:
            rows = np.asarray(resamples)
        except ValueError as error:
            raise ValueError(f"resamples must be a number or rows of equal length ({error}).") from None
        if rows.ndim != 2 or len(rows) == 0 or not np.issubdtype(rows.dtype, np.integer):
            raise ValueError("resamples must be a number of resamples, or rows of whole-number indices into the "
                             f"pairs (one row per resample), got an array of shape {rows.shape}, dtype {rows.dtype}.")
        if rows.min() < 0 or rows.max() >= n:
            raise ValueError(f"resamples hold indices from {rows.min()} to {rows.max()}, but there are {n} pairs "
                             f"(indices 0 to {n - 1}); were they drawn for another set of pairs?")
    from scipy.stats import spearmanr

    def spearman(x, g):
        return float(spearmanr(x, g).statistic)

    differences = np.array([spearman(a[idx], y[idx]) - spearman(b[idx], y[idx]) for idx in rows])
    if np.isnan(differences).any():  # a resample whose scores are all equal has no ranking
        raise ValueError("Spearman is undefined on some resamples (all of a model's or the gold scores equal there); "
                         "use more pairs, or scores that vary.")
    tail = 100 * (1 - confidence) / 2
    low, high = np.percentile(differences, [tail, 100 - tail])
    rho_a, rho_b = spearman(a, y), spearman(b, y)
    return {"a": rho_a, "b": rho_b, "difference": rho_a - rho_b, "interval": (float(low), float(high)),
            "a_better_share": float((differences > 0).mean()), "resamples": len(rows)}
