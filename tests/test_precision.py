"""Numerics across dtypes: pooling and losses compute fp16/bf16 inputs in float32 and return float32, as
sentence-transformers does; float32 and float64 inputs are computed and returned in their own dtype, so
`torch.autograd.gradcheck` (float64) checks every pooling mode and every loss (sbert_teach.pooling,
sbert_teach.objectives)."""

from __future__ import annotations

import pytest
import torch

from sbert_teach.objectives import (TRIPLET_DISTANCES, batch_hard_triplet_loss_from_embeddings,
                                    matryoshka_loss_from_embeddings, mnr_loss_from_embeddings,
                                    mse_loss_from_embeddings, regression_loss_from_embeddings,
                                    softmax_loss_from_embeddings, triplet_loss_from_embeddings)
from sbert_teach.pooling import POOLING_FUNCTIONS

HALF = [torch.float16, torch.bfloat16]


@pytest.mark.parametrize("dtype", HALF)
@pytest.mark.parametrize("mode", sorted(POOLING_FUNCTIONS))
def test_pooling_half_inputs_match_float32_and_return_float32(mode, dtype):
    torch.manual_seed(0)
    tokens = torch.randn(3, 5, 8).to(dtype)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0]])  # the last row is all padding
    pooled = POOLING_FUNCTIONS[mode](tokens, mask)
    reference = POOLING_FUNCTIONS[mode](tokens.float(), mask)
    assert pooled.dtype == torch.float32 and torch.isfinite(pooled).all()
    assert torch.equal(pooled, reference)
    assert torch.equal(pooled[2], torch.zeros(8))


def test_mean_pooling_of_large_fp16_values_does_not_overflow():
    tokens = torch.full((1, 4, 2), 30_000.0, dtype=torch.float16)  # their fp16 sum (120,000) would be inf
    pooled = POOLING_FUNCTIONS["mean"](tokens, torch.ones(1, 4))
    assert torch.isfinite(pooled).all() and torch.allclose(pooled, torch.full((1, 2), 30_000.0))


def _vectors(dtype, n=6, d=16, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(n, d, generator=g).to(dtype) for _ in range(3)]


LOSSES = {
    "triplet": lambda a, p, n: triplet_loss_from_embeddings(a, p, n, margin=1.0),
    "regression": lambda a, p, n: regression_loss_from_embeddings(a, p, torch.linspace(0, 1, a.shape[0])),
    "mnr": lambda a, p, n: mnr_loss_from_embeddings(a, p, n),
    "batch_hard": lambda a, p, n: batch_hard_triplet_loss_from_embeddings(a, torch.tensor([0, 0, 1, 1, 2, 2])),
}


@pytest.mark.parametrize("dtype", HALF)
@pytest.mark.parametrize("name", sorted(LOSSES))
def test_losses_from_half_vectors_are_float32_and_equal_the_float32_loss(name, dtype):
    half = _vectors(dtype)
    loss = LOSSES[name](*half)
    reference = LOSSES[name](*[v.float() for v in half])  # the same rounded vectors, in float32
    assert loss.dtype == torch.float32
    assert torch.equal(loss, reference)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_losses_stay_float32_under_autocast(name):
    vectors = [v.requires_grad_() for v in _vectors(torch.float32)]
    with torch.autocast("cpu", dtype=torch.bfloat16):
        loss = LOSSES[name](*vectors)
    assert loss.dtype == torch.float32
    assert torch.allclose(loss, LOSSES[name](*vectors))
    loss.backward()
    assert all(v.grad is None or v.grad.dtype == torch.float32 for v in vectors)


def test_large_half_vectors_give_a_finite_triplet_loss():
    big = [torch.full((2, 8), 200.0, dtype=torch.float16), torch.zeros(2, 8, dtype=torch.float16),
           torch.full((2, 8), -200.0, dtype=torch.float16)]
    # squared distances of 320,000 overflow fp16 (max 65,504); in float32 they are fine
    assert torch.isfinite(triplet_loss_from_embeddings(*big)).all()


def _softmax_loss(a, p, n):
    """The head is the same on every call (gradcheck calls many times), in the vectors' dtype when full."""
    head = torch.nn.Linear(3 * a.shape[-1], 3)
    with torch.no_grad():
        head.weight.copy_(torch.linspace(-1, 1, head.weight.numel()).reshape(head.weight.shape))
        head.bias.zero_()
    head = head.to(a.dtype if a.dtype in FULL else torch.float32)
    return softmax_loss_from_embeddings(a, p, torch.tensor([0, 1, 2, 0, 1, 2]), head)


def _matryoshka_mnr(a, p, n):
    width = a.shape[-1]
    return matryoshka_loss_from_embeddings(lambda e, labels: mnr_loss_from_embeddings(*e), [a, p, n], None,
                                           dims=(width, width // 2))


LOSSES_WITH_SOFTMAX = {**LOSSES, "softmax": _softmax_loss, "matryoshka (mnr)": _matryoshka_mnr,
                       "distill_mse": lambda a, p, n: mse_loss_from_embeddings(a, p),
                       **{f"triplet ({d})": (lambda d: lambda a, p, n: triplet_loss_from_embeddings(a, p, n, distance=d))(d)
                          for d in sorted(TRIPLET_DISTANCES)}}
FULL = [torch.float32, torch.float64]


@pytest.mark.parametrize("dtype", FULL)
@pytest.mark.parametrize("mode", sorted(POOLING_FUNCTIONS))
def test_pooling_keeps_float32_and_float64(mode, dtype):
    tokens = torch.randn(3, 5, 8, dtype=dtype)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [0, 0, 0, 0, 0]])
    assert POOLING_FUNCTIONS[mode](tokens, mask).dtype == dtype


@pytest.mark.parametrize("mode", sorted(POOLING_FUNCTIONS))
def test_pooling_passes_gradcheck_in_float64(mode):
    torch.manual_seed(0)
    tokens = torch.randn(3, 5, 4, dtype=torch.float64, requires_grad=True)
    mask = torch.tensor([[1, 1, 1, 0, 0], [0, 0, 1, 1, 1], [1, 1, 1, 1, 1]])  # right and left padding
    assert torch.autograd.gradcheck(lambda t: POOLING_FUNCTIONS[mode](t, mask), (tokens,))


@pytest.mark.parametrize("dtype", FULL)
@pytest.mark.parametrize("name", sorted(LOSSES_WITH_SOFTMAX))
def test_losses_keep_float32_and_float64(name, dtype):
    assert LOSSES_WITH_SOFTMAX[name](*_vectors(dtype)).dtype == dtype


@pytest.mark.parametrize("name", sorted(LOSSES_WITH_SOFTMAX))
def test_losses_pass_gradcheck_in_float64(name):
    torch.manual_seed(0)
    vectors = [v.requires_grad_() for v in _vectors(torch.float64, n=6, d=4, seed=1)]
    loss = LOSSES_WITH_SOFTMAX[name]
    assert torch.autograd.gradcheck(lambda a, p, n: loss(a, p, n), tuple(vectors))
