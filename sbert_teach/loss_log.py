"""Loss read-back and non-finite checks: the loss history of a run, without stalling a GPU.

Reading a loss with ``.item()`` makes the host wait for the GPU every step.
:class:`LossLog` keeps the step losses on the device and copies them back in
one go every ``sync_every`` steps (on a CPU, every step: it costs nothing
there). Each value read back is checked: a NaN or inf stops training with
the step and, when known, the dataset rows of the batch. Under ``torchrun``
the recorded value is the mean over processes.
"""

from __future__ import annotations

import math

import torch

from . import distributed


def raise_non_finite(losses, first_step: int, batch_rows=None, before_update: bool = False) -> None:
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


class LossLog:
    """Step losses: held on the device, read back every ``sync_every`` steps, checked, recorded."""

    def __init__(self, history: list[float], sync_every: int, on_read=None):
        self.history = history  # the run's TrainResult.losses: values read back so far
        self.sync_every = max(1, sync_every)
        self.on_read = on_read  # fn(values) after each read-back (the progress bar)
        self.pending: list[torch.Tensor] = []

    @property
    def checks_every_step(self) -> bool:
        """True when each loss can be checked before its step updates the weights (CPU)."""
        return self.sync_every == 1

    def check_before_update(self, loss: torch.Tensor, step: int, batch_rows) -> None:
        """On a CPU, stop at a non-finite loss before the backward pass changes anything."""
        if self.checks_every_step and not torch.isfinite(loss):
            raise_non_finite([loss.item()], step, batch_rows, before_update=True)

    def add(self, loss: torch.Tensor) -> bool:
        """Keep one step's loss; True when enough are pending to read them back."""
        self.pending.append(loss.detach())
        return len(self.pending) >= self.sync_every

    def flush(self, step: int, last_batch_rows=None) -> list[float]:
        """Read the pending losses back (one device-to-host copy), check and record them; return them."""
        if not self.pending:
            return []
        values = torch.stack(self.pending).float().tolist()
        self.pending = []
        raise_non_finite(values, step - len(values), last_batch_rows)
        values = [distributed.mean_over_processes(v) for v in values]
        self.history.extend(values)
        if self.on_read is not None:
            self.on_read(values)
        return values
