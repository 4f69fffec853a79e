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
    """How long the chapter takes with these resources at ``scale`` on a ``device`` of this kind.

    From ``records/chapter_times.json``: a time measured there, a T4's time estimated from a faster GPU's run
    (``scripts/colab_check.py``), or a range estimated from the chapter's counted work
    (``scripts/colab_estimate.py``), each saying which it is; a combination nobody measured says so.
    """
    rec = record()
    kind = "cuda" if str(device).startswith("cuda") else "cpu"
    for m in rec["measurements"]:
        seconds = m["seconds"].get(f"{chapter:02d}")
        if m["scale"] == scale and m["device"] == kind and m.get("profile", "packaged") == profile and seconds:
            if m.get("estimate"):  # scripts/colab_estimate.py: the work counted, priced at a GPU's rates
                return _estimated_range(seconds, m["ceiling_seconds"][f"{chapter:02d}"], m)
            when = f", {m['measured'].split()[0]}" if m.get("measured") else ""
            minutes = f"about {max(1, round(seconds / 60))} min"
            if m.get("estimated_from"):  # scripts/colab_check.py: a T4's time from a faster GPU's
                return f"{minutes} on {m['on']} (estimated from a run at this scale on an {m['estimated_from']}{when})"
            return f"{minutes} (measured at this scale on {m['on']}{when})"
    where = "a CPU" if kind == "cpu" else "a GPU"
    return f"not measured yet with the {profile} resources at the {scale} scale on {where}"


def _estimated_range(low: float, high: float, m: dict) -> str:
    low_min, high_min = max(1, round(low / 60)), max(1, round(high / 60))
    span = ("under 1" if high < 60 else f"up to about {high_min}" if low < 60
            else f"about {low_min}" if low_min == high_min else f"between about {low_min} and {high_min}")
    return (f"{span} min on {m['on']} for its model passes, plus installing, loading and downloading in each fresh "
            f"runtime (an estimate, not timed on a T4: the passes counted on {m['counted'].split()[0]}, priced at "
            "an H100's measured speed for the low end and at a T4's share of peak FLOP/s for the high end)")
