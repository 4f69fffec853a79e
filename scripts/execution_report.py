"""Print how long each chapter took to execute in the last book build (from jupyter-cache).

Writes _build/execution_times.json too, which the "For instructors" page and the
benchmark appendix can read. Usage: python scripts/execution_report.py [BUILD_DIR]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from jupyter_cache import get_cache

build = Path(sys.argv[1] if len(sys.argv) > 1 else "_build")
cache = get_cache(build / ".jupyter_cache")
rows = {}
for record in cache.list_cache_records():
    uri = Path(record.uri)
    rows[uri.name] = {"seconds": record.data.get("execution_seconds"), "executed": str(record.created)}
times = {name: rows[name] for name in sorted(rows) if name[:2].isdigit()}
for name, row in times.items():
    seconds = row["seconds"]
    print(f"{name:45s} {seconds:7.1f} s" if seconds is not None else f"{name:45s}       ? s")
total = sum(r["seconds"] or 0 for r in times.values())
print(f"{'all chapters':45s} {total:7.1f} s")
import datetime
import os

record = {"chapters": times, "total_seconds": total, "scale": os.environ.get("SBERT_TEACH_SCALE", "local"),
          "measured": datetime.date.today().isoformat() + " on a 2-core CPU"}
(build / "execution_times.json").write_text(json.dumps(record, indent=1))
if record["scale"] == "local":  # the record the "For instructors" page quotes
    data = Path("book/data")
    data.mkdir(parents=True, exist_ok=True)
    (data / "chapter_times_local.json").write_text(json.dumps(record, indent=1) + "\n")
