"""Checkers for chapter 3 (cross-encoder vs bi-encoder): counting passes, fitting a fixed cost, choosing."""

from __future__ import annotations

import math

import numpy as np

from ..cost import fit_per_unit, n_pairs
from .core import expect, expect_value_error, fail, run_checks

__all__ = ["encoder_passes", "fixed_and_pair_cost", "which_encoder"]

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


def encoder_passes(fn, strict: bool = False):
    """Exercise 3.1: ``fn(n_queries, n_documents, documents_cached) -> {"cross-encoder": int, "bi-encoder": int}``.

    Encoder passes (one sentence, or one joined pair, through the transformer) to score every query
    against every document: a cross-encoder reads each (query, document) pair; a bi-encoder encodes
    each query and, unless their vectors were computed ahead and cached, each document once.
    """

    def case(q, d, cached, hint):
        def test():
            out = fn(q, d, cached)
            expect(isinstance(out, dict) and set(out) == {"cross-encoder", "bi-encoder"},
                   'return a dict with the keys "cross-encoder" and "bi-encoder".')
            for key, value in out.items():
                expect(isinstance(value, int) or (hasattr(value, "is_integer") and float(value).is_integer()),
                       f"{key}: return a whole number of passes, not {type(value).__name__}.")
            want = {"cross-encoder": q * d, "bi-encoder": q if cached else q + d}
            if out == want:
                return
            if out["bi-encoder"] == q * d:
                fail("a bi-encoder never reads a pair: it encodes each sentence once and compares the vectors.")
            if out["cross-encoder"] == q + d:
                fail("a cross-encoder cannot encode sentences on their own: it reads each (query, document) pair.")
            if cached and out["bi-encoder"] == q + d:
                fail("the documents' vectors are cached: only the queries still need a pass.")
            if not cached and out["bi-encoder"] == q:
                fail("nothing is cached here: the documents need one pass each as well.")
            expect(out == want, hint)
        return test

    return run_checks("encoder passes", [
        ("one query, 10,000 documents, cached", case(1, 10_000, True, "count the passes each architecture needs.")),
        ("one query, 10,000 documents, nothing cached", case(1, 10_000, False, "count the passes each "
                                                                                "architecture needs.")),
        ("1,000 queries a day, a million documents", case(1_000, 1_000_000, True, "count the passes for all "
                                                                                  "queries together.")),
        ("no documents", case(5, 0, False, "with no documents a cross-encoder has nothing to read.")),
    ], strict)


def _line_fit(x, y) -> tuple[float, float]:
    """(intercept, slope) of the least-squares line y = intercept + slope * x."""
    slope, intercept = np.polyfit(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64), 1)
    return float(intercept), float(slope)


def fixed_and_pair_cost(fn, strict: bool = False):
    """Exercise 3.2: ``fn(sizes, seconds) -> (fixed_seconds, seconds_per_pair)``.

    ``seconds[i]`` is how long a cross-encoder took to score all pairs of ``sizes[i]`` sentences. The answer is
    the least-squares line ``seconds = fixed + per_pair * n (n - 1) / 2`` over all the measurements (a fixed
    cost, unlike the chapter's fit through the origin); fewer than two different sizes raise ``ValueError``.
    """

    def pairs_of(sizes):
        return [n_pairs(n) for n in sizes]

    def case(sizes, seconds, hint):
        def test():
            out = fn(list(sizes), list(seconds))
            expect(isinstance(out, (tuple, list)) and len(out) == 2,
                   "return a pair (fixed_seconds, seconds_per_pair).")
            fixed, per_pair = (float(v) for v in out)
            expect(math.isfinite(fixed) and math.isfinite(per_pair), "your result is not a pair of finite numbers.")
            want_fixed, want_per_pair = _line_fit(pairs_of(sizes), seconds)
            scale = max(abs(s) for s in seconds)  # tolerance in the unit of the timings

            def same(got, want_fixed_, want_per_pair_):
                return (abs(got[0] - want_fixed_) <= 1e-6 * scale
                        and math.isclose(got[1], want_per_pair_, rel_tol=1e-4, abs_tol=1e-12))

            if same((fixed, per_pair), want_fixed, want_per_pair):
                return
            if same((per_pair, fixed), want_fixed, want_per_pair):
                fail("the two numbers are the right ones in the wrong order: return (fixed_seconds, "
                     "seconds_per_pair).")
            if abs(fixed) <= 1e-12 and math.isclose(per_pair, fit_per_unit(sizes, seconds, "pairs"), rel_tol=1e-4):
                fail("that is the fit through the origin the chapter used; let the line have its own intercept, "
                     "the fixed cost.")
            for x, why in [(list(sizes), "the work grows with the number of pairs, not of sentences"),
                           ([n * n for n in sizes], "count unordered pairs of distinct sentences, n (n - 1) / 2, "
                                                    "not n squared")]:
                if same((fixed, per_pair), *_line_fit(x, seconds)):
                    fail(f"{why}.")
            fail(hint)
        return test

    def too_few(sizes, seconds):
        def test():
            expect_value_error(lambda: fn(list(sizes), list(seconds)),
                               "One size gives one point, and a line with a fixed cost needs two different sizes.")
        return test

    with_fixed = [0.05 + 1e-3 * p for p in pairs_of((10, 20, 40))]  # 50 ms once, then 1 ms per pair
    noisy = [(0.2 + 2e-3 * p) * f for p, f in zip(pairs_of((8, 16, 32, 64)), (1.03, 0.97, 1.02, 0.99))]
    return run_checks("fixed and pair cost", [
        ("a fixed cost and a cost per pair", case((10, 20, 40), with_fixed,
                                                  "fit a straight line of the seconds against the pairs by least "
                                                  "squares.")),
        ("no fixed cost", case((10, 20, 40), [1e-3 * p for p in pairs_of((10, 20, 40))],
                               "timings exactly proportional to the pairs have a fixed cost of zero.")),
        ("noisy timings", case((8, 16, 32, 64), noisy, "use every measurement in one least-squares fit, not just "
                                                       "two of them.")),
        ("two sizes", case((4, 8), [0.01 + 2e-3 * p for p in pairs_of((4, 8))],
                           "with two sizes the line goes through both measurements.")),
        ("one size only", too_few((20, 20), [0.5, 0.52])),
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
