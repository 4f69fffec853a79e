"""Root conftest: per-notebook wall times for the nbval run (the book's CI figures)."""

from collections import defaultdict

_notebook_seconds: dict = defaultdict(float)


def pytest_runtest_logreport(report):
    if str(report.fspath).endswith(".ipynb"):
        _notebook_seconds[report.fspath.split("/")[-1]] += report.duration


def pytest_terminal_summary(terminalreporter):
    if not _notebook_seconds:
        return
    terminalreporter.section("notebook execution times (nbval)")
    for name in sorted(_notebook_seconds):
        terminalreporter.write_line(f"{name:45s} {_notebook_seconds[name]:7.1f} s")
    terminalreporter.write_line(f"{'all notebooks':45s} {sum(_notebook_seconds.values()):7.1f} s")
