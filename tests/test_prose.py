"""The prose quotes only numbers the chapter computed: every glue role has a value in the saved outputs."""

from pathlib import Path

import nbformat
import pytest

from sbert_teach import book

CHAPTERS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_saved_outputs_hold_every_quoted_value(chapter):
    """Run the chapter again (nbconvert --execute --inplace) when this fails: its saved outputs are stale."""
    nb = nbformat.read(chapter, as_version=4)
    assert book.quoted_but_not_glued(nb) == []


def test_a_missing_or_unformattable_value_is_reported():
    nb = {"cells": [
        {"cell_type": "markdown", "source": "{glue:text}`a:.2f` {glue:text}`b` {glue:text}`c:.1f`"},
        {"cell_type": "code", "source": "", "outputs": [
            {"output_type": "display_data", "metadata": {"scrapbook": {"name": n, "mime_prefix": "x/"}},
             "data": {"x/text/plain": v}} for n, v in (("a", "0.5"), ("c", "'word'"))]},
    ]}
    assert book.quoted_but_not_glued(nb) == ["b", "c (could not convert string to float: 'word')"]
