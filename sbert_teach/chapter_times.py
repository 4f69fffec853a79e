"""How long each chapter took when measured (the setup line of every chapter; chapter 7's training plan).

Reads ``records/chapter_times.json``, written by ``scripts/instructors_page.py`` from ``book/data``.
Its own module so that both :mod:`sbert_teach.book` and :mod:`sbert_teach.recipes` can use it without
importing each other.
"""

from __future__ import annotations

import json
from pathlib import Path

RECORD = Path(__file__).parent / "records" / "chapter_times.json"


def record() -> dict:
    return json.loads(RECORD.read_text())


def expected_time(chapter: int, scale: str, device: str, profile: str = "packaged") -> str:
    """How long the chapter took when measured with these resources at ``scale`` on a ``device`` of this kind.

    From ``records/chapter_times.json``; a combination nobody measured says so.
    """
    rec = record()
    kind = "cuda" if str(device).startswith("cuda") else "cpu"
    for m in rec["measurements"]:
        seconds = m["seconds"].get(f"{chapter:02d}")
        if m["scale"] == scale and m["device"] == kind and m.get("profile", "packaged") == profile and seconds:
            when = f", {m['measured'].split()[0]}" if m.get("measured") else ""
            minutes = f"about {max(1, round(seconds / 60))} min"
            if m.get("ceiling_seconds"):  # scripts/colab_estimate.py: the work counted, priced at a GPU's rates
                ceiling = m["ceiling_seconds"][f"{chapter:02d}"]
                low, high = max(1, round(seconds / 60)), max(1, round(ceiling / 60))
                span = ("under 1" if ceiling < 60 else f"about {low}" if low == high
                        else f"between about {low} and {high}")
                return (f"{span} min on {m['on']} for its model "
                        "passes, plus loading and downloads (estimated from the work counted at this scale: an "
                        f"H100's measured rates, and those at a T4's share of peak FLOP/s{when}; not measured on a T4)")
            if m.get("estimated_from"):  # scripts/colab_check.py: a T4's time from a faster GPU's
                return f"{minutes} on {m['on']} (estimated from a run at this scale on an {m['estimated_from']}{when})"
            return f"{minutes} (measured at this scale on {m['on']}{when})"
    where = "a CPU" if kind == "cpu" else "a GPU"
    return f"not measured yet with the {profile} resources at the {scale} scale on {where}"
