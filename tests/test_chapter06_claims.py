"""What chapter 6's prose says about its run, checked against every executed copy (tests/chapter_outputs.py).

The prose reads the training results (Spearman before and after, the distance table, the diagonal's lead)
without saying which way they go, since a short run can go either way; the claims below are the ones it
states flatly.
"""

import re

from chapter_outputs import number_after

STEM = "06_triplet_and_in_batch_negatives"  # tests/conftest.py runs each test on every executed copy


def test_the_hinge_is_zero_once_the_negative_is_a_margin_further(printed):
    table = printed.split("d(a, p)  d(a, n)  loss")[1].split("batch loss")[0]
    rows = [[float(x) for x in line.split()] for line in table.strip().splitlines()]
    assert len(rows) == 5
    for d_ap, d_an, loss in rows:
        assert loss == (0.0 if d_an - d_ap >= 1.0 else round(d_ap - d_an + 1.0, 3))


def test_about_one_triplet_per_three_or_four_nli_pairs(printed):
    assert 3.0 <= number_after(printed, "NLI pairs per triplet:") <= 4.5


def test_a_scale_lets_the_triplets_read_at_least_as_many_pairs_as_chapter_4(printed):
    caps = re.search(r"reads at most: for the triplets ([\d,]+|all); for chapter 4's softmax objective ([\d,]+|all)",
                     printed)
    assert caps
    triplets, softmax = (float("inf") if cap == "all" else int(cap.replace(",", "")) for cap in caps.groups())
    assert triplets >= softmax


def test_mnr_is_cross_entropy_on_the_scaled_matrix(printed):
    for label in ("pairs only:", "with hard negatives:"):
        line = next(line for line in printed.splitlines() if line.startswith(label))
        package, by_hand = (float(x) for x in re.findall(r"(?:package|by hand)\s+([0-9.]+)", line))
        assert package == by_hand


def test_our_losses_equal_sentence_transformers(printed):
    for name in ("triplet", "mnr"):
        ours, theirs = (float(x) for x in re.search(
            rf"^{name}\s+sbert_teach ([0-9.]+) \| sentence-transformers \w+ ([0-9.]+)", printed, re.M).groups())
        assert abs(ours - theirs) <= 1e-5 * max(1.0, abs(theirs))


def test_batch_hard_by_hand_equals_the_package(printed):
    assert number_after(printed, "mean of the loss terms:") == number_after(printed, "package:")


def test_shuffled_batches_rarely_hold_a_same_class_sentence(printed):
    share = re.search(r"anchors with a same-class sentence in their shuffled batch of \d+: ([0-9.]+)%", printed)
    assert share and float(share.group(1)) < 10.0  # "fewer than one in ten"


def test_both_runs_end_well_below_the_reference(printed):
    afters = [float(x) for x in re.findall(r"STSb dev Spearman: [-0-9.]+ -> ([-0-9.]+)", printed)]
    assert len(afters) == 2  # the triplet run, then the MNR run
    reference = number_after(printed, "reference all-MiniLM-L6-v2, STSb dev Spearman:")
    assert max(afters) < reference - 0.05


def test_the_exercise_answers_pass(printed):
    assert len(re.findall(r"✔ .*all \d+ checks passed", printed)) == 3
