"""The Colab copies (notebooks/colab/): in step with their chapters, and Markdown kept as Markdown.

On Colab the chapter must read as on the website: every paragraph a Markdown cell (no code cell printing prose),
every heading a Markdown heading (so Colab's table of contents lists it), and no MyST markup Colab cannot render.
"""

import importlib.util
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("colab_copies", ROOT / "scripts" / "colab_copies.py")
colab_copies = importlib.util.module_from_spec(spec)
spec.loader.exec_module(colab_copies)

CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
HEADING = re.compile(r"^#{1,6} .+$", re.MULTILINE)
PRINTS_PROSE = re.compile(r"book\.say\(|Markdown\(|display_markdown\(|IPython\.display\.HTML")


def test_every_chapter_has_an_up_to_date_copy():
    assert len(list((ROOT / "notebooks" / "colab").glob("*.ipynb"))) == len(CHAPTERS)
    assert colab_copies.differences() == [], "run: python scripts/colab_copies.py"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_copy_keeps_markdown_as_markdown(chapter):
    source = nbformat.read(chapter, as_version=4)
    copy = nbformat.read(ROOT / "notebooks" / "colab" / chapter.name, as_version=4)
    markdown = "\n".join(c.source for c in copy.cells if c.cell_type == "markdown")
    for cell in copy.cells:
        if cell.cell_type == "code":
            assert not PRINTS_PROSE.search(cell.source), f"a code cell prints prose: {cell.source[:120]!r}"
            assert not cell.get("outputs"), "copies carry no outputs"
    assert not colab_copies.MYST_MARKUP.search(markdown), "MyST markup left in the copy's Markdown"
    assert "../book/images" not in markdown, "a relative image does not load on Colab"
    # every heading of the chapter is a Markdown heading of the copy, in the same order
    headings = [h for c in source.cells if c.cell_type == "markdown" for h in HEADING.findall(c.source)]
    assert headings and headings == HEADING.findall(markdown)
    # and every Markdown cell of the chapter is a Markdown cell of the copy
    assert sum(c.cell_type == "markdown" for c in copy.cells) == sum(c.cell_type == "markdown" for c in source.cells)


def test_admonitions_become_block_quotes_and_the_badge_goes():
    text = ("# Title\n\n[![Open In Colab](../book/images/colab-badge.svg)](https://colab.research.google.com/x)\n\n"
            ":::{admonition} Learning goals\n:class: tip\nAfter this chapter you can\n- do a thing\n:::\n\nAfter.")
    out = colab_copies.plain_markdown(text)
    assert "colab-badge" not in out and ":::" not in out
    assert "> **Learning goals**\n>\n> After this chapter you can\n> - do a thing" in out and out.endswith("After.")


@pytest.mark.parametrize("markup", ["The score is {glue:text}`score:.3f`.", "See {ref}`the-table`.",
                                    ":::{note}\nA note.\n:::", "```{figure} x.png\n```"])
def test_markup_colab_cannot_render_stops_the_script_naming_the_cell(markup):
    with pytest.raises(ValueError, match="Colab cannot render"):
        colab_copies.plain_markdown(markup)


@pytest.mark.slow
def test_a_copy_runs_and_shows_its_prose_as_markdown(tmp_path, monkeypatch):
    """Chapter 1's copy executes at the smoke scale, and no cell of it displays Markdown."""
    from nbclient import NotebookClient

    nb = nbformat.read(ROOT / "notebooks" / "colab" / "01_bert_token_outputs.ipynb", as_version=4)
    monkeypatch.setenv("SBERT_TEACH_SCALE", "smoke")  # the kernel inherits this environment
    monkeypatch.setenv("SBERT_TEACH_RESOURCES", "packaged")
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert outputs and not any(o.get("output_type") == "error" for o in outputs)
    assert not any("text/markdown" in o.get("data", {}) for o in outputs)
