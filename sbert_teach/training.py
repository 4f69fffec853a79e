"""The training loop: one loop for every objective, CPU or GPU (chapters 4-6).

Where is the training loop? Here. Read it in this order:

* :func:`training_step`: one optimisation step (forward under autocast, loss,
  backward, clip, AdamW and schedule step). Chapter 4 writes it by hand.
* :meth:`Trainer.fit` and :meth:`Trainer.fit_epoch`: the loop around the step.
* :func:`train`: what notebooks and the command line call.

Every other concern is a named piece with its own module and tests:

=========================================  ==============================================
concern                                    where
=========================================  ==============================================
data order, position, this process's rows  :func:`epoch_batches`, :meth:`Trainer.batches`
training phases and warm-up (head only)    :mod:`sbert_teach.optimization` (``Phases``)
optimizer                                  :func:`sbert_teach.optimization.make_optimizer`
precision, device, TF32                    :mod:`sbert_teach.precision`
loss read-back, non-finite checks          :mod:`sbert_teach.loss_log` (``LossLog``)
evaluation and progress bar                :mod:`sbert_teach.reporting`
checkpoint and resume                      :mod:`sbert_teach.checkpoint`, :meth:`Trainer.save_checkpoint`
interruption (Ctrl-C, SIGTERM)             :mod:`sbert_teach.interruption`
several processes (torchrun, DDP)          :mod:`sbert_teach.distributed`
speed paths (padding-free, length-sorted)  :mod:`sbert_teach.speed`
=========================================  ==============================================

Each speed path has a switch in :class:`TrainConfig`, so a benchmark can show
its share (``benchmarks/``, appendix "How fast is it?"): ``dynamic_padding``,
``padding_free``, ``smart_batching``, ``fused_optimizer``, ``sync_every``
and, on GPU, ``mixed_precision`` and ``allow_tf32``.
"""

from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
from torch.utils.data import DataLoader

from . import distributed
from .checkpoint import CheckpointError, capture_rng, checkpoint_path, load_checkpoint, restore_rng, save_checkpoint
from .data import TextColumnsCollator
from .interruption import StopFlag, TrainingInterrupted, interruption_message
from .loss_log import LossLog
from .optimization import Phases, make_optimizer, set_requires_grad, warmup_linear_schedule
from .precision import autocast_dtype, pick_device, tf32_matmuls
from .reporting import Progress, due, record_evaluation
from .speed import embed_length_sorted, embed_padding_free, supports_padding_free
from .validation import warn_truncated

__all__ = ["TrainConfig", "TrainResult", "Trainer", "TrainingInterrupted", "train", "training_step", "epoch_batches",
           "seed_everything", "pick_device", "autocast_dtype", "make_optimizer", "warmup_linear_schedule"]


@dataclass
class TrainConfig:
    """Hyperparameters. Defaults are the SBERT paper's: batch 16, lr 2e-5, 10% warm-up, 1 epoch."""

    batch_size: int = 16
    learning_rate: float = 2e-5
    warmup_ratio: float = 0.1  # of each phase's steps (sbert_teach.optimization)
    epochs: int = 1
    max_steps: int | None = None  # stop early; None = full epochs
    weight_decay: float = 0.01
    max_grad_norm: float = 1.0
    head_learning_rate: float | None = None  # the objective's own layers (e.g. softmax classifier); None: same
    # First N steps: only the objective's own layers learn, the encoder waits ("linear probing, then
    # fine-tuning", Kumar et al. 2022): a random head's gradients would otherwise distort the encoder (chapter 4)
    head_only_steps: int = 0
    mixed_precision: str = "auto"  # "auto" (bf16 where native, else fp16 on CUDA; off on CPU), "bf16", "fp16", "off"
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
    learning_rates: list[float] = field(default_factory=list)  # the encoder's, per step
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


def training_step(loss_module, features, labels, optimizer, scheduler, scaler=None, *, amp_dtype=None,
                  max_grad_norm: float = 1.0, frozen=(), check_loss=None) -> torch.Tensor:
    """One optimisation step on one batch; returns the loss (still on the device).

    The first five arguments are those of chapter 4's hand-written step:
    ``loss_module(features, labels)`` computes the objective's loss. The rest
    serve the loop: ``scaler`` is a ``torch.amp.GradScaler`` for fp16
    (``None``: a plain backward and step); ``amp_dtype`` turns on autocast;
    ``frozen`` parameters keep no gradient (the head-only phase);
    ``check_loss(loss)`` may stop the run before the weights change (a NaN on a CPU).
    """
    device_type = next(loss_module.parameters()).device.type
    with torch.autocast(device_type, dtype=amp_dtype, enabled=amp_dtype is not None):
        loss = loss_module(features, labels)
    if check_loss is not None:
        check_loss(loss)
    optimizer.zero_grad(set_to_none=True)
    if scaler is None:
        loss.backward()
    else:
        scaler.scale(loss).backward()         # fp16: scaled so small gradients survive
        scaler.unscale_(optimizer)            # back to true gradients before clipping
    for p in frozen:
        p.grad = None                         # AdamW skips a parameter without a gradient
    torch.nn.utils.clip_grad_norm_(loss_module.parameters(), max_grad_norm)
    if scaler is None:
        optimizer.step()
    else:
        scaler.step(optimizer)                # skipped if fp16 gradients overflowed
        scaler.update()
    scheduler.step()
    return loss.detach()


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def epoch_batches(n_rows: int, batch_size: int, seed: int, epoch: int) -> list[list[int]]:
    """The row indices of every full batch of ``epoch``: a fixed shuffle of ``seed`` and ``epoch``.

    Written out (rather than left to a DataLoader's generator) so that a checkpoint can
    store the data order and the position in it, and a resumed run picks up the very next batch.
    """
    order = torch.randperm(n_rows, generator=torch.Generator().manual_seed(seed * 1_000_003 + epoch)).tolist()
    return [order[i:i + batch_size] for i in range(0, n_rows - batch_size + 1, batch_size)]


def uses_plain_forward(objective) -> bool:
    """True when ``objective`` computes its loss as ``loss_from_embeddings(embed(features))``,
    so its sentences may be encoded in length-sorted sub-batches."""
    from .objectives.base import Objective

    cls = type(objective)
    return isinstance(objective, Objective) and cls.forward is Objective.forward and cls.embed is Objective.embed


class LossModule(torch.nn.Module):
    """The objective plus how its sentences are embedded (a speed path or its own forward): what DDP wraps."""

    def __init__(self, objective, embed=None):
        super().__init__()
        self.objective = objective
        self.embed = embed

    def forward(self, features, labels):
        if self.embed is None:
            return self.objective(features, labels)
        return self.objective.loss_from_embeddings(self.embed(self.objective.encoder, features), labels)


def choose_embed(objective, config: TrainConfig):
    """The fastest exact way to embed a batch's sentences for ``objective`` (``None``: its own forward)."""
    if not (config.dynamic_padding and uses_plain_forward(objective)):
        return None
    if config.padding_free and supports_padding_free(objective.encoder.transformer):
        return embed_padding_free
    return embed_length_sorted if config.smart_batching else None


class Trainer:
    """One run: the objective, its optimizer and schedule, where it is in the data, and its helpers."""

    def __init__(self, objective, dataset, config: TrainConfig, output_dir=None):
        distributed.init_from_env()
        self.rank, self.world = distributed.rank_and_world()
        self.device = pick_device(config.device)
        if self.world > 1 and self.device.type == "cuda":
            self.device = torch.device("cuda", torch.cuda.current_device())
        seed_everything(config.seed)
        self.objective, self.dataset, self.config, self.output_dir = objective.to(self.device).train(), dataset, config, output_dir
        encoder = objective.encoder
        self.collate = TextColumnsCollator(encoder.tokenizer, objective.text_columns, objective.label_column,
                                           objective.label_dtype, encoder.max_length, config.dynamic_padding)
        self.loss_module = LossModule(objective, choose_embed(objective, config))
        if self.world > 1:
            self.loss_module = distributed.wrap(self.loss_module)
        self.total = len(dataset) // config.batch_size * config.epochs
        if config.max_steps is not None:
            self.total = min(self.total, config.max_steps)
        self.optimizer = make_optimizer(objective, config.learning_rate, config.weight_decay,
                                        config.head_learning_rate, config.fused_optimizer)
        self.phases = Phases(config.head_only_steps, self.total, config.warmup_ratio)
        self.scheduler = self.phases.schedule(self.optimizer)
        self.amp_dtype = autocast_dtype(config.mixed_precision, self.device)
        self.scaler = torch.amp.GradScaler("cuda", enabled=self.amp_dtype == torch.float16)
        self.encoder_params = [p for name, p in objective.named_parameters() if name.startswith("encoder.")]
        self.trainable_encoder = [p for p in self.encoder_params if p.requires_grad]  # what the phases switch
        self.result = TrainResult(device=str(self.device), config=asdict(config))
        self.step, self.epoch, self.position, self.order = 0, 0, 0, None  # order: this epoch's batches
        self.progress = None
        sync_every = config.sync_every or (1 if self.device.type == "cpu" else 50)
        self.losses = LossLog(self.result.losses, sync_every, on_read=lambda values: self.progress.show(values))

    def batches(self):
        """The rest of this epoch's batches, from the current position, this process's slice of each."""
        if self.order is None or self.position >= len(self.order):
            if self.order is not None:
                self.epoch, self.position = self.epoch + 1, 0
            self.order = epoch_batches(len(self.dataset), self.config.batch_size, self.config.seed, self.epoch)
        mine = [distributed.local_slice(b, self.rank, self.world) for b in self.order[self.position:]]
        # a private generator: a DataLoader draws a seed when it starts, which must not move the global RNG
        return DataLoader(self.dataset, batch_sampler=mine, collate_fn=self.collate, generator=torch.Generator()
                          .manual_seed(self.config.seed), pin_memory=self.device.type == "cuda")

    def fit(self, evaluate=None, callback=None) -> TrainResult:
        """Train until ``self.total`` steps, epoch after epoch; evaluate once more at the end."""
        start = time.perf_counter() - self.result.seconds
        self.progress = Progress(self.total, self.step, self.config.show_progress and self.rank == 0)
        try:
            with StopFlag() as stop, tf32_matmuls(self.device, self.config.allow_tf32):
                while self.step < self.total:
                    self.fit_epoch(stop, start, evaluate, callback)
            if self.device.type == "cuda":
                torch.cuda.synchronize(self.device)
        finally:
            set_requires_grad(self.trainable_encoder, True)
            self.progress.close()
        self.result.seconds, self.result.steps = time.perf_counter() - start, self.step
        warn_truncated(self.collate.texts_truncated, self.collate.texts_seen, self.collate.max_length, "training texts",
                       stacklevel=4)  # point at the caller of train()
        if evaluate is not None:
            record_evaluation(self.result.evaluations, evaluate, self.objective, self.step)
        return self.result

    def fit_epoch(self, stop, start: float, evaluate=None, callback=None) -> None:
        """Steps from the current position to the end of the epoch (or of the run, or a stop signal)."""
        config = self.config
        for features, labels in self.batches():
            if self.step >= self.total:
                return
            rows = self.order[self.position]
            if labels is not None:
                labels = labels.to(self.device, non_blocking=True)
            if self.world == 1:  # head-only phase: skip the encoder's backward pass (under DDP: grads dropped)
                set_requires_grad(self.trainable_encoder, self.phases.encoder_learns(self.step))
            self.result.learning_rates.append(self.encoder_learning_rate())
            loss = training_step(self.loss_module, features, labels,
                                 self.optimizer, self.scheduler, self.scaler, amp_dtype=self.amp_dtype,
                                 max_grad_norm=config.max_grad_norm,
                                 frozen=self.phases.frozen(self.step, self.encoder_params),
                                 check_loss=lambda value: self.losses.check_before_update(value, self.step, rows))
            self.step, self.position, self.result.examples = self.step + 1, self.position + 1, self.result.examples + config.batch_size
            at_eval, at_checkpoint = due(self.step, config.eval_every), due(self.step, config.checkpoint_every)
            ready = self.losses.add(loss)
            reported = []
            if ready or self.step >= self.total or at_eval or at_checkpoint or stop.signal:
                reported = self.losses.flush(self.step, rows)
            if evaluate is not None and at_eval and self.step < self.total:
                record_evaluation(self.result.evaluations, evaluate, self.objective, self.step)
            saved_now = at_checkpoint and self.step < self.total
            if saved_now:
                self.save_checkpoint(start)
            if callback is not None:  # after the checkpoint: "step k" means step k is safe
                for offset, value in enumerate(reported):
                    callback(self.step - len(reported) + offset + 1, value)
            if stop.signal and self.step < self.total:  # the signal may have come during the callback
                if self.output_dir is not None and not saved_now:
                    self.losses.flush(self.step, rows)
                    self.save_checkpoint(start)
                raise TrainingInterrupted(interruption_message(stop.signal, self.step, self.output_dir))

    def encoder_learning_rate(self) -> float:
        """The encoder's learning rate at this step (what chapter 4 plots)."""
        groups = self.optimizer.param_groups
        return next((g["lr"] for g in groups if g.get("role") == "encoder"), groups[0]["lr"])

    # -- checkpoint and resume --------------------------------------------------------------
    def state_dict(self) -> dict:
        """Everything a resumed run needs to continue exactly: weights, optimizer, schedule, data position, RNG."""
        return {"objective": self.objective.state_dict(), "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(), "scaler": self.scaler.state_dict(),
                "step": self.step, "epoch": self.epoch, "position": self.position, "batches": self.order,
                "n_rows": len(self.dataset), "rng": capture_rng(), "config": asdict(self.config),
                "result": {k: getattr(self.result, k)
                           for k in ("losses", "learning_rates", "evaluations", "examples", "seconds")}}

    def load_state_dict(self, saved: dict) -> None:
        check_resumable(saved, self.config, len(self.dataset))
        self.objective.load_state_dict(saved["objective"])
        self.optimizer.load_state_dict(saved["optimizer"])
        self.scheduler.load_state_dict(saved["scheduler"])
        self.scaler.load_state_dict(saved["scaler"])
        self.step, self.epoch, self.position, self.order = saved["step"], saved["epoch"], saved["position"], saved["batches"]
        for key, value in saved["result"].items():
            setattr(self.result, key, value)
        restore_rng(saved["rng"])

    def save_checkpoint(self, start: float) -> None:
        """Write ``output_dir/checkpoint.pt`` (rank 0 only; atomic, see :mod:`sbert_teach.checkpoint`)."""
        self.result.seconds = time.perf_counter() - start
        if self.rank == 0:
            save_checkpoint(self.output_dir, self.state_dict())


def check_resumable(saved: dict, config: TrainConfig, n_rows: int) -> None:
    """Refuse a checkpoint written with other settings or other data, saying what differs."""
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


def check_inputs(objective, dataset, config: TrainConfig, output_dir, resume: bool) -> None:
    """Fail before any work, with what is wrong and what to do."""
    if len(dataset) == 0:
        raise ValueError("The training dataset is empty: nothing to train on.")
    if config.batch_size > len(dataset):
        raise ValueError(f"batch_size {config.batch_size} is larger than the dataset ({len(dataset)} rows). "
                         "Use a smaller batch_size or more data.")
    missing = [c for c in (*objective.text_columns, objective.label_column) if c and c not in dataset[0]]
    if missing:
        raise ValueError(f"The dataset lacks column(s) {missing} that the objective needs; it has {list(dataset[0])}.")
    if (resume or config.checkpoint_every) and output_dir is None:
        raise ValueError("Checkpoints need a folder: pass output_dir (--output) together with resume / checkpoint_every.")
    if config.head_only_steps and all(name.startswith("encoder.") for name, _ in objective.named_parameters()):
        raise ValueError(f"head_only_steps={config.head_only_steps}, but the {type(objective).__name__} has no layers "
                         "of its own to train first (only the softmax objective has a head). Set head_only_steps=0.")


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
    check_inputs(objective, dataset, config, output_dir, resume)
    saved = load_checkpoint(output_dir) if resume else None  # fail fast, before any work
    if saved is not None:
        check_resumable(saved, config, len(dataset))
    trainer = Trainer(objective, dataset, config, output_dir)
    if saved is not None:
        trainer.load_state_dict(saved)
    result = trainer.fit(evaluate, callback)
    result.truncated = trainer.collate.texts_truncated
    if output_dir is not None and trainer.rank == 0:
        from .persistence import save_encoder

        save_encoder(objective.encoder, output_dir)
        checkpoint_path(output_dir).unlink(missing_ok=True)  # the run is complete: the model is the result
    return result
