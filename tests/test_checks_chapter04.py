"""Chapter 4 checkers: correct answers pass, typical mistakes get a hint (never the answer)."""

import torch
import torch.nn.functional as F

from sbert_teach import checks
from checks_helpers import assert_reports_not_written, hints


def not_written(*args, **kwargs):
    raise NotImplementedError


# -- 4.1 classifier_input -----------------------------------------------------------

PARTS = {"u": lambda u, v: u, "v": lambda u, v: v, "|u-v|": lambda u, v: (u - v).abs(), "u*v": lambda u, v: u * v}


def my_classifier_input(u, v, parts):
    return torch.cat([PARTS[p](u, v) for p in parts], dim=-1)


def test_classifier_input_passes_a_correct_answer():
    result = checks.classifier_input(my_classifier_input)
    assert result.passed, result.report()


def test_classifier_input_names_the_signed_difference():
    def signed(u, v, parts):
        return torch.cat([(u - v) if p == "|u-v|" else PARTS[p](u, v) for p in parts], dim=-1)

    result = checks.classifier_input(signed)
    assert not result.passed and "u-v" in hints(result)


def test_classifier_input_catches_a_fixed_order():
    def paper_order_always(u, v, parts):
        return torch.cat([PARTS[p](u, v) for p in ("u", "v", "|u-v|", "u*v") if p in parts], dim=-1)

    result = checks.classifier_input(paper_order_always)
    assert not result.passed and "position" in hints(result)


def test_classifier_input_catches_the_batch_axis():
    result = checks.classifier_input(lambda u, v, parts: torch.cat([PARTS[p](u, v) for p in parts], dim=0))
    assert not result.passed and "last dimension" in hints(result)


def test_classifier_input_catches_in_place_changes():
    def in_place(u, v, parts):
        return torch.cat([u.sub_(v).abs_() if p == "|u-v|" else PARTS[p](u, v) for p in parts], dim=-1)

    assert "changed u or v" in hints(checks.classifier_input(in_place))


def test_classifier_input_not_written():
    assert_reports_not_written(checks.classifier_input, not_written)


# -- 4.2 regression_training_step ---------------------------------------------------

def my_step(objective, features, scores, optimizer, scheduler, clip=True, zero=True, cosine=True, schedule=True):
    u, v = (objective.encoder(f) for f in features)
    similarity = F.cosine_similarity(u, v) if cosine else (u * v).sum(-1)
    loss = F.mse_loss(similarity, scores)
    if zero:
        optimizer.zero_grad()
    loss.backward()
    if clip:
        torch.nn.utils.clip_grad_norm_(objective.parameters(), max_norm=1.0)
    optimizer.step()
    if schedule:
        scheduler.step()
    return loss.detach()


def test_regression_step_passes_a_correct_step():
    result = checks.regression_training_step(my_step)
    assert result.passed, result.report()


def test_regression_step_names_the_dot_product():
    result = checks.regression_training_step(lambda *a: my_step(*a, cosine=False))
    assert not result.passed and "cosine" in hints(result)


def test_regression_step_names_missing_zero_grad():
    result = checks.regression_training_step(lambda *a: my_step(*a, zero=False))
    assert not result.passed and "zeroed" in hints(result)


def test_regression_step_names_missing_clip():
    result = checks.regression_training_step(lambda *a: my_step(*a, clip=False))
    assert not result.passed and "clip" in hints(result)


def test_regression_step_names_missing_scheduler_step():
    result = checks.regression_training_step(lambda *a: my_step(*a, schedule=False))
    assert not result.passed and "scheduler.step()" in hints(result)


def test_regression_step_not_written():
    assert_reports_not_written(checks.regression_training_step, not_written)
