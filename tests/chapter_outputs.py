"""The executed copies of a chapter that its claims tests (``tests/test_chapterNN_claims.py``) read.

A chapter's prose states some outcomes of its run flatly (a rise, an order, a figure below a bound). Its claims
test checks each against every executed copy there is:

* ``smoke``: the outputs committed with the notebook (what nbval compares and GitHub shows);
* ``local``: the outputs ``make book`` executed at the local scale, read from jupyter-book's cache
  (``_build/.jupyter_cache``) for the chapter's current code, when a build has run here;
* ``hub``: ``tests/test_hub_chapters.py`` runs each chapter under the local hub and calls the same claims on
  that run (:func:`check_claims`).

A claims test takes the fixtures ``printed`` (the text every code cell printed, in order), ``cells`` (the
executed code cells) or ``nb`` (the notebook), and nothing else, so it can be called on any copy.
"""

from __future__ import annotations

import importlib.util
import inspect
import re
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
BUILD_CACHE = ROOT / "_build" / ".jupyter_cache"


def number_after(text: str, label: str) -> float:
    """The number printed right after ``label`` (thousands commas and a closing full stop allowed)."""
    match = re.search(re.escape(label) + r"\s*([-+0-9.,e]+)", text)
    assert match, f"no line with {label!r} in the outputs"
    return float(match.group(1).replace(",", "").rstrip("."))


def printed_text(nb) -> str:
    """Everything the code cells printed (stream text and plain-text results), in order; a failed cell fails."""
    parts = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", f"a cell failed: {output.get('ename')}: {output.get('evalue')}"
            text = output.get("text", "") or output.get("data", {}).get("text/plain", "")
            parts.append("".join(text) if isinstance(text, list) else text)
    return "\n".join(parts)


def code_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


def executed_copies(stem: str) -> list[tuple[str, object]]:
    """(scale, notebook) of each executed copy of chapter ``stem`` present here: smoke always, local after a build
    (the build's cached outputs, matched to the chapter's current code cells; none if the code changed since)."""
    path = ROOT / "notebooks" / f"{stem}.ipynb"
    copies = [("smoke", path)]
    if BUILD_CACHE.exists():
        from jupyter_cache import get_cache

        try:
            _, merged = get_cache(str(BUILD_CACHE)).merge_match_into_notebook(nbformat.read(path, as_version=4))
        except KeyError:  # no cached execution of this code
            merged = None
        if merged is not None and "scale:     local" in printed_text(merged):
            copies.append(("local", merged))
    return copies


def fixtures(nb) -> dict:
    return {"nb": nb, "cells": code_cells(nb), "printed": printed_text(nb)}


def claims_module(stem: str):
    """The chapter's claims test module, or None if it has none."""
    path = Path(__file__).parent / f"test_chapter{stem[:2]}_claims.py"
    if not path.exists():
        return None
    spec = importlib.util.spec_from_file_location(f"claims_{stem[:2]}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_claims(stem: str, nb) -> list[str]:
    """Call every claims test of chapter ``stem`` on the executed notebook ``nb``; the names of those that ran."""
    module = claims_module(stem)
    if module is None:
        return []
    given, ran = fixtures(nb), []
    for name, test in vars(module).items():
        if name.startswith("test_") and callable(test):
            test(**{arg: given[arg] for arg in inspect.signature(test).parameters})
            ran.append(name)
    return ran
