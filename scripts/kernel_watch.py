"""Tell a stuck kernel from a slow one: by the CPU time it uses, not by the wall clock.

A kernel that stopped answering (ipykernel 7's lost reply, ipython/ipykernel#1554, or a
process that was stopped) sits idle: it uses no CPU time and sends no output. A kernel that
is only slow, because the machine is slower or busy, keeps using CPU time, however little
of the machine it gets. So a cell counts as stuck when its kernel (with any process the cell
started) used less than ``MIN_CPU_S`` of CPU time and showed no new output for ``STUCK_AFTER_S``
seconds in a row. Slow cells are never failed for being slow; a generous wall-clock limit
(``scripts/cell_timeouts.py``) stays only as a last resort.

Why two minutes: a working cell uses CPU time all along. On a 2-core machine shared with
three other busy processes a cell still gets about half a core, 60 s of CPU time in two
minutes, far above the 0.5 s threshold; an idle ipykernel uses well under 0.1 s in that time
and a stopped one none. The longest quiet stretch a chapter cell has is a kernel waiting
on a child process, and the child's CPU time counts. Two minutes also keeps a hang short:
it is failed (and, in ``make book``, retried) within about two minutes instead of the whole
wall-clock limit. Change it with ``SBERT_TEACH_STUCK_AFTER=SECONDS``.

Used by ``scripts/execute_book.py`` (``make book``) and the root ``conftest.py`` (nbval in
``make test``).
"""

from __future__ import annotations

import os
import time

import psutil

STUCK_AFTER_S = 120.0
MIN_CPU_S = 0.5
ENV_STUCK_AFTER = "SBERT_TEACH_STUCK_AFTER"


def stuck_after() -> float:
    """The stretch, in seconds, from ``SBERT_TEACH_STUCK_AFTER`` or the two-minute default."""
    value = os.environ.get(ENV_STUCK_AFTER)
    if not value:
        return STUCK_AFTER_S
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"{ENV_STUCK_AFTER}={value!r} is not a number of seconds; "
                         f"unset it for the default {STUCK_AFTER_S:g} s.") from None
    if seconds <= 0:
        raise ValueError(f"{ENV_STUCK_AFTER} must be positive, got {value}.")
    return seconds


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid``, its finished children and its live descendants."""
    try:
        process = psutil.Process(pid)
        times = process.cpu_times()
        total = times.user + times.system + times.children_user + times.children_system
        for child in process.children(recursive=True):
            try:
                child_times = child.cpu_times()
                total += child_times.user + child_times.system
            except psutil.NoSuchProcess:
                pass  # ended between the listing and the read; its time is in children_* next time
        return total
    except psutil.NoSuchProcess:
        return float("nan")  # a dead kernel: the executor reports that itself


class KernelWatch:
    """Progress of one kernel process while a cell runs.

    Call :meth:`start_cell` when a cell starts, :meth:`saw_output` when it prints, and
    :meth:`stuck_for` as often as you like: it returns the seconds without progress once
    they reach the stretch, else ``None``.
    """

    def __init__(self, pid: int, stretch: float | None = None, min_cpu: float = MIN_CPU_S, clock=time.monotonic):
        self.pid = pid
        self.stretch = stuck_after() if stretch is None else stretch
        self.min_cpu = min_cpu
        self.clock = clock
        self.start_cell()

    def start_cell(self) -> None:
        self.progress_at = self.clock()
        self.cpu_at_progress = cpu_seconds(self.pid)

    def saw_output(self) -> None:
        self.progress_at = self.clock()

    def stuck_for(self) -> float | None:
        now, cpu = self.clock(), cpu_seconds(self.pid)
        if cpu - self.cpu_at_progress >= self.min_cpu:  # NaN (dead kernel) is never progress nor stuck
            self.progress_at, self.cpu_at_progress = now, cpu
        if cpu != cpu:
            return None
        idle = now - self.progress_at
        return idle if idle >= self.stretch else None


def stuck_message(chapter: str, cell: str, seconds: float) -> str:
    return (f"{chapter}, {cell}: the kernel is stuck: it used no CPU time and sent no output for {seconds:.0f} s "
            f"while the cell ran (a working cell, however slow, keeps using CPU time). This is a hung kernel, not a "
            f"slow cell: ipykernel 7's lost reply (ipython/ipykernel#1554; this project pins ipykernel<7, check "
            f"`pip show ipykernel`) or a stopped process. A cell that truly waits without computing for longer can "
            f"raise the stretch with {ENV_STUCK_AFTER}=SECONDS.")
