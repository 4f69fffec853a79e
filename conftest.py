"""Root conftest for the nbval run: per-cell timeouts from measured cell times, a clear message when a
kernel stops answering, and per-notebook wall times (the book's CI figures)."""

import datetime
import json
import os
import sys
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


def pytest_configure(config):
    option = getattr(config.option, "nbval_cell_timeout", None)
    if option is not None and float(option) == NBVAL_DEFAULT_TIMEOUT:
        config.option.nbval_cell_timeout = cell_timeout(_scale())


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    timeout = float(getattr(item.config.option, "nbval_cell_timeout", 0) or 0)
    # nbval interrupts a cell that timed out; a training cell then ends in TrainingInterrupted (the
    # loop's Ctrl-C handling), which nbval reports as an exception, not a timeout: the duration tells
    timed_out = "Timeout of" in str(report.longrepr) or (timeout and call.duration >= 0.95 * timeout)
    if report.failed and str(item.fspath).endswith(".ipynb") and timed_out:
        why = (f"four times the slowest cell measured at the {_scale()} scale" if timeout == cell_timeout(_scale())
               else "the limit given with --nbval-cell-timeout")
        report.longrepr = (
            f"{Path(str(item.fspath)).name}, {item.name}: the kernel stopped answering: no reply in {timeout:g} s, "
            f"{why}. A kernel that goes idle without "
            "replying is ipykernel 7's hang (ipython/ipykernel#1554; this project pins ipykernel<7, check "
            "`pip show ipykernel`); a cell that is only slower here looks the same: pass --nbval-cell-timeout=SECONDS."
            f" nbval did not retry (it runs one kernel per notebook, cell by cell).\n\n{report.longrepr}"
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
