"""Turn the book into a course: student and instructor notebooks, slides and zips (instructors page).

Usage::

    python -m sbert_teach.course build OUT/

writes

* ``OUT/instructor/``: the chapter notebooks as they are, solutions included;
* ``OUT/student/``: the same notebooks with every **solution cell** replaced by a
  stub that says what to write, and no outputs, widget state or execution
  metadata anywhere (so no answer hides in them);
* ``OUT/slides/``: one reveal.js deck per chapter (nbconvert), from the cells
  whose ``slideshow.slide_type`` metadata is set, with reveal.js beside them so
  the decks open offline;
* ``OUT/sbert-teach-student.zip`` and ``OUT/sbert-teach-instructor.zip``.

**How solutions are marked** (the one documented way): a code cell tagged
``solution``. Such a cell defines the answer: functions (``def ...``) and/or
names (``answer = ...``). In the student copy each function keeps its signature
and docstring and its body becomes ``raise NotImplementedError(...)``; each
name is set to ``NotImplemented``. The checkers in :mod:`sbert_teach.checks`
report both as "not written yet".
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import re
import shutil
import sys
import zipfile
from pathlib import Path

SOLUTION_TAG = "solution"
ROOT = Path(__file__).resolve().parents[1]


def chapter_notebooks(folder: Path | None = None) -> list[Path]:
    folder = Path(folder) if folder else ROOT / "notebooks"
    found = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    if not found:
        raise FileNotFoundError(f"No chapter notebooks (NN_name.ipynb) in {folder}.")
    return found


def is_solution(cell) -> bool:
    return cell.get("cell_type") == "code" and SOLUTION_TAG in cell.get("metadata", {}).get("tags", [])


def _exercise_name(nb, index: int) -> str:
    """The nearest '### Exercise N.k: ...' heading above cell ``index``."""
    for cell in reversed(nb["cells"][:index]):
        if cell["cell_type"] == "markdown":
            for line in reversed("".join(cell["source"]).splitlines()):
                if line.lstrip("#").strip().lower().startswith("exercise"):
                    return line.lstrip("#").strip()
    return "this exercise"


def stub_source(source: str, exercise: str) -> str:
    """The student version of a solution cell: signatures and names kept, answers removed."""
    tree = ast.parse(source)
    lines = source.splitlines()
    out: list[str] = []
    message = f"{exercise}: write this, then run the check below."
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            start = (node.decorator_list[0].lineno if node.decorator_list else node.lineno) - 1
            body_start = node.body[0].lineno - 1
            header = lines[start:body_start]
            doc = ast.get_docstring(node, clean=False)
            indent = " " * (node.body[0].col_offset)
            if doc is not None:
                header += lines[node.body[0].lineno - 1: node.body[0].end_lineno]
            header.append(f"{indent}# your code here")
            header.append(f"{indent}raise NotImplementedError({message!r})")
            out += header + ["", ""]
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = ", ".join(ast.unparse(t) for t in targets)
            out.append(f"{names} = NotImplemented  # {exercise}: your answer here")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            out.append(ast.get_source_segment(source, node))
        # any other statement is part of the answer and is dropped
    return "\n".join(out).rstrip() + "\n"


def _clean(nb) -> None:
    """Drop everything that could carry an answer: outputs, counts, widget state, execution times."""
    nb.get("metadata", {}).pop("widgets", None)
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cell.get("metadata", {}).pop("execution", None)


def student_notebook(nb: dict) -> dict:
    """A copy of ``nb`` with solutions stubbed and all outputs removed."""
    nb = copy.deepcopy(nb)
    for i, cell in enumerate(nb["cells"]):
        if is_solution(cell):
            cell["source"] = stub_source("".join(cell["source"]), _exercise_name(nb, i))
    _clean(nb)
    return nb


def solution_sources(nb: dict) -> list[str]:
    return ["".join(c["source"]) for c in nb["cells"] if is_solution(c)]


def _zip(folder: Path, target: Path) -> None:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                zf.write(path, path.relative_to(folder.parent))


def build_slides(notebook: Path, out_dir: Path) -> Path:
    """One reveal.js deck from the cells with slideshow metadata (nbconvert)."""
    try:
        from nbconvert import SlidesExporter
    except ImportError:
        raise ImportError("Slides need nbconvert: pip install 'sbert-teach[book]'.") from None
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    marked = [c for c in nb.cells if c.get("metadata", {}).get("slideshow", {}).get("slide_type")]
    if not marked:
        raise ValueError(f"{notebook.name} has no cells marked as slides (cell metadata slideshow.slide_type).")
    for cell in nb.cells:  # unmarked cells are left out of the deck
        cell.setdefault("metadata", {}).setdefault("slideshow", {}).setdefault("slide_type", "skip")
    exporter = SlidesExporter()
    exporter.reveal_url_prefix = "reveal.js"  # vendored next to the decks, so they open offline
    body, _ = exporter.from_notebook_node(nb)
    target = out_dir / f"{notebook.stem}.slides.html"
    target.write_text(body)
    return target


def build(out: Path, notebooks: list[Path] | None = None, slides: bool = True) -> dict:
    """Write the instructor and student copies, slides and zips under ``out``; return a summary."""
    import nbformat

    out = Path(out)
    notebooks = notebooks or chapter_notebooks()
    for sub in ("student", "instructor", "slides"):
        shutil.rmtree(out / sub, ignore_errors=True)
        (out / sub).mkdir(parents=True)
    summary = {"chapters": [], "solutions": 0}
    for path in notebooks:
        raw = json.loads(path.read_text())
        shutil.copy2(path, out / "instructor" / path.name)
        student = student_notebook(raw)
        nbformat.validate(nbformat.from_dict(student))
        (out / "student" / path.name).write_text(json.dumps(student, indent=1, ensure_ascii=False) + "\n")
        n = len(solution_sources(raw))
        if n < 2:
            raise ValueError(f"{path.name} has {n} solution cell(s); every chapter needs at least two exercises.")
        summary["solutions"] += n
        summary["chapters"].append({"notebook": path.name, "solutions": n})
        if slides:
            build_slides(path, out / "slides")
    if slides:
        reveal = ROOT / "_offline" / "static" / "reveal.js"
        if not reveal.exists():
            raise FileNotFoundError(f"{reveal} is missing: run `python scripts/vendor_js.py` (make setup does).")
        shutil.copytree(reveal, out / "slides" / "reveal.js")
    for audience in ("student", "instructor"):
        _zip(out / audience, out / f"sbert-teach-{audience}.zip")
    return summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sbert_teach.course", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="write OUT/student, OUT/instructor, OUT/slides and the zips")
    b.add_argument("out", type=Path)
    b.add_argument("--no-slides", action="store_true", help="skip the reveal.js decks")
    args = parser.parse_args(argv)
    try:
        summary = build(args.out, slides=not args.no_slides)
    except (ValueError, FileNotFoundError, ImportError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"{len(summary['chapters'])} chapters, {summary['solutions']} solution cells -> {args.out}/"
          "{student,instructor,slides}/ and two zips")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
