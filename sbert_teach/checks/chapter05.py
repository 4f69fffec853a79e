"""Checkers for chapter 5 (the regression objective): its gradient by hand, and scaling gold scores to 0..1."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from ..objectives import regression_loss_from_embeddings as _reference_loss
from .core import expect, expect_close, fail, run_checks

__all__ = ["regression_gradient", "scale_gold_scores"]


def _hand_made(batch: int = 4, dim: int = 5, seed: int = 5):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, dim, generator=g), torch.randn(batch, dim, generator=g)


def _autograd_gradient(u, v, scores):
    x = u.clone().requires_grad_(True)
    _reference_loss(x, v, scores).backward()
    return x.grad


def regression_gradient(fn, strict: bool = False):
    """Exercise 5.1: ``fn(u, v, scores) -> (batch, n)``, the gradient of the regression loss with respect to ``u``, by hand.

    The loss is the mean over the batch of ``(cos(u_i, v_i) - score_i) ** 2``; the answer is compared
    with what autograd computes, and must not use autograd itself.
    """
    u, v = _hand_made()
    scores = torch.tensor([0.0, 0.4, 0.8, 1.0])

    def wrong_answers(u, v, s):
        """Typical slips, each with its hint."""
        cos = F.cosine_similarity(u, v, dim=-1)
        un, vn = u.norm(dim=-1, keepdim=True), v.norm(dim=-1, keepdim=True)
        d_cos = v / (un * vn) - cos[:, None] * u / un ** 2
        err = (cos - s)[:, None]
        B = len(u)
        return [
            (2 * err * d_cos, "your gradient is B times too large: the loss is a *mean* over the batch, so each "
                              "pair's term is divided by B."),
            (err * d_cos / B, "a factor 2 is missing: the derivative of x^2 is 2x."),
            (-2 * err * d_cos / B, "the sign is flipped: the loss grows when cos(u, v) moves away from the score."),
            (2 * err * v / (un * vn) / B, "you differentiated cos(u, v) as if |u| were a constant: moving u also "
                                          "changes its length. The derivative of cos with respect to u has a second "
                                          "term, -cos(u, v) u / |u|^2."),
            (2 * ((u * v).sum(-1) - s)[:, None] * v / B, "that is the gradient of the dot product's error; the "
                                                         "objective uses the cosine."),
        ]

    def case(u, v, s, hint):
        def test():
            given = [t.clone() for t in (u, v, s)]
            with torch.no_grad():
                out = fn(*given)
            expect(isinstance(out, torch.Tensor), f"return a torch.Tensor, not {type(out).__name__}.")
            expect(out.shape == u.shape, f"the gradient with respect to u has u's shape {tuple(u.shape)}, yours "
                                         f"{tuple(out.shape)}.")
            expect(all(torch.equal(a, b) for a, b in zip(given, (u, v, s))), "your function changed its inputs.")
            want = _autograd_gradient(u, v, s)
            if not torch.allclose(out.double(), want.double(), atol=1e-5, rtol=1e-4):
                for wrong, why in wrong_answers(u, v, s):
                    if torch.allclose(out, wrong, atol=1e-6, rtol=1e-4) and not torch.allclose(wrong, want):
                        fail(why)
                expect_close(out, want, hint)
        return test

    def at_the_target():
        w = u[:2].clone()
        target = F.cosine_similarity(w, v[:2], dim=-1)
        out = fn(w, v[:2].clone(), target.clone())
        expect(isinstance(out, torch.Tensor) and torch.allclose(out, torch.zeros_like(out), atol=1e-6),
               "when every cosine already equals its score the loss is at its minimum: the gradient is 0.")

    def length_does_not_matter():
        out, longer = fn(u.clone(), v.clone(), scores.clone()), fn(3 * u, v.clone(), scores.clone())
        expect(isinstance(out, torch.Tensor) and torch.allclose(longer, out / 3, atol=1e-6, rtol=1e-4),
               "stretching u by 3 leaves every cosine unchanged, so the loss surface is the same and the "
               "gradient shrinks by 3; yours does not.")

    return run_checks("regression gradient", [
        ("4 random pairs", case(u, v, scores, "the gradient differs from autograd's on a random batch.")),
        ("one pair", case(u[:1], v[:1], scores[:1], "with one pair the gradient is 2 (cos - score) times the "
                                                    "derivative of cos(u, v) with respect to u.")),
        ("cosine already equals the score", at_the_target),
        ("wider vectors", case(*_hand_made(6, 9, seed=8), torch.linspace(0, 1, 6), "the gradient differs from "
                                                                               "autograd's for wider vectors.")),
        ("u stretched by 3", length_does_not_matter),
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
