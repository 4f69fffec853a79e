"""Checkers for chapter 2 (from tokens to a sentence vector): pooling with masks."""

from __future__ import annotations

import torch

from ..pooling import POOLING_FUNCTIONS
from .core import expect, expect_close, run_checks

__all__ = ["mean_pooling", "max_pooling", "cls_pooling"]

_NO_PADDING_HINT = {
    "mean": "without padding this is the plain mean over the token axis (dim=1).",
    "max": "without padding this is the plain maximum over the token axis (dim=1), one value per hidden dimension.",
    "cls": "without padding this is the vector at the first position of every row.",
}
_LEFT_PADDING_HINT = {
    "mean": "padding can be on the left too; use the mask, not positions.",
    "max": "padding can be on the left too; use the mask, not positions.",
    "cls": "with left padding the first position is [PAD]; find each row's first real token from the mask.",
}


def _pooling_cases(fn, reference, what: str):
    """Edge cases every mask-aware pooling must survive. ``what`` is "mean", "max" or "cls"."""
    torch.manual_seed(0)
    tokens = torch.randn(3, 5, 4)
    right = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0], [1, 0, 0, 0, 0]])
    left = right.flip(1)
    # a padded row whose padding vectors are huge: a mask-blind pooling is pulled towards them
    loud_padding = tokens.clone()
    loud_padding[1, 3:] = 100.0
    # real values all negative, padding exactly 0: "padding -> 0, then max" picks the padding
    negative = -tokens.abs() - 1.0
    negative[1, 3:] = 0.0

    def same_as_reference(t, m, hint):
        def test():
            out = fn(t.clone(), m.clone())
            expect(isinstance(out, torch.Tensor), f"return a torch.Tensor, not {type(out).__name__}.")
            expect(out.dim() == 2, f"return (batch, hidden): 2 dimensions, yours has {out.dim()}. "
                                   "Reduce over the token axis (dim=1).")
            expect_close(out, reference(t, m), hint)
        return test

    def no_in_place():
        t, m = tokens.clone(), right.clone()
        fn(t, m)
        expect(torch.equal(t, tokens) and torch.equal(m, right),
               "your function changed its input tensors. Build new tensors (e.g. masked_fill, not masked_fill_).")

    def all_padding():
        m = right.clone()
        m[2] = 0
        out = fn(tokens.clone(), m)
        expect(torch.isfinite(out).all(),
               "a row with no real tokens gave NaN or inf. Guard the division/maximum for rows whose mask is all 0.")
        expect_close(out[2], torch.zeros(4), "a row that is all padding should pool to a zero vector.")
        expect_close(out[:2], reference(tokens, m)[:2], "the rows that do have real tokens changed; "
                                                         "only the empty row needs special treatment.")

    return [
        ("no padding", same_as_reference(tokens, torch.ones(3, 5, dtype=torch.long), _NO_PADDING_HINT[what])),
        ("right padding", same_as_reference(tokens, right, "padding positions (mask 0) must not count.")),
        ("padding with large values", same_as_reference(loud_padding, right,
                                                        "the padding vectors leaked into the result; apply the mask.")),
        ("negative real values", same_as_reference(negative, right,
                                                   "all real values are negative here and the padding is 0: "
                                                   "padding must never be a candidate, not even as 0.")),
        ("left padding", same_as_reference(tokens, left, _LEFT_PADDING_HINT[what])),
        ("all-padding row", all_padding),
        ("inputs unchanged", no_in_place),
    ]


def mean_pooling(fn, strict: bool = False):
    """Exercise 2.1: ``fn(token_embeddings, attention_mask) -> (batch, hidden)`` mean over real tokens."""
    return run_checks("mean pooling", _pooling_cases(fn, POOLING_FUNCTIONS["mean"], "mean"), strict)


def max_pooling(fn, strict: bool = False):
    """Exercise 2.2: ``fn(token_embeddings, attention_mask) -> (batch, hidden)`` max over real tokens."""
    return run_checks("max pooling", _pooling_cases(fn, POOLING_FUNCTIONS["max"], "max"), strict)


def cls_pooling(fn, strict: bool = False):
    """Exercise 2.3: ``fn(token_embeddings, attention_mask) -> (batch, hidden)``, the first real token's vector.

    The first real token is ``[CLS]``; with left padding it is not at position 0.
    """
    return run_checks("CLS pooling", _pooling_cases(fn, POOLING_FUNCTIONS["cls"], "cls"), strict)
