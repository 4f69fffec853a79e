"""The training loop: one loop for every objective, CPU or GPU (chapters 4-6).

Where is the training loop? Here, :func:`train`. Notebooks call it; nothing
copies it.

What it does, in order, each step: take a batch (dynamic padding, done by the
collator), run the objective under autocast on GPU, back-propagate, clip the
gradient norm, step AdamW and the linear warm-up/decay schedule, record the
loss. Every ``eval_every`` steps it calls your ``evaluate`` function.

Where its speed comes from, each with a switch in :class:`TrainConfig` so a
benchmark can show its share (``benchmarks/``, appendix "How fast is it?"):
``dynamic_padding`` (pad a batch only to its longest sentence),
``padding_free`` (BERT: all columns in one pass whose dense layers skip the
padding), ``smart_batching`` (other models: encode a batch's sentences in
length-sorted sub-batches; both in :mod:`sbert_teach.speed`), ``fused_optimizer`` (one AdamW kernel for all
parameters), ``sync_every`` (on GPU, read the loss back to the host only now
and then), and on GPU ``mixed_precision`` (bf16 autocast) and ``allow_tf32``.
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

from . import distributed
from .checkpoint import CheckpointError, capture_rng, checkpoint_path, load_checkpoint, restore_rng, save_checkpoint
from .data import TextColumnsCollator
from .validation import warn_truncated
from .speed import embed_length_sorted, embed_padding_free, supports_padding_free


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
    # First N steps: only the objective's own layers learn, the encoder waits ("linear probing, then
    # fine-tuning", Kumar et al. 2022): a random head's gradients would otherwise distort the encoder (chapter 4)
    head_only_steps: int = 0
    mixed_precision: str = "auto"  # "auto" (bf16/fp16 on CUDA, off on CPU), "bf16", "fp16", "off"
    eval_every: int | None = None
    seed: int = 42
    device: str | None = None  # None: CUDA if available, else CPU
    show_progress: bool = True
    # Speed switches (defaults are the fast path; turn one off to measure its share)
    padding_free: bool = True  # BERT: one pass per batch, dense layers on real tokens only (sbert_teach.speed)
    smart_batching: bool = True  # otherwise: length-sorted sub-batches inside each batch (sbert_teach.speed)
    dynamic_padding: bool = True  # False: pad every batch to max_length (and no smart batching)
    fused_optimizer: bool = True  # AdamW's fused kernel where the device supports it
    allow_tf32: bool = True  # CUDA only: TF32 matrix products for what autocast leaves in float32
    sync_every: int | None = None  # read losses back to the host every N steps; None: 1 on CPU, 50 on GPU
    # Reliability (chapter 9): a checkpoint in output_dir every N steps and on Ctrl-C / SIGTERM
    checkpoint_every: int | None = None  # None or 0: only on an interruption (when output_dir is given)


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
    truncated: int = 0  # training texts longer than the encoder's max_length (cut; a warning says how many)

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


def _tf32_settings(device: torch.device, allow: bool):
    """On CUDA, let float32 matrix products use TF32 (10-bit mantissa inputs, float32 sums)
    and return the old settings. Safe here: autocast already runs the big products in
    bf16/fp16; TF32 only touches what stays in float32 (the loss head, the pooling)."""
    if device.type != "cuda" or not allow:
        return None
    old = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = True
    return old


def _restore_tf32(old) -> None:
    if old is not None:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = old


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


def _set_requires_grad(params, flag: bool) -> None:
    if params and params[0].requires_grad != flag:
        for p in params:
            p.requires_grad_(flag)


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
    if getattr(config, "fused_optimizer", True):
        try:
            return torch.optim.AdamW(groups, lr=config.learning_rate, fused=True)
        except (RuntimeError, TypeError):  # fused not supported for this device/dtype
            pass
    return torch.optim.AdamW(groups, lr=config.learning_rate)


def uses_plain_forward(objective) -> bool:
    """True when ``objective`` computes its loss as ``loss_from_embeddings(embed(features))``,
    so its sentences may be encoded in length-sorted sub-batches."""
    from .objectives.base import Objective

    cls = type(objective)
    return isinstance(objective, Objective) and cls.forward is Objective.forward and cls.embed is Objective.embed


def _raise_non_finite(losses, first_step: int, batch_rows=None, before_update: bool = False) -> None:
    """Stop on a NaN/inf loss, naming the step (counted from 1) and, when known, the batch's rows."""
    for offset, value in enumerate(losses):
        if not math.isfinite(value):
            rows = ""
            if batch_rows is not None and len(losses) == 1:
                shown = ", ".join(map(str, batch_rows[:8])) + (", ..." if len(batch_rows) > 8 else "")
                rows = f" (the batch of dataset rows {shown})"
            when = ("Training stopped before that step changed the weights." if before_update else
                    "It was noticed when losses were read back from the device, so later steps may have run.")
            raise FloatingPointError(
                f"Loss is {value} at step {first_step + offset + 1}{rows}. {when} "
                "Lower the learning rate, or check those rows for broken inputs."
            )


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on Ctrl-C or SIGTERM after saving a checkpoint; resume to continue."""


def epoch_batches(n_rows: int, batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """The row indices of every full batch of ``epoch``: a fixed shuffle of ``seed`` and ``epoch``.

    Written out (rather than left to a DataLoader's generator) so that a checkpoint can
    store the data order and the position in it, and a resumed run picks up the very next batch.
    """
    order = torch.randperm(n_rows, generator=torch.Generator().manual_seed(seed * 1_000_003 + epoch)).tolist()
    return [order[i:i + batch_size] for i in range(0, n_rows - batch_size + 1, batch_size)]


class _StopFlag:
    """Turns SIGINT/SIGTERM into a request to stop at the end of the current step (main thread only)."""

    def __init__(self):
        self.signal = None
        self._old = {}

    def __enter__(self):
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.signal is not None and signum == 2:  # a second Ctrl-C: stop now, without a checkpoint
            raise KeyboardInterrupt
        self.signal = signum

    def __exit__(self, *exc):
        import signal

        for sig, handler in self._old.items():
            signal.signal(sig, handler)
        return False


class _LossStep(torch.nn.Module):
    """The objective plus how its sentences are embedded, as one module: what DDP wraps."""

    def __init__(self, objective, embed):
        super().__init__()
        self.objective = objective
        self.embed = embed

    def forward(self, features, labels):
        if self.embed is None:
            return self.objective(features, labels)
        return self.objective.loss_from_embeddings(self.embed(self.objective.encoder, features), labels)


def _check_resumable(saved: dict, config: "TrainConfig", n_rows: int) -> None:
    mine = asdict(config)
    for key in ("batch_size", "seed", "epochs", "max_steps", "learning_rate", "warmup_ratio"):
        if saved["config"].get(key) != mine[key]:
            raise CheckpointError(
                f"The checkpoint was written with {key}={saved['config'].get(key)!r}, this run asks for "
                f"{mine[key]!r}. Resume with the same settings, or start a new run in another output folder."
            )
    if saved["n_rows"] != n_rows:
        raise CheckpointError(
            f"The checkpoint was written for a dataset of {saved['n_rows']} rows; this one has {n_rows}. "
            "Resume with the same data, or start a new run in another output folder."
        )


def train(objective, dataset, config: TrainConfig | None = None, evaluate=None, output_dir=None,
          resume: bool = False, callback=None) -> TrainResult:
    """Train ``objective`` (which wraps an encoder) on ``dataset``; return the history.

    Args:
        objective: e.g. ``SoftmaxObjective(encoder)``; its ``text_columns`` and
            ``label_column`` say which dataset columns are used.
        dataset: a ``datasets.Dataset`` (or list of dicts) with those columns.
        config: :class:`TrainConfig`.
        evaluate: optional ``fn(encoder) -> dict`` called every ``eval_every``
            steps and at the end; results go to ``TrainResult.evaluations``.
        output_dir: if given, the encoder is saved there at the end
            (sentence-transformers format), and checkpoints go to
            ``output_dir/checkpoint.pt`` (removed once the run has finished).
        resume: continue from ``output_dir/checkpoint.pt``: weights, optimizer,
            schedule, data order and position, random states and history. The
            result equals an uninterrupted run with the same seed.
        callback: optional ``fn(step, loss)`` called after each step (e.g. to log).

    Ctrl-C or SIGTERM (Colab disconnects, pre-emption) stops at the end of the
    current step, writes a checkpoint when ``output_dir`` is set, and raises
    :class:`TrainingInterrupted`. Under ``torchrun`` every process trains on an
    equal slice of each global batch of ``batch_size`` rows through
    ``DistributedDataParallel`` (see :mod:`sbert_teach.distributed`).
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
    if (resume or config.checkpoint_every) and output_dir is None:
        raise ValueError("Checkpoints need a folder: pass output_dir (--output) together with resume / checkpoint_every.")
    saved = load_checkpoint(output_dir) if resume else None  # fail fast, before any work
    if saved is not None:
        _check_resumable(saved, config, len(dataset))

    distributed.init_from_env()
    rank, world = distributed.rank_and_world()
    device = pick_device(config.device)
    if world > 1 and device.type == "cuda":
        device = torch.device("cuda", torch.cuda.current_device())
    seed_everything(config.seed)
    objective.to(device).train()
    encoder = objective.encoder
    collate = TextColumnsCollator(encoder.tokenizer, objective.text_columns, objective.label_column,
                                  objective.label_dtype, encoder.max_length, dynamic_padding=config.dynamic_padding)
    embed = None  # None: objective(features, labels), one pass per column
    if config.dynamic_padding and uses_plain_forward(objective):
        if config.padding_free and supports_padding_free(encoder.transformer):
            embed = embed_padding_free
        elif config.smart_batching:
            embed = embed_length_sorted
    step_module = _LossStep(objective, embed)
    if world > 1:
        from torch.nn.parallel import DistributedDataParallel

        # find_unused_parameters: BERT's pooler (and the classifier of a non-softmax objective) get no gradient
        step_module = DistributedDataParallel(step_module, find_unused_parameters=True)
    sync_every = max(1, config.sync_every or (1 if device.type == "cpu" else 50))
    steps_per_epoch = len(dataset) // config.batch_size
    total = steps_per_epoch * config.epochs
    if config.max_steps is not None:
        total = min(total, config.max_steps)
    optimizer = make_optimizer(objective, config, device)
    encoder_params = [p for name, p in objective.named_parameters() if name.startswith("encoder.")]
    trainable_encoder = [p for p in encoder_params if p.requires_grad]
    if config.head_only_steps and len(encoder_params) == len(list(objective.parameters())):
        raise ValueError(f"head_only_steps={config.head_only_steps}, but the {type(objective).__name__} has no layers "
                         "of its own to train first (only the softmax objective has a head). Set head_only_steps=0.")
    scheduler = warmup_linear_schedule(optimizer, math.ceil(total * config.warmup_ratio), total)
    amp_dtype = autocast_dtype(config.mixed_precision, device)
    scaler = torch.amp.GradScaler("cuda", enabled=amp_dtype == torch.float16)

    result = TrainResult(device=str(device), config=asdict(config))
    step, epoch, position, batches = 0, 0, 0, None
    if saved is not None:
        objective.load_state_dict(saved["objective"])
        optimizer.load_state_dict(saved["optimizer"])
        scheduler.load_state_dict(saved["scheduler"])
        scaler.load_state_dict(saved["scaler"])
        step, epoch, position, batches = saved["step"], saved["epoch"], saved["position"], saved["batches"]
        for key, value in saved["result"].items():
            setattr(result, key, value)
        restore_rng(saved["rng"])

    def flush() -> list[float]:
        """Read the pending losses back (one device-to-host copy for many steps) and record them."""
        nonlocal pending
        if not pending:
            return []
        values = torch.stack(pending).float().tolist()
        pending = []
        _raise_non_finite(values, step - len(values), batches[position - 1])
        if world > 1:
            values = [distributed.mean_over_processes(v) for v in values]
        result.losses.extend(values)
        if progress is not None:
            progress.update(len(values))
            progress.set_postfix(loss=f"{values[-1]:.4f}")
        return values

    def write_checkpoint():
        result.seconds = time.perf_counter() - start
        if rank == 0:
            save_checkpoint(output_dir, {
                "objective": objective.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(), "scaler": scaler.state_dict(),
                "step": step, "epoch": epoch, "position": position, "batches": batches, "n_rows": len(dataset),
                "rng": capture_rng(), "config": asdict(config),
                "result": {k: getattr(result, k) for k in ("losses", "learning_rates", "evaluations", "examples", "seconds")},
            })

    progress = None
    if config.show_progress and not os.environ.get("TQDM_DISABLE") and rank == 0:
        from tqdm.auto import tqdm

        progress = tqdm(total=total, initial=step, desc="train", unit="step")
    tf32 = _tf32_settings(device, config.allow_tf32)
    pending = []  # losses still on the device, read back every ``sync_every`` steps
    start = time.perf_counter() - result.seconds
    try:
        with _StopFlag() as stop:
            while step < total:
                if batches is None or position >= len(batches):
                    if batches is not None:
                        epoch, position = epoch + 1, 0
                    batches = epoch_batches(len(dataset), config.batch_size, config.seed, epoch)
                mine = [distributed.local_slice(b, rank, world) for b in batches[position:]]
                # a private generator: a DataLoader draws a seed when it starts, which must not move the global RNG
                loader = DataLoader(dataset, batch_sampler=mine, collate_fn=collate, pin_memory=device.type == "cuda",
                                    generator=torch.Generator().manual_seed(config.seed))
                for features, labels in loader:
                    if step >= total:
                        break
                    if labels is not None:
                        labels = labels.to(device, non_blocking=True)
                    if world == 1:  # head-only phase without the encoder's backward pass (under DDP: dropped below)
                        _set_requires_grad(trainable_encoder, step >= config.head_only_steps)
                    with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
                        loss = step_module(features, labels)
                    if sync_every == 1 and not torch.isfinite(loss):  # CPU: checking costs nothing, stop at once
                        _raise_non_finite([loss.item()], step, batches[position], before_update=True)
                    optimizer.zero_grad(set_to_none=True)
                    scaler.scale(loss).backward()
                    scaler.unscale_(optimizer)
                    if step < config.head_only_steps:
                        for p in encoder_params:  # AdamW skips a parameter without a gradient: no update, no decay
                            p.grad = None
                    torch.nn.utils.clip_grad_norm_(objective.parameters(), config.max_grad_norm)
                    scaler.step(optimizer)
                    scaler.update()
                    result.learning_rates.append(scheduler.get_last_lr()[0])
                    scheduler.step()
                    step += 1
                    position += 1
                    pending.append(loss.detach())
                    result.examples += config.batch_size
                    at_eval = bool(config.eval_every and step % config.eval_every == 0)
                    at_checkpoint = bool(config.checkpoint_every and step % config.checkpoint_every == 0)
                    reported = []
                    if len(pending) >= sync_every or step >= total or at_eval or at_checkpoint or stop.signal:
                        reported = flush()
                    if evaluate is not None and at_eval and step < total:
                        result.evaluations.append({"step": step, **evaluate(encoder)})
                        objective.train()
                    saved_now = at_checkpoint and step < total
                    if saved_now:
                        write_checkpoint()
                    if callback is not None:  # after the checkpoint: "step k" means step k is safe
                        for offset, value in enumerate(reported):
                            callback(step - len(reported) + offset + 1, value)
                    if stop.signal and step < total:  # the signal may have come during the callback
                        if output_dir is not None and not saved_now:
                            flush()
                            write_checkpoint()
                        where = f"; a checkpoint is saved in {checkpoint_path(output_dir)}" if output_dir else ""
                        how = ("resume=True (command line: --resume)" if output_dir
                               else "output_dir and checkpoint_every next time, so there is a checkpoint to resume from")
                        raise TrainingInterrupted(f"Training stopped by signal {stop.signal} after step {step}{where}. "
                                                  f"To continue, train again with {how}.")
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        result.seconds = time.perf_counter() - start
    finally:
        _restore_tf32(tf32)
        _set_requires_grad(trainable_encoder, True)
        if progress is not None:
            progress.close()
    result.steps = step
    result.truncated = collate.texts_truncated
    warn_truncated(collate.texts_truncated, collate.texts_seen, collate.max_length, "training texts")
    if evaluate is not None:
        result.evaluations.append({"step": step, **evaluate(encoder)})
    if output_dir is not None and rank == 0:
        from .persistence import save_encoder

        save_encoder(encoder, output_dir)
        checkpoint_path(output_dir).unlink(missing_ok=True)  # the run is complete: the model is the result
    return result
