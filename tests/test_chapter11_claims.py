"""The claims chapter 11's prose makes about its own outputs, checked on every executed copy (smoke, local, hub).

The prose says: some mined 'negatives' score above their positive (the table lists them); the margin
removes candidates; the hand-written miner, the package and sentence-transformers pick the same
negatives; GradCache's gradients equal full-batch MNR's to float32 rounding, on a batch whose loss and
gradients are far from zero, while no forward pass with gradients sees more than the mini-batch; the
package and the library agree with it.
"""

import re

STEM = "11_hard_negatives_and_big_batches"  # tests/conftest.py runs each test on every executed copy (chapter_outputs.py)


def number(pattern, text, cast=float):
    match = re.search(pattern, text)
    assert match, f"no output line matches {pattern!r}"
    return [cast(g) for g in match.groups()]


def test_some_mined_negatives_score_above_their_positive(printed):
    above, total = number(r"(\d+) of (\d+) anchors have a mined 'negative' scoring above their positive", printed, int)
    assert 0 < above < total


def test_the_margin_removes_candidates(printed):
    removed, = number(r"\(removed\): (\d+);", printed, int)
    assert removed > 0


def test_hand_written_package_and_library_pick_the_same_negatives(printed):
    agree, total = number(r"hand-written and package agree on (\d+) of (\d+) anchors", printed, int)
    assert agree == total > 0
    ours, theirs, same = number(r"rows: package (\d+), sentence-transformers (\d+); identical rows: (\d+)", printed, int)
    assert ours == theirs == same > 0


def test_grad_cache_equals_full_batch_and_sees_only_mini_batches(printed):
    full, cached = number(r"loss: full batch ([\d.]+), GradCache ([\d.]+)", printed)
    assert abs(full - cached) < 1e-5
    assert full > 1, "the check needs a batch the model gets wrong: near a zero loss every gradient is near zero"
    difference, largest = number(
        r"largest difference of a parameter gradient: ([\d.e+-]+) over \d+ tensors \(largest gradient: ([\d.e+-]+)\)",
        printed)
    assert difference < 1e-5 and difference < 1e-4 * largest
    full_rows, cached_rows = number(r"with gradients: full batch (\d+), GradCache (\d+)", printed, int)
    assert cached_rows == 2 < full_rows == 8


def test_package_and_library_equal_the_hand_written_grad_cache(printed):
    by_hand, package, library = number(
        r"loss: by hand ([\d.]+), package ([\d.]+), sentence-transformers ([\d.]+)", printed)
    assert abs(by_hand - package) < 1e-5 and abs(package - library) < 1e-5
    hand_vs_package, package_vs_library, largest = number(
        r"by hand vs package ([\d.e+-]+), package vs sentence-transformers ([\d.e+-]+) \(largest gradient: ([\d.e+-]+)\)",
        printed)
    assert hand_vs_package < 1e-5 and package_vs_library < 1e-5
    assert max(hand_vs_package, package_vs_library) < 1e-4 * largest


def test_no_progress_bars_in_the_outputs(printed, cells):
    """The library's mining asks for encoding bars whatever verbose says; the page shows none (text or widget)."""
    assert not re.search(r"\d+%\|", printed) and "it/s]" not in printed
    widgets = [o for c in cells for o in c.get("outputs", []) if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert not widgets


def test_the_exercise_answers_pass(printed):
    assert len(re.findall(r"✔ .*all \d+ checks passed", printed)) == 2


def test_no_warnings_on_the_page(printed):
    assert "Warning" not in printed  # e.g. a pandas warning about filling a float column with text
