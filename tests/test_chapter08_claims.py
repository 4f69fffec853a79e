"""What chapter 8's prose says about its run, checked against every executed copy (tests/chapter_outputs.py).

The chapter trains each objective for a few steps only to show the plumbing, so its prose states no training
outcome; the claims below are the ones it does state flatly: every run takes the same number of steps, `train`
names the missing columns, fewer than half of the STS pairs reach 4 out of 5, and the exercise answers pass.
"""

import re

STEM = "08_choosing_a_loss"  # tests/conftest.py runs each test on every executed copy (chapter_outputs.py)


def test_every_objective_ran_the_same_number_of_steps(printed):
    steps = int(re.search(r"steps per run: (\d+)", printed).group(1))
    table = printed.split("loss at step 1")[1].split("steps per run")[0]
    rows = [line.split() for line in table.strip().splitlines()[1:] if not line.startswith("objective")]
    assert [row[0] for row in rows] == ["softmax", "regression", "mnr", "batch_hard", "triplet", "mnr"]
    # columns: objective, rows, the column names (comma-separated words), steps, loss at step 1, seconds
    assert all(int(row[-3]) == steps for row in rows)


def test_train_names_the_missing_column_for_each_wrong_shape(printed):
    missing = re.findall(r"lacks column\(s\) \['(\w+)'\]", printed)
    assert missing == ["label", "negative", "sentence"]


def test_fewer_than_half_of_the_sts_pairs_reach_4_of_5(printed):
    kept, total = (int(n) for n in re.search(r"STS pairs scored >= 4/5: (\d+) of (\d+)", printed).groups())
    assert 0 < kept < total / 2


def test_the_exercise_answers_pass(printed):
    assert len(re.findall(r"✔ .*all \d+ checks passed", printed)) == 2
