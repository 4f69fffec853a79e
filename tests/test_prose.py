"""The prose is Markdown and the code works in the open (the chapter form, issue 21).

* no chapter glues a value into its prose: the cells print the numbers and the prose says how to read them,
  so the page reads the same on the website, on Colab and in a student's copy;
* hidden code (``remove-cell``/``remove-input``) is at most a tenth of a chapter's code lines, and no hidden cell
  prints or chooses text;
* folded solutions (``hide-cell``) are not hidden code: the reader opens them.
"""

import re
from pathlib import Path

import nbformat
import pytest

CHAPTERS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))
HIDDEN_TAGS = {"remove-cell", "remove-input"}
PRINTS = re.compile(r"\bprint\(|display\(|Markdown\(")


def code_lines(cell) -> int:
    return sum(1 for line in cell.source.splitlines() if line.strip())


def form_problems(nb) -> list[str]:
    """What in ``nb`` breaks the chapter form, one line each (empty: none)."""
    problems = []
    code = [c for c in nb.cells if c.cell_type == "code"]
    hidden = [c for c in code if HIDDEN_TAGS & set(c.metadata.get("tags", []))]
    for cell in nb.cells:
        if "{glue" in cell.source or "glue(" in cell.source:
            problems.append(f"glues a value: {cell.source[:80]!r}")
    for cell in hidden:
        if PRINTS.search(cell.source):
            problems.append(f"a hidden cell prints: {cell.source[:80]!r}")
    hidden_lines, total = sum(map(code_lines, hidden)), sum(map(code_lines, code))
    if hidden_lines > 0.10 * total:
        problems.append(f"{hidden_lines} of {total} code lines are hidden (at most 10%)")
    return problems


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_keeps_the_form(chapter):
    assert form_problems(nbformat.read(chapter, as_version=4)) == []


def test_the_rules_catch_a_chapter_that_breaks_them():
    chooser = nbformat.v4.new_code_cell('if gain > 0:\n    print("it rose")\nelse:\n    print("it fell")')
    chooser.metadata["tags"] = ["remove-cell"]
    folded = nbformat.v4.new_code_cell("answer = 42\n" * 20)
    folded.metadata["tags"] = ["solution", "hide-cell"]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("Accuracy {glue:text}`acc:.2f`."), chooser,
                                         nbformat.v4.new_code_cell("x = 1\n" * 10), folded])
    problems = form_problems(nb)
    assert len(problems) == 3
    assert problems[0].startswith("glues a value") and problems[1].startswith("a hidden cell prints")
    assert problems[2] == "4 of 34 code lines are hidden (at most 10%)"
    nb.cells = nb.cells[2:]  # no glue, nothing hidden; the folded solution does not count as hidden
    assert form_problems(nb) == []
