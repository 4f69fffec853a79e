"""Write ``notebooks/colab/``: the chapters as Colab shows them well, generated from ``notebooks/``.

Colab renders plain Markdown only. The chapters are written for Jupyter Book (MyST) with two things Colab would
show as raw text or a broken image: admonitions (``:::{admonition}``) and a relative badge image. The prose never
quotes a number the code computed (the cells print the numbers; the prose says how to read them), so the copy's
Markdown is the chapter's Markdown, with only these changes:

* an admonition becomes a block quote with its title in bold;
* the "Open in Colab" badge is dropped (the reader is already there);
* code cells hidden on the website (``remove-cell``: the install cell) are folded to their first comment line
  (``"cellView": "form"``);
* outputs are removed.

A chapter that still uses any other MyST role or directive stops this script with the cell it is in.
The badges of the chapters point here (``scripts/sync_repository.py``). ``tests/test_colab_copies.py`` fails when
a copy differs from what this script writes, and checks that each copy keeps every heading as Markdown.

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

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ROOT / "notebooks"
COPIES = CHAPTERS / "colab"
BADGE_LINE = re.compile(r"^\[!\[Open In Colab\]\([^)]*\)\]\([^)]*\)\n*", re.MULTILINE)
ADMONITION = re.compile(r"^:::\{admonition\} *([^\n]*)\n(?::class:[^\n]*\n)?(.*?)^:::$", re.MULTILINE | re.DOTALL)
#: MyST markup Colab cannot render: a role (``{glue:text}`x` ``, ``{ref}`x` ``) or a directive (``:::{note}``, ```` ```{figure} ````)
MYST_MARKUP = re.compile(r"\{[a-zA-Z][\w:-]*\}`|^(?::::|```)\{", re.MULTILINE)


def quote(match: re.Match) -> str:
    title, body = match.group(1).strip(), match.group(2).rstrip("\n")
    lines = [f"**{title}**", ""] + body.split("\n")
    return "\n".join("> " + line if line else ">" for line in lines)


def plain_markdown(text: str) -> str:
    """The Markdown of a chapter cell as Colab shows it; MyST markup left over is an error naming the cell."""
    plain = ADMONITION.sub(quote, BADGE_LINE.sub("", text))
    left = MYST_MARKUP.search(plain)
    if left:
        raise ValueError(f"Colab cannot render the MyST markup {left.group(0)!r} in this Markdown cell: "
                         f"{text[:120]!r}. Write it as plain Markdown (or as an admonition), and let a code cell "
                         "print any number the sentence needs.")
    return plain


def hidden_cell_title(source: str) -> str:
    """A folded cell's title: its first comment line, if it opens with one."""
    first = source.split("\n", 1)[0]
    return first[2:].strip() if first.startswith("# ") else "(setup)"


def colab_copy(path: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    out = copy.deepcopy(nb)
    cells = []
    for cell in nb.cells:
        cell = copy.deepcopy(cell)
        if cell.cell_type == "markdown":
            try:
                cell.source = plain_markdown(cell.source)
            except ValueError as error:
                raise ValueError(f"{path.name}: {error}") from None
        elif cell.cell_type == "code":
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
