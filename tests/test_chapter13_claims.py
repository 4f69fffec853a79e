"""The claims chapter 13's prose makes about its run, checked on every executed copy (smoke, local, hub).

Run the chapter again (scripts/execute_notebooks.py) when this fails after a change: either the outputs
are stale, or the run no longer supports a sentence of the prose, which must then be rewritten.
"""

import re

STEM = "13_small_and_fast"  # tests/conftest.py runs each test on every executed copy (chapter_outputs.py)
NUMBER = r"(-?[0-9.]+(?:e[-+]?[0-9]+)?)"


def output_of(cells, marker):
    """What the one code cell whose source contains ``marker`` printed."""
    (cell,) = [c for c in cells if marker in c.source]
    texts = [o.get("text", "") or o.get("data", {}).get("text/plain", "") for o in cell.get("outputs", [])]
    return "".join("".join(t) if isinstance(t, list) else t for t in texts)


def rows(printed, name):
    """The numbers of every printed table row that starts with ``name`` (e.g. 'student after')."""
    found = [[float(x) for x in re.findall(NUMBER, line[len(name):].strip())]
             for line in printed.splitlines() if line.strip().startswith(name)]
    assert found, f"no row {name!r} in the chapter's outputs"
    return found


def value(printed, label):
    match = re.search(re.escape(label) + r"\s*" + NUMBER, printed)
    assert match, f"the chapter no longer prints {label!r}"
    return float(match.group(1))


def test_hand_written_pieces_equal_the_package_and_the_library(printed):
    assert value(printed, "largest difference from the hand-written loss:") < 1e-6
    assert value(printed, "largest difference, by hand vs StaticEncoder.encode:") < 1e-5
    assert value(printed, "largest difference, sentence-transformers vs StaticEncoder:") < 1e-5


def test_distillation_moves_the_student_towards_the_teacher(cells):
    """The figure's title and the summary: the student's vectors move towards the teacher's (every seed)."""
    table = output_of(cells, "distill_table = pd.DataFrame")
    (before,) = rows(table, "student before")
    after = rows(table, "student after")
    assert len(after) >= 2, "two seeds"
    before_cosine = before[-1]  # columns: Spearman, cosine
    assert all(row[-1] > before_cosine for row in after)


def test_static_model_starts_weaker_than_the_teacher(cells, printed):
    """'The table alone, untrained as a static model, is a weak sentence encoder' (weaker than the teacher);
    whether a short MNR run helps is left to the printed table and its seed spread."""
    (teacher,) = rows(printed, "teacher  STS Spearman")
    table = output_of(cells, "static_table = pd.DataFrame")
    (static_before,) = rows(table, "static before")
    static_after = rows(table, "static after")
    assert static_before[0] < teacher[0]
    assert len(static_after) >= 2, "two seeds"


def test_the_smaller_models_encode_faster(cells):
    """'A shallower student ... is faster'; the static model encodes many times faster than the transformer."""
    table = output_of(cells, "speed = pd.DataFrame")
    # rows: sentences per second, ms per sentence, times faster than the teacher
    speed = {name: rows(table, name)[0] for name in ("teacher", "student", "static")}
    assert speed["teacher"][-1] == 1
    assert speed["student"][-1] > 1 and speed["static"][-1] > 5


def test_the_speed_race_runs_every_model_on_one_device(cells):
    """'All three run on the same device, the chapter's ... and the cell prints which.'"""
    line = next(line for line in output_of(cells, "speed = pd.DataFrame").splitlines() if "device of all three" in line)
    devices = re.findall(r"'([^']+)'", line.split("device of all three:")[1])
    assert len(devices) == 1, line


def test_the_exercise_answers_pass(printed):
    assert len(re.findall(r"✔ .*all \d+ checks passed", printed)) == 2
