"""Checkers for chapter 1 (BERT token outputs)."""

from __future__ import annotations

import torch

from .core import expect, expect_close, fail, run_checks

__all__ = ["word_vector", "layer_average"]


def _tiny_encoder():
    from .. import resources
    from ..models import build_untuned_encoder

    return build_untuned_encoder(resources.packaged_model_path(), seed=0, num_layers=1)


def word_vector(fn, encoder=None, strict: bool = False):
    """Exercise 1.1: ``fn(sentence, word_index, tokenizer, transformer) -> (hidden,)``, one word's vector.

    The mean of the last layer's vectors over the word pieces of word ``word_index`` (counted as the
    fast tokenizer's ``word_ids()`` counts words: from 0, punctuation included). ``encoder`` defaults
    to a tiny one-layer encoder with the packaged tokenizer.
    """
    encoder = encoder or _tiny_encoder()
    encoder.eval()
    tok, model = encoder.tokenizer, encoder.transformer

    def vectors(sentence):
        features = tok(sentence, return_tensors="pt")
        with torch.no_grad():
            return model(**features).last_hidden_state[0], features.word_ids(0)

    def case(sentence, word_index, hint):
        def test():
            with torch.no_grad():
                out = fn(sentence, word_index, tok, model)
            expect(isinstance(out, torch.Tensor), f"return a torch.Tensor, not {type(out).__name__}.")
            hidden, words = vectors(sentence)
            expect(out.shape == hidden.shape[1:], f"return one vector of size {hidden.shape[1]} for the word, "
                                                  f"not shape {tuple(out.shape)}.")
            pieces = [i for i, w in enumerate(words) if w == word_index]
            want = hidden[pieces].mean(dim=0)
            if len(pieces) > 1:
                for i in pieces:
                    if torch.allclose(out, hidden[i], atol=1e-4):
                        fail(f"this word is split into {len(pieces)} pieces; average the vectors of all of them, "
                             "not just one.")
            shifted = [i for i, w in enumerate(words) if w == word_index + 1]
            if shifted and torch.allclose(out, hidden[shifted].mean(dim=0), atol=1e-4):
                fail("you took the next word: count words from 0, and remember that position 0 of the tokens "
                     "is [CLS], which belongs to no word.")
            expect_close(out, want, hint, atol=1e-4)
        return test

    return run_checks("word vector", [
        ("a one-piece word", case("A dog runs.", 1, "the vector differs from the last layer's vector of 'dog'.")),
        ("a word in several pieces", case("Tokenization splits unbelievably long words.", 2,
                                          "average the last layer's vectors over every piece of the word.")),
        ("the first word", case("Unbelievably, it rained.", 0, "the first word starts right after [CLS].")),
        ("punctuation is a word", case("Hi, there!", 1, "the comma is word 1 here: word_ids() counts it.")),
    ], strict)


def layer_average(fn, strict: bool = False):
    """Exercise 1.2: ``fn(hidden_states, layers) -> (batch, tokens, hidden)``, the mean of the chosen layers.

    ``hidden_states`` is the tuple from ``output_hidden_states=True`` (embeddings first);
    ``layers`` is a list of indices into it, negative ones allowed (``[-4, -3, -2, -1]``).
    """
    torch.manual_seed(1)
    states = tuple(torch.randn(2, 3, 4) for _ in range(7))

    def case(layers, hint):
        def test():
            before = [s.clone() for s in states]
            out = fn(states, list(layers))
            expect_close(out, torch.stack([states[i] for i in layers]).mean(0), hint)
            expect(all(torch.equal(a, b) for a, b in zip(before, states)), "your function changed hidden_states.")
        return test

    return run_checks("layer average", [
        ("last layer only", case([-1], "with one layer the answer is that layer itself.")),
        ("last four layers", case([-4, -3, -2, -1], "average the chosen layers element by element (same shape out).")),
        ("second-to-last", case([-2], "index -2 is the layer before the last one.")),
        ("embeddings and first layer", case([0, 1], "index 0 is the embedding output, before any transformer layer.")),
    ], strict)
