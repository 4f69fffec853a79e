"""The chapter 8 checkers: accept the right answers, hint without revealing, report unwritten answers."""

from sbert_teach import NLI_LABELS, checks
from sbert_teach.checks.chapter08 import LOSS_CHOICE_DATASETS, accepted
from checks_helpers import hints as _hints

RIGHT = {
    "merged_tickets": "softmax",
    "help_centre": "mnr",
    "query_log": "triplet",
    "rated_products": "regression",
    "forum_posts": "batch_hard",
    "product_groups": "mnr",
}


def _not_written(*args, **kwargs):
    raise NotImplementedError


# -- exercise 8.1 ---------------------------------------------------------------

def test_choose_loss_accepts_the_right_answers():
    assert set(RIGHT) == set(LOSS_CHOICE_DATASETS)
    result = checks.choose_loss(RIGHT)
    assert result.passed, result.report()
    assert checks.choose_loss({**RIGHT, "query_log": "mnr"}).passed  # MNR with a hard negative fits too
    assert checks.choose_loss({**RIGHT, "merged_tickets": "mnr"}).passed  # on the merged pairs alone
    assert checks.choose_loss(lambda: RIGHT).passed


def test_the_descriptions_name_columns_not_shapes():
    """The exercise asks for the shape to be worked out: no description says it in the chapter's words."""
    for key, description in LOSS_CHOICE_DATASETS.items():
        assert description.startswith("Columns "), key
        for words in ("positive pair", "triplet", "class label", "score", "anchor"):
            assert words not in description.lower(), (key, words)


def test_every_dataset_has_an_answer_that_is_an_objective():
    from sbert_teach import OBJECTIVES

    for key in LOSS_CHOICE_DATASETS:
        assert accepted(key) and accepted(key) <= set(OBJECTIVES)


def test_the_judgement_calls_reject_the_tempting_wrong_answer():
    failed = dict(checks.choose_loss({**RIGHT, "merged_tickets": "regression", "product_groups": "batch_hard",
                                      "rated_products": "mnr", "forum_posts": "mnr"}).failed_cases)
    assert set(failed) == {"merged_tickets", "product_groups", "rated_products", "forum_posts"}
    assert "not a graded score" in failed["merged_tickets"]
    assert "shuffled batch" in failed["product_groups"]
    assert "grading" in failed["rated_products"]
    assert "false negatives" in failed["forum_posts"]


def test_choose_loss_hints_per_wrong_entry_without_the_answer():
    wrong = {**RIGHT, "help_centre": "softmax", "forum_posts": "triplet"}
    result = checks.choose_loss(wrong)
    assert not result.passed
    failed = dict(result.failed_cases)
    assert set(failed) == {"help_centre", "forum_posts"}
    assert "softmax" in failed["help_centre"]
    assert "mnr" not in failed["help_centre"]
    assert "batch_hard" not in failed["forum_posts"]


def test_choose_loss_never_names_a_fitting_objective_in_a_hint():
    from sbert_teach import recipe_registry

    for key in LOSS_CHOICE_DATASETS:
        for chosen in recipe_registry.RECIPES:
            if chosen in accepted(key):
                continue
            result = checks.choose_loss({**RIGHT, key: chosen})
            hint = dict(result.failed_cases)[key]
            for fits in accepted(key):
                assert f"`{fits}`" not in hint and f"'{fits}'" not in hint, (key, chosen, hint)


def test_choose_loss_unknown_names_and_missing_keys():
    result = checks.choose_loss({**RIGHT, "help_centre": "contrastive", "extra": "mnr"})
    failed = dict(result.failed_cases)
    assert "not one of the package's objectives" in failed["help_centre"]
    assert "unknown dataset key" in failed["answer is a dict of known keys"]
    partial = dict(RIGHT)
    del partial["product_groups"]
    assert "no answer" in dict(checks.choose_loss(partial).failed_cases)["product_groups"]


def test_choose_loss_not_written():
    assert checks.choose_loss(_not_written).not_written
    assert checks.choose_loss({key: None for key in LOSS_CHOICE_DATASETS}).not_written
    assert "not written yet" in checks.choose_loss(None).report()


# -- exercise 8.2 ---------------------------------------------------------------

ENTAILMENT = NLI_LABELS.index("entailment")


def reference(pairs):
    seen, out = set(), []
    for p, h, label in pairs:
        if label == ENTAILMENT and p not in seen and h not in seen:
            out.append((p, h))
            seen.update((p, h))
    return out


def test_positive_pairs_accepts_the_reference():
    result = checks.nli_to_positive_pairs(reference)
    assert result.passed, result.report()
    assert checks.nli_to_positive_pairs(lambda pairs: [list(p) for p in reference(pairs)]).passed


def test_positive_pairs_rejects_keeping_every_entailment():
    def every_entailment(pairs):
        return [(p, h) for p, h, label in pairs if label == ENTAILMENT]

    result = checks.nli_to_positive_pairs(every_entailment)
    assert not result.passed
    failed = dict(result.failed_cases)
    assert set(failed) == {"two entailments of one premise", "one hypothesis for two premises",
                           "a positive back as a premise"}
    assert all("appears twice" in hint for hint in failed.values())


def test_positive_pairs_rejects_checking_premises_only():
    def one_per_premise(pairs):
        seen, out = set(), []
        for p, h, label in pairs:
            if label == ENTAILMENT and p not in seen:
                out.append((p, h))
                seen.add(p)
        return out

    failed = dict(checks.nli_to_positive_pairs(one_per_premise).failed_cases)
    assert set(failed) == {"one hypothesis for two premises", "a positive back as a premise"}


def test_positive_pairs_hints_when_neutral_is_kept():
    def keeps_neutral(pairs):
        return [(p, h) for p, h, label in pairs if label != NLI_LABELS.index("contradiction")]

    result = checks.nli_to_positive_pairs(keeps_neutral)
    assert not result.passed
    hints = _hints(result)
    assert "not an entailment" in hints
    assert "label ==" not in hints and "NLI_LABELS.index" not in hints


def test_positive_pairs_hints_at_order_swaps_and_labels():
    def reversed_order(pairs):
        return list(reversed(reference(pairs)))

    assert "order" in _hints(checks.nli_to_positive_pairs(reversed_order))

    def swapped(pairs):
        return [(h, p) for p, h in reference(pairs)]

    assert "swapped" in _hints(checks.nli_to_positive_pairs(swapped))

    def with_label(pairs):
        return [pair for pair in pairs if pair[2] == 0]

    assert "two sentences" in _hints(checks.nli_to_positive_pairs(with_label))


def test_positive_pairs_empty_input_and_not_written():
    def breaks_on_empty(pairs):
        if not pairs:
            return None
        return reference(pairs)

    result = checks.nli_to_positive_pairs(breaks_on_empty)
    assert [case for case, _ in result.failed_cases] == ["empty input"]
    assert checks.nli_to_positive_pairs(_not_written).not_written
