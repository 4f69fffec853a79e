"""The chapter 2 checkers accept the package's pooling, reject typical mistakes with hints, spot stubs."""

import inspect

import pytest
import torch

from sbert_teach import checks
from sbert_teach.checks.core import ExerciseNotPassed
from sbert_teach.pooling import cls_pooling, max_pooling, mean_pooling

CHECKERS = {"mean": (checks.mean_pooling, mean_pooling),
            "max": (checks.max_pooling, max_pooling),
            "cls": (checks.cls_pooling, cls_pooling)}


def mask_blind_mean(tokens, mask):
    return tokens.mean(dim=1)


def zero_filled_max(tokens, mask):
    # the classic slip: padding set to 0 can still win the maximum
    return (tokens * mask.unsqueeze(-1)).max(dim=1).values


def position_zero(tokens, mask):
    return tokens[:, 0]


def nan_for_empty_rows(tokens, mask):
    m = mask.unsqueeze(-1).float()
    return (tokens * m).sum(1) / m.sum(1)


def in_place_max(tokens, mask):
    tokens.masked_fill_(mask.unsqueeze(-1) == 0, float("-inf"))
    out = tokens.max(dim=1).values
    return torch.where(torch.isfinite(out), out, torch.zeros_like(out))


WRONG = {"mean": [mask_blind_mean, nan_for_empty_rows], "max": [zero_filled_max, in_place_max],
         "cls": [position_zero]}


def stub(tokens, mask):
    raise NotImplementedError


def _no_solution_in(report: str, fn) -> None:
    lines = [line.strip() for line in inspect.getsource(fn).splitlines()[1:] if line.strip()]
    for line in lines:
        if not line.startswith(("#", '"""')) and len(line) > 12:
            assert line not in report, f"the hint reveals solution code: {line!r}"
    assert "tensor(" not in report  # no expected values either


@pytest.mark.parametrize("mode", list(CHECKERS))
def test_reference_answer_passes(mode):
    checker, answer = CHECKERS[mode]
    result = checker(answer)
    assert result.passed, result.report()
    assert "all" in result.report() and "passed" in result.report()


@pytest.mark.parametrize("mode,wrong", [(m, w) for m, ws in WRONG.items() for w in ws])
def test_typical_mistake_fails_with_a_hint(mode, wrong):
    checker, answer = CHECKERS[mode]
    result = checker(wrong)
    assert not result.passed
    assert result.failed_cases and all(hint for _, hint in result.failed_cases)
    _no_solution_in(result.report(), answer)
    with pytest.raises(ExerciseNotPassed):
        checker(wrong, strict=True)


def test_specific_hints_point_at_the_mistake():
    blind = dict(checks.mean_pooling(mask_blind_mean).failed_cases)
    assert "padding" in blind["right padding"]
    zero = dict(checks.max_pooling(zero_filled_max).failed_cases)
    assert "negative real values" in zero and "no padding" not in zero
    first = dict(checks.cls_pooling(position_zero).failed_cases)
    assert "left padding" in first and "first real token" in first["left padding"]
    assert "right padding" not in first  # position 0 is right for right padding
    assert "changed its input" in dict(checks.max_pooling(in_place_max).failed_cases)["inputs unchanged"]
    assert "NaN" in dict(checks.mean_pooling(nan_for_empty_rows).failed_cases)["all-padding row"]


@pytest.mark.parametrize("mode", list(CHECKERS))
def test_stub_is_reported_as_not_written(mode):
    result = CHECKERS[mode][0](stub)
    assert result.not_written and not result.passed
    assert "not written yet" in result.report()
