"""The chapter 8 checkers: accept the right answers, hint without revealing, report unwritten answers."""

from sbert_teach import NLI_LABELS, checks
from sbert_teach.checks.chapter08 import LOSS_CHOICE_DATASETS, _SHAPE, fitting
from checks_helpers import hints as _hints

RIGHT = {
    "duplicate_questions": "mnr",
    "nli_pairs": "softmax",
    "similarity_ratings": "regression",
    "support_tickets": "batch_hard",
    "search_clicks": "triplet",
    "headline_lead": "mnr",
}


def _not_written(*args, **kwargs):
    raise NotImplementedError


# -- exercise 8.1 ---------------------------------------------------------------

def test_choose_loss_accepts_the_right_answers():
    assert set(RIGHT) == set(LOSS_CHOICE_DATASETS)
    result = checks.choose_loss(RIGHT)
    assert result.passed, result.report()
    assert checks.choose_loss({**RIGHT, "search_clicks": "mnr"}).passed  # MNR with a hard negative fits too
    assert checks.choose_loss(lambda: RIGHT).passed


def test_every_dataset_has_an_answer_that_is_an_objective():
    from sbert_teach import OBJECTIVES

    for key in LOSS_CHOICE_DATASETS:
        assert fitting(_SHAPE[key]) and fitting(_SHAPE[key]) <= set(OBJECTIVES)


def test_choose_loss_hints_per_wrong_entry_without_the_answer():
    wrong = {**RIGHT, "duplicate_questions": "softmax", "support_tickets": "triplet"}
    result = checks.choose_loss(wrong)
    assert not result.passed
    failed = dict(result.failed_cases)
    assert set(failed) == {"duplicate_questions", "support_tickets"}
    assert "softmax" in failed["duplicate_questions"]
    assert "mnr" not in failed["duplicate_questions"]
    assert "batch_hard" not in failed["support_tickets"]


def test_choose_loss_never_names_a_fitting_objective_in_a_hint():
    from sbert_teach import recipe_registry

    for key in LOSS_CHOICE_DATASETS:
        for chosen in recipe_registry.RECIPES:
            if chosen in fitting(_SHAPE[key]):
                continue
            result = checks.choose_loss({**RIGHT, key: chosen})
            hint = dict(result.failed_cases)[key]
            for fits in fitting(_SHAPE[key]):
                assert f"`{fits}`" not in hint and f"'{fits}'" not in hint, (key, chosen, hint)


def test_choose_loss_unknown_names_and_missing_keys():
    result = checks.choose_loss({**RIGHT, "nli_pairs": "contrastive", "extra": "mnr"})
    failed = dict(result.failed_cases)
    assert "not one of the package's objectives" in failed["nli_pairs"]
    assert "unknown dataset key" in failed["answer is a dict of known keys"]
    partial = dict(RIGHT)
    del partial["headline_lead"]
    assert "no answer" in dict(checks.choose_loss(partial).failed_cases)["headline_lead"]


def test_choose_loss_not_written():
    assert checks.choose_loss(_not_written).not_written
    assert checks.choose_loss({key: None for key in LOSS_CHOICE_DATASETS}).not_written
    assert "not written yet" in checks.choose_loss(None).report()


# -- exercise 8.2 ---------------------------------------------------------------

def reference(pairs):
    keep = NLI_LABELS.index("entailment")
    return [(p, h) for p, h, label in pairs if label == keep]


def test_positive_pairs_accepts_the_reference():
    result = checks.nli_to_positive_pairs(reference)
    assert result.passed, result.report()
    assert checks.nli_to_positive_pairs(lambda pairs: [list(p) for p in reference(pairs)]).passed


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
