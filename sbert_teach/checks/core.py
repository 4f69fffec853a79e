"""The machinery shared by every checker (see :mod:`sbert_teach.checks`)."""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from typing import Callable


class ExerciseNotPassed(AssertionError):
    """Raised by a checker called with ``strict=True`` when a case fails."""


class _CaseFailed(Exception):
    """Internal: a case's own check failed, with a hint for the learner."""


@dataclass
class CheckResult:
    """Outcome of one checker: which cases passed and a hint for each one that did not."""

    exercise: str
    passed_cases: list[str] = field(default_factory=list)
    failed_cases: list[tuple[str, str]] = field(default_factory=list)  # (case, hint)
    not_written: bool = False

    @property
    def passed(self) -> bool:
        return not self.failed_cases and not self.not_written and bool(self.passed_cases)

    def __bool__(self) -> bool:
        return self.passed

    def report(self) -> str:
        total = len(self.passed_cases) + len(self.failed_cases)
        if self.not_written:
            return (f"✗ {self.exercise}: not written yet. Replace the `raise NotImplementedError` "
                    "in your answer with your code, run that cell, then run this check again.")
        if self.passed:
            return f"✔ {self.exercise}: all {total} checks passed."
        lines = [f"✗ {self.exercise}: {len(self.failed_cases)} of {total} checks failed."]
        lines += [f"  - {case}: {hint}" for case, hint in self.failed_cases]
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle):  # IPython display
        printer.text(self.report())

    def __repr__(self) -> str:
        return self.report()

    __str__ = __repr__


class Checker:
    """Collects cases for one exercise. Use :func:`run_checks` rather than this directly."""

    def __init__(self, exercise: str):
        self.result = CheckResult(exercise)

    def case(self, name: str, test: Callable[[], None]) -> None:
        try:
            test()
            self.result.passed_cases.append(name)
        except NotImplementedError:
            self.result.not_written = True
        except _CaseFailed as failed:
            self.result.failed_cases.append((name, str(failed)))
        except Exception as error:  # the learner's code crashed: say where, not how to fix it
            where = traceback.extract_tb(error.__traceback__)[-1]
            self.result.failed_cases.append(
                (name, f"your code raised {type(error).__name__}: {error} (line {where.lineno}). "
                       "Read the error, fix that line, and run the check again.")
            )


def given(answer):
    """Return ``answer``, or report "not written yet" if it is still the student stub's placeholder.

    Checkers that take a value (not a function) call this first: the student copy
    of a chapter sets such answers to ``NotImplemented``.
    """
    if answer is NotImplemented or answer is Ellipsis:
        raise NotImplementedError
    return answer


def fail(hint: str) -> None:
    """Stop the current case with a hint for the learner."""
    raise _CaseFailed(hint)


def expect(condition: bool, hint: str) -> None:
    """Fail the current case with ``hint`` unless ``condition`` holds."""
    if not condition:
        fail(hint)


def expect_value_error(call: Callable[[], object], hint: str) -> None:
    """Pass if ``call()`` raises ValueError; a stub's NotImplementedError goes through, anything else fails."""
    try:
        call()
    except ValueError:
        return
    except NotImplementedError:
        raise
    except Exception as error:  # noqa: BLE001
        fail(f"you raised {type(error).__name__}; raise a ValueError. {hint}")
    fail(f"no error was raised. {hint}")


def expect_close(actual, expected, hint: str, atol: float = 1e-5) -> None:
    """Compare tensors/arrays/numbers; the hint never shows ``expected``."""
    import torch

    actual_t = torch.as_tensor(actual, dtype=torch.float64) if not isinstance(actual, torch.Tensor) else actual.double()
    expected_t = torch.as_tensor(expected, dtype=torch.float64) if not isinstance(expected, torch.Tensor) else expected.double()
    if actual_t.shape != expected_t.shape:
        fail(f"wrong shape {tuple(actual_t.shape)}; {hint}")
    if torch.isnan(actual_t).any() and not torch.isnan(expected_t).any():
        fail(f"your result contains NaN; {hint}")
    if not torch.allclose(actual_t, expected_t, atol=atol, rtol=1e-4, equal_nan=True):
        fail(hint)


def run_checks(exercise: str, cases: list[tuple[str, Callable[[], None]]], strict: bool = False) -> CheckResult:
    """Run ``cases`` (name, zero-argument test); raise if ``strict`` and any failed.

    The returned :class:`CheckResult` displays as its report in a notebook
    (make the check the last line of the cell) and prints as one with ``print``.
    """
    checker = Checker(exercise)
    for name, test in cases:
        checker.case(name, test)
        if checker.result.not_written:
            break
    result = checker.result
    if strict and not result.passed:
        raise ExerciseNotPassed(result.report())
    return result
