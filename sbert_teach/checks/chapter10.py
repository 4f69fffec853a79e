"""Checkers for chapter 10 (fine-tune an existing model, measure it as search): NDCG@k by hand, recall@k
from a score matrix."""

from __future__ import annotations

import math

import torch

from .core import expect, expect_value_error, fail, run_checks

__all__ = ["ndcg_by_hand", "recall_from_scores"]


def _rejects(call, hint):
    """A case that passes when ``call()`` raises ValueError."""
    def test():
        expect_value_error(call, hint)
    return test


def _number(value, what):
    try:
        return float(value)
    except (TypeError, ValueError):
        fail(f"{what} returned {type(value).__name__}; return one number (a float).")


def ndcg_by_hand(fn, strict: bool = False):
    """Exercise 10.1: ``fn(ranked_ids, relevant_ids, k) -> float``, NDCG@k with binary relevance.

    Compared with :func:`sbert_teach.retrieval.ndcg_at_k` on hand-made rankings; ``k < 1`` and an empty
    ``relevant_ids`` raise ``ValueError``.
    """
    from ..retrieval import ndcg_at_k as reference

    def same(ranked, relevant, k, hint):
        def test():
            got = _number(fn(list(ranked), set(relevant), k), "ndcg_at_k")
            want = reference(ranked, relevant, k)
            if want > 0 and got > 0 and abs(got - want) > 1e-9:
                dcg = want * sum(1 / math.log2(r + 1) for r in range(1, min(k, len(relevant)) + 1))
                if abs(got - dcg) < 1e-9 and abs(dcg - want) > 1e-9:
                    fail("that is the DCG itself: divide it by the DCG of the best possible list.")
                if abs(got * math.log(2) - want) < 1e-6 or abs(got - want * math.log(2)) < 1e-6:
                    fail("the discount uses another logarithm: it is 1 / log2(rank + 1), base 2.")
            expect(got <= 1 + 1e-9, "NDCG is at most 1: the ideal list is the best one possible, so check what "
                                    "you divide by.")
            expect(abs(got - want) < 1e-9, hint)
        return test

    many = ["d1", "x1", "d2", "x2", "x3", "d3", "x4"]
    return run_checks("NDCG@k", [
        ("relevant document first", same(["d1", "x1", "x2"], {"d1"}, 10, "a single relevant document at rank 1 "
                                         "is the best possible list.")),
        ("relevant document at rank 3", same(["x1", "x2", "d1", "x3"], {"d1"}, 10,
                                             "ranks count from 1: the document at rank r adds 1 / log2(r + 1).")),
        ("relevant document below the cut-off", same(["x1", "x2", "d1"], {"d1"}, 2,
                                                     "only the first k ranks count.")),
        ("no relevant document ranked", same(["x1", "x2"], {"d1"}, 10, "no hit at all scores 0.")),
        ("several relevant documents", same(many, {"d1", "d2", "d3"}, 10,
                                            "every relevant document among the first k adds its discounted gain; "
                                            "the ideal list has them all at the top.")),
        ("more relevant documents than k", same(many, {"d1", "d2", "d3", "d9"}, 2,
                                                "the ideal list holds at most k documents: min(k, number relevant) "
                                                "hits at ranks 1, 2, ...")),
        ("relevant ids not in the list", same(["d1", "x1"], {"d1", "d7", "d8"}, 10,
                                              "a relevant document the ranking missed still counts in the ideal "
                                              "list.")),
        ("list shorter than k", same(["x1", "d1"], {"d1"}, 100, "a ranking may hold fewer than k ids.")),
        ("k below 1", _rejects(lambda: fn(["d1"], {"d1"}, 0), "k must be at least 1.")),
        ("no relevant ids", _rejects(lambda: fn(["d1"], set(), 10),
                                     "with no relevant document the ideal DCG is 0 and NDCG is undefined.")),
    ], strict)


def recall_from_scores(fn, strict: bool = False):
    """Exercise 10.2: ``fn(scores, relevant, k) -> float``, the mean recall@k over the queries.

    ``scores`` is a (queries x documents) tensor, higher is better; ``relevant[i]`` the set of column indices
    relevant to query ``i``. Bad input raises ``ValueError``: ``k`` below 1 or above the number of documents, a
    query without a relevant document, a ``relevant`` of another length than ``scores`` has rows.
    """
    from ..retrieval import recall_at_k

    def expected(scores, relevant, k):
        top = scores.topk(k, dim=1).indices.tolist()
        return sum(recall_at_k(row, rel, k) for row, rel in zip(top, relevant)) / len(relevant)

    generator = torch.Generator().manual_seed(10)
    random_scores = torch.randn(6, 9, generator=generator)
    random_relevant = [{0}, {3, 5}, {8}, {1, 2, 7}, {4}, {6, 0}]

    def same(scores, relevant, k, hint):
        def test():
            got = _number(fn(scores.clone(), [set(r) for r in relevant], k), "recall")
            want = expected(scores, relevant, k)
            if abs(got - want) > 1e-9:
                lowest = expected(-scores, relevant, k)
                if abs(got - lowest) < 1e-9 and abs(lowest - want) > 1e-9:
                    fail("you took the k lowest scores: the best documents have the highest scores.")
                precision = sum(len(set(scores.topk(k, dim=1).indices[i].tolist()) & relevant[i]) / k
                                for i in range(len(relevant))) / len(relevant)
                if abs(got - precision) < 1e-9:
                    fail("that is precision@k (hits over k); recall divides the hits by the number of relevant "
                         "documents of the query.")
            expect(abs(got - want) < 1e-9, hint)
        return test

    def unchanged():
        scores = random_scores.clone()
        fn(scores, [set(r) for r in random_relevant], 3)
        expect(torch.equal(scores, random_scores), "your function changed the scores it was given; sort a copy.")

    hand = torch.tensor([[0.9, 0.1, 0.5], [0.2, 0.8, 0.7]])
    return run_checks("recall@k from a score matrix", [
        ("two queries, one relevant each", same(hand, [{0}, {2}], 1,
                                                "recall@1 asks whether the best-scored document is relevant.")),
        ("second place counts at k=2", same(hand, [{0}, {2}], 2, "at k=2 the two best documents count.")),
        ("several relevant documents", same(random_scores, random_relevant, 3,
                                            "recall is the share of a query's relevant documents found in its k "
                                            "best; average it over the queries.")),
        ("k equal to the corpus", same(random_scores, random_relevant, 9, "with every document ranked, every "
                                                                          "relevant one is found.")),
        ("scores left unchanged", unchanged),
        ("k larger than the corpus", _rejects(lambda: fn(hand.clone(), [{0}, {2}], 4),
                                              "k cannot exceed the number of documents: say so and name both.")),
        ("k below 1", _rejects(lambda: fn(hand.clone(), [{0}, {2}], 0), "k must be at least 1.")),
        ("a query without a relevant document", _rejects(lambda: fn(hand.clone(), [{0}, set()], 1),
                                                         "recall of a query with nothing relevant is undefined.")),
        ("one set per query", _rejects(lambda: fn(hand.clone(), [{0}], 1),
                                       "relevant needs exactly one set per row of scores.")),
    ], strict)
