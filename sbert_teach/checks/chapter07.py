"""Checkers for chapter 7 (evaluation and comparison): Spearman correlation and top-k search."""

from __future__ import annotations

import math

import torch

from .core import expect, fail, run_checks

__all__ = ["spearman_correlation", "top_k_search"]


def _as_float(value, what: str) -> float:
    if isinstance(value, torch.Tensor):
        expect(value.numel() == 1, f"return one number, not a tensor of shape {tuple(value.shape)}.")
        value = value.item()
    try:
        return float(value)
    except (TypeError, ValueError):
        fail(f"return a single number (a float) for {what}, not {type(value).__name__}.")


def _expect_value_error(call, hint: str) -> None:
    try:
        result = call()
    except ValueError:
        return
    except NotImplementedError:
        raise
    except Exception as error:  # noqa: BLE001 - any other error is the wrong kind
        fail(f"you raised {type(error).__name__}; raise a ValueError instead. {hint}")
    if isinstance(result, (float, int)) and math.isnan(result):
        fail(f"you returned NaN; raise a ValueError with a clear message instead. {hint}")
    fail(f"no error was raised. {hint}")


def spearman_correlation(fn, strict: bool = False):
    """Exercise 7.1: ``fn(x, y) -> float``, Spearman's rank correlation of two equally long lists.

    Rank each list (tied values share the average of their ranks), then take
    the Pearson correlation of the two rank lists. Raise ``ValueError`` for
    lists of different lengths and for a list whose values are all equal.
    """
    from scipy.stats import spearmanr

    def same_as_scipy(x, y, hint):
        def test():
            got = _as_float(fn(list(x), list(y)), "the correlation")
            expect(not math.isnan(got), f"you returned NaN for ordinary lists; {hint}")
            want = float(spearmanr(x, y).statistic)
            expect(abs(got - want) < 1e-6, hint)
        return test

    def inputs_unchanged():
        x, y = [3.0, 1.0, 2.0, 5.0], [0.1, 0.4, 0.2, 0.9]
        kept_x, kept_y = list(x), list(y)
        fn(x, y)
        expect(x == kept_x and y == kept_y, "your function reordered or changed its input lists; rank copies.")

    g = torch.Generator().manual_seed(7)
    noisy_x = torch.randn(40, generator=g).tolist()
    noisy_y = [v + 0.8 * e for v, e in zip(noisy_x, torch.randn(40, generator=g).tolist())]
    return run_checks("Spearman correlation", [
        ("same order", same_as_scipy([1, 2, 3, 4, 5], [10, 20, 30, 40, 50],
                                     "two lists in the same order have a perfect rank correlation.")),
        ("reversed order", same_as_scipy([1, 2, 3, 4, 5], [5, 4, 3, 2, 1],
                                         "a list against its reverse has the lowest possible rank correlation.")),
        ("monotone but not linear", same_as_scipy([1, 2, 3, 4, 5, 6], [1, 8, 27, 64, 125, 1000],
                                                  "Spearman uses only the order: correlate the ranks, not the values.")),
        ("noisy scores", same_as_scipy(noisy_x, noisy_y,
                                       "rank each list separately (smallest value gets the lowest rank), then take "
                                       "the Pearson correlation of the two rank lists.")),
        ("ties", same_as_scipy([1, 2, 2, 3, 3, 3, 4], [0.1, 0.3, 0.2, 0.5, 0.4, 0.6, 0.9],
                               "equal values must share a rank: give each the average of the positions they "
                               "occupy (e.g. places 2 and 3 both get 2.5).")),
        ("ties in both lists", same_as_scipy([1, 1, 2, 2, 3, 3], [5, 6, 6, 7, 7, 7],
                                             "average the ranks of tied values in both lists.")),
        ("inputs unchanged", inputs_unchanged),
        ("length mismatch", lambda: _expect_value_error(
            lambda: fn([1.0, 2.0, 3.0], [1.0, 2.0]),
            "Lists of different lengths cannot be paired up; check the lengths first.")),
        ("constant input", lambda: _expect_value_error(
            lambda: fn([2.0, 2.0, 2.0, 2.0], [1.0, 2.0, 3.0, 4.0]),
            "When every value in a list is the same, its ranks do not vary and the correlation is undefined "
            "(a division by a zero spread).")),
    ], strict)


def top_k_search(fn, strict: bool = False):
    """Exercise 7.2: ``fn(scores, k) -> list of lists of (corpus_index, score)``, best first.

    ``scores`` is a ``(n_queries, n_corpus)`` similarity matrix. Each query gets
    ``min(k, n_corpus)`` hits; ``k < 1`` raises ``ValueError``. Among tied
    scores any order is fine. Compared with :func:`sbert_teach.semantic_search`.
    """
    from ..evaluation import cosine_similarity_matrix, semantic_search

    g = torch.Generator().manual_seed(3)
    queries, corpus = torch.randn(3, 8, generator=g), torch.randn(10, 8, generator=g)
    scores = cosine_similarity_matrix(queries, corpus)

    def check_hits(got, matrix, k, hint):
        expect(isinstance(got, (list, tuple)), f"return a list (one entry per query), not {type(got).__name__}.")
        expect(len(got) == matrix.shape[0], f"{len(got)} result lists for {matrix.shape[0]} queries; one per query.")
        want_n = min(k, matrix.shape[1])
        for q, hits in enumerate(got):
            hits = list(hits)
            expect(len(hits) == want_n, f"query {q} got {len(hits)} hits; k={k} and the corpus has "
                                        f"{matrix.shape[1]} entries, so it should get the smaller of the two.")
            try:
                idx = [int(i) for i, _ in hits]
                val = [float(s) for _, s in hits]
            except (TypeError, ValueError):
                fail("each hit should be a pair (corpus_index, score).")
            expect(len(set(idx)) == len(idx), f"query {q} lists the same corpus entry twice.")
            expect(all(0 <= i < matrix.shape[1] for i in idx), f"query {q} has a corpus index outside the corpus.")
            expect(all(abs(v - float(matrix[q, i])) < 1e-5 for i, v in zip(idx, val)),
                   f"query {q}: a hit's score is not the matrix entry of that query and corpus index.")
            expect(all(a >= b - 1e-7 for a, b in zip(val, val[1:])), f"query {q}: hits must be sorted best first.")
            best = sorted(matrix[q].tolist(), reverse=True)[:want_n]
            expect(all(abs(a - b) < 1e-5 for a, b in zip(sorted(val, reverse=True), best)), hint)

    def agrees_with_semantic_search():
        got = fn(scores.clone(), 3)
        check_hits(got, scores, 3, "these are not the highest-scoring corpus entries of each query.")
        want = semantic_search(queries, corpus, top_k=3)
        expect([[int(i) for i, _ in row] for row in got] == [[i for i, _ in row] for row in want],
               "the corpus indices differ from semantic_search's; each query has its own row of scores.")

    def k_larger_than_corpus():
        check_hits(fn(scores[:, :4].clone(), 10), scores[:, :4], 10,
                   "with k larger than the corpus, return every entry, best first.")

    def ties():
        tied = torch.tensor([[0.5, 0.9, 0.5, 0.1, 0.9], [0.2, 0.2, 0.2, 0.2, 0.2]])
        check_hits(fn(tied.clone(), 3), tied, 3,
                   "with ties, pick any of the tied entries but still the highest scores, each index once.")

    def one_query_row():
        row = scores[:1].clone()
        check_hits(fn(row, 1), row, 1, "with k=1 the single hit is the best corpus entry.")

    def negative_scores():
        neg = -scores.abs()
        check_hits(fn(neg.clone(), 2), neg, 2, "cosine can be negative; the best is the largest, i.e. closest to 1.")

    def matrix_unchanged():
        m = scores.clone()
        fn(m, 3)
        expect(torch.equal(m, scores), "your function changed the score matrix; leave the input as it is.")

    def k_zero():
        _expect_value_error(lambda: fn(scores.clone(), 0), "k must be at least 1: raise a ValueError for k < 1.")

    return run_checks("top-k search", [
        ("three queries, k=3", agrees_with_semantic_search),
        ("k larger than the corpus", k_larger_than_corpus),
        ("tied scores", ties),
        ("single query, k=1", one_query_row),
        ("negative scores", negative_scores),
        ("matrix unchanged", matrix_unchanged),
        ("k = 0", k_zero),
    ], strict)
