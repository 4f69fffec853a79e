"""Checkers for chapter 8 (choosing a loss for your data)."""

from __future__ import annotations

from .. import recipe_registry
from ..data import NLI_LABELS
from .core import expect, fail, given, run_checks

__all__ = ["choose_loss", "nli_to_positive_pairs"]

#: Exercise 8.1: the datasets to choose a loss for, by key (shown to the learner). Each is described by its
#: columns and what a row holds, never by its shape: working out the shape is the exercise.
LOSS_CHOICE_DATASETS = {
    "merged_tickets": "Columns ticket_a, ticket_b, merged. Pairs of support tickets that an agent compared: merged "
                      "is 1 where the two report the same problem and 0 where the agent kept them apart. Both "
                      "kinds of row are kept, about half each.",
    "help_centre": "Columns question, article. Questions customers typed into a help centre, each with the text of "
                   "the help article an agent sent in reply.",
    "query_log": "Columns query, clicked, skipped. Search queries, each with the result the user clicked and a "
                 "result ranked above it that the user skipped.",
    "rated_products": "Columns text_a, text_b, rating. Pairs of product descriptions; three annotators each gave 1 "
                      "to 5 for how alike the two products are, and rating is their mean.",
    "forum_posts": "Columns post, board. Posts from a hobby forum, each filed under one of 15 boards, by the "
                   "board's name (several hundred posts per board).",
    "product_groups": "Columns title, other_titles. Product titles from a shop, each with a list of the 1 to 5 "
                      "other titles that the same product is sold under.",
}

# The data shapes (sbert_teach.recipe_registry.DATA_SHAPES) each dataset can be trained as: as it is, or after a
# conversion the chapter shows. The registry says which objectives fit each shape.
_SHAPES = {
    "merged_tickets": ("pair_class", "positive_pairs"),  # a two-class label; or keep the merged pairs only
    "help_centre": ("positive_pairs",),
    "query_log": ("triplets",),
    "rated_products": ("pair_score",),
    "forum_posts": ("sentence_class",),  # board names map to class ids
    "product_groups": ("positive_pairs",),  # pair each title with each of its other titles
}


def fitting(shape: str) -> set[str]:
    """The objectives of the registry that train on data of ``shape`` as it is."""
    return {name for name, recipe in recipe_registry.RECIPES.items() if shape in recipe.fits}


def accepted(key: str) -> set[str]:
    """The objectives that train on dataset ``key``, as it is or after one of the chapter's conversions."""
    return set().union(*(fitting(shape) for shape in _SHAPES[key]))


# Why a chosen objective does not fit a dataset, where more can be said than what it needs (the registry's
# ``needs``): says what is wrong with the choice, never what fits instead.
_WHY_NOT = {
    ("regression", "merged_tickets"): "a 0/1 label is not a graded score: regression would ask every pair the "
                                      "agent kept apart for a cosine of exactly 0 (see the Pitfalls).",
    ("softmax", "rated_products"): "a rating from 1 to 5 is graded, not a class: cutting it into classes throws "
                                   "away its order.",
    ("mnr", "rated_products"): "it would treat every pair as a positive, including the pairs rated 1; keeping only "
                               "the high ratings throws away the grading and most pairs.",
    ("regression", "query_log"): "there is no score here, only which of two results the user preferred.",
    ("softmax", "query_log"): "there is no class for a pair here, only which of two results the user preferred.",
    ("batch_hard", "product_groups"): "each group would be a class of 2 to 6 titles: in a shuffled batch almost no "
                                      "title finds another of its class (chapter 6 counted how few).",
    ("mnr", "forum_posts"): "pairing posts of the same board makes false negatives: with only 15 boards, two pairs "
                            "of one board share almost every batch.",
}


def _hint(chosen: str, key: str) -> str:
    specific = _WHY_NOT.get((chosen, key))
    if specific is None and chosen in {"cached_mnr", "matryoshka"}:
        specific = _WHY_NOT.get(("mnr", key))  # they read the data as MNR does
    if specific:
        return f"`{chosen}` does not fit: {specific}"
    if _SHAPES[key] == ("sentence_class",):  # only called for a choice that does not fit
        return f"`{chosen}` needs pairs or triplets of sentences; this data has single sentences."
    needs = recipe_registry.get(chosen).needs
    return f"`{chosen}` needs {needs}; read the description again: does this data give that?"


def choose_loss(answer, strict: bool = False):
    """Exercise 8.1: ``answer`` is ``{dataset_key: objective_name}`` for every key of
    :data:`LOSS_CHOICE_DATASETS`; objective names are those of :mod:`sbert_teach.recipe_registry`. An objective
    is accepted where it trains on the data as it is or after one of the chapter's conversions.

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
            if chosen not in accepted(key):
                fail(_hint(chosen, key))
        return test

    return run_checks("choosing a loss", [("answer is a dict of known keys", is_dict)]
                      + [(key, case(key)) for key in LOSS_CHOICE_DATASETS], strict)


# ----------------------------------------------------------------------------
# Exercise 8.2

def _reference_positive_pairs(pairs):
    keep = NLI_LABELS.index("entailment")
    seen, out = set(), []
    for premise, hypothesis, label in pairs:
        if label == keep and premise not in seen and hypothesis not in seen:
            out.append((premise, hypothesis))
            seen.update((premise, hypothesis))
    return out


def nli_to_positive_pairs(fn, strict: bool = False):
    """Exercise 8.2: ``fn(pairs) -> [(anchor, positive), ...]``.

    ``pairs`` is a list of ``(premise, hypothesis, label)`` with integer labels in
    :data:`sbert_teach.NLI_LABELS` order. Keep the entailment pairs as ``(premise, hypothesis)``, in their
    order, skipping any pair with a sentence that a kept pair already holds (as anchor or positive), so that
    no sentence appears twice and MNR's batches hold no false negative from a repeat.
    """
    ent, neu, con = (NLI_LABELS.index(name) for name in ("entailment", "neutral", "contradiction"))
    guitar, dogs, girl = ("A man plays a guitar on stage.", "Two dogs run through the snow.",
                          "A girl reads a book.")
    mixed = [
        (guitar, "A man is performing music.", ent),
        (guitar, "The man is famous.", neu),
        (guitar, "A man is asleep in bed.", con),
        (dogs, "Animals are outside.", ent),
        (dogs, "Two cats sleep indoors.", con),
        (girl, "A child is reading.", ent),
    ]
    reordered = [mixed[5], mixed[2], mixed[3], mixed[1], mixed[0]]
    second_entailment = [  # one premise, two entailed hypotheses: only the first pair may stay
        (guitar, "A man is performing music.", ent),
        (dogs, "Animals are outside.", ent),
        (guitar, "Someone is holding an instrument.", ent),
    ]
    shared_hypothesis = [  # two premises entail the same sentence: only the first pair may stay
        (dogs, "Animals are outside.", ent),
        ("Horses graze in a field.", "Animals are outside.", ent),
        (girl, "A child is reading.", ent),
    ]
    hypothesis_as_premise = [  # a kept positive comes back as a premise
        (girl, "A child is reading.", ent),
        ("A child is reading.", "Someone is looking at a book.", ent),
        (dogs, "Animals are outside.", ent),
    ]

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
                               "pair as two sentences that belong together.")
            sentences = [s for pair in out for s in pair]
            expect(len(sentences) == len(set(sentences)), "a sentence appears twice in your pairs; in one batch "
                   "its two rows would make each other's positive a negative. Skip a pair when either of its "
                   "sentences is already in a kept pair.")
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
        ("neutral and contradiction only", same_pairs([p for p in mixed if p[2] != ent],
                                                      "no pair here is an entailment; return an empty list.")),
        ("two entailments of one premise", same_pairs(second_entailment, "keep the first pair of a premise and "
                                                                         "every pair whose sentences are new.")),
        ("one hypothesis for two premises", same_pairs(shared_hypothesis, "keep the first pair with a sentence "
                                                                          "and every pair whose sentences are "
                                                                          "new.")),
        ("a positive back as a premise", same_pairs(hypothesis_as_premise, "a sentence counts as seen whether it "
                                                                           "was an anchor or a positive.")),
        ("empty input", empty),
    ], strict)
