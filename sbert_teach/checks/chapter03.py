"""Checkers for chapter 3 (cross-encoder vs bi-encoder): counting pairs, extrapolating cost, choosing."""

from __future__ import annotations

import math

from ..cost import extrapolate, n_pairs
from .core import expect, fail, run_checks

__all__ = ["encoder_passes", "extrapolate_pair_cost", "which_encoder"]

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
