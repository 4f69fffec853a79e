"""What chapter 5's prose says about its run, checked against every executed copy of the chapter.

The prose states flatly that the by-hand loss equals the package's and that unscaled targets blow it up; that
before training even the least similar dev pair has a clearly positive cosine; and that our regression
objective and sentence-transformers' CosineSimilarityLoss, and our evaluate_sts and the library's evaluator,
agree. Whether the loss falls and Spearman rises depends on the run (under the hub test fixture's random
bert-base at 2e-5 nothing moves in 18 steps), so the prose reads those either way and is not claimed here. It sets no paper figure beside
the run's, so nothing here compares with the paper.
"""

import re

STEM = "05_regression_sts"  # tests/conftest.py runs each test on every executed copy (chapter_outputs.py)


def numbers_after(text, label, count=1):
    number = r"([-+]?[0-9][0-9,]*(?:\.[0-9]+)?(?:e[-+]?\d+)?)"  # 2,000 or 0.661 or 1e-05
    match = re.search(re.escape(label) + r"\s*" + r"\D*?".join([number] * count), text)
    assert match, f"no line with {label!r} in the outputs"
    return [float(g.replace(",", "")) for g in match.groups()]


def test_the_toy_loss_by_hand_equals_the_package_and_unscaled_targets_blow_it_up(printed):
    by_hand, package = numbers_after(printed, "loss by hand", 2)
    assert abs(by_hand - package) < 1e-4
    (unscaled,) = numbers_after(printed, "with unscaled 0-5 targets:")
    assert unscaled > 100 * package


def test_the_training_pairs_line_matches_the_loader_report(printed):
    (used,) = numbers_after(printed, "training pairs used at this scale:")
    # the loader's report is the line just before (its source is named per resources: stsb-train, .../stsb-train)
    report = printed.split("training pairs used at this scale:")[0].strip().splitlines()[-1]
    assert "-train" in report and "read" in report, report
    drew = re.search(r"drew (\d+) of the (\d+)", report)
    kept = int(re.search(r"kept (\d+)", report).group(1))
    assert used == (int(drew.group(1)) if drew else kept)  # a draw, or every pair


def test_the_printed_changes_are_after_minus_before(printed):
    # the prose reads the change either way (a run that learns, or one too short to move the encoder)
    for split in ("dev", "test"):
        before, after, change = numbers_after(printed, f"{split} Spearman: before", 3)
        assert abs((after - before) - change) < 2e-3
    first, last = numbers_after(printed, "smoothed loss: first", 2)
    assert first > 0 and last > 0  # a mean squared error


def test_before_training_even_the_least_similar_pair_has_a_clearly_positive_cosine(printed):
    before, _ = numbers_after(printed, "lowest cosine on the dev pairs: before", 2)
    assert before > 0.3


def test_ours_and_the_library_agree(printed):
    ours, theirs = numbers_after(printed, "sbert_teach regression:", 2)
    assert abs(ours - theirs) < 1e-5
    match = re.search(r"-> ([0-9.]+) after \(EmbeddingSimilarityEvaluator\) \| ([0-9.]+) \(sbert_teach", printed)
    assert match, "no line comparing the library's evaluator with evaluate_sts"
    assert abs(float(match.group(1)) - float(match.group(2))) < 1e-4


def test_the_exercise_answers_pass(printed):
    assert len(re.findall(r"✔ .*all \d+ checks passed", printed)) == 2
