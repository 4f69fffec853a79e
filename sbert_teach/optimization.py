"""What learns when, and how fast: AdamW, the warm-up schedule, and the training phases (chapter 4).

A run has one or two phases:

1. **head only** (``TrainConfig.head_only_steps``, "linear probing, then
   fine-tuning", Kumar et al. 2022): only the objective's own layers (the
   softmax classifier) learn; the encoder waits, so a random head's gradients
   never reach it;
2. **everything**: the encoder learns too.

Each group of parameters gets the paper's schedule, linear warm-up over
``warmup_ratio`` of its steps then linear decay to 0, counted from the step
*it starts learning*: the head from step 0, the encoder from the first step
of phase 2. (A single schedule for both would spend the encoder's warm-up
during the head-only phase, so the encoder would start near its peak rate
with no warm-up at all.) With one phase both schedules are the paper's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch


def make_optimizer(objective, learning_rate: float, weight_decay: float, head_learning_rate: float | None = None,
                   fused: bool = True):
    """AdamW without weight decay on biases and LayerNorm weights; fused kernel when available.

    Each parameter group is named ``"encoder"`` or ``"head"`` (the objective's
    own layers). The head may get ``head_learning_rate``: a random head sends
    random gradients into the encoder until it has learned something, so
    letting it learn faster first distorts the encoder less.
    """
    groups = {}
    for name, p in objective.named_parameters():
        if not p.requires_grad:
            continue
        role = "encoder" if name.startswith("encoder.") else "head"
        lr = head_learning_rate if (role == "head" and head_learning_rate) else learning_rate
        decay = weight_decay if p.ndim >= 2 else 0.0
        groups.setdefault((role, lr, decay), []).append(p)
    groups = [{"params": ps, "lr": lr, "weight_decay": wd, "role": role} for (role, lr, wd), ps in groups.items()]
    if fused:
        try:
            return torch.optim.AdamW(groups, lr=learning_rate, fused=True)
        except (RuntimeError, TypeError):  # fused not supported for this device/dtype
            pass
    return torch.optim.AdamW(groups, lr=learning_rate)


def warmup_linear(step: int, warmup_steps: int, total_steps: int) -> float:
    """The learning-rate factor at ``step``: rises linearly for ``warmup_steps``, then falls linearly to 0."""
    if step < warmup_steps:
        return (step + 1) / max(1, warmup_steps)
    return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))


def warmup_linear_schedule(optimizer, warmup_steps: int, total_steps: int):
    """One :func:`warmup_linear` schedule for every parameter group."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: warmup_linear(step, warmup_steps, total_steps))


@dataclass(frozen=True)
class Phases:
    """Head only for ``head_only_steps``, then everything, in a run of ``total_steps``."""

    head_only_steps: int
    total_steps: int
    warmup_ratio: float

    def encoder_learns(self, step: int) -> bool:
        """Whether the encoder is updated at ``step`` (counted from 0)."""
        return step >= self.head_only_steps

    def factor(self, role: str, step: int) -> float:
        """The learning-rate factor of a ``"head"`` or ``"encoder"`` group at ``step``."""
        start = self.head_only_steps if role == "encoder" else 0
        if step < start:
            return 0.0
        span = self.total_steps - start
        return warmup_linear(step - start, math.ceil(span * self.warmup_ratio), span)

    def schedule(self, optimizer):
        """A LambdaLR giving each group of ``optimizer`` (from :func:`make_optimizer`) its own phase's schedule."""
        roles = [group.get("role", "encoder") for group in optimizer.param_groups]
        return torch.optim.lr_scheduler.LambdaLR(optimizer, [lambda step, r=r: self.factor(r, step) for r in roles])

    def frozen(self, step: int, encoder_params) -> list:
        """Parameters whose gradients the step drops at ``step`` (AdamW then neither updates nor decays them)."""
        return [] if self.encoder_learns(step) else encoder_params


def set_requires_grad(params, flag: bool) -> None:
    """Turn gradients of ``params`` on or off (skips the encoder's backward pass in the head-only phase)."""
    if params and params[0].requires_grad != flag:
        for p in params:
            p.requires_grad_(flag)
