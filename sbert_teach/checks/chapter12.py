"""Checkers for chapter 12 (Matryoshka embeddings): cutting vectors short, and choosing a width."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..objectives.matryoshka import cut_and_normalise
from .core import expect, expect_close, fail, run_checks

__all__ = ["truncate_and_normalise", "choose_dimension"]


# ----------------------------------------------------------------------------
# Exercise 12.1

def truncate_and_normalise(fn, strict: bool = False):
    """Exercise 12.1: ``fn(vectors, dim) -> tensor``: the first ``dim`` numbers of each vector, L2-normalised.

    ``vectors`` is ``(..., width)`` (one vector, a batch, or a batch of columns); a vector whose first ``dim``
    numbers are all zero stays zero (no NaN, as ``F.normalize`` does); ``dim`` below 1 or above the width raises
    ``ValueError``; the input is not changed and gradients flow.
    """
    g = torch.Generator().manual_seed(12)
    batch = torch.randn(5, 8, generator=g) * torch.tensor([0.1, 3.0, 1.0, 0.5, 2.0])[:, None]

    def same(x, dim, hint):
        def test():
            given = x.clone()
            out = fn(given, dim)
            expect(isinstance(out, torch.Tensor), f"return a torch.Tensor, not {type(out).__name__}.")
            expect(torch.equal(given, x), "your function changed its input: build a new tensor instead "
                                          "(slicing then normalising in place writes into the original).")
            expect(out.shape == (*x.shape[:-1], dim), f"the result has shape {tuple(out.shape)}; keep every "
                                                      f"dimension but the last, and cut the last to `dim`.")
            want = cut_and_normalise(x, dim)
            if not torch.allclose(out.double(), want.double(), atol=1e-5):
                cut = x[..., :dim]
                if torch.allclose(out.double(), cut.double(), atol=1e-5):
                    fail("the vectors are cut but not normalised again: the first `dim` numbers of a unit "
                         "vector are shorter than 1, and cosine losses and dot-product search expect length 1.")
                if torch.allclose(out.double(), (x / x.norm(dim=-1, keepdim=True))[..., :dim].double(), atol=1e-5):
                    fail("you normalise before cutting: normalise the cut vector, so that it has length 1.")
                if torch.allclose(out.double(), F.normalize(x[..., -dim:], dim=-1).double(), atol=1e-5):
                    fail("you keep the last `dim` numbers; Matryoshka training puts the meaning at the front.")
                expect_close(out, want, hint)
        return test

    def zero_front():
        x = torch.cat([torch.zeros(2, 3), torch.ones(2, 3)], dim=1)
        out = fn(x.clone(), 3)
        expect(not torch.isnan(out).any(), "a vector whose first `dim` numbers are all 0 gives NaN (0 / 0): divide "
                                           "by the length or a tiny number (1e-12), whichever is larger, as "
                                           "F.normalize does.")
        expect_close(out, torch.zeros(2, 3), "a vector whose first `dim` numbers are all 0 should stay 0.")

    def keeps_gradient():
        x = batch.clone().requires_grad_(True)
        out = fn(x, 4)
        expect(isinstance(out, torch.Tensor) and out.requires_grad,
               "the result has no gradient: use torch operations (no .detach(), .numpy() or .item()).")
        out.sum().backward()
        expect(x.grad is not None and torch.isfinite(x.grad).all(), "the gradient did not reach the input.")
        expect(bool((x.grad[:, 4:] == 0).all()), "numbers past `dim` must not influence the result.")

    def rejects(dim, hint):
        def test():
            try:
                fn(batch.clone(), dim)
            except ValueError:
                return
            except NotImplementedError:
                raise
            except Exception as error:  # noqa: BLE001 - the learner's code decides
                fail(f"raise ValueError (not {type(error).__name__}) {hint}")
            fail(f"raise ValueError {hint}")
        return test

    return run_checks("truncate and re-normalise", [
        ("a batch cut to 4 of 8", same(batch, 4, "each row should be its first `dim` numbers divided by their "
                                                 "length.")),
        ("the full width", same(batch, 8, "at the full width the result is each vector normalised.")),
        ("one number left", same(batch, 1, "a single number normalised is +1 or -1 (its sign).")),
        ("one vector, not a batch", same(batch[0], 3, "work on the last dimension, so one vector of shape "
                                                      "(width,) works too.")),
        ("a batch of columns (3-d)", same(batch.reshape(1, 5, 8).expand(2, 5, 8).contiguous(), 5,
                                          "work on the last dimension only.")),
        ("first numbers all zero", zero_front),
        ("gradient flows", keeps_gradient),
        ("dim wider than the vectors", rejects(9, "when `dim` is wider than the vectors: slicing would silently "
                                                  "return the whole vector.")),
        ("dim 0", rejects(0, "when `dim` is below 1: there is nothing left to normalise.")),
    ], strict)


# ----------------------------------------------------------------------------
# Exercise 12.2

def _choose(quality, tolerance, budget_bytes, bytes_per_number=4):
    """The checker's own answer (not shown to learners)."""
    if not quality:
        raise ValueError("empty table")
    if tolerance < 0 or budget_bytes <= 0:
        raise ValueError("bad tolerance or budget")
    best = max(quality.values())
    affordable = {d: q for d, q in quality.items() if d * bytes_per_number <= budget_bytes}
    if not affordable:
        raise ValueError("nothing fits")
    close_enough = [d for d, q in affordable.items() if q >= best - tolerance]
    if close_enough:
        return min(close_enough)
    top = max(affordable.values())
    return min(d for d, q in affordable.items() if q == top)


def choose_dimension(fn, strict: bool = False):
    """Exercise 12.2: ``fn(quality, tolerance, budget_bytes, bytes_per_number=4) -> int``.

    ``quality`` maps a width to a score (higher is better). Among the widths whose vectors fit the budget
    (``width * bytes_per_number <= budget_bytes``), return the smallest whose score is within ``tolerance``
    of the best score in the whole table; if none is, the affordable width with the highest score (the
    smaller one on a tie). Nothing affordable, an empty table, a negative tolerance or a budget of 0 bytes
    or less raise ``ValueError``.
    """
    table = {384: 0.80, 256: 0.795, 128: 0.78, 64: 0.74, 32: 0.66}

    def case(quality, tolerance, budget, hint, bytes_per_number=None):
        def test():
            given = dict(quality)
            args = (given, tolerance, budget) if bytes_per_number is None else (given, tolerance, budget,
                                                                                 bytes_per_number)
            out = fn(*args)
            expect(given == quality, "your function changed the table it was given.")
            expect(isinstance(out, int) and not isinstance(out, bool),
                   f"return the width as a whole number (int), not {type(out).__name__}.")
            want = _choose(quality, tolerance, budget, 4 if bytes_per_number is None else bytes_per_number)
            if out != want:
                if out in quality and out * (bytes_per_number or 4) > budget:
                    fail(f"width {out} does not fit: {out} numbers take {out * (bytes_per_number or 4)} bytes. "
                         + hint)
                fail(hint)
        return test

    def rejects(args, hint):
        def test():
            try:
                fn(*args)
            except ValueError:
                return
            except NotImplementedError:
                raise
            except Exception as error:  # noqa: BLE001 - the learner's code decides
                fail(f"raise ValueError (not {type(error).__name__}) {hint}")
            fail(f"raise ValueError {hint}")
        return test

    shuffled = dict(reversed(list(table.items())))
    peak_in_middle = {384: 0.70, 256: 0.72, 128: 0.715, 64: 0.69, 32: 0.60}
    return run_checks("choose a width", [
        ("a loose budget", case(table, 0.03, 4 * 384, "among the widths that fit, pick the smallest whose score "
                                                      "is at least the best score minus the tolerance.")),
        ("tolerance 0", case(table, 0.0, 4 * 384, "with tolerance 0 only a width as good as the best qualifies.")),
        ("table in another order", case(shuffled, 0.03, 4 * 384, "do not rely on the order of the table: "
                                                                 "compare the widths themselves.")),
        ("the best width is not the widest", case(peak_in_middle, 0.02, 4 * 384,
                                                  "measure the tolerance from the best score in the table, which "
                                                  "need not be the widest width's.")),
        ("budget exactly one vector", case(table, 0.02, 4 * 128, "a vector that takes exactly the budget fits.")),
        ("the budget rules out the close ones", case(table, 0.01, 4 * 128,
                                                     "when no affordable width is within the tolerance, return "
                                                     "the affordable width with the highest score.")),
        ("int8: one byte a number", case(table, 0.01, 256, "use `bytes_per_number` (1 for int8 vectors): "
                                                           "a width takes width * bytes_per_number bytes.",
                                         bytes_per_number=1)),
        ("a tie in score", case({256: 0.5, 128: 0.6, 64: 0.6, 32: 0.4}, 0.0, 4 * 256,
                                "when two widths score the same, the smaller one is the better buy.")),
        ("nothing fits", rejects((table, 0.01, 100), "when not even the smallest width fits the budget; say "
                                                     "how many bytes the smallest one needs.")),
        ("empty table", rejects(({}, 0.01, 1000), "for an empty table: there is nothing to choose.")),
        ("negative tolerance", rejects((table, -0.01, 1536), "for a negative tolerance.")),
    ], strict)
