"""The training loop: one loop for every objective, CPU or GPU (chapters 4-6).

Where is the training loop? Here, :func:`train`. Notebooks call it; nothing
copies it.

What it does, in order, each step: take a batch (dynamic padding, done by the
collator), run the objective under autocast on GPU, back-propagate, clip the
gradient norm, step AdamW and the linear warm-up/decay schedule, record the
loss. Every ``eval_every`` steps it calls your ``evaluate`` function.
"""

from __future__ import annotations

import math
import os
import random
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch.utils.data import DataLoader

from .data import TextColumnsCollator


@dataclass
class TrainConfig:
    """Hyperparameters. Defaults are the SBERT paper's: batch 16, lr 2e-5, 10% warm-up, 1 epoch."""

    batch_size: int = 16
    learning_rate: float = 2e-5
    warmup_ratio: float = 0.1
    epochs: int = 1
    max_steps: int | None = None  # stop early; None = full epochs
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    head_learning_rate: float | None = None  # the objective's own layers (e.g. softmax classifier); None: same
    mixed_precision: str = "auto"  # "auto" (bf16/fp16 on CUDA, off on CPU), "bf16", "fp16", "off"
    eval_every: int | None = None
    seed: int = 42
    device: str | None = None  # None: CUDA if available, else CPU
    show_progress: bool = True


@dataclass
class TrainResult:
    """What a run produced: per-step losses, evaluations, and timing."""

    losses: list[float] = field(default_factory=list)
    learning_rates: list[float] = field(default_factory=list)
    evaluations: list[dict] = field(default_factory=list)
    steps: int = 0
    examples: int = 0
    seconds: float = 0.0
    device: str = "cpu"
    config: dict = field(default_factory=dict)

    @property
    def examples_per_second(self) -> float:
        return self.examples / self.seconds if self.seconds else float("nan")


def pick_device(requested: str | None = None) -> torch.device:
    """``requested`` if given, else CUDA when present, else CPU."""
    if requested:
        return torch.device(requested)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def autocast_dtype(mode: str, device: torch.device):
    """The autocast dtype for ``mode`` on ``device``, or None for full precision."""
    if mode == "off" or device.type != "cuda":
        return None
    if mode == "auto":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return {"bf16": torch.bfloat16, "fp16": torch.float16}[mode]


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def warmup_linear_schedule(optimizer, warmup_steps: int, total_steps: int):
    """Learning rate rises linearly for ``warmup_steps``, then falls linearly to 0."""
    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / max(1, warmup_steps)
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))
    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


def make_optimizer(model, config: TrainConfig, device: torch.device):
    """AdamW without weight decay on biases and LayerNorm weights; fused kernel when available.

    The objective's own layers (a freshly initialised classifier head) may get
    ``head_learning_rate``: a random head sends random gradients into the
    encoder until it has learned something, so letting it learn faster first
    distorts the encoder less.
    """
    groups = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        is_head = not name.startswith("encoder.")
        lr = config.head_learning_rate if (is_head and config.head_learning_rate) else config.learning_rate
        decay = config.weight_decay if p.ndim >= 2 else 0.0
        groups.setdefault((lr, decay), []).append(p)
    groups = [{"params": ps, "lr": lr, "weight_decay": wd} for (lr, wd), ps in groups.items()]
    try:
        return torch.optim.AdamW(groups, lr=config.learning_rate, fused=True)
    except (RuntimeError, TypeError):  # fused not supported for this device/dtype
        return torch.optim.AdamW(groups, lr=config.learning_rate)


def train(objective, dataset, config: TrainConfig | None = None, evaluate=None, output_dir=None) -> TrainResult:
    """Train ``objective`` (which wraps an encoder) on ``dataset``; return the history.

    Args:
        objective: e.g. ``SoftmaxObjective(encoder)``; its ``text_columns`` and
            ``label_column`` say which dataset columns are used.
        dataset: a ``datasets.Dataset`` (or list of dicts) with those columns.
        config: :class:`TrainConfig`.
        evaluate: optional ``fn(encoder) -> dict`` called every ``eval_every``
            steps and at the end; results go to ``TrainResult.evaluations``.
        output_dir: if given, the encoder is saved there at the end
            (sentence-transformers format).
    """
    config = config or TrainConfig()
    if len(dataset) == 0:
        raise ValueError("The training dataset is empty: nothing to train on.")
    if config.batch_size > len(dataset):
        raise ValueError(
            f"batch_size {config.batch_size} is larger than the dataset ({len(dataset)} rows). "
            "Use a smaller batch_size or more data."
        )
    missing = [c for c in (*objective.text_columns, objective.label_column) if c and c not in dataset[0]]
    if missing:
        raise ValueError(f"The dataset lacks column(s) {missing} that the objective needs; it has {list(dataset[0])}.")
    device = pick_device(config.device)
    seed_everything(config.seed)
    objective.to(device).train()
    encoder = objective.encoder
    collate = TextColumnsCollator(encoder.tokenizer, objective.text_columns, objective.label_column,
                                  objective.label_dtype, encoder.max_length)
    loader = DataLoader(dataset, batch_size=config.batch_size, shuffle=True, drop_last=True, collate_fn=collate,
                        generator=torch.Generator().manual_seed(config.seed))
    steps_per_epoch = len(loader)
    total = steps_per_epoch * config.epochs
    if config.max_steps is not None:
        total = min(total, config.max_steps)
    optimizer = make_optimizer(objective, config, device)
    scheduler = warmup_linear_schedule(optimizer, math.ceil(total * config.warmup_ratio), total)
    amp_dtype = autocast_dtype(config.mixed_precision, device)
    scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16)

    result = TrainResult(device=str(device), config=asdict(config))
    progress = None
    if config.show_progress and not os.environ.get("TQDM_DISABLE"):
        from tqdm.auto import tqdm

        progress = tqdm(total=total, desc="train", unit="step")
    start = time.perf_counter()
    step = 0
    while step < total:
        for features, labels in loader:
            if step >= total:
                break
            if labels is not None:
                labels = labels.to(device, non_blocking=True)
            with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
                loss = objective(features, labels)
            if not torch.isfinite(loss):
                raise FloatingPointError(
                    f"Loss is {loss.item()} at step {step}. Lower the learning rate or check this batch's inputs."
                )
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(objective.parameters(), config.max_grad_norm)
            scaler.step(optimizer)
            scaler.update()
            result.learning_rates.append(scheduler.get_last_lr()[0])
            scheduler.step()
            step += 1
            result.losses.append(loss.item())
            result.examples += config.batch_size
            if progress is not None:
                progress.update(1)
                progress.set_postfix(loss=f"{result.losses[-1]:.4f}")
            if evaluate is not None and config.eval_every and step % config.eval_every == 0 and step < total:
                result.evaluations.append({"step": step, **evaluate(encoder)})
                objective.train()
    result.seconds = time.perf_counter() - start
    result.steps = step
    if progress is not None:
        progress.close()
    if evaluate is not None:
        result.evaluations.append({"step": step, **evaluate(encoder)})
    if output_dir is not None:
        from .persistence import save_encoder

        save_encoder(encoder, output_dir)
    return result
