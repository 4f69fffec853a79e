"""What chapter 7's prose says about its run, checked against every executed copy of the chapter.

The prose states flatly: the toy example's curved but ordered scores are perfect by Spearman and not by
Pearson; the untuned start's cosines sit in a narrower band than the reference's; the reference scores
above the untuned start on STSb test and separates the six heatmap sentences' paraphrases more; the
package's paired_bootstrap gives the interval computed by hand on the same resamples; the plan line says,
for each of the four models, whether it is loaded or trained here. Which trained model is best, whether
softmax beats the start and whether two models differ are printed, not stated, so they are not claimed here.
"""

import re

STEM = "07_evaluation"  # tests/conftest.py runs each test on every executed copy (chapter_outputs.py)

MODELS = ("untuned start", "SBERT softmax", "SBERT regression", "SBERT triplet", "SBERT mnr", "reference SBERT")


def test_curved_but_ordered_scores_are_perfect_by_spearman_only(printed):
    row = re.search(r"curved, same order\s+([0-9.]+)\s+([0-9.]+)", printed)
    assert row and float(row.group(1)) == 1.0 and float(row.group(2)) < 0.95


def test_the_untuned_start_has_the_narrower_band_of_cosines(printed):
    line = re.search(r"untuned start ([0-9.]+) \| reference SBERT ([0-9.]+)",
                     printed.split("width of the middle 80% of cosines:")[1])
    assert float(line.group(1)) < float(line.group(2))


def test_the_plan_names_all_four_models_once(printed):
    for objective in ("softmax", "regression", "triplet", "mnr"):
        lines = [line for line in printed.splitlines()
                 if line.startswith(f"{objective}: ") and ("loading it" in line or "trains here" in line)]
        assert len(lines) == 1, (objective, lines)
    assert "takes not measured" not in printed


def test_the_reference_beats_the_untuned_start_on_stsb_test(printed):
    start, ref = re.search(r"test Spearman: untuned start ([-0-9.]+) \| reference SBERT ([-0-9.]+)", printed).groups()
    assert float(ref) > float(start)


def test_the_counts_under_the_chart_are_consistent(printed):
    above, total = re.search(r"our models above the untuned start: (\d+) of (\d+)", printed).groups()
    assert int(total) == 4 and 0 <= int(above) <= 4
    assert re.search(r"best of ours: SBERT (softmax|regression|triplet|mnr) at", printed)
    rank = int(re.search(r"regression's rank among our four models: (\d)", printed).group(1))
    assert 1 <= rank <= 4


def test_the_package_paired_bootstrap_equals_the_one_by_hand(printed):
    (difference,) = re.findall(r"by hand minus package, largest difference: ([0-9.e+-]+)", printed)
    assert float(difference) <= 1e-9
    low, high = (float(x) for x in re.search(
        r"interval of the difference, paired_bootstrap: ([-+0-9.]+) to ([-+0-9.]+)", printed).groups())
    contains = re.search(r"interval of the difference contains 0: (True|False)", printed).group(1)
    assert low <= high and contains == str(low <= 0 <= high)


def test_the_reference_separates_the_paraphrases_more_than_the_start(printed):
    table = printed.split("paraphrase minus unrelated cosine")[1]
    gap = {name: float(re.search(re.escape(name) + r"\s+([-0-9.]+)", table).group(1))
           for name in ("untuned start", "reference SBERT")}
    assert gap["reference SBERT"] > gap["untuned start"]


def test_the_exercise_answers_pass(printed):
    assert len(re.findall(r"✔ .*all \d+ checks passed", printed)) == 2
