"""The last-resort wall-clock limit per cell: the slowest cell measured at each scale, times a wide margin.

A hung kernel is caught by its CPU time within two minutes (``scripts/kernel_watch.py``),
so this limit no longer has to tell a hang from a slow cell: it only stops a cell that keeps
working far longer than any cell ever took (a runaway loop), and its message says how to
raise it. Ten times the slowest cell leaves room for a machine three times slower under
a load three times heavier than the one measured. The measurements live in
``book/data/slowest_cells.json``: the book build (``scripts/execute_book.py``)
writes the ``local`` entry, the nbval run (root ``conftest.py``) the ``smoke`` one.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

RECORD = Path(__file__).resolve().parents[1] / "book" / "data" / "slowest_cells.json"
MARGIN = 10.0      # a last resort: a slower machine times a heavier load (a cell took 3.3x beside two busy processes)
FLOOR_S = 1800     # never less: a chapter run alone trains the models others left uncached (357 s seen)


def slowest_cells() -> dict:
    return json.loads(RECORD.read_text()) if RECORD.exists() else {}


def cell_timeout(scale: str) -> int:
    """Seconds a cell at ``scale`` may run before it is stopped as a runaway (``paper``/``colab``: no limit, -1)."""
    measured = slowest_cells().get(scale)
    if not measured:
        return -1 if scale not in ("smoke", "local") else 1800
    return max(FLOOR_S, math.ceil(MARGIN * max(measured["cells"].values())))


def record_slowest(scale: str, cells: dict[str, float], how: str) -> None:
    """Keep each chapter's slowest cell (seconds) at ``scale``; ``how`` says what measured them."""
    record = slowest_cells()
    record[scale] = {"cells": {name: round(seconds, 1) for name, seconds in sorted(cells.items())}, "how": how,
                     "timeout_s": None}
    record[scale]["timeout_s"] = max(FLOOR_S, math.ceil(MARGIN * max(cells.values())))
    RECORD.parent.mkdir(parents=True, exist_ok=True)
    RECORD.write_text(json.dumps(record, indent=1) + "\n")
