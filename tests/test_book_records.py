"""Records shipped with the package (sbert_teach/records), and the helpers that turn them into the chapters' words."""

import math

import pytest

from sbert_teach import book, resources, shipped_records


def test_seed_spread_summarises_gains_per_objective_and_precision():
    rec = {"runs": [
        {"objective": "mnr", "seed": 1, "mixed_precision": "off", "gain": 0.10},
        {"objective": "softmax", "seed": 2, "mixed_precision": "auto", "gain": -0.02},
        {"objective": "softmax", "seed": 1, "mixed_precision": "off", "gain": -0.01},
        {"objective": "softmax", "seed": 2, "mixed_precision": "off", "gain": 0.03},
        {"objective": "softmax", "seed": 3, "mixed_precision": "off", "gain": 0.01},
    ]}
    table = shipped_records.seed_spread(rec)
    # recipe order (softmax before mnr), float32 before bf16
    assert list(zip(table["objective"], table["precision"])) == [
        ("softmax", "float32"), ("softmax", "bf16 autocast"), ("mnr", "float32")]
    row = table.iloc[0]
    assert (row["runs"], row["rose"], row["seeds"]) == (3, 2, "1, 2, 3")
    assert row["lowest"] == pytest.approx(-0.01) and row["highest"] == pytest.approx(0.03)
    assert row["median"] == pytest.approx(0.01)
    assert table.iloc[1]["rose"] == 0


def test_duration_picks_the_unit_a_reader_would_say():
    assert book.duration(107.3 * 3600) == "107 hours"
    assert book.duration(2 * 3600 - 1) == "120 minutes"
    assert book.duration(42.4 * 60) == "42 minutes"
    assert book.duration(119) == "119 seconds"
    assert book.duration(47.2) == "47 seconds"
    assert book.duration(0.52) == "0.52 seconds"


def test_precision_shift_compares_autocast_with_the_seed_at_equal_seeds():
    rec = {"runs": [
        {"objective": "softmax", "seed": 1, "mixed_precision": "off", "gain": -0.01},
        {"objective": "softmax", "seed": 2, "mixed_precision": "off", "gain": 0.03},
        {"objective": "softmax", "seed": 1, "mixed_precision": "auto", "gain": 0.00},
        {"objective": "softmax", "seed": 2, "mixed_precision": "auto", "gain": 0.005},
        {"objective": "mnr", "seed": 1, "mixed_precision": "off", "gain": 0.10},
        {"objective": "mnr", "seed": 1, "mixed_precision": "fp16", "gain": 0.20},
    ]}
    table = shipped_records.precision_shift(rec)
    assert list(table["objective"]) == ["softmax"], "mnr has no bf16 run to compare"
    assert table.iloc[0]["largest shift"] == pytest.approx(0.025)
    assert table.iloc[0]["seed spread"] == pytest.approx(0.04)
    assert shipped_records.precision_shift(rec, "fp16").iloc[0]["largest shift"] == pytest.approx(0.10)
    with pytest.raises(ValueError, match="'bf16'"):
        shipped_records.precision_shift(rec, "bf16")


def test_seed_spread_names_what_a_record_lacks():
    with pytest.raises(ValueError, match="scripts/seed_spread.py"):
        shipped_records.seed_spread({"runs": [{"objective": "mnr", "seed": 1}]})
    with pytest.raises(ValueError, match="needs a list 'runs'"):
        shipped_records.seed_spread({})


def test_shipped_seed_spread_record_is_complete():
    rec = shipped_records.record("seed_spread")
    assert rec["scale"] == "local" and rec["device"]
    runs = {(r["objective"], r["seed"], r["mixed_precision"]) for r in rec["runs"]}
    assert len(runs) == len(rec["runs"]), "one run per objective, seed and mode"
    for r in rec["runs"]:
        assert math.isclose(r["after"] - r["before"], r["gain"], abs_tol=2e-4), r
        assert r["all_losses_finite"] in (True, None), r
    table = shipped_records.seed_spread(rec)
    assert set(table["objective"]) == {"softmax", "regression", "triplet", "mnr"}


def test_shipped_softmax_start_record_changes_only_the_head_only_phase():
    """Chapter 4 compares these two curves: the same start, steps and encoder learning rate."""
    rec = shipped_records.record("softmax_start")
    together, head_first = rec["runs"]["together"], rec["runs"]["head_first"]
    same = {k: v for k, v in head_first["settings"].items() if k != "head_only_steps"}
    assert together["settings"] == same, "the runs differ in the head-only phase alone (learning rates too)"
    assert [p["step"] for p in together["points"]] == [p["step"] for p in head_first["points"]]
    assert together["points"][0] == head_first["points"][0], "both runs start from the same model"
    assert "head_only_steps" not in together["settings"] and head_first["settings"]["head_only_steps"] > 0
    assert rec["dev_pairs"] == 1500


def test_unknown_record_lists_the_known_ones():
    with pytest.raises(FileNotFoundError, match="softmax_start"):
        shipped_records.record("no_such_record")


def test_chapter_times_record_matches_the_measurements_in_book_data():
    """The packaged record (each chapter's setup line) is written from book/data by scripts/instructors_page.py."""
    import importlib.util
    import json
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "scripts" / "instructors_page.py"
    spec = importlib.util.spec_from_file_location("instructors_page", script)
    page = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(page)
    assert shipped_records.record("chapter_times") == json.loads(json.dumps(page.chapter_times_record())), \
        "run: python scripts/instructors_page.py"


def test_setup_line_says_how_long_the_chapter_takes():
    rec = shipped_records.record("chapter_times")
    local_cpu = next(m for m in rec["measurements"] if m["scale"] == "local" and m["device"] == "cpu")
    minutes = round(local_cpu["seconds"]["04"] / 60)
    assert book.expected_time(4, "local", "cpu").startswith(f"about {max(1, minutes)} min")
    assert book.expected_time(4, "paper", "cuda") == "not measured yet with the packaged resources at the paper scale on a GPU"
    assert book.expected_time(4, "local", "cpu", "hub").startswith("not measured yet with the hub resources")
    settings = book.ChapterSettings(4, resources.get_profile("packaged"), resources.get_scale("local"), "cpu", 42, False)
    assert "time:      about" in settings.describe()


@pytest.mark.parametrize("profile", ["packaged", "hub"])
def test_todays_practice_chapters_name_the_finished_reference_as_their_start(profile):
    """Part III fine-tunes the reference; its setup line must not call the untuned model the start."""
    profile = resources.get_profile(profile)
    scale = resources.get_scale("smoke")
    part_two = book.ChapterSettings(9, profile, scale, "cpu", 42, False).describe()
    part_three = book.ChapterSettings(book.TODAYS_PRACTICE, profile, scale, "cpu", 42, False).describe()
    assert f"start:     {profile.untuned_text}" in part_two
    assert f"start:     {profile.reference_text}" in part_three and f"untuned:   {profile.untuned_text}" in part_three
    assert "steps per objective" in part_two and "steps per objective" not in part_three
