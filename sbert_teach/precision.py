"""Devices and numeric precision: which device a run uses, which autocast dtype, TF32 (chapters 4 and 9).

Used by both training (:mod:`sbert_teach.training`) and ``encode()``
(:mod:`sbert_teach.encoder`), so it lives apart from either.

``"auto"`` mixed precision means bf16 autocast where the GPU does bf16 in
hardware (compute capability 8.0 and newer: A100, H100, L4), and fp16 autocast
elsewhere on CUDA. A T4 (7.5) reports ``torch.cuda.is_bf16_supported()`` as
True, but only because bf16 can be emulated there, which is slow; Colab's free
GPU is a T4, so "auto" must give fp16 there. On a CPU "auto" is full precision.

``SBERT_TEACH_AUTOCAST=fp16`` (or ``bf16``) makes "auto" pick that dtype on any
GPU: a newer GPU can then rehearse what a T4 runs (``scripts/colab_check.py``).
"""

from __future__ import annotations

import contextlib
import os

import torch

#: The oldest CUDA compute capability with bf16 tensor cores (Ampere).
BF16_NATIVE_CAPABILITY = (8, 0)
#: Overrides what "auto" picks on a GPU ("fp16" or "bf16").
ENV_AUTOCAST = "SBERT_TEACH_AUTOCAST"
DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


def upcast_half(tensor: torch.Tensor) -> torch.Tensor:
    """float16/bfloat16 -> float32 (sums overflow and small constants underflow in half precision).

    float32, float64 and integer tensors come back unchanged: pooling and the losses compute in
    their input's dtype, so a float64 gradient check (``torch.autograd.gradcheck``) stays float64.
    """
    return tensor.float() if tensor.dtype in (torch.float16, torch.bfloat16) else tensor


def pick_device(requested: str | None = None) -> torch.device:
    """``requested`` if given, else CUDA when present, else CPU."""
    if requested:
        return torch.device(requested)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def has_native_bf16(device: torch.device) -> bool:
    """True when ``device`` is a GPU that computes bf16 in hardware (not by emulation, as a T4 would)."""
    if device.type != "cuda":
        return False
    return torch.cuda.get_device_capability(device) >= BF16_NATIVE_CAPABILITY and torch.cuda.is_bf16_supported()


def autocast_dtype(mode: str, device: torch.device):
    """The autocast dtype for ``mode`` on ``device``, or None for full precision.

    ``mode`` is ``"auto"`` (bf16 where native, else fp16, unless ``SBERT_TEACH_AUTOCAST``
    names one; nothing on a CPU), ``"bf16"``, ``"fp16"`` or ``"off"``.
    """
    if mode not in ("auto", "bf16", "fp16", "off"):
        raise ValueError(f"mixed_precision must be 'auto', 'bf16', 'fp16' or 'off', got {mode!r}.")
    if mode == "off" or device.type != "cuda":
        return None
    if mode == "auto":
        forced = os.environ.get(ENV_AUTOCAST)
        if forced:
            if forced not in DTYPES:
                raise ValueError(f"{ENV_AUTOCAST} must be 'fp16' or 'bf16', got {forced!r}; unset it for the default.")
            return DTYPES[forced]
        return torch.bfloat16 if has_native_bf16(device) else torch.float16
    return DTYPES[mode]


@contextlib.contextmanager
def tf32_matmuls(device: torch.device, allow: bool):
    """On CUDA, let float32 matrix products use TF32 inside the block, then restore the old settings.

    Safe here: autocast already runs the big products in bf16/fp16; TF32 only
    touches what stays in float32 (the loss head, the pooling).
    """
    if device.type != "cuda" or not allow:
        yield
        return
    old = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old
