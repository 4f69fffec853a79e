"""Shared by the tests of the exercise checkers (tests/test_checks_chapterNN.py)."""

import pytest

from sbert_teach.checks import ExerciseNotPassed


def hints(result) -> str:
    """All hints of a check result as one string, to search for words that must (not) appear."""
    return " ".join(hint for _, hint in result.failed_cases)


def assert_reports_not_written(checker, stub) -> None:
    """A stub answer is reported as "not written yet", never as a pass, and fails a strict check."""
    result = checker(stub)
    assert result.not_written and not result.passed
    assert "not written yet" in result.report()
    with pytest.raises(ExerciseNotPassed):
        checker(stub, strict=True)
