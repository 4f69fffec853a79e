"""Checkers for chapter 11 (hard negatives and big batches): a relative margin, negatives per anchor."""

from __future__ import annotations

import numbers

import torch

from .core import expect, expect_value_error, fail, run_checks

__all__ = ["relative_margin_keep", "negatives_per_anchor"]


def _kept_by_relative_margin(candidate_scores, positive_scores, relative_margin):
    # the rule of sbert_teach.mining (and sentence-transformers): remove if score > pos - |pos| * margin
    limit = positive_scores - positive_scores.abs() * relative_margin
    return ~(candidate_scores > limit[:, None])


def relative_margin_keep(fn, strict: bool = False):
    """Exercise 11.1: ``fn(candidate_scores, positive_scores, relative_margin) -> bool tensor``.

    ``candidate_scores`` is ``(anchors, candidates)``, ``positive_scores`` ``(anchors,)``; ``True``
    where a candidate is kept: ``score <= positive - |positive| * relative_margin``.
    """
    def compare(candidates, positive, margin, hint):
        candidates = torch.tensor(candidates, dtype=torch.float32)
        positive = torch.tensor(positive, dtype=torch.float32)
        given = (candidates.clone(), positive.clone())
        got = fn(candidates, positive, margin)
        expect(torch.equal(candidates, given[0]) and torch.equal(positive, given[1]),
               "your function changed the tensors it was given; compute a new one.")
        expect(isinstance(got, torch.Tensor), f"return a torch tensor, not {type(got).__name__}.")
        expect(tuple(got.shape) == tuple(candidates.shape),
               f"the result has shape {tuple(got.shape)}; it needs one True/False per candidate, the shape of "
               "candidate_scores.")
        expect(got.dtype == torch.bool, f"the result has dtype {got.dtype}; return a boolean tensor (True = kept).")
        if torch.equal(got, ~_kept_by_relative_margin(candidates, positive, margin)):
            fail("True and False are swapped: True must mean the candidate is kept as a possible negative.")
        expect(torch.equal(got, _kept_by_relative_margin(candidates, positive, margin)), hint)

    return run_checks("relative margin", [
        ("two anchors, margin 0.1", lambda: compare(
            [[0.85, 0.70, 0.60, 0.20], [0.50, 0.45, 0.30, 0.10]], [0.80, 0.50], 0.1,
            "with positive 0.8 and margin 0.1 the limit is 0.8 - 0.08; a candidate above the limit is removed.")),
        ("each anchor its own positive", lambda: compare(
            [[0.55, 0.50, 0.30], [0.55, 0.50, 0.30], [0.55, 0.50, 0.30]], [0.90, 0.60, 0.40], 0.2,
            "row i of candidate_scores belongs to positive_scores[i]: compare each row with its own positive "
            "(check how your positive scores broadcast against a square matrix).")),
        ("exactly at the limit", lambda: compare(
            [[0.25, 0.26, 0.24]], [0.5], 0.5,
            "a candidate whose score equals the limit is kept; only scores strictly above it are removed.")),
        ("negative positive score", lambda: compare(
            [[-0.30, -0.70, -0.80]], [-0.5], 0.5,
            "when the positive score is negative, the margin must still lower the limit: it is the positive "
            "minus |positive| times the margin.")),
        ("margin 0", lambda: compare(
            [[0.70, 0.60, 0.61, 0.10]], [0.60], 0.0,
            "with margin 0 only the candidates scoring above the positive are removed.")),
    ], strict)


def negatives_per_anchor(fn, strict: bool = False):
    """Exercise 11.2: ``fn(batch_size, hard_negatives=1) -> int``: the negatives each anchor is scored against."""
    def expected(batch_size, hard_negatives):
        return batch_size * (1 + hard_negatives) - 1

    def case(batch_size, hard_negatives, hint):
        def test():
            got = fn(batch_size) if hard_negatives is None else fn(batch_size, hard_negatives)
            want = expected(batch_size, 1 if hard_negatives is None else hard_negatives)
            expect(isinstance(got, numbers.Integral) and not isinstance(got, bool),
                   f"return a whole number (an int), not {type(got).__name__}.")
            got = int(got)
            if got == want + 1:
                fail("one too many: the anchor's own positive is among the candidates, but it is not a negative.")
            expect(got == want, hint)
        return test

    def rejects(batch_size, hard_negatives, hint):
        def test():
            expect_value_error(lambda: fn(batch_size, hard_negatives), hint)
        return test

    return run_checks("negatives per anchor", [
        ("in-batch only, 8 pairs", case(8, 0, "without hard negatives the candidates are the batch's positives.")),
        ("one pair, no hard negative", case(1, 0, "a batch of one pair holds only the anchor's own positive.")),
        ("16 pairs, one hard negative each", case(16, 1, "every pair's hard negative is a candidate for every "
                                                         "anchor, not only its own.")),
        ("default: one hard negative", case(32, None, "hard_negatives defaults to 1.")),
        ("3 hard negatives each", case(10, 3, "count every column of candidates: the positives and each column of "
                                              "hard negatives.")),
        ("empty batch", rejects(0, 1, "A batch needs at least one pair.")),
        ("negative hard negatives", rejects(4, -1, "A pair cannot have fewer than zero hard negatives.")),
    ], strict)
