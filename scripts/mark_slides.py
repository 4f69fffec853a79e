"""Mark the cells of each chapter that make up its slide deck (cell metadata slideshow.slide_type).

A deck is the chapter's skeleton: the title and learning goals, each `##` section's opening text,
every figure, the pitfalls box and the summary. Cells an author has already marked are left alone,
so a chapter can choose its own slides. Run after adding or reordering cells:
    python scripts/mark_slides.py [notebooks/NN_name.ipynb ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat


def slide_type(cell) -> str | None:
    text = "".join(cell["source"]).lstrip()
    if cell["cell_type"] == "markdown":
        if text.startswith("# ") or text.startswith("## ") or "{admonition} Pitfalls" in text:
            return "slide"
        if text.startswith("### Exercise"):
            return "subslide"
        return None
    if any("image/png" in o.get("data", {}) for o in cell.get("outputs", [])):
        return "subslide"
    return None


def main(paths) -> None:
    for path in paths:
        nb = nbformat.read(path, as_version=4)
        marked = 0
        for cell in nb["cells"]:
            show = cell.setdefault("metadata", {}).setdefault("slideshow", {})
            if "slide_type" not in show:
                kind = slide_type(cell)
                if kind:
                    show["slide_type"] = kind
                    marked += 1
            if not show:
                del cell["metadata"]["slideshow"]
        nbformat.write(nb, path)
        print(f"{path.name}: {marked} cells newly marked")


if __name__ == "__main__":
    main([Path(p) for p in sys.argv[1:]] or sorted(Path("notebooks").glob("[0-9][0-9]_*.ipynb")))
