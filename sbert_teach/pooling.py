"""Pooling: turn token vectors into one sentence vector (chapter 2).

All three functions take ``token_embeddings`` of shape ``(batch, tokens, hidden)``
and an ``attention_mask`` of shape ``(batch, tokens)`` (1 = real token,
0 = padding), and return ``(batch, hidden)``: in float32 for float16/bfloat16 input (what
autocast gives), as sentence-transformers does, and in the input's own dtype for float32 and
float64 (so ``torch.autograd.gradcheck`` works on them). They

* work for right *and* left padding,
* return a zero vector for a row that is all padding (instead of NaN or -inf),
* never modify their inputs in place.
"""

from __future__ import annotations

import torch

from .precision import upcast_half
from .validation import check_choice


def _check(token_embeddings: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    if token_embeddings.dim() != 3:
        raise ValueError(
            f"token_embeddings must be (batch, tokens, hidden), got shape {tuple(token_embeddings.shape)}."
        )
    if attention_mask.shape != token_embeddings.shape[:2]:
        raise ValueError(
            f"attention_mask shape {tuple(attention_mask.shape)} does not match token_embeddings "
            f"{tuple(token_embeddings.shape[:2])}. Pass the mask the tokenizer returned with these ids."
        )
    return attention_mask.bool()


def mean_pooling(token_embeddings: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Average of the real (unmasked) token vectors. The SBERT paper's default.

    Half-precision input is computed in float32 (fp16 sums of large values overflow, and
    fp16 cannot hold the 1e-9 that keeps an all-padding row at 0 instead of NaN).
    """
    tokens = upcast_half(token_embeddings)
    keep = _check(token_embeddings, attention_mask).unsqueeze(-1).to(tokens.dtype)
    summed = (tokens * keep).sum(dim=1)
    counts = keep.sum(dim=1).clamp(min=1e-9)  # all-padding row: 0 / tiny = 0, not NaN
    return summed / counts


def max_pooling(token_embeddings: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Element-wise maximum over the real tokens; padding is filled with -inf first."""
    keep = _check(token_embeddings, attention_mask)
    filled = upcast_half(token_embeddings).masked_fill(~keep.unsqueeze(-1), float("-inf"))  # a copy
    maxed = filled.max(dim=1).values
    has_tokens = keep.any(dim=1, keepdim=True)
    return torch.where(has_tokens, maxed, torch.zeros_like(maxed))


def cls_pooling(token_embeddings: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """The vector of the first real token, which is ``[CLS]`` for BERT.

    With left padding ``[CLS]`` is not at position 0, so we look up the first
    position whose mask is 1.
    """
    keep = _check(token_embeddings, attention_mask)
    first = keep.int().argmax(dim=1)  # argmax returns the first maximal index
    picked = token_embeddings[torch.arange(token_embeddings.shape[0], device=first.device), first]
    picked = upcast_half(picked)
    has_tokens = keep.any(dim=1, keepdim=True)
    return torch.where(has_tokens, picked, torch.zeros_like(picked))


POOLING_FUNCTIONS = {"cls": cls_pooling, "mean": mean_pooling, "max": max_pooling}


def pool(mode: str, token_embeddings: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Dispatch to one of :data:`POOLING_FUNCTIONS` by name (``"cls"``, ``"mean"``, ``"max"``)."""
    check_choice(mode, POOLING_FUNCTIONS, "pooling mode")
    return POOLING_FUNCTIONS[mode](token_embeddings, attention_mask)
