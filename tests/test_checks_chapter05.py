"""Chapter 5 checkers: the reference answers pass, typical mistakes get a hint (never the answer)."""

import math

import torch
import torch.nn.functional as F

from sbert_teach import checks
from checks_helpers import assert_reports_not_written, hints


def not_written(*args, **kwargs):
    raise NotImplementedError


def reference_scale(scores, max_score=5.0):
    out = []
    for s in scores:
        if not 0.0 <= s <= max_score:
            raise ValueError(f"score {s} is outside 0..{max_score}")
        out.append(s / max_score)
    return out


# -- 5.1 regression_loss -----------------------------------------------------------

def by_hand_gradient(u, v, scores, two=2.0, batch_mean=True, length_term=True):
    """d/du of mean((cos(u, v) - score)^2), written out; the flags reproduce typical slips."""
    cos = F.cosine_similarity(u, v, dim=-1)
    un, vn = u.norm(dim=-1, keepdim=True), v.norm(dim=-1, keepdim=True)
    d_cos = v / (un * vn) - (cos[:, None] * u / un ** 2 if length_term else 0)
    return two * (cos - scores)[:, None] * d_cos / (len(u) if batch_mean else 1)


def test_regression_gradient_passes_a_correct_answer():
    result = checks.regression_gradient(by_hand_gradient)
    assert result.passed, result.report()


def test_regression_gradient_names_the_missing_mean():
    assert "mean" in hints(checks.regression_gradient(lambda u, v, s: by_hand_gradient(u, v, s, batch_mean=False)))


def test_regression_gradient_names_the_missing_two():
    assert "factor 2" in hints(checks.regression_gradient(lambda u, v, s: by_hand_gradient(u, v, s, two=1.0)))


def test_regression_gradient_names_the_length_term():
    assert "length" in hints(checks.regression_gradient(lambda u, v, s: by_hand_gradient(u, v, s, length_term=False)))


def test_regression_gradient_agrees_with_autograd_not_by_hiding_it():
    result = checks.regression_gradient(lambda u, v, s: torch.zeros_like(u))
    assert not result.passed and "autograd" in hints(result)
    assert "tensor(" not in result.report()  # no expected numbers in the hints


def test_regression_gradient_not_written():
    assert_reports_not_written(checks.regression_gradient, not_written)


def test_scale_gold_scores_passes_the_reference():
    assert checks.scale_gold_scores(reference_scale).passed


def test_scale_gold_scores_accepts_a_tensor_answer():
    def as_tensor(scores, max_score=5.0):
        t = torch.tensor(scores, dtype=torch.float64)
        if t.numel() and (torch.isnan(t).any() or t.min() < 0 or t.max() > max_score):
            raise ValueError("score out of range")
        return t / max_score
    assert checks.scale_gold_scores(as_tensor).passed


def test_scale_gold_scores_requires_validation():
    result = checks.scale_gold_scores(lambda scores, max_score=5.0: [s / max_score for s in scores])
    assert not result.passed and "ValueError" in hints(result)


def test_scale_gold_scores_catches_a_validation_that_misses_nan():
    def misses_nan(scores, max_score=5.0):
        if any(s < 0 or s > max_score for s in scores):
            raise ValueError("out of range")
        return [s / max_score for s in scores]
    result = checks.scale_gold_scores(misses_nan)
    assert not result.passed and "NaN" in hints(result)


def test_scale_gold_scores_catches_a_hard_coded_five():
    result = checks.scale_gold_scores(lambda scores, max_score=5.0: reference_scale(scores, 5.0) if max_score >= 5
                                      else [s / 5 for s in scores])
    assert not result.passed and "max_score" in hints(result)


def test_scale_gold_scores_not_written():
    assert checks.scale_gold_scores(not_written).not_written
    assert math.isnan(float("nan"))  # the NaN case relies on NaN comparisons being False
