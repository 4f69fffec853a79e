import pytest
import torch

from sbert_teach import checks
from checks_helpers import assert_reports_not_written, hints


# The answers in notebooks/11_hard_negatives_and_big_batches.ipynb
def relative_margin_keep(candidate_scores, positive_scores, relative_margin):
    limit = positive_scores - positive_scores.abs() * relative_margin
    return ~(candidate_scores > limit[:, None])


def negatives_per_anchor(batch_size, hard_negatives=1):
    if batch_size < 1 or hard_negatives < 0:
        raise ValueError("a batch needs at least one pair, and hard_negatives cannot be negative")
    return batch_size * (1 + hard_negatives) - 1


def not_written(*args, **kwargs):
    raise NotImplementedError


def test_relative_margin_answer_passes_every_case():
    result = checks.relative_margin_keep(relative_margin_keep, strict=True)
    assert result.passed and len(result.passed_cases) == 5


def test_relative_margin_matches_the_package_miner():
    # the checker's rule is the miner's: a hand-made case where the miner's relative_margin removes one candidate
    from sbert_teach.mining import mine_hard_negatives

    vectors = {"q": [1.0, 0.0], "p": [0.8, 0.6], "near": [0.75, 0.66], "far": [0.3, 0.95]}
    _, report = mine_hard_negatives(["q"], ["p"], vectors, corpus=["near", "far"], num_negatives=1,
                                    relative_margin=0.1)
    positive = torch.tensor([0.8])
    candidates = torch.nn.functional.normalize(torch.tensor([[0.75, 0.66], [0.3, 0.95]]), dim=-1)[:, 0][None, :]
    kept = relative_margin_keep(candidates, positive, 0.1)
    assert report.removed["relative_margin"] == int((~kept).sum()) == 1


@pytest.mark.parametrize("wrong, case, words", [
    (lambda c, p, m: ~(c > (p * (1 - m))[:, None]), "negative positive score", "absolute value|\\|positive\\|"),
    (lambda c, p, m: ~(c >= (p - p.abs() * m)[:, None]), "exactly at the limit", "equals the limit is kept"),
    (lambda c, p, m: ~(c > (p - p.abs() * m)[None, :]), "each anchor its own positive", "its own positive"),
    (lambda c, p, m: c > (p - p.abs() * m)[:, None], "two anchors, margin 0.1", "swapped"),
    (lambda c, p, m: (~(c > (p - p.abs() * m)[:, None])).float(), "two anchors, margin 0.1", "boolean"),
])
def test_relative_margin_wrong_answers_get_hints(wrong, case, words):
    import re

    result = checks.relative_margin_keep(wrong)
    failed = dict(result.failed_cases)
    assert not result.passed and case in failed
    assert re.search(words, failed[case])
    assert "0.72" not in hints(result)  # never the expected limit itself


def test_relative_margin_input_changed_is_reported():
    def in_place(c, p, m):
        c.clamp_(max=1.0)
        c -= 0.0
        p.mul_(1.0)
        c[0, 0] = -1.0
        return ~(c > (p - p.abs() * m)[:, None])

    assert "changed the tensors" in hints(checks.relative_margin_keep(in_place))


def test_negatives_per_anchor_answer_passes():
    result = checks.negatives_per_anchor(negatives_per_anchor, strict=True)
    assert result.passed and len(result.passed_cases) == 7


@pytest.mark.parametrize("wrong, case, words", [
    (lambda b, h=1: b * (1 + h), "in-batch only, 8 pairs", "own positive"),
    (lambda b, h=1: b - 1 + h, "16 pairs, one hard negative each", "every anchor"),
    (lambda b, h=0: b * (1 + h) - 1, "default: one hard negative", "defaults to 1"),
    (lambda b, h=1: float(b * (1 + h) - 1), "in-batch only, 8 pairs", "whole number"),
])
def test_negatives_per_anchor_wrong_answers_get_hints(wrong, case, words):
    result = checks.negatives_per_anchor(wrong)
    failed = dict(result.failed_cases)
    assert case in failed and words in failed[case]
    assert "127" not in hints(result) and "31" not in hints(result)


def test_negatives_per_anchor_without_input_checks_fails_the_error_cases():
    failed = dict(checks.negatives_per_anchor(lambda b, h=1: b * (1 + h) - 1).failed_cases)
    assert set(failed) == {"empty batch", "negative hard negatives"}
    assert "no error was raised" in failed["empty batch"]


@pytest.mark.parametrize("checker", [checks.relative_margin_keep, checks.negatives_per_anchor])
def test_stubs_are_reported_not_written(checker):
    assert_reports_not_written(checker, not_written)
