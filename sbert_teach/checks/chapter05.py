"""Checkers for chapter 5 (the regression objective): cosine + MSE, and scaling gold scores to 0..1."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..objectives import regression_loss_from_embeddings as _reference_loss
from .core import expect, expect_close, fail, run_checks

__all__ = ["regression_loss", "scale_gold_scores"]


def _hand_made(batch: int = 4, dim: int = 5, seed: int = 5):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, dim, generator=g), torch.randn(batch, dim, generator=g)


def regression_loss(fn, strict: bool = False):
    """Exercise 5.1: ``fn(u, v, scores) -> scalar``, the mean squared error between ``cos(u, v)`` and ``scores``.

    ``scores`` are gold similarities already scaled to 0..1 (STSb's 0-5 divided by 5).
    """
    u, v = _hand_made()
    scores = torch.tensor([0.0, 0.4, 0.8, 1.0])

    def diagnose(out, u, v, s, hint):
        expect(isinstance(out, torch.Tensor), f"return a torch.Tensor, not {type(out).__name__}.")
        expect(out.dim() == 0, f"return one number (a 0-dimensional tensor), yours has shape {tuple(out.shape)}. "
                               "Average the squared errors over the pairs.")
        want = _reference_loss(u, v, s)
        if torch.allclose(out.double(), want.double(), atol=1e-5):
            return
        cos = F.cosine_similarity(u, v, dim=-1)
        if torch.allclose(out, F.mse_loss(cos, s / 5)):
            fail("the scores arrive already scaled to 0..1; dividing them by 5 again squeezes every target "
                 "towards 0. Scale once, when loading the data (exercise 5.2), not inside the loss.")
        if torch.allclose(out, F.mse_loss((u * v).sum(-1), s)):
            fail("that compares the dot product with the score; the loss uses the cosine, which ignores vector length.")
        if torch.allclose(out, ((cos - s) ** 2).sum()):
            fail("you summed the squared errors; the loss is their mean over the pairs.")
        if torch.allclose(out, (cos - s).abs().mean()):
            fail("that is the mean absolute error; square the differences instead.")
        if torch.allclose(out, F.mse_loss(1 - cos, s)):
            fail("that compares the cosine *distance* (1 - cos) with the score; a similar pair should have a "
                 "high cosine and a high score.")
        expect_close(out, want, hint)

    def case(u, v, s, hint):
        def test():
            out = fn(u.clone(), v.clone(), s.clone())
            diagnose(out, u, v, s, hint)
        return test

    def scale_invariant():
        out_long = fn(u * 10.0, v * 0.1, scores.clone())
        diagnose(out_long, u * 10.0, v * 0.1, scores,
                 "stretching u by 10 and shrinking v by 10 must not change the loss: use the cosine, not the dot product.")

    def perfect():
        a = torch.tensor([[1.0, 0.0], [1.0, 0.0], [3.0, 4.0]])
        b = torch.tensor([[2.0, 0.0], [0.0, 1.0], [3.0, 4.0]])
        out = fn(a, b, torch.tensor([1.0, 0.0, 1.0]))
        expect(isinstance(out, torch.Tensor) and out.dim() == 0, "return a 0-dimensional tensor.")
        expect_close(out, torch.tensor(0.0), "parallel vectors with score 1 and orthogonal ones with score 0 "
                                             "are predicted perfectly, so the loss must be 0.")

    def gradient():
        a, b = u.clone().requires_grad_(True), v.clone().requires_grad_(True)
        out = fn(a, b, scores)
        expect(isinstance(out, torch.Tensor) and out.requires_grad,
               "the result carries no gradient; do not detach, use .item() or torch.no_grad() inside the loss.")
        out.backward()
        expect(a.grad is not None and a.grad.abs().sum() > 0 and b.grad is not None and b.grad.abs().sum() > 0,
               "no gradient reaches u and v, so the encoder could not learn from this loss.")

    return run_checks("regression loss (cosine + MSE)", [
        ("4 pairs, scores in 0..1", case(u, v, scores, "the value differs from the mean of (cos(u, v) - score)^2.")),
        ("perfect predictions give 0", perfect),
        ("vector length does not matter", scale_invariant),
        ("one pair", case(u[:1], v[:1], scores[2:3], "with one pair the loss is (cos(u, v) - score)^2.")),
        ("gradient reaches u and v", gradient),
    ], strict)


def scale_gold_scores(fn, strict: bool = False):
    """Exercise 5.2: ``fn(scores, max_score=5.0) -> list[float]``, each score divided by ``max_score``;
    a ``ValueError`` for any score outside ``0..max_score`` (NaN included)."""

    def values(out):
        expect(not isinstance(out, (str, bytes)) and hasattr(out, "__len__"),
               f"return a list (or tensor/array) of numbers, not {type(out).__name__}.")
        return [float(x) for x in out]

    def case(scores, max_score, want, hint):
        def test():
            given = list(scores)
            out = values(fn(given, max_score=max_score) if max_score is not None else fn(given))
            expect(given == list(scores), "your function changed the list it was given.")
            expect(len(out) == len(want), f"{len(out)} scores out for {len(want)} in; keep one per pair, in order.")
            expect(all(math.isclose(a, b, abs_tol=1e-9) for a, b in zip(out, want)), hint)
        return test

    def rejects(scores, max_score, hint):
        def test():
            try:
                fn(list(scores), max_score=max_score)
            except ValueError:
                return
            except NotImplementedError:
                raise
            except Exception as error:  # a different error type is still a wrong answer
                fail(f"raise ValueError here, not {type(error).__name__}; {hint}")
            fail(hint)
        return test

    return run_checks("scale gold scores", [
        ("STSb scores 0..5", case([0, 1.5, 2.5, 5], None, [0.0, 0.3, 0.5, 1.0],
                                  "with the default max_score=5, 0 maps to 0, 5 to 1 and 2.5 to 0.5.")),
        ("a 1..4 range given as max_score=4", case([4, 2, 0], 4.0, [1.0, 0.5, 0.0], "divide by max_score, not by 5.")),
        ("already 0..1 (max_score=1)", case([0.2, 0.9], 1.0, [0.2, 0.9], "with max_score=1 the scores stay as they are.")),
        ("empty list", case([], None, [], "no scores in, no scores out.")),
        ("score above the maximum", rejects([3.0, 5.2], 5.0, "a score of 5.2 on a 0-5 scale is a data error: raise "
                                                               "ValueError and name the bad value.")),
        ("negative score", rejects([-0.5, 2.0], 5.0, "a negative score is a data error: raise ValueError.")),
        ("missing score (NaN)", rejects([1.0, float("nan")], 5.0, "NaN is not inside 0..max_score either; note that "
                                                                  "every comparison with NaN is False.")),
    ], strict)
