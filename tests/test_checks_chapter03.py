"""The chapter 3 checkers accept the package's answers, reject typical mistakes with hints, spot stubs."""

import numpy as np
import pytest

from sbert_teach import checks, cost
from sbert_teach.checks.chapter03 import ARCHITECTURE_TASKS
from sbert_teach.checks.core import ExerciseNotPassed
from checks_helpers import hints

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


def fit_fixed_and_pair_cost(sizes, seconds):  # the answer in notebooks/03_cross_vs_bi_encoder.ipynb
    if len(set(sizes)) < 2:
        raise ValueError("Need timings at two or more different sizes.")
    pairs = np.array([n * (n - 1) / 2 for n in sizes], dtype=float)
    per_pair, fixed = np.polyfit(pairs, np.asarray(seconds, dtype=float), 1)
    return float(fixed), float(per_pair)


def by_normal_equations(sizes, seconds):  # another sound least-squares fit
    if len(set(sizes)) < 2:
        raise ValueError("two sizes at least")
    x = np.array([[1.0, cost.n_pairs(n)] for n in sizes])
    fixed, per_pair = np.linalg.solve(x.T @ x, x.T @ np.asarray(seconds, dtype=float))
    return fixed, per_pair


@pytest.mark.parametrize("answer", [fit_fixed_and_pair_cost, by_normal_equations])
def test_fixed_cost_fit_accepts_sound_answers(answer):
    result = checks.fixed_and_pair_cost(answer, strict=True)
    assert result.passed and len(result.passed_cases) == 5


def test_fixed_cost_fit_names_typical_mistakes_without_giving_the_figures():
    def through_origin(sizes, seconds):
        if len(set(sizes)) < 2:
            raise ValueError("two sizes at least")
        return 0.0, cost.fit_per_unit(sizes, seconds, "pairs")

    def swapped(sizes, seconds):
        return fit_fixed_and_pair_cost(sizes, seconds)[::-1]

    def per_sentence(sizes, seconds):
        if len(set(sizes)) < 2:
            raise ValueError("two sizes at least")
        slope, intercept = np.polyfit(sizes, seconds, 1)
        return intercept, slope

    def n_squared(sizes, seconds):
        if len(set(sizes)) < 2:
            raise ValueError("two sizes at least")
        slope, intercept = np.polyfit(np.square(sizes), seconds, 1)
        return intercept, slope

    def no_error(sizes, seconds):  # one size: returns its timing as the fixed cost instead of raising
        return (seconds[0], 0.0) if len(set(sizes)) < 2 else fit_fixed_and_pair_cost(sizes, seconds)

    expected = {through_origin: "through the origin", swapped: "wrong order", per_sentence: "not of sentences",
                n_squared: "not n squared"}
    for wrong, hint in expected.items():
        result = checks.fixed_and_pair_cost(wrong)
        assert not result.passed and hint in hints(result), (wrong.__name__, result.report())
        assert "0.05" not in result.report() and "0.001" not in result.report()  # the expected values never show
    failed = dict(checks.fixed_and_pair_cost(no_error).failed_cases)
    assert list(failed) == ["one size only"] and "no error was raised" in failed["one size only"]
    with pytest.raises(ExerciseNotPassed):
        checks.fixed_and_pair_cost(through_origin, strict=True)


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


@pytest.mark.parametrize("checker", [checks.encoder_passes, checks.fixed_and_pair_cost])
def test_stub_functions_are_reported_as_not_written(checker):
    result = checker(stub)
    assert result.not_written and "not written yet" in result.report()


def test_stub_quiz_answer_is_reported_as_not_written():
    result = checks.which_encoder(NotImplemented)
    assert result.not_written and "not written yet" in result.report()
