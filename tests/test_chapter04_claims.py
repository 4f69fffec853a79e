"""What chapter 4's prose says about its run and about the records it reads, checked against its executed outputs.

The prose is written to hold for any run where a result could go either way (the STS change of one short run,
the ablation's orders); the claims below are the ones it states flatly. Two hold only offline and say so in
the prose ("with the packaged resources", "offline, the orange band"): their tests check the packaged runs.
"""

import ast
import re

from chapter_outputs import number_after

STEM = "04_softmax_nli"  # tests/conftest.py runs each test on every executed copy (chapter_outputs.py)

SPREAD_ROW = re.compile(r"^\s*(\w+)\s+(float32|bf16 autocast|fp16 autocast)\s+(\d+)\s+([-+0-9.]+)\s+([-+0-9.]+)"
                        r"\s+([-+0-9.]+)\s+(\d+)", re.M)


def offline(printed):
    return "resources: packaged\n" in printed


def test_the_classes_are_almost_perfectly_balanced(printed):
    counts = {label: int(n) for label, n in re.findall(r"^(entailment|neutral|contradiction)\s+(\d+)$", printed, re.M)}
    assert set(counts) == {"entailment", "neutral", "contradiction"}
    assert max(counts.values()) <= 1.1 * min(counts.values())


def test_the_toy_loss_by_hand_is_the_packages(printed):
    match = re.search(r"loss by hand ([0-9.]+) \| package ([0-9.]+)", printed)
    assert match and match.group(1) == match.group(2)


def test_the_head_is_well_under_one_percent_of_the_encoder(printed):
    assert number_after(printed, "the head is") < 1.0  # printed in percent


def test_my_training_step_matches_the_packages_to_the_last_bit(printed):
    steps = re.findall(r"step \d: my loss ([0-9.]+) \| package loss ([0-9.]+)", printed)
    assert len(steps) == 3 and all(mine == theirs for mine, theirs in steps)
    assert number_after(printed, "largest weight change from the start:") > 0  # the weights moved
    assert number_after(printed, "largest difference between my step and the package's:") == 0.0


def test_sentence_transformers_softmax_loss_gives_the_same_loss(printed):
    assert number_after(printed, "difference between the two losses:") <= 1e-5


def test_offline_accuracy_lands_well_clear_of_the_majority_class(printed):
    if not offline(printed):
        return  # the prose claims it for the packaged resources only
    match = re.search(r"pairs: accuracy ([0-9.]+) \| majority class ([0-9.]+)", printed)
    assert match and float(match.group(1)) > float(match.group(2)) + 0.1


def test_the_curve_stays_at_its_start_while_only_the_head_learns(printed):
    head_only = int(number_after(printed, "head-only steps:"))
    table = printed.split("STSb dev Spearman on the way:")[1].split("\n\n")[0]
    points = {int(step): value for step, value in re.findall(r"^\s*(\d+)\s+([0-9.]+)\s*$", table, re.M)}
    assert 0 in points and len(points) >= 2  # the start and the end at least
    if head_only:
        assert points[head_only] == points[0]


def _record_curves(printed):
    table = printed.split("STSb dev Spearman of the two runs:")[1].split("\n\n")[0].strip().splitlines()
    names = table[0].split()
    rows = [line.split() for line in table[1:] if re.match(r"^\s*\d", line)]
    return {name: {int(r[0]): float(r[i + 1]) for r in rows} for i, name in enumerate(names)}


def test_the_softmax_start_record_shows_the_head_only_phase_protecting_the_start(printed):
    curves = _record_curves(printed)
    together, head_first = curves["together"], curves["head_first"]
    start = together[0]
    assert head_first[0] == start
    low_step = min(together, key=together.get)
    assert low_step == 100 and together[100] < start - 0.03  # falls furthest in its first 100 steps
    back = min(step for step in together if step > low_step and together[step] > start)
    assert back - low_step >= 300  # several hundred more steps to climb back above the start
    head_only = int(re.search(r"settings of head_first: .*'head_only_steps': (\d+)", printed).group(1))
    assert head_first[head_only] == start  # the encoder waits
    assert min(head_first.values()) > min(together.values())  # its lowest point lies less far below the start
    last = max(together)
    assert abs(together[last] - head_first[last]) < 0.01


def test_the_two_recorded_runs_differ_only_in_the_head_only_phase(printed):
    settings = dict(re.findall(r"settings of (\w+): (\{.*\})", printed))
    together, head_first = (ast.literal_eval(settings[name]) for name in ("together", "head_first"))
    assert head_first.pop("head_only_steps") > 0 and together == head_first


def test_each_record_says_which_training_pairs_it_was_measured_on(printed):
    assert len(re.findall(r"^training pairs: .*recorded before (small )?subsets were drawn", printed, re.M)) == 2


def _spread(printed):
    return {(objective, precision): dict(runs=int(runs), lowest=float(low), highest=float(high), rose=int(rose))
            for objective, precision, runs, low, _, high, rose in SPREAD_ROW.findall(printed)}


def test_softmax_moved_sts_both_ways_over_seeds_and_precisions(printed):
    # the prose: "over 500 steps at the local scale" (the record's softmax runs)
    match = re.search(r"softmax over seeds and precisions, 500 steps each: from ([-+0-9.]+) to ([-+0-9.]+)"
                      r" \(range ([0-9.]+)\),"
                      r" rose in (\d+) of (\d+) runs", printed)
    assert match
    lowest, highest, _, rose, runs = (float(g) for g in match.groups())
    assert lowest < 0 < highest and 0 < rose < runs


def test_regressions_lowest_gain_lies_above_softmaxs_highest(printed):
    spread = _spread(printed)
    regression = [row["lowest"] for (objective, _), row in spread.items() if objective == "regression"]
    softmax = [row["highest"] for (objective, _), row in spread.items() if objective == "softmax"]
    assert regression and softmax and min(regression) > max(softmax)


def test_the_fp16_runs_are_one_seed_each_and_kept_every_loss_finite(printed):
    spread = _spread(printed)
    fp16 = [row for (_, precision), row in spread.items() if precision == "fp16 autocast"]
    assert len(fp16) == 4 and all(row["runs"] == 1 for row in fp16)
    assert re.search(r"fp16 autocast: 4 runs \(seed \d+\), every loss finite: True", printed)
    assert "on an NVIDIA H100" in printed and "local scale" in printed


def test_the_exercise_answers_pass(printed):
    assert len(re.findall(r"✔ .*all \d+ checks passed", printed)) == 2
