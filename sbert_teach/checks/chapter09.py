"""Checkers for chapter 9 (beyond): SimCSE pairs and the size of Dense layers."""

from __future__ import annotations

from torch import nn

from .core import expect, expect_value_error, fail, run_checks

__all__ = ["simcse_pairs", "dense_layer_size"]


def _columns(ds):
    """(anchor, positive) lists from a Dataset or a list of dicts, or a failed case."""
    from datasets import Dataset

    if isinstance(ds, Dataset):
        names = ds.column_names
        expect(set(names) == {"anchor", "positive"},
               f"the dataset has columns {names}; it needs exactly 'anchor' and 'positive', the names the "
               "MNR objective reads.")
        return list(ds["anchor"]), list(ds["positive"])
    fail(f"return a datasets.Dataset (Dataset.from_dict), not {type(ds).__name__}.")


def simcse_pairs(fn, strict: bool = False):
    """Exercise 9.1: ``fn(sentences) -> Dataset`` with columns ``anchor`` and ``positive``.

    Both columns hold the sentence itself, in the order given. Two sentences that differ only in letter case or
    in spaces (leading, trailing, repeated) are one input to an uncased word-piece tokenizer, so only the first
    of them is kept, as first written; anything else (a full stop, a hyphen) makes a different input. An empty
    list or an empty / whitespace-only sentence raises ``ValueError``. The package's
    ``unsupervised.simcse_pairs`` drops exact repeats only, so it does not pass.
    """
    sentences = ["A man is playing a guitar.", "Two dogs run on the beach.", "The stock market fell.",
                 "A woman slices an onion.", "Rain is expected tomorrow."]

    def same_text_in_order():
        anchors, positives = _columns(fn(list(sentences)))
        expect(len(anchors) == len(sentences), f"{len(anchors)} rows for {len(sentences)} distinct sentences; "
                                               "make one row per sentence.")
        expect(anchors == positives, "the two columns differ: in SimCSE the positive is the very same text "
                                     "(dropout, not the data, makes the two views differ).")
        expect(anchors == sentences, "the rows are not in the order of the input list (or the text was changed); "
                                     "keep both.")

    def one_sentence():
        anchors, positives = _columns(fn(["Just one."]))
        expect(anchors == positives == ["Just one."], "a single sentence gives a single row.")

    def exact_repeats():
        anchors, _ = _columns(fn(["b x", "a x", "b x", "c x", "a x"]))
        expect(len(anchors) == 3, "a sentence that appears twice would be its own in-batch negative: keep "
                                  "each sentence once.")
        expect(anchors == ["b x", "a x", "c x"], "keep each repeated sentence at the position where it first appears.")

    def case_and_spaces():
        given = ["A man plays.", "Rain.", "a man plays.", "  A MAN  plays. ", "rain.\n"]
        anchors, positives = _columns(fn(given))
        expect(anchors == positives, "the two columns differ: the positive is the very same text as the anchor.")
        if len(anchors) == len(given):
            fail("'A man plays.' and 'a man plays.' are different strings but one input to an uncased tokenizer, "
                 "which lower-cases the text and splits it on spaces; compare the sentences in that form.")
        if [a.lower() for a in anchors] == ["a man plays.", "rain."] and anchors != ["A man plays.", "Rain."]:
            fail("compare the sentences lower-cased, but keep each one as it was first written.")
        expect(anchors == ["A man plays.", "Rain."], "ignore letter case and spaces only (leading, trailing and "
                                                     "repeated ones), and keep the first spelling at its place.")

    def punctuation_counts():
        anchors, _ = _columns(fn(["A dog runs.", "A dog runs", "A dog-run."]))
        expect(len(anchors) == 3, "only letter case and spaces are ignored: a full stop or a hyphen is a word "
                                  "piece of its own, so those sentences are different inputs.")

    def rejects(bad, hint):
        def test():
            expect_value_error(lambda: fn(bad), hint)
        return test

    def input_unchanged():
        given = ["b x", "B x", "b x "]
        fn(given)
        expect(given == ["b x", "B x", "b x "], "your function changed the list it was given; build a new one.")

    return run_checks("SimCSE pairs", [
        ("same text in both columns, order kept", same_text_in_order),
        ("one sentence", one_sentence),
        ("exact repeats", exact_repeats),
        ("repeats in another case or spacing", case_and_spaces),
        ("punctuation makes another sentence", punctuation_counts),
        ("empty sentence", rejects(["A dog.", ""], "An empty sentence has nothing to encode: raise a ValueError "
                                                   "that says which position is empty.")),
        ("whitespace-only sentence", rejects(["A dog.", "   \n"], "A sentence of spaces is empty too once the "
                                                                 "spaces are ignored.")),
        ("empty list", rejects([], "With no sentences there is nothing to train on.")),
        ("input unchanged", input_unchanged),
    ], strict)


def dense_layer_size(fn, strict: bool = False):
    """Exercise 9.2: ``fn(in_features, out_dims, bias=True) -> (output_dim, n_parameters)``.

    ``out_dims`` lists the output size of each Dense layer stacked after pooling
    (``[]`` for none). Compared with real ``nn.Linear`` layers.
    """
    def expected(in_features, out_dims, bias):
        sizes = [in_features, *out_dims]
        layers = [nn.Linear(a, b, bias=bias) for a, b in zip(sizes, sizes[1:])]
        return sizes[-1], sum(p.numel() for layer in layers for p in layer.parameters())

    def case(in_features, out_dims, bias, hint):
        def test():
            got = fn(in_features, list(out_dims), bias=bias)
            expect(isinstance(got, (tuple, list)) and len(got) == 2,
                   "return a pair (output_dim, n_parameters).")
            dim, params = got
            want_dim, want_params = expected(in_features, out_dims, bias)
            expect(int(dim) == want_dim, f"the output dimension is wrong for in_features={in_features}, "
                                         f"out_dims={list(out_dims)}: it is set by the last layer, if any.")
            if bias and out_dims and int(params) == want_params - sum(out_dims):
                fail("you left out the biases: each output unit has one bias number as well as its weights.")
            expect(int(params) == want_params, hint)
        return test

    return run_checks("Dense layer size", [
        ("one layer 384 -> 96", case(384, [96], True,
                                      "a Linear layer has one weight per (input, output) pair plus one bias per "
                                      "output.")),
        ("one layer 768 -> 256", case(768, [256], True, "count weights and biases of the single layer.")),
        ("without bias", case(384, [200], False, "with bias=False only the weight matrix counts.")),
        ("two layers 384 -> 256 -> 64", case(384, [256, 64], True,
                                             "each layer's input is the previous layer's output, not the pooled "
                                             "vector; add up the layers.")),
        ("no Dense layer", case(384, [], True, "with no Dense layer the pooled vector passes unchanged and "
                                               "nothing is added.")),
    ], strict)
