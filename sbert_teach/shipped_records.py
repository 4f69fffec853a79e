"""Readers of the measurements shipped with the package (``sbert_teach/records/*.json``).

Some figures the book quotes cannot be measured where the book is built: a GPU made them, or they take hours.
``scripts/seed_spread.py`` and ``scripts/softmax_start.py`` write them once; chapter 4 and the instructors page
read them back here, as tables.

>>> from sbert_teach import shipped_records
>>> table = shipped_records.seed_spread()   # one row per (objective, precision): lowest, median, highest gain
"""

from __future__ import annotations

def record(name: str) -> dict:
    """A measurement shipped with the package (``sbert_teach/records/<name>.json``), e.g. one a GPU made.

    Chapter 4 plots ``softmax_start``, written by ``scripts/softmax_start.py``.
    """
    import json
    from pathlib import Path

    path = Path(__file__).parent / "records" / f"{name}.json"
    if not path.exists():
        known = sorted(p.stem for p in path.parent.glob("*.json"))
        raise FileNotFoundError(f"No record named {name!r} in {path.parent}; known: {known}.")
    return json.loads(path.read_text())


#: How ``scripts/seed_spread.py`` names its autocast modes, for tables.
PRECISION_NAMES = {"off": "float32", "auto": "bf16 autocast", "bf16": "bf16 autocast", "fp16": "fp16 autocast"}


def _seed_runs(rec: dict | None):
    """The runs of a ``seed_spread`` record (the shipped one by default) as a DataFrame, checked."""
    import pandas as pd

    rec = record("seed_spread") if rec is None else rec
    runs = pd.DataFrame(rec.get("runs", []))
    needed = {"objective", "seed", "mixed_precision", "gain"}
    if runs.empty or not needed <= set(runs.columns):
        raise ValueError(f"A seed_spread record needs a list 'runs' of dicts with {sorted(needed)}; "
                         "write one with scripts/seed_spread.py.")
    return runs


def _in_recipe_order(table, columns: list[str]):
    """Rows sorted as the book meets them: recipes in chapter order, float32 before autocast."""
    from .recipes import RECIPE_OBJECTIVES

    order = {name: i for i, name in enumerate((*RECIPE_OBJECTIVES, *PRECISION_NAMES.values()))}
    return table.sort_values(columns, key=lambda col: col.map(lambda v: order.get(v, len(order))), ignore_index=True)


def seed_spread(rec: dict | None = None):
    """STS gain per objective and precision over seeds, from the ``seed_spread`` record (chapter 4, instructors page).

    One row per (objective, precision): how many runs, the lowest, median and highest
    gain in STSb dev Spearman, and in how many runs it rose. ``rec`` defaults to the
    shipped record, written on a GPU by ``scripts/seed_spread.py``.
    """
    runs = _seed_runs(rec)
    runs["precision"] = runs["mixed_precision"].map(lambda m: PRECISION_NAMES.get(m, m))
    groups = runs.groupby(["objective", "precision"], sort=False)
    table = groups["gain"].agg(runs="count", lowest="min", median="median", highest="max")
    table["rose"] = groups["gain"].apply(lambda g: int((g > 0).sum()))
    table["seeds"] = groups["seed"].apply(lambda g: ", ".join(str(x) for x in sorted(g)))
    return _in_recipe_order(table.reset_index(), ["objective", "precision"])


def precision_shift(rec: dict | None = None, precision: str = "auto"):
    """How far autocast moves each objective's STS gain, against how far the seed does (chapter 4).

    One row per objective: ``largest shift``, the largest change of the gain between float32 and
    ``precision`` at the same seed, and ``seed spread``, the float32 gains' highest minus lowest.
    """
    import pandas as pd

    gains = _seed_runs(rec).pivot_table(index=["objective", "seed"], columns="mixed_precision", values="gain")
    if "off" not in gains or precision not in gains:
        raise ValueError(f"The seed_spread record needs float32 ('off') and {precision!r} runs to compare.")
    shift = (gains[precision] - gains["off"]).abs().groupby("objective").max()
    spread = gains["off"].groupby("objective").agg(lambda g: g.max() - g.min())
    table = pd.DataFrame({"largest shift": shift, "seed spread": spread}).dropna().reset_index()
    return _in_recipe_order(table, ["objective"])
