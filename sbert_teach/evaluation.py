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
