"""Checkers for chapter 8 (choosing a loss for your data)."""

from __future__ import annotations

from .. import recipe_registry
from ..data import NLI_LABELS
from .core import expect, fail, given, run_checks

__all__ = ["choose_loss", "nli_to_positive_pairs"]

#: Exercise 8.1: the datasets to choose a loss for, by key (shown to the learner).
LOSS_CHOICE_DATASETS = {
    "duplicate_questions": "Pairs of forum questions that moderators merged as duplicates. Only the merged pairs "
                           "were kept; there is no label column.",
    "nli_pairs": "Premise-hypothesis pairs, each labelled entailment, neutral or contradiction.",
    "similarity_ratings": "Sentence pairs that annotators rated for similarity from 0 to 5.",
    "support_tickets": "Single customer messages, each tagged with one of 12 product areas (hundreds of messages "
                       "per area).",
    "search_clicks": "Search queries, each with the result the user clicked and a result shown just above it that "
                     "the user skipped.",
    "headline_lead": "News headlines, each paired with the first sentence of its own article.",
}

# The data shape of each dataset (sbert_teach.recipe_registry.DATA_SHAPES); the registry says which
# objectives fit each shape *as it is*, and what each needs.
_SHAPE = {
    "duplicate_questions": "positive_pairs",
    "nli_pairs": "pair_class",
    "similarity_ratings": "pair_score",
    "support_tickets": "sentence_class",
    "search_clicks": "triplets",
    "headline_lead": "positive_pairs",
}


def fitting(shape: str) -> set[str]:
    """The objectives of the registry that train on data of ``shape`` as it is."""
    return {name for name, recipe in recipe_registry.RECIPES.items() if shape in recipe.fits}


# Why a chosen objective does not fit a shape, where more can be said than what it needs (the registry's
# ``needs``): says what the choice needs, never what fits instead.
_WHY_NOT = {
    ("softmax", "pair_score"): "a 0-5 rating is graded, not a class: cutting it into classes throws away its order.",
    ("regression", "pair_class"): "entailment, neutral and contradiction are classes, not points on one similarity "
                                  "scale.",
    ("mnr", "pair_class"): "it would treat every pair as a positive, but some of these pairs are contradictions "
                           "(choose for the data as it is, without converting it).",
    ("mnr", "pair_score"): "it would treat every pair as a positive, including the pairs rated 0 (choose for the "
                           "data as it is, without converting it).",
}


def _hint(chosen: str, shape: str) -> str:
    specific = _WHY_NOT.get((chosen, shape))
    if specific:
        return f"`{chosen}` does not fit: {specific}"
    if shape == "sentence_class":  # only called for a choice that does not fit
        return f"`{chosen}` needs pairs or triplets of sentences; this data has single sentences."
    needs = recipe_registry.get(chosen).needs
    return f"`{chosen}` needs {needs}; read the description again: does this data give that?"


def choose_loss(answer, strict: bool = False):
    """Exercise 8.1: ``answer`` is ``{dataset_key: objective_name}`` for every key of
    :data:`LOSS_CHOICE_DATASETS`; objective names are those of :mod:`sbert_teach.recipe_registry`.

    A function returning that dict is accepted too.
    """
    if answer is NotImplemented or answer is Ellipsis:  # the student copy's stub
        return run_checks("choosing a loss", [("answer written", lambda: given(answer))], strict)
    names = ", ".join(sorted(recipe_registry.RECIPES))
    state = {}

    def get_answer():
        if "value" not in state:
            value = answer() if callable(answer) else answer
            if value is None or (isinstance(value, dict) and value
                                 and all(v is None or v is Ellipsis for v in value.values())):
                raise NotImplementedError
            state["value"] = value
        return state["value"]

    def is_dict():
        value = get_answer()
        expect(isinstance(value, dict), f"the answer is a dict {{dataset key: objective name}}, not "
                                        f"{type(value).__name__}.")
        unknown = sorted(set(value) - set(LOSS_CHOICE_DATASETS))
        expect(not unknown, f"unknown dataset key(s) {unknown}; use the keys of LOSS_CHOICE_DATASETS.")

    def case(key):
        def test():
            value = get_answer()
            expect(isinstance(value, dict), "the answer must be a dict (see the first check).")
            expect(key in value and value[key] is not None and value[key] is not Ellipsis,
                   f"no answer for {key!r} yet.")
            chosen = value[key]
            expect(isinstance(chosen, str) and chosen in recipe_registry.RECIPES,
                   f"{chosen!r} is not one of the package's objectives ({names}).")
            if chosen not in fitting(_SHAPE[key]):
                fail(_hint(chosen, _SHAPE[key]))
        return test

    return run_checks("choosing a loss", [("answer is a dict of known keys", is_dict)]
                      + [(key, case(key)) for key in LOSS_CHOICE_DATASETS], strict)


# ----------------------------------------------------------------------------
# Exercise 8.2

def _reference_positive_pairs(pairs):
    keep = NLI_LABELS.index("entailment")
    return [(premise, hypothesis) for premise, hypothesis, label in pairs if label == keep]


def nli_to_positive_pairs(fn, strict: bool = False):
    """Exercise 8.2: ``fn(pairs) -> [(anchor, positive), ...]``.

    ``pairs`` is a list of ``(premise, hypothesis, label)`` with integer labels in
    :data:`sbert_teach.NLI_LABELS` order; keep the entailment pairs, in their order, as
    ``(premise, hypothesis)``.
    """
    ent, neu, con = (NLI_LABELS.index(name) for name in ("entailment", "neutral", "contradiction"))
    mixed = [
        ("A man plays a guitar on stage.", "A man is performing music.", ent),
        ("A man plays a guitar on stage.", "The man is famous.", neu),
        ("A man plays a guitar on stage.", "A man is asleep in bed.", con),
        ("Two dogs run through the snow.", "Animals are outside.", ent),
        ("Two dogs run through the snow.", "Two cats sleep indoors.", con),
        ("A girl reads a book.", "A child is reading.", ent),
    ]
    reordered = [mixed[5], mixed[2], mixed[3], mixed[1], mixed[0]]

    def same_pairs(given, hint):
        def test():
            before = [tuple(p) for p in given]
            out = fn(list(given))
            expect(out is not None, "your function returned None; return the list of pairs.")
            try:
                out = [tuple(p) for p in out]
            except TypeError:
                fail(f"return a list of (anchor, positive) pairs, not {type(out).__name__}.")
            expect([tuple(p) for p in given] == before, "your function changed its input list.")
            want = _reference_positive_pairs(given)
            expect(all(len(p) == 2 for p in out), "each output item is a pair (anchor, positive): two sentences, "
                                                  "no label.")
            swapped = [(b, a) for a, b in want]
            expect(not (out == swapped and want != swapped), "anchor and positive are swapped: the premise comes "
                                                            "first.")
            kept = {p for p in out}
            leaked = [p for p in given if p[2] != ent and (p[0], p[1]) in kept]
            expect(not leaked, "a pair that is not an entailment got through; in-batch negatives treat every "
                               "pair as two sentences that mean the same.")
            expect(sorted(out) == sorted(want), hint)
            expect(out == want, "you kept the right pairs but not in their original order.")
        return test

    def empty():
        out = fn([])
        expect(out is not None, "your function returned None for an empty input; return an empty list.")
        expect(len(list(out)) == 0, "no input pairs should give no positive pairs.")

    return run_checks("NLI pairs to positive pairs", [
        ("mixed labels", same_pairs(mixed, "keep exactly the entailment pairs.")),
        ("order kept", same_pairs(reordered, "keep exactly the entailment pairs.")),
        ("only entailments", same_pairs([p for p in mixed if p[2] == ent], "every pair here is an entailment; "
                                                                            "keep them all.")),
        ("neutral and contradiction only", same_pairs([p for p in mixed if p[2] != ent],
                                                      "no pair here is an entailment; return an empty list.")),
        ("empty input", empty),
    ], strict)
