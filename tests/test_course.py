"""The course build: student copies hide every solution, and their exercises work both ways."""

from __future__ import annotations

import json
import re
import zipfile

import pytest

from sbert_teach import course

NOTEBOOKS = course.chapter_notebooks()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("course")
    summary = course.build(out, slides=True)
    return out, summary


def _code_lines(solution: str) -> list[str]:
    """The lines of a solution that carry the answer (not signatures, docstrings or imports)."""
    lines = []
    for line in solution.splitlines():
        text = line.strip()
        if (not text or text.startswith(("def ", "import ", "from ", "#", '"""', "'''", "@"))
                or len(text) < 12):
            continue
        lines.append(text)
    return lines


def test_build_writes_every_audience(built):
    out, summary = built
    assert len(summary["chapters"]) == len(NOTEBOOKS) >= 9
    for nb in NOTEBOOKS:
        assert (out / "student" / nb.name).exists() and (out / "instructor" / nb.name).exists()
        assert (out / "slides" / f"{nb.stem}.slides.html").exists()
    assert (out / "slides" / "reveal.js" / "dist" / "reveal.js").exists()
    for audience in ("student", "instructor"):
        with zipfile.ZipFile(out / f"sbert-teach-{audience}.zip") as zf:
            assert sorted(n.split("/")[-1] for n in zf.namelist()) == sorted(p.name for p in NOTEBOOKS)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_student_copy_hides_solutions(built, notebook):
    out, _ = built
    original = json.loads(notebook.read_text())
    student_text = (out / "student" / notebook.name).read_text()
    student = json.loads(student_text)
    solutions = course.solution_sources(original)
    assert len(solutions) >= 2, f"{notebook.name}: at least two exercises with a `solution` cell"
    # a line that also appears outside the solutions (e.g. `with torch.no_grad():`) reveals nothing
    elsewhere = "\n".join("".join(c["source"]) for c in original["cells"] if not course.is_solution(c))
    for solution in solutions:
        for line in _code_lines(solution):
            if line in elsewhere:
                continue
            assert json.dumps(line)[1:-1] not in student_text and line not in student_text, f"{notebook.name}: the student copy contains solution code {line!r}"
    for cell in student["cells"]:
        assert cell.get("outputs", []) == [], "student notebooks carry no outputs"
    assert "widgets" not in student.get("metadata", {})
    stubs = [c for c in student["cells"] if course.is_solution(c)]
    assert all("NotImplemented" in "".join(c["source"]) for c in stubs)


def _output_text(cell) -> str:
    parts = []
    for output in cell.get("outputs", []):
        parts.append("".join(output.get("text", "")))
        for mime in ("text/plain", "text/markdown", "text/html"):
            parts.append("".join(output.get("data", {}).get(mime, "")))
    return "\n".join(parts)


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_printed_output_shows_a_solution(notebook):
    """A chapter must not print an answer either (e.g. with inspect.getsource), only hide it in its source."""
    nb = json.loads(notebook.read_text())
    shown_on_purpose = "\n".join("".join(c["source"]) for c in nb["cells"] if not course.is_solution(c))
    printed = "\n".join(_output_text(c) for c in nb["cells"] if not course.is_solution(c))
    for solution in course.solution_sources(nb):
        for line in _code_lines(solution):
            if line not in shown_on_purpose:
                assert line not in printed, f"{notebook.name}: an output prints solution code {line!r}"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_solutions_are_folded_on_the_website(notebook):
    """Each solution cell carries `hide-cell`: code and output fold behind a toggle the reader opens on purpose."""
    nb = json.loads(notebook.read_text())
    for cell in nb["cells"]:
        if course.is_solution(cell):
            assert "hide-cell" in cell["metadata"].get("tags", []), f"{notebook.name}: {''.join(cell['source'])[:60]!r}"


def test_stub_keeps_signature_and_docstring():
    source = 'def f(a, b=2):\n    """Add."""\n    total = a + b\n    return total\n\nanswer = {"x": 1}\n'
    stub = course.stub_source(source, "Exercise 9.9: add")
    namespace = {}
    exec(stub, namespace)
    assert namespace["f"].__doc__ == "Add." and namespace["answer"] is NotImplemented
    with pytest.raises(NotImplementedError, match="Exercise 9.9"):
        namespace["f"](1)
    assert "total" not in stub


def _exercise_plan(nb: dict):
    """(setup sources, [(stub, solution, check source)]) for one chapter."""
    cells = nb["cells"]
    code = [c for c in cells if c["cell_type"] == "code"]
    setup_end = next(i for i, c in enumerate(code) if "setup_chapter(" in "".join(c["source"]))
    setup = ["".join(c["source"]) for c in code[1: setup_end + 1]]  # skip the Colab install cell
    plan = []
    for i, cell in enumerate(cells):
        if course.is_solution(cell):
            check = next("".join(c["source"]) for c in cells[i + 1:]
                         if c["cell_type"] == "code" and "checks." in "".join(c["source"]))
            solution = "".join(cell["source"])
            plan.append((course.stub_source(solution, "Exercise"), solution, check))
    return setup, plan


@pytest.mark.slow
def test_student_exercises_fail_on_stubs_and_pass_with_solutions():
    """In one kernel, for every chapter: run its setup cell, then for each exercise the stub and its
    check (must say "not written yet"), then the solution and the same check (must pass).

    Exercises may use only what the chapter's setup cell defines, so this runs in seconds, not
    the minutes a full re-execution of every chapter would take.
    """
    import os

    from jupyter_client.manager import start_new_kernel

    os.environ.setdefault("SBERT_TEACH_SCALE", "smoke")
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        def run(source: str) -> str:
            chunks = []

            def keep(msg):
                content = msg["content"]
                if msg["msg_type"] == "stream":
                    chunks.append(content["text"])
                elif msg["msg_type"] in ("execute_result", "display_data"):
                    chunks.append(content["data"].get("text/plain", ""))
                elif msg["msg_type"] == "error":
                    chunks.append("ERROR " + content["ename"] + ": " + content["evalue"])

            kc.execute_interactive(source, output_hook=keep, timeout=600)
            return "".join(chunks)

        for notebook in NOTEBOOKS:
            setup, plan = _exercise_plan(json.loads(notebook.read_text()))
            for source in setup:
                assert "ERROR" not in run(source), f"{notebook.name}: setup cell failed"
            for stub, solution, check in plan:
                assert "ERROR" not in run(stub), f"{notebook.name}: the stub itself fails to run"
                before = run(check)
                assert "not written yet" in before, f"{notebook.name}: check on the stub said {before!r}"
                assert "ERROR" not in run(solution)
                after = run(check)
                assert re.search(r"✔ .*all \d+ checks passed", after), f"{notebook.name}: {after!r}"
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
