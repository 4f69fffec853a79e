"""The chapter 12 checkers: accept a right answer, hint at typical mistakes without the answer, report stubs."""

import torch
import torch.nn.functional as F

from sbert_teach import checks
from sbert_teach.objectives.matryoshka import cut_and_normalise
from checks_helpers import assert_reports_not_written, hints as _hints


def _not_written(*args, **kwargs):
    raise NotImplementedError


# -- exercise 12.1 --------------------------------------------------------------

def right_truncate(vectors, dim):
    if not 1 <= dim <= vectors.shape[-1]:
        raise ValueError("dim out of range")
    return cut_and_normalise(vectors, dim)


def test_truncate_accepts_a_right_answer():
    result = checks.truncate_and_normalise(right_truncate)
    assert result.passed, result.report()


def test_truncate_hints_at_a_missing_normalisation_without_the_answer():
    def cut_only(vectors, dim):
        if not 1 <= dim <= vectors.shape[-1]:
            raise ValueError
        return vectors[..., :dim].clone()

    result = checks.truncate_and_normalise(cut_only)
    assert not result.passed
    assert "not normalised again" in _hints(result)
    assert "F.normalize(" not in _hints(result)


def test_truncate_hints_at_normalising_before_cutting_and_at_the_wrong_end():
    def normalise_first(vectors, dim):
        if not 1 <= dim <= vectors.shape[-1]:
            raise ValueError
        return F.normalize(vectors, dim=-1)[..., :dim]

    assert "before cutting" in _hints(checks.truncate_and_normalise(normalise_first))

    def last_numbers(vectors, dim):
        if not 1 <= dim <= vectors.shape[-1]:
            raise ValueError
        return F.normalize(vectors[..., -dim:], dim=-1)

    assert "front" in _hints(checks.truncate_and_normalise(last_numbers))


def test_truncate_catches_nan_on_a_zero_front_and_missing_range_checks():
    def divides_by_norm(vectors, dim):
        if not 1 <= dim <= vectors.shape[-1]:
            raise ValueError
        front = vectors[..., :dim]
        return front / front.norm(dim=-1, keepdim=True)

    result = checks.truncate_and_normalise(divides_by_norm)
    assert {case for case, _ in result.failed_cases} == {"first numbers all zero"}
    assert "NaN" in _hints(result)

    def no_checks(vectors, dim):
        return F.normalize(vectors[..., :dim], dim=-1)

    result = checks.truncate_and_normalise(no_checks)
    assert {case for case, _ in result.failed_cases} == {"dim wider than the vectors", "dim 0"}


def test_truncate_catches_an_answer_that_only_works_on_batches_and_one_that_edits_its_input():
    def rows_only(vectors, dim):
        if not 1 <= dim <= vectors.shape[1]:
            raise ValueError
        return F.normalize(vectors[:, :dim], dim=1)

    result = checks.truncate_and_normalise(rows_only)
    assert not result.passed and "one vector, not a batch" in {case for case, _ in result.failed_cases}

    def in_place(vectors, dim):
        if not 1 <= dim <= vectors.shape[-1]:
            raise ValueError
        front = vectors[..., :dim]
        front /= front.norm(dim=-1, keepdim=True).clamp_min(1e-12)
        return front

    with torch.no_grad():
        result = checks.truncate_and_normalise(in_place)
    assert not result.passed and "changed its input" in _hints(result)


def test_truncate_reports_a_stub_as_not_written():
    assert_reports_not_written(checks.truncate_and_normalise, _not_written)


# -- exercise 12.2 --------------------------------------------------------------

def right_choice(quality, tolerance, budget_bytes, bytes_per_number=4):
    if not quality or tolerance < 0:
        raise ValueError
    best = max(quality.values())
    affordable = {d: q for d, q in quality.items() if d * bytes_per_number <= budget_bytes}
    if not affordable:
        raise ValueError
    close = [d for d, q in affordable.items() if q >= best - tolerance]
    if close:
        return min(close)
    return min(d for d, q in affordable.items() if q == max(affordable.values()))


def test_choose_accepts_a_right_answer():
    result = checks.choose_dimension(right_choice)
    assert result.passed, result.report()


def test_choose_hints_at_ignoring_the_budget_and_bytes_per_number():
    def ignores_budget(quality, tolerance, budget_bytes, bytes_per_number=4):
        if not quality or tolerance < 0 or min(quality) * bytes_per_number > budget_bytes:
            raise ValueError
        best = max(quality.values())
        return min(d for d, q in quality.items() if q >= best - tolerance)

    result = checks.choose_dimension(ignores_budget)
    assert not result.passed and "does not fit" in _hints(result)

    def always_float32(quality, tolerance, budget_bytes, bytes_per_number=4):
        return right_choice(quality, tolerance, budget_bytes)

    result = checks.choose_dimension(always_float32)
    assert {case for case, _ in result.failed_cases} == {"int8: one byte a number"}


def test_choose_hints_at_measuring_from_the_widest_instead_of_the_best():
    def from_widest(quality, tolerance, budget_bytes, bytes_per_number=4):
        if not quality or tolerance < 0:
            raise ValueError
        full = quality[max(quality)]
        affordable = {d: q for d, q in quality.items() if d * bytes_per_number <= budget_bytes}
        if not affordable:
            raise ValueError
        close = [d for d, q in affordable.items() if q >= full - tolerance]
        return min(close) if close else max(affordable, key=affordable.get)

    result = checks.choose_dimension(from_widest)
    assert not result.passed
    assert "best score in the table" in _hints(result)


def test_choose_catches_a_missing_error_and_a_non_int():
    def returns_none(quality, tolerance, budget_bytes, bytes_per_number=4):
        try:
            return right_choice(quality, tolerance, budget_bytes, bytes_per_number)
        except ValueError:
            return None

    result = checks.choose_dimension(returns_none)
    assert {case for case, _ in result.failed_cases} == {"nothing fits", "empty table", "negative tolerance"}

    def as_float(quality, tolerance, budget_bytes, bytes_per_number=4):
        return float(right_choice(quality, tolerance, budget_bytes, bytes_per_number))

    assert "whole number" in _hints(checks.choose_dimension(as_float))


def test_choose_reports_a_stub_as_not_written():
    assert_reports_not_written(checks.choose_dimension, _not_written)
