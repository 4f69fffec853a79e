"""Records shipped with the package (sbert_teach/records) and the summaries chapters draw from them."""

import math

import pytest

from sbert_teach import book


def test_seed_spread_summarises_gains_per_objective_and_precision():
    rec = {"runs": [
        {"objective": "mnr", "seed": 1, "mixed_precision": "off", "gain": 0.10},
        {"objective": "softmax", "seed": 2, "mixed_precision": "auto", "gain": -0.02},
        {"objective": "softmax", "seed": 1, "mixed_precision": "off", "gain": -0.01},
        {"objective": "softmax", "seed": 2, "mixed_precision": "off", "gain": 0.03},
        {"objective": "softmax", "seed": 3, "mixed_precision": "off", "gain": 0.01},
    ]}
    table = book.seed_spread(rec)
    # recipe order (softmax before mnr), float32 before bf16
    assert list(zip(table["objective"], table["precision"])) == [
        ("softmax", "float32"), ("softmax", "bf16 autocast"), ("mnr", "float32")]
    row = table.iloc[0]
    assert (row["runs"], row["rose"], row["seeds"]) == (3, 2, "1, 2, 3")
    assert row["lowest"] == pytest.approx(-0.01) and row["highest"] == pytest.approx(0.03)
    assert row["median"] == pytest.approx(0.01)
    assert table.iloc[1]["rose"] == 0


def test_seed_spread_names_what_a_record_lacks():
    with pytest.raises(ValueError, match="scripts/seed_spread.py"):
        book.seed_spread({"runs": [{"objective": "mnr", "seed": 1}]})
    with pytest.raises(ValueError, match="needs a list 'runs'"):
        book.seed_spread({})


def test_shipped_seed_spread_record_is_complete():
    rec = book.record("seed_spread")
    assert rec["scale"] == "local" and rec["device"]
    runs = {(r["objective"], r["seed"], r["mixed_precision"]) for r in rec["runs"]}
    assert len(runs) == len(rec["runs"]), "one run per objective, seed and mode"
    for r in rec["runs"]:
        assert math.isclose(r["after"] - r["before"], r["gain"], abs_tol=2e-4), r
        assert r["all_losses_finite"] in (True, None), r
    table = book.seed_spread(rec)
    assert set(table["objective"]) == {"softmax", "regression", "triplet", "mnr"}


def test_unknown_record_lists_the_known_ones():
    with pytest.raises(FileNotFoundError, match="softmax_start"):
        book.record("no_such_record")
