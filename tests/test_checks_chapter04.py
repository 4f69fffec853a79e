"""Chapter 4 checkers: the reference answers pass, typical mistakes get a hint (never the answer)."""

import torch
import torch.nn.functional as F

from sbert_teach import checks
from sbert_teach.objectives import softmax_features, softmax_loss_from_embeddings
from checks_helpers import assert_reports_not_written, hints


def not_written(*args, **kwargs):
    raise NotImplementedError


# -- 4.1 softmax_features ----------------------------------------------------------

def test_softmax_features_passes_the_reference():
    assert checks.softmax_features(lambda u, v: softmax_features(u, v)).passed


def test_softmax_features_names_the_swapped_order():
    result = checks.softmax_features(lambda u, v: torch.cat([v, u, (u - v).abs()], dim=-1))
    assert not result.passed
    assert "swapped" in hints(result)
    assert "torch.cat" not in hints(result)


def test_softmax_features_names_the_signed_difference():
    result = checks.softmax_features(lambda u, v: torch.cat([u, v, u - v], dim=-1))
    assert not result.passed and "absolute" in hints(result)
    assert "abs()" not in hints(result)


def test_softmax_features_catches_the_wrong_axis():
    result = checks.softmax_features(lambda u, v: torch.cat([u, v, (u - v).abs()], dim=0))
    assert not result.passed and "last dimension" in hints(result)


def test_softmax_features_catches_in_place_changes():
    def in_place(u, v):
        out = torch.cat([u, v, (u - v).abs()], dim=-1)
        u.sub_(v)
        return out
    result = checks.softmax_features(in_place)
    assert not result.passed and "changed" in hints(result)


def test_softmax_features_not_written():
    assert_reports_not_written(checks.softmax_features, not_written)


# -- 4.2 softmax_loss --------------------------------------------------------------

def test_softmax_loss_passes_the_reference():
    assert checks.softmax_loss(softmax_loss_from_embeddings).passed


def test_softmax_loss_names_a_double_softmax():
    def double(u, v, labels, head):
        return F.cross_entropy(head(softmax_features(u, v)).softmax(-1), labels)
    result = checks.softmax_loss(double)
    assert not result.passed and "softmax was applied twice" in hints(result)
    assert "cross_entropy(" not in hints(result)


def test_softmax_loss_names_a_sum():
    result = checks.softmax_loss(
        lambda u, v, y, head: F.cross_entropy(head(softmax_features(u, v)), y, reduction="sum"))
    assert not result.passed and "mean" in hints(result)


def test_softmax_loss_catches_a_detached_loss():
    result = checks.softmax_loss(lambda u, v, y, head: softmax_loss_from_embeddings(u, v, y, head).detach())
    assert not result.passed and "gradient" in hints(result)


def test_softmax_loss_not_written():
    assert checks.softmax_loss(not_written).not_written


# -- 4.3 softmax_head_size ---------------------------------------------------------

def test_softmax_head_size_passes_the_answer():
    assert checks.softmax_head_size(lambda n, k: 3 * n * k + k).passed


def test_softmax_head_size_names_the_missing_bias():
    result = checks.softmax_head_size(lambda n, k: 3 * n * k)
    assert not result.passed and "bias" in hints(result)
    assert "3 * n * k" not in hints(result) and "3nk" not in hints(result)


def test_softmax_head_size_names_the_input_width():
    result = checks.softmax_head_size(lambda n, k: n * k + k)
    assert not result.passed and "joined" in hints(result)


def test_softmax_head_size_not_written():
    assert checks.softmax_head_size(not_written).not_written
