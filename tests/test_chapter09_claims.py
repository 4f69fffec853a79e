"""What chapter 9's prose says about its run, checked against every executed copy of the chapter.

A short SimCSE run can move the dev score either way, and a random projection near the full width can score a
little above it, so the prose reads those from the printed lines; the claims below are the ones it states flatly.
"""

import re

from chapter_outputs import number_after

STEM = "09_beyond"  # tests/conftest.py runs each test on every executed copy (chapter_outputs.py)


def test_dropout_makes_two_views_that_differ_and_eval_mode_makes_them_equal(printed):
    table = printed.split("cos(view 1, view 2), same sentence")[1]
    same = [float(x) for x in re.findall(r"^A (?:man|woman) [^\n]*?\s([01]\.\d{4})\s*$", table, re.M)[:2]]
    assert len(same) == 2 and all(x < 0.9999 for x in same)  # close, but not the same vector
    assert re.findall(r"^A (?:man|woman) [^\n]*?\s(True|False)\s*$", table, re.M) == ["True", "True"]


def test_the_dense_layer_is_applied_to_the_mean_pooled_vector_and_adds_little(printed):
    assert "encode() = Dense(mean-pooled vector): True" in printed
    share = re.search(r"the Dense layer adds ([0-9.]+)%", printed)
    assert share and float(share.group(1)) < 1.0


def test_the_narrowest_random_projection_loses_the_most(printed):
    widths = {int(w): float(s) for w, s in re.findall(r"width\s+(\d+) \([^)]*\): STSb dev Spearman ([-0-9.]+)",
                                                      printed)}
    assert len(widths) == 7
    full, narrowest = widths[max(widths)], widths[min(widths)]
    assert narrowest < full and narrowest == min(widths.values())


def test_the_saved_folder_loads_back_to_the_same_vectors(printed):
    table = printed.split("largest difference from the vectors before saving")[1].split("\n\n")[0]
    differences = [float(x) for x in re.findall(r"^(?:load_encoder|sentence_transformers\S*)\s+([-0-9.e]+)\s*$",
                                                 table, re.M)]
    assert differences and max(differences) < 1e-5


def test_negation_numbers_and_roles_score_near_the_paraphrase_and_roles_highest(printed):
    cosine = {case: float(value) for case, value in re.findall(
        r"^(negation|paraphrase \(for scale\)|a different number|who did what to whom)\s+[^\n]*?([01]\.\d{3})\s*$",
        printed, re.M)}
    assert len(cosine) == 4
    traps = [cosine["negation"], cosine["a different number"], cosine["who did what to whom"]]
    assert min(traps) > cosine["paraphrase (for scale)"] - 0.15  # none far below the true paraphrase
    assert cosine["who did what to whom"] == max(cosine.values())


def test_bm25_puts_the_exact_invoice_far_ahead_and_the_vectors_do_not_put_it_first(printed):
    assert number_after(printed, "BM25: the exact invoice scores") > 2
    rank = re.search(r"cosine: the exact invoice ranks (\d+) of (\d+)", printed)
    assert rank and int(rank.group(1)) > 1


def test_text_past_max_length_changes_nothing(printed):
    match = re.search(r"max_length (\d+); the paragraph has (\d+) tokens", printed)
    assert match and int(match.group(2)) > int(match.group(1))
    assert "vectors with and without the extra last sentence identical: True" in printed


def test_the_exercise_answers_pass(printed):
    assert len(re.findall(r"✔ .*all \d+ checks passed", printed)) == 2
