"""Per-cell timeouts from measured cell times: the slowest cell of each scale, times a margin.

A cell that gets no reply within its timeout is reported as a kernel that stopped
answering (ipykernel 7's hang, ipython/ipykernel#1554, is why this exists) instead
of waiting out a blanket half hour. The measurements live in
``book/data/slowest_cells.json``: the book build (``scripts/execute_book.py``)
writes the ``local`` entry, the nbval run (root ``conftest.py``) the ``smoke`` one.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

RECORD = Path(__file__).resolve().parents[1] / "book" / "data" / "slowest_cells.json"
MARGIN = 4.0       # a loaded or slower machine: a cell took 3.3x its idle time beside two CPU-burning processes
FLOOR_S = 600      # never less: a chapter run alone trains the models others left uncached (357 s seen)


def slowest_cells() -> dict:
    return json.loads(RECORD.read_text()) if RECORD.exists() else {}


def cell_timeout(scale: str) -> int:
    """Seconds a cell at ``scale`` may take before it counts as a hang (``paper``/``colab``: no limit, -1)."""
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
