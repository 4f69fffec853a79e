"""What chapter 2's prose says about its run, checked against every executed copy (smoke, local, hub).

The prose reads the untuned start's columns per start (packaged: random layers; Colab: bert-base) and states
flatly only what holds for both kinds of start and for the reference; those statements are checked here.
"""

import re

STEM = "02_pooling"  # tests/conftest.py runs each test on every executed copy (chapter_outputs.py)


def row(printed, label):
    """The numbers on the first printed line that starts with ``label`` (a table row)."""
    match = re.search(r"^\s*" + re.escape(label) + r"\s+([-0-9. ]+)$", printed, re.M)
    assert match, f"no row {label!r} in the outputs"
    return [float(x) for x in match.group(1).split()]


def cone(printed):
    """The shared-part table: {measure: {model: value}}, columns in the order of its header line."""
    header = re.search(r"^\s+(untuned start|reference SBERT)\s+(untuned start|reference SBERT)\s*$", printed, re.M)
    models = header.groups()
    measures = ["cos(vector, shared part)", "unrelated pairs, raw", "unrelated pairs, shared part removed",
                "related pairs, raw", "related pairs, shared part removed"]
    return {m: dict(zip(models, row(printed[header.end():], m))) for m in measures}


def test_the_mask_keeps_a_padded_sentence_on_its_own_vector(printed):
    table = printed.split("padded length")[1]
    rows = [[float(x) for x in m.split()] for m in re.findall(r"^\d+(?:\s+[0-9.]+){4}\s*$", table, re.M)]
    assert len(rows) >= 3
    assert all(x == 1.0 for x in rows[0][1:])  # no padding: both means are the unpadded vector
    for column in (1, 2):  # mask-blind: below 1 with any padding, and further with more
        blind = [r[column] for r in rows]
        assert all(b < 0.9999 for b in blind[1:]) and all(a > b for a, b in zip(blind[1:], blind[2:]))
    assert all(r[3] >= 0.9999 and r[4] >= 0.9999 for r in rows)  # masked: 1 at every length
    assert len(re.findall(r"mask-blind [0-9.]+, masked (1\.0000|0\.9999)", printed)) == 2


def test_only_position_ids_restore_the_left_padded_cls_vector(printed):
    assert "position 0 holds: ['[PAD]', '[CLS]']" in printed
    assert row(printed, "tokens[:, 0], left padding")[0] < 0.9999
    assert row(printed, "cls_pooling, left padding")[0] < 0.9999
    assert row(printed, "cls_pooling, left padding + position_ids")[0] >= 0.9999


def test_the_package_pools_like_the_library(printed):
    assert "with right padding, cls equals tokens[:, 0]: True" in printed
    assert "all-padding row -> {'cls': 0.0, 'mean': 0.0, 'max': 0.0}" in printed
    for label in ("largest difference, mean pooling:", "largest difference, whole encode():"):
        assert float(re.search(re.escape(label) + r"\s+([-0-9.e]+)", printed).group(1)) <= 1e-5


def test_the_untuned_start_is_anisotropic_and_the_reference_is_not(printed):
    table = cone(printed)
    raw_unrelated, raw_related = table["unrelated pairs, raw"], table["related pairs, raw"]
    assert raw_unrelated["untuned start"] > 0.5 and raw_unrelated["reference SBERT"] < 0.2
    gap = {m: raw_related[m] - raw_unrelated[m] for m in raw_related}
    assert gap["reference SBERT"] > gap["untuned start"]


def test_removing_the_shared_part_takes_unrelated_pairs_near_0_and_keeps_related_ones_apart(printed):
    table = cone(printed)
    shared = table["cos(vector, shared part)"]
    assert shared["untuned start"] > 0.8 and shared["reference SBERT"] < shared["untuned start"]
    raw, centred = table["unrelated pairs, raw"], table["unrelated pairs, shared part removed"]
    related = table["related pairs, shared part removed"]
    for model in raw:
        assert abs(centred[model]) < 0.2
        assert related[model] - centred[model] > 0.2
    assert centred["untuned start"] < raw["untuned start"] / 2
    assert raw["reference SBERT"] - centred["reference SBERT"] < raw["untuned start"] - centred["untuned start"]


def test_the_reference_does_best_with_the_mean_pooling_it_was_trained_with(printed):
    assert "best pooling, reference SBERT: mean" in printed


def test_the_shares_add_up_and_mean_pooling_rates_the_same_start_pair_lowest(printed):
    cos = {m: float(c) for m, c in re.findall(r"^(mean|max|cls)\s+pooling: cos ([-0-9.]+);", printed, re.M)}
    assert set(cos) == {"mean", "max", "cls"}
    assert cos["mean"] < cos["max"] and cos["mean"] < cos["cls"]
    assert re.search(r"^cls\s+pooling: .*largest share of sentence 1: '\[CLS\]'.* tokens with a share: 1 of",
                     printed, re.M)


def test_word_order_and_negation_survive_a_pooled_vector(printed):
    header = re.search(r"^pooling\s+(\w+)\s+(\w+)\s+(\w+)\s+(\w+)\s+(\w+)\s+(\w+)\s*$", printed, re.M)
    assert header.groups()[0] == "mean"  # the reference's mean column comes first
    rest = printed[header.end():]
    assert row(rest, "word order")[0] > 0.9
    assert row(rest, "negation")[0] > row(rest, "paraphrase")[0]


def test_the_exercise_answers_pass(printed):
    assert len(re.findall(r"✔ .*all \d+ checks passed", printed)) == 3
