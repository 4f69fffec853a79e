"""Write ``notebooks/colab/``: the chapters as Colab shows them well, generated from ``notebooks/``.

Colab renders plain Markdown only. The chapters are written for Jupyter Book (MyST): admonitions
(``:::{admonition}``), numbers quoted from the code with ``{glue:text}`name:fmt``` roles, and a
relative badge image, all of which Colab would show as raw text or a broken image. Each copy differs
from its chapter in three ways:

* an admonition becomes a block quote with its title in bold;
* a Markdown cell that quotes numbers becomes a code cell, folded by Colab into its title
  (``"cellView": "form"``), that calls ``book.say(...)`` with the same text: at run time
  :func:`sbert_teach.book.say` fills in the values the chapter glued above it and shows the result
  as Markdown;
* code cells hidden on the website (``remove-cell``: the install cell, the cells that glue numbers for
  the text) are folded to their first comment line;
* the "Open in Colab" badge is dropped (the reader is already there), and outputs are removed.

The badges of the chapters point here (``scripts/sync_repository.py``). ``tests/test_colab_copies.py``
fails when a copy differs from what this script writes, or when a copy quotes a value before the
chapter glues it.

Usage: python scripts/colab_copies.py           # rewrite notebooks/colab/
       python scripts/colab_copies.py --check   # list what differs; exit 1 if anything does
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

import nbformat

from sbert_teach import book

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "notebooks"
COPIES = CHAPTERS / "colab"
GLUE_ROLE = book.GLUE_ROLE  # one pattern for the roles, in the package that fills them in
BADGE_LINE = re.compile(r"^\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)\n*", re.MULTILINE)
ADMONITION = re.compile(r"^:::\{admonition\} *([^\n]*)\n(?::class:[^\n]*\n)?(.*?)^:::$", re.MULTILINE | re.DOTALL)
SAY_TITLE = "#@title (text with this run's numbers)"


def quote(match: re.Match) -> str:
    title, body = match.group(1).strip(), match.group(2).rstrip("\n")
    lines = [f"**{title}**", ""] + body.split("\n")
    return "\n".join("> " + line if line else ">" for line in lines)


def plain_markdown(text: str) -> str:
    return ADMONITION.sub(quote, BADGE_LINE.sub("", text))


def say_cell(text: str) -> nbformat.NotebookNode:
    if '"""' in text:
        raise ValueError(f'A glued paragraph contains """, which book.say(r"""...""") cannot hold: {text[:80]!r}')
    cell = nbformat.v4.new_code_cell(f'{SAY_TITLE}\nbook.say(r"""\n{text}\n""")')
    cell.metadata["cellView"] = "form"  # Colab folds the code and shows only the rendered text
    return cell


def hidden_cell_title(source: str) -> str:
    """A folded cell's title: its first comment line, if it opens with one."""
    first = source.split("\n", 1)[0]
    return first[2:].strip() if first.startswith("# ") else "(setup)"


def colab_copy(path: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    out = copy.deepcopy(nb)
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            text = plain_markdown(cell.source)
            if GLUE_ROLE.search(text):
                new = say_cell(text)
                new.id = cell.id
                cells.append(new)
                continue
            cell = copy.deepcopy(cell)
            cell.source = text
        elif cell.cell_type == "code":
            cell = copy.deepcopy(cell)
            cell.outputs, cell.execution_count = [], None
            cell.metadata.pop("execution", None)
            if "remove-cell" in cell.metadata.get("tags", []):  # hidden on the website: folded on Colab
                cell.source = f"#@title {hidden_cell_title(cell.source)}\n{cell.source}"
                cell.metadata["cellView"] = "form"
        cells.append(cell)
    out.cells = cells
    out.metadata.pop("widgets", None)
    return out


def differences(write: bool = False) -> list[str]:
    found = []
    chapters = sorted(CHAPTERS.glob("[0-9][0-9]_*.ipynb"))
    expected_names = {p.name for p in chapters}
    for path in chapters:
        target = COPIES / path.name
        expected = nbformat.writes(colab_copy(path)) + "\n"
        if not target.exists() or target.read_text() != expected:
            found.append(str(target.relative_to(ROOT)))
            if write:
                COPIES.mkdir(exist_ok=True)
                target.write_text(expected)
    for stale in sorted(COPIES.glob("*.ipynb")):
        if stale.name not in expected_names:
            found.append(f"{stale.relative_to(ROOT)} (no such chapter)")
            if write:
                stale.unlink()
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    found = differences(write=not args.check)
    verb = "differ from their chapters" if args.check else "rewritten"
    print(f"{len(found)} Colab cop{'y' if len(found) == 1 else 'ies'} {verb}" + "".join(f"\n  {f}" for f in found))
    return 1 if (args.check and found) else 0


if __name__ == "__main__":
    sys.exit(main())
