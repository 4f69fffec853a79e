"""Chapter 5 checkers: the reference answers pass, typical mistakes get a hint (never the answer)."""

import math

import torch
import torch.nn.functional as F

from sbert_teach import checks
from sbert_teach.objectives import regression_loss_from_embeddings
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

def test_regression_loss_passes_the_reference():
    assert checks.regression_loss(regression_loss_from_embeddings).passed


def test_regression_loss_names_rescaled_scores():
    result = checks.regression_loss(lambda u, v, s: F.mse_loss(F.cosine_similarity(u, v), s / 5))
    assert not result.passed and "already scaled to 0..1" in hints(result)
    assert "cosine_similarity" not in hints(result)


def test_regression_loss_names_the_dot_product():
    result = checks.regression_loss(lambda u, v, s: F.mse_loss((u * v).sum(-1), s))
    assert not result.passed and "dot product" in hints(result)


def test_regression_loss_names_the_sum():
    result = checks.regression_loss(lambda u, v, s: ((F.cosine_similarity(u, v) - s) ** 2).sum())
    assert not result.passed and "mean" in hints(result)


def test_regression_loss_names_the_distance():
    result = checks.regression_loss(lambda u, v, s: F.mse_loss(1 - F.cosine_similarity(u, v), s))
    assert not result.passed and "distance" in hints(result)


def test_regression_loss_not_written():
    assert_reports_not_written(checks.regression_loss, not_written)


# -- 5.2 scale_gold_scores ---------------------------------------------------------

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
