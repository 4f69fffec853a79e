"""The chapter 3 checkers accept the package's answers, reject typical mistakes with hints, spot stubs."""

import numpy as np
import pytest

from sbert_teach import checks, cost
from sbert_teach.checks.chapter03 import ARCHITECTURE_TASKS
from sbert_teach.checks.core import ExerciseNotPassed

QUIZ_ANSWER = {"duplicates": "bi", "rerank": "cross", "clusters": "bi", "one_pair": "cross", "live_search": "bi"}


def stub(*args):
    raise NotImplementedError


def passes(q, d, cached):
    return {"cross-encoder": q * d, "bi-encoder": q if cached else q + d}


def test_encoder_passes_accepts_a_correct_answer():
    assert checks.encoder_passes(passes).passed


@pytest.mark.parametrize("wrong,hint", [
    (lambda q, d, c: {"cross-encoder": q * d, "bi-encoder": q + d}, "cached"),          # ignores the cache
    (lambda q, d, c: {"cross-encoder": q * d, "bi-encoder": q}, "nothing is cached"),   # always cached
    (lambda q, d, c: {"cross-encoder": q + d, "bi-encoder": q}, "cannot encode sentences on their own"),
    (lambda q, d, c: {"cross-encoder": q * d, "bi-encoder": q * d}, "never reads a pair"),
])
def test_encoder_passes_names_typical_mistakes(wrong, hint):
    result = checks.encoder_passes(wrong)
    assert not result.passed and hint in result.report()
    assert "1000000000" not in result.report()  # the hints never give the count
    with pytest.raises(ExerciseNotPassed):
        checks.encoder_passes(wrong, strict=True)


def test_extrapolation_accepts_the_package_and_other_sound_fits():
    assert checks.extrapolate_pair_cost(lambda s, t, n: cost.extrapolate(s, t, n, kind="pairs")).passed

    def ratio_at_largest(sizes, seconds, n_target):  # a different, also sound, method
        return seconds[-1] / cost.n_pairs(sizes[-1]) * cost.n_pairs(n_target)

    assert checks.extrapolate_pair_cost(ratio_at_largest).passed


def test_extrapolation_rejects_linear_and_n_squared_scaling():
    def linear(sizes, seconds, n_target):
        return seconds[-1] / sizes[-1] * n_target

    def n_squared(sizes, seconds, n_target):
        per = np.polyfit(np.square(sizes), seconds, 1)[0]
        return per * n_target ** 2

    for wrong in (linear, n_squared):
        result = checks.extrapolate_pair_cost(wrong)
        assert not result.passed and result.failed_cases
        report = result.report()
        assert "49995" not in report.replace(",", "")  # the expected value is never shown
    hint = dict(checks.extrapolate_pair_cost(linear).failed_cases)["clean timings, n = 10,000"]
    assert "too low" in hint and "pairs" in hint
    assert "pairs, not n squared" in dict(checks.extrapolate_pair_cost(n_squared).failed_cases)


def test_quiz_accepts_the_answers_and_gives_hints_without_them():
    assert set(QUIZ_ANSWER) == set(ARCHITECTURE_TASKS)
    assert checks.which_encoder(QUIZ_ANSWER).passed
    all_bi = {k: "bi" for k in ARCHITECTURE_TASKS}
    result = checks.which_encoder(all_bi)
    assert not result.passed
    assert {case for case, _ in result.failed_cases} == {"rerank", "one_pair"}
    for _, hint in result.failed_cases:
        assert "cross" not in hint.lower().split() and "'cross'" not in hint
    assert "answer 'cross' or 'bi'" in checks.which_encoder({**QUIZ_ANSWER, "rerank": "maybe"}).report()
    assert "no answer for 'clusters'" in checks.which_encoder({k: v for k, v in QUIZ_ANSWER.items()
                                                             if k != "clusters"}).report()
    assert checks.which_encoder({k: v.upper() for k, v in QUIZ_ANSWER.items()}).passed


@pytest.mark.parametrize("checker", [checks.encoder_passes, checks.extrapolate_pair_cost])
def test_stub_functions_are_reported_as_not_written(checker):
    result = checker(stub)
    assert result.not_written and "not written yet" in result.report()


def test_stub_quiz_answer_is_reported_as_not_written():
    result = checks.which_encoder(NotImplemented)
    assert result.not_written and "not written yet" in result.report()
