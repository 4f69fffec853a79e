"""Root conftest: per-notebook wall times for the nbval run (the book's CI figures)."""

import datetime
import json
import os
from collections import defaultdict
from pathlib import Path

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
    if len(_notebook_seconds) >= 9 and os.environ.get("SBERT_TEACH_SCALE") == "smoke":
        # a full nbval run: keep the figures for the "For instructors" page
        record = {"chapters": {k: {"seconds": round(v, 1)} for k, v in sorted(_notebook_seconds.items())},
                  "total_seconds": round(sum(_notebook_seconds.values()), 1), "scale": "smoke",
                  "measured": datetime.date.today().isoformat() + " on a 2-core CPU (nbval, make test)"}
        path = Path(__file__).parent / "book" / "data" / "chapter_times_smoke.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record, indent=1) + "\n")
