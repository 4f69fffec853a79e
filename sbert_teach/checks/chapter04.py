"""Checkers for chapter 4 (the softmax objective on NLI): the classifier input and its loss."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..objectives import softmax_features as _reference_features
from ..objectives import softmax_loss_from_embeddings as _reference_loss
from .core import expect, expect_close, fail, run_checks

__all__ = ["softmax_features", "softmax_loss", "softmax_head_size"]


def _hand_made(batch: int = 3, dim: int = 4):
    """Small tensors whose parts are easy to tell apart: u > 0, v mixed, so |u - v| differs from u - v."""
    g = torch.Generator().manual_seed(4)
    u = torch.rand(batch, dim, generator=g) + 0.5
    v = torch.randn(batch, dim, generator=g) * 2
    return u, v


def softmax_features(fn, strict: bool = False):
    """Exercise 4.1: ``fn(u, v) -> (batch, 3 * n)``, the parts ``u``, ``v``, ``|u - v|`` side by side."""
    u, v = _hand_made()
    n = u.shape[-1]

    def diagnose(out, u, v):
        """A hint naming the first part that is wrong, without showing the expected numbers."""
        expect(isinstance(out, torch.Tensor), f"return a torch.Tensor, not {type(out).__name__}.")
        expect(out.shape[:-1] == u.shape[:-1],
               f"the output has shape {tuple(out.shape)}; keep one row per pair and join the parts along the "
               "last dimension, not the batch dimension.")
        expect(out.shape[-1] == 3 * u.shape[-1],
               f"each row has {out.shape[-1]} numbers for vectors of size {u.shape[-1]}; three parts of size n "
               "make 3n.")
        k = u.shape[-1]
        parts = out[..., :k], out[..., k:2 * k], out[..., 2 * k:]
        if torch.allclose(parts[0], v) and torch.allclose(parts[1], u):
            fail("u and v are swapped: the first block is u (the premise), the second is v.")
        expect(torch.allclose(parts[0], u), "the first block of each row should be u itself.")
        expect(torch.allclose(parts[1], v), "the second block of each row should be v itself.")
        if torch.allclose(parts[2], u - v) or torch.allclose(parts[2], v - u):
            fail("the third block is a signed difference; the paper uses the element-wise absolute difference.")
        if torch.allclose(parts[2], u * v):
            fail("the third block is the element-wise product u*v; this exercise asks for |u - v|.")
        expect_close(out, _reference_features(u, v), "the third block should be |u - v|, element by element.")

    def case(u, v):
        def test():
            u0, v0 = u.clone(), v.clone()
            out = fn(u.clone(), v.clone())
            diagnose(out, u, v)
            expect(torch.equal(u, u0) and torch.equal(v, v0), "your function changed u or v.")
        return test

    def one_pair():
        out = fn(u[0], v[0])
        expect(isinstance(out, torch.Tensor) and out.shape == (3 * n,),
               "a single pair (1-D vectors of size n) should give one vector of size 3n; join along the last "
               "dimension (dim=-1) so any number of leading dimensions works.")
        expect_close(out, _reference_features(u[0], v[0]), "the single-pair result differs from the batched one.")

    def identical():
        out = fn(u.clone(), u.clone())
        expect(isinstance(out, torch.Tensor) and out.shape == (u.shape[0], 3 * n), "wrong shape for u == v.")
        expect(torch.count_nonzero(out[:, 2 * n:]) == 0, "for identical sentences the last block must be all zeros.")

    def no_in_place():
        a, b = u.clone(), v.clone()
        fn(a, b)
        expect(torch.equal(a, u) and torch.equal(b, v),
               "your function changed its inputs (an in-place operation such as abs_ or sub_?).")

    return run_checks("softmax features (u, v, |u-v|)", [
        ("batch of 3 pairs, n = 4", case(u, v)),
        ("one pair as 1-D vectors", one_pair),
        ("identical sentences", identical),
        ("wider vectors, n = 7", case(*_hand_made(5, 7))),
        ("inputs unchanged", no_in_place),
    ], strict)


def softmax_loss(fn, strict: bool = False):
    """Exercise 4.2: ``fn(u, v, labels, classifier) -> scalar`` cross-entropy of the head on ``(u, v, |u-v|)``."""
    u, v = _hand_made(6, 4)
    labels = torch.tensor([0, 1, 2, 2, 1, 0])
    torch.manual_seed(0)
    head = nn.Linear(12, 3)

    def same(u, v, labels, hint):
        def test():
            out = fn(u.clone(), v.clone(), labels.clone(), head)
            expect(isinstance(out, torch.Tensor), f"return a torch.Tensor, not {type(out).__name__}.")
            expect(out.dim() == 0, f"return one number (a 0-dimensional tensor), yours has shape {tuple(out.shape)}. "
                                   "Average the per-pair losses over the batch.")
            want = _reference_loss(u, v, labels, head)
            if out.shape == want.shape and torch.allclose(out.double(), want.double(), atol=1e-5):
                return
            with torch.no_grad():
                logits = head(_reference_features(u, v))
                probs = logits.softmax(-1)
            if torch.allclose(out, F.cross_entropy(logits, labels, reduction="sum")):
                fail("you summed the per-pair losses; the loss is their mean over the batch.")
            if torch.allclose(out, F.nll_loss(probs, labels)) or torch.allclose(out, -probs.gather(1, labels[:, None]).mean()):
                fail("the loss is minus the *log* of the gold class's probability; a log is missing.")
            if torch.allclose(out, F.cross_entropy(probs, labels)):
                fail("softmax was applied twice: cross_entropy takes the raw scores (logits) and does the softmax itself.")
            expect_close(out, want, hint)
        return test

    def gradient_reaches_encoder():
        a, b = u.clone().requires_grad_(True), v.clone().requires_grad_(True)
        out = fn(a, b, labels, head)
        expect(isinstance(out, torch.Tensor) and out.requires_grad,
               "the result carries no gradient; do not detach, use .item() or torch.no_grad() inside the loss.")
        out.backward()
        expect(a.grad is not None and b.grad is not None and a.grad.abs().sum() > 0 and b.grad.abs().sum() > 0,
               "no gradient flows back to u and v, so the encoder could not learn from this loss.")

    perfect = torch.tensor([0, 1, 2])
    return run_checks("softmax loss", [
        ("6 pairs, all three labels", same(u, v, labels, "the value differs from the cross-entropy of the head's "
                                                         "scores on (u, v, |u-v|) against the labels.")),
        ("one pair", same(u[:1], v[:1], labels[:1], "with one pair the loss is -log(probability of its gold class).")),
        ("labels in another order", same(u[:3], v[:3], perfect, "the labels are class indices (0, 1, 2), "
                                                                "not one-hot vectors; pass them as they are.")),
        ("gradient reaches u and v", gradient_reaches_encoder),
    ], strict)


def softmax_head_size(fn, strict: bool = False):
    """Exercise 4.3: ``fn(n, k) -> int``, the trainable numbers of the head ``nn.Linear(3n, k)`` (weights and biases)."""
    def case(n, k):
        def test():
            answer = fn(n, k)
            expect(isinstance(answer, int) or (isinstance(answer, float) and answer.is_integer())
                   or (isinstance(answer, torch.Tensor) and answer.numel() == 1),
                   f"return a whole number, not {type(answer).__name__}.")
            answer = int(answer)
            head = nn.Linear(3 * n, k)
            want = sum(p.numel() for p in head.parameters())
            if answer == 3 * n * k:
                fail("that counts W_t but not the bias: nn.Linear also adds one number per class.")
            if answer in (n * k + k, 2 * n * k + k):
                fail("the head's input is not n numbers wide; count how many vectors of size n are joined.")
            if answer == 3 * n * 3 * n + k or answer == 3 * n + k:
                fail("W_t maps the joined vector to one score per class: its shape is (input size) x (classes).")
            expect(answer == want, f"{answer} is not the number of weights plus biases for n={n}, k={k}.")
        return test

    return run_checks("softmax head size", [
        ("MiniLM, n = 384, k = 3", case(384, 3)),
        ("BERT-base, n = 768, k = 3", case(768, 3)),
        ("two classes, n = 10", case(10, 2)),
    ], strict)
