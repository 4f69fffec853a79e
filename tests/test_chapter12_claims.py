"""Chapter 12's prose against its saved (smoke) outputs: each claim about the run that could flip is checked here.

The prose says: the hand-written loss, the package's and sentence-transformers' agree to float32 rounding; the
reference's MNR loss is higher at its smallest width than at its full width; cutting the reference short costs
quality; storage falls in proportion to the width; at the smallest widths, exact search time falls by less than
the storage does.
"""

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "12_matryoshka.ipynb"


@pytest.fixture(scope="module")
def printed():
    """The text each code cell printed, in order."""
    nb = nbformat.read(NOTEBOOK, as_version=4)
    texts = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            texts.append("".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream"))
    assert any(texts), "the chapter has no saved outputs: execute it (scripts/execute_notebooks.py)"
    return "\n".join(texts)


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


def test_the_reference_loses_at_its_smallest_width(printed):
    losses = re.search(r"MNR loss of the reference at each width: \{(.*)\}", printed).group(1)
    per_width = {int(d): float(v) for d, v in re.findall(r"(\d+): ([0-9.]+)", losses)}
    assert per_width[min(per_width)] > per_width[max(per_width)]


@pytest.mark.parametrize("metric", ["NDCG@10", "STSb Spearman"])
def test_cutting_the_reference_costs_quality(printed, metric):
    block = printed[printed.index(f"{metric} (search:"):]
    rows = _table(block, "model")  # the header pandas prints above the rows: 'model  reference, cut ...'
    assert len(rows) >= 2
    by_width = {int(row[0]): float(row[1]) for row in rows}
    assert by_width[min(by_width)] < by_width[max(by_width)]


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
