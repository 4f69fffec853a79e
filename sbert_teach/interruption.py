"""Interruption: Ctrl-C or SIGTERM stops training cleanly at the end of a step (chapter 9).

Colab disconnects and cluster pre-emption send SIGTERM; a learner presses
Ctrl-C. :class:`StopFlag` turns either signal into a request that the loop
reads once per step, so a step is never cut in half; the loop then writes a
checkpoint (when it has a folder) and raises :class:`TrainingInterrupted`
with :func:`interruption_message`, which says how to continue.
"""

from __future__ import annotations

import signal
import threading

from .checkpoint import checkpoint_path


class TrainingInterrupted(KeyboardInterrupt):
    """Training stopped on Ctrl-C or SIGTERM after saving a checkpoint; resume to continue."""


class StopFlag:
    """Turns SIGINT/SIGTERM into ``self.signal`` (a request to stop at the end of the step).

    Only the main thread may install signal handlers; elsewhere the flag never rises.
    A second Ctrl-C stops at once, without a checkpoint.
    """

    def __init__(self):
        self.signal = None
        self._old = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.signal is not None and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.signal = signum

    def __exit__(self, *exc):
        for sig, handler in self._old.items():
            signal.signal(sig, handler)
        return False


def interruption_message(signum: int, step: int, output_dir) -> str:
    """What stopped the run, where its checkpoint is, and how to continue."""
    where = f"; a checkpoint is saved in {checkpoint_path(output_dir)}" if output_dir else ""
    how = ("resume=True (command line: --resume)" if output_dir
           else "output_dir and checkpoint_every next time, so there is a checkpoint to resume from")
    return f"Training stopped by signal {signum} after step {step}{where}. To continue, train again with {how}."
