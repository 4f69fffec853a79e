"""Checkers for chapter 3 (cross-encoder vs bi-encoder): counting pairs, extrapolating cost, choosing."""

from __future__ import annotations

import math

from ..cost import extrapolate, n_pairs
from .core import expect, fail, run_checks

__all__ = ["count_pairs", "extrapolate_pair_cost", "which_encoder"]

#: Exercise 3.3: task key -> description. Answer each with "cross" or "bi".
ARCHITECTURE_TASKS = {
    "duplicates": "Find the near-duplicate questions among 500,000 forum posts.",
    "rerank": "Re-order the 20 passages a search engine returned for one query, as accurately as possible.",
    "clusters": "Group 100,000 news headlines by topic.",
    "one_pair": "Decide whether two given sentences are paraphrases; a few hundred pairs a day, accuracy first.",
    "live_search": "Answer each query within 50 ms from 10 million documents that rarely change.",
}
_ANSWERS = {"duplicates": "bi", "rerank": "cross", "clusters": "bi", "one_pair": "cross", "live_search": "bi"}
_QUIZ_HINTS = {
    "duplicates": "count the forward passes a model that reads two sentences together would need here.",
    "rerank": "only a handful of pairs, all involving one query: is the number of forward passes a problem?",
    "clusters": "clustering compares every headline with many others; how many pairs is that?",
    "one_pair": "when the pairs are given and few, which architecture lets the two sentences attend to each other?",
    "live_search": "what can be computed before the query arrives, and what must be computed after?",
}


def count_pairs(fn, strict: bool = False):
    """Exercise 3.1: ``fn(n) -> int``, the number of unordered pairs of ``n`` distinct sentences."""

    def case(n, hint):
        def test():
            out = fn(n)
            expect(isinstance(out, int) or (hasattr(out, "is_integer") and float(out).is_integer()),
                   f"return a whole number, not {type(out).__name__}. Integer division (//) keeps it an int.")
            expect(out == n_pairs(n), hint)
        return test

    return run_checks("count pairs", [
        ("no sentences", case(0, "with no sentences there is nothing to pair.")),
        ("one sentence", case(1, "a sentence is not paired with itself.")),
        ("two sentences", case(2, "two sentences make exactly one unordered pair: (a, b) and (b, a) are the same.")),
        ("three sentences", case(3, "list them by hand: a-b, a-c, b-c.")),
        ("the paper's 10,000", case(10_000, "check the formula against 3 sentences first, then scale up; "
                                            "order does not matter and nothing is paired with itself.")),
        ("a large n stays exact", case(3_000_000_001, "for large n the result must stay an exact integer; "
                                                      "floating-point division rounds it.")),
    ], strict)


def extrapolate_pair_cost(fn, strict: bool = False):
    """Exercise 3.2: ``fn(sizes, seconds, n_target) -> seconds`` for a cross-encoder scoring all pairs.

    ``sizes`` are numbers of sentences, ``seconds`` the measured time to score all their pairs.
    """

    def case(sizes, seconds, n_target, hint, rel=0.02):
        def test():
            out = fn(list(sizes), list(seconds), n_target)
            expect(isinstance(out, (int, float)) or hasattr(out, "item"),
                   f"return a number of seconds, not {type(out).__name__}.")
            out = float(out)
            expect(math.isfinite(out), "your result is not a finite number.")
            want = extrapolate(sizes, seconds, n_target, kind="pairs")
            if want == 0:
                expect(abs(out) < 1e-6, hint)
            elif not math.isclose(out, want, rel_tol=rel):
                direction = "too high" if out > want else "too low"
                fail(f"{direction} by a factor of {out / want:.2f}; {hint}")
        return test

    exact = [1e-3 * n_pairs(n) for n in (10, 20, 40)]  # exactly 1 ms per pair
    noisy = [s * f for s, f in zip([2e-3 * n_pairs(n) for n in (8, 16, 32, 64)], (1.03, 0.97, 1.02, 0.99))]
    return run_checks("extrapolate pair cost", [
        ("clean timings, n = 10,000", case((10, 20, 40), exact, 10_000,
                                           "the time grows with the number of pairs, not of sentences.")),
        ("inside the measured range", case((10, 20, 40), exact, 20, "at a measured size, predict the measurement.")),
        ("noisy timings", case((8, 16, 32, 64), noisy, 5_000,
                               "fit one cost per pair using all the measurements, then multiply by the pairs "
                               "of the target.", rel=0.05)),
        ("one sentence", case((10, 20, 40), exact, 1, "one sentence has no pairs to score.")),
        ("pairs, not n squared", case((4, 8), [1e-3 * n_pairs(n) for n in (4, 8)], 1_000,
                                      "count unordered pairs of distinct sentences exactly (exercise 3.1), "
                                      "both for the measurements and for the target.")),
    ], strict)


def which_encoder(answers, strict: bool = False):
    """Exercise 3.3: ``answers`` maps each key of :data:`ARCHITECTURE_TASKS` to ``"cross"`` or ``"bi"``.

    ``NotImplemented`` (the student copy's stub) is reported as "not written yet".
    """

    def case(key):
        def test():
            if answers is NotImplemented:  # the student copy's stub
                raise NotImplementedError
            expect(isinstance(answers, dict), f"answers must be a dict, not {type(answers).__name__}.")
            expect(key in answers, f"no answer for {key!r}; give one for every key of ARCHITECTURE_TASKS.")
            value = str(answers[key]).strip().lower()
            expect(value in ("cross", "bi"), f"answer 'cross' or 'bi', not {answers[key]!r}.")
            expect(value == _ANSWERS[key], _QUIZ_HINTS[key])
        return test

    return run_checks("which encoder", [(key, case(key)) for key in ARCHITECTURE_TASKS], strict)
