"""The Colab copies (notebooks/colab/): in step with their chapters, plain Markdown, and every quoted value glued first."""

import importlib.util
import re
from pathlib import Path

import nbformat
import pytest

from sbert_teach import book

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("colab_copies", ROOT / "scripts" / "colab_copies.py")
colab_copies = importlib.util.module_from_spec(spec)
spec.loader.exec_module(colab_copies)

COPIES = sorted((ROOT / "notebooks" / "colab").glob("*.ipynb"))
GLUE_CALL = re.compile(r'book\.glue\(\s*(f?)"([^"]+)"')


def test_every_chapter_has_an_up_to_date_copy():
    assert len(COPIES) == len(list((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")))
    assert colab_copies.differences() == [], "run: python scripts/colab_copies.py"


@pytest.mark.parametrize("path", COPIES, ids=lambda p: p.name)
def test_copy_has_no_myst_only_markup(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            assert "{glue:" not in cell.source and ":::{" not in cell.source, cell.source[:120]
            assert "../book/images" not in cell.source, "a relative image does not load on Colab"
        else:
            assert not cell.get("outputs"), "copies carry no outputs"
    says = [c for c in nb.cells if c.cell_type == "code" and "book.say(" in c.source]
    assert all(c.metadata.get("cellView") == "form" for c in says), "Colab folds the say() code"


def _glued_before(cells):
    """For each cell, the glue-name patterns defined by the code cells above it."""
    defined = []
    for cell in cells:
        yield list(defined)
        if cell.cell_type == "code" and "book.say(" not in cell.source:
            for is_f, name in GLUE_CALL.findall(cell.source):
                defined.append(re.compile(re.sub(r"\\\{[^}]*\\\}", r"\\w+", re.escape(name)) if is_f
                                          else re.escape(name)))


@pytest.mark.parametrize("path", COPIES, ids=lambda p: p.name)
def test_every_quoted_value_is_glued_above_it(path):
    cells = nbformat.read(path, as_version=4).cells
    late = []
    for cell, defined in zip(cells, _glued_before(cells)):
        if "book.say(" in cell.source:
            for name, _ in colab_copies.GLUE_ROLE.findall(cell.source):
                if not any(p.fullmatch(name) for p in defined):
                    late.append(name)
    assert not late, f"{path.name} quotes {late} before glueing them: on Colab they would show as '…'"


def test_admonitions_become_block_quotes_and_the_badge_goes():
    text = ("# Title\n\n[![Open In Colab](../book/images/colab-badge.svg)](https://colab.research.google.com/x)\n\n"
            ":::{admonition} Learning goals\n:class: tip\nAfter this chapter you can\n- do a thing\n:::\n\nAfter.")
    out = colab_copies.plain_markdown(text)
    assert "colab-badge" not in out and ":::" not in out
    assert "> **Learning goals**\n>\n> After this chapter you can\n> - do a thing" in out and out.endswith("After.")


@pytest.mark.parametrize("value, spec", [(0.123456, ".3f"), (3459, ",d"), (3459.0, ",d"), (0.4567, ".1%"),
                                         (-0.02, "+.3f"), ("rose", ""), ("rose", "s"), (16000, ","), (42, "")])
def test_fill_glue_formats_as_myst_nb_does(value, spec):
    from IPython.core.formatters import PlainTextFormatter
    from myst_nb.core.variables import format_plain_text

    role = f"{{glue:text}}`x:{spec}`" if spec else "{glue:text}`x`"
    myst = format_plain_text(PlainTextFormatter()(value), spec or "s")
    assert book.fill_glue(f"a {role} b", {"x": value}) == f"a {myst} b"


def test_fill_glue_marks_a_value_not_glued_yet():
    assert book.fill_glue("n = {glue:text}`missing:.2f`", {}) == "n = …"


@pytest.mark.slow
def test_a_copy_runs_and_fills_in_its_numbers(tmp_path, monkeypatch):
    """Chapter 1's copy executes at the smoke scale; every say() cell shows text with no value missing."""
    from nbclient import NotebookClient

    nb = nbformat.read(ROOT / "notebooks" / "colab" / "01_bert_token_outputs.ipynb", as_version=4)
    monkeypatch.setenv("SBERT_TEACH_SCALE", "smoke")  # the kernel inherits this environment
    monkeypatch.setenv("SBERT_TEACH_RESOURCES", "packaged")
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    shown = [o["data"]["text/markdown"] for c in nb.cells if "book.say(" in c.source for o in c.outputs
             if "text/markdown" in o.get("data", {})]
    assert shown and all("…" not in s and "{glue" not in s for s in shown)
