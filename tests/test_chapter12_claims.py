"""Chapter 12's prose against every executed copy (smoke, local, hub): each claim about the run that could flip.

The prose says: the hand-written loss, the package's and sentence-transformers' agree to float32 rounding;
cutting the reference short to its smallest width costs quality (the loss of one batch at each width is left
to the reader: one batch is too small a sample to order the widths); storage falls in proportion to the width;
at the smallest widths, exact search time falls by less than the storage does. With one seed the table prints
no spread (it is unknown, not 0).
"""

import re

import pytest

STEM = "12_matryoshka"  # tests/conftest.py runs each test on every executed copy (chapter_outputs.py)


def _table(text: str, header_start: str) -> list[list[str]]:
    """The rows (split on whitespace) of the printed table whose header line starts with ``header_start``."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().startswith(header_start))
    rows = []
    for line in lines[start + 1:]:
        if line.strip()[:1].isdigit():
            rows.append(line.split())
        elif rows or not line.strip().startswith("dims"):  # pandas prints the index name on a line of its own
            break
    return rows


def test_the_three_losses_agree_to_float32_rounding(printed):
    differences = [float(x) for x in re.findall(r"largest difference ([0-9.e+-]+)", printed)]
    assert len(differences) == 2
    assert max(differences) < 1e-5


def test_cutting_the_reference_costs_quality(printed):
    # one test for both tables: check_claims (the hub run) calls each test once with printed, cells or nb
    for metric in ("NDCG@10", "STSb Spearman"):
        block = printed[printed.index(f"{metric} (search:"):]
        rows = _table(block, "model")  # the header pandas prints above the rows: 'model  reference, cut ...'
        assert len(rows) >= 2, metric
        by_width = {int(row[0]): float(row[1]) for row in rows}
        assert by_width[min(by_width)] < by_width[max(by_width)], metric


def test_storage_follows_the_width_and_search_time_falls_less_at_the_smallest_width(printed):
    rows = _table(printed[printed.index("exact search:"):], "dims")
    header = printed[printed.index("exact search:"):].splitlines()[1].split()
    assert header[:4] == ["dims", "float32", "bytes", "int8"]
    dims = [int(row[0]) for row in rows]
    storage = {int(row[0]): float(row[3]) for row in rows}
    search = {int(row[0]): float(row[5]) for row in rows}
    for dim in dims:
        assert storage[dim] == pytest.approx(dim / max(dims), abs=1e-3)
        assert int(rows[dims.index(dim)][1]) == 4 * dim and int(rows[dims.index(dim)][2]) == dim
    assert search[min(dims)] > storage[min(dims)]


def test_a_spread_is_printed_only_where_there_are_two_seeds(printed):
    lines = printed.splitlines()
    seed_lines = [i for i, line in enumerate(lines) if re.match(r"seeds \[[^\]]*\]: ", line)]
    assert len(seed_lines) == 2  # one per metric table
    for i in seed_lines:
        n_seeds = len(lines[i].split("]")[0].split(","))
        header = next(line for line in lines[i + 1:] if line.strip().startswith("model"))
        assert ("spread" in header) == (n_seeds > 1), header
        assert ("unknown" in lines[i]) == (n_seeds == 1), lines[i]
    assert "nan" not in printed[:printed.index("exact search:")].lower()


def test_the_exercise_answers_pass(printed):
    assert len(re.findall(r"✔ .*all \d+ checks passed", printed)) == 2
