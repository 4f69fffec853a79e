"""Root conftest for the nbval run: a stuck kernel told from a slow one by its CPU time, a last-resort
per-cell limit from measured cell times, clear messages for both, and per-notebook wall times (the book's
CI figures)."""

import datetime
import json
import os
import signal
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent / "scripts"))
from cell_timeouts import cell_timeout, record_slowest  # noqa: E402

# notebooks/colab/ holds generated copies of the chapters for Colab (scripts/colab_copies.py); nbval runs the
# chapters themselves, and tests/test_colab_copies.py checks the copies
collect_ignore_glob = ["notebooks/colab/*"]

_notebook_seconds: dict = defaultdict(float)
_slowest_cell: dict = defaultdict(float)
NBVAL_DEFAULT_TIMEOUT = 2000  # nbval's own default: replaced by the measured one unless given on the command line


def _scale() -> str:
    return os.environ.get("SBERT_TEACH_SCALE", "local")


# The book's batch runs have no browser: chapters skip live-only widgets (sbert_teach.inspection.headless).
os.environ.setdefault("SBERT_TEACH_HEADLESS", "1")
# Kernels inherit it: idle OpenMP threads sleep rather than spin on a busy machine (book/how_fast.md).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def pytest_configure(config):
    option = getattr(config.option, "nbval_cell_timeout", None)
    if option is not None and float(option) == NBVAL_DEFAULT_TIMEOUT:
        config.option.nbval_cell_timeout = cell_timeout(_scale())
    if option is not None:
        _watch_nbval_kernels()


class KernelStuck(RuntimeError):
    """The running cell's kernel used no CPU time for the whole stretch (scripts/kernel_watch.py)."""


_watched = {}  # the running cell's KernelWatch, while nbval waits for its reply
_watched_names = {}  # its chapter and cell, for the message


def _watch_nbval_kernels():
    """Make nbval's wait for a message check the kernel's CPU time every second.

    nbval waits for a cell's reply with one blocking read as long as the whole cell timeout; this
    splits it into one-second reads and fails the cell (killing its kernel) once the kernel is stuck.
    """
    from queue import Empty

    from kernel_watch import stuck_message  # psutil: only where nbval runs (not in the lowest-versions env)
    from nbval.kernel import RunningKernel

    if getattr(RunningKernel.get_message, "watched", False):
        return
    read = RunningKernel.get_message

    def get_message(self, stream, timeout=None):
        deadline = None if timeout is None else time.monotonic() + float(timeout)
        while True:
            left = 1.0 if deadline is None else min(1.0, max(0.0, deadline - time.monotonic()))
            try:
                return read(self, stream, timeout=left)
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise
                active = _watched.get("watch")
                seconds = active.stuck_for() if active is not None else None
                if seconds is not None:
                    _watched.clear()
                    os.kill(active.pid, signal.SIGKILL)  # ends a SIGSTOPped kernel too; later cells fail fast
                    raise KernelStuck(stuck_message(_watched_names["chapter"], _watched_names["cell"], seconds))

    get_message.watched = True
    RunningKernel.get_message = get_message


def _kernel_pid(kernel):
    provisioner = getattr(kernel.km, "provisioner", None)
    return getattr(provisioner, "pid", None) or getattr(getattr(provisioner, "process", None), "pid", None)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    kernel = getattr(getattr(item, "parent", None), "kernel", None)
    pid = _kernel_pid(kernel) if kernel is not None and hasattr(kernel, "km") else None
    if str(item.fspath).endswith(".ipynb") and pid:
        from kernel_watch import KernelWatch

        _watched["watch"] = KernelWatch(pid)
        _watched_names.update(chapter=Path(str(item.fspath)).name, cell=item.name)
    try:
        yield
    finally:
        _watched.clear()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    timeout = float(getattr(item.config.option, "nbval_cell_timeout", 0) or 0)
    # nbval interrupts a cell that timed out; a training cell then ends in TrainingInterrupted (the
    # loop's Ctrl-C handling), which nbval reports as an exception, not a timeout: the duration tells
    if report.failed and call.excinfo is not None and call.excinfo.errisinstance(KernelStuck):
        report.longrepr = f"{call.excinfo.value}\nnbval did not retry (it runs one kernel per notebook, cell by cell)."
        return
    timed_out = "Timeout of" in str(report.longrepr) or (timeout and call.duration >= 0.95 * timeout)
    if report.failed and str(item.fspath).endswith(".ipynb") and timed_out:
        why = (f"the last-resort limit, ten times the slowest cell measured at the {_scale()} scale"
               if timeout == cell_timeout(_scale()) else "the limit given with --nbval-cell-timeout")
        report.longrepr = (
            f"{Path(str(item.fspath)).name}, {item.name}: still running after {timeout:g} s, {why}. The kernel kept "
            "working (a stuck kernel is caught within two minutes by its CPU time), so this cell is only slow here: "
            f"pass --nbval-cell-timeout=SECONDS to raise the limit.\n\n{report.longrepr}"
        )


def pytest_runtest_logreport(report):
    if str(report.fspath).endswith(".ipynb"):
        name = report.fspath.split("/")[-1]
        _notebook_seconds[name] += report.duration  # setup (kernel start), call and teardown
        if report.when == "call":
            _slowest_cell[name] = max(_slowest_cell[name], report.duration)


def pytest_terminal_summary(terminalreporter):
    if not _notebook_seconds:
        return
    terminalreporter.section("notebook execution times (nbval)")
    for name in sorted(_notebook_seconds):
        terminalreporter.write_line(f"{name:45s} {_notebook_seconds[name]:7.1f} s  (slowest cell {_slowest_cell[name]:5.1f} s)")
    terminalreporter.write_line(f"{'all notebooks':45s} {sum(_notebook_seconds.values()):7.1f} s")
    failed = terminalreporter.stats.get("failed")
    if len(_notebook_seconds) >= 9 and _scale() == "smoke" and not failed:
        # a full, green nbval run: keep the figures for the "For instructors" page and the cell timeouts
        record = {"chapters": {k: {"seconds": round(v, 1)} for k, v in sorted(_notebook_seconds.items())},
                  "total_seconds": round(sum(_notebook_seconds.values()), 1), "scale": "smoke",
                  "measured": datetime.date.today().isoformat() + " on a 2-core CPU (nbval, make test)"}
        path = Path(__file__).parent / "book" / "data" / "chapter_times_smoke.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record, indent=1) + "\n")
        record_slowest("smoke", dict(_slowest_cell), f"nbval (make test), {datetime.date.today().isoformat()}, "
                                                      f"{os.cpu_count()} CPU cores")
