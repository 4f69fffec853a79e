"""Checkers for chapter 1 (BERT token outputs)."""

from __future__ import annotations

import torch

from .core import expect, expect_close, run_checks

__all__ = ["token_vectors", "layer_average"]


def _tiny_encoder():
    from .. import resources
    from ..models import build_untuned_encoder

    return build_untuned_encoder(resources.packaged_model_path(), seed=0, num_layers=1)


def token_vectors(fn, encoder=None, strict: bool = False):
    """Exercise 1.1: ``fn(sentence, tokenizer, transformer) -> (n_tokens, hidden)``, the last layer's
    vectors for one sentence, special tokens included, no padding.

    ``encoder`` defaults to a tiny one-layer encoder with the packaged tokenizer.
    """
    encoder = encoder or _tiny_encoder()
    encoder.eval()
    tok, model = encoder.tokenizer, encoder.transformer

    def expected(sentence):
        with torch.no_grad():
            ids = tok(sentence, return_tensors="pt")
            return model(**ids).last_hidden_state[0]

    def case(sentence, hint):
        def test():
            with torch.no_grad():
                out = fn(sentence, tok, model)
            expect(isinstance(out, torch.Tensor), f"return a torch.Tensor, not {type(out).__name__}.")
            want = expected(sentence)
            expect(out.dim() == 2, f"return (n_tokens, hidden): 2 dimensions, yours has {out.dim()}. "
                                   "Drop the batch dimension of last_hidden_state.")
            expect(out.shape[0] == want.shape[0],
                   f"{out.shape[0]} rows for {sentence!r}; there is one row per token, [CLS] and [SEP] included.")
            expect_close(out, want, hint, atol=1e-4)
        return test

    return run_checks("token vectors", [
        ("short sentence", case("A dog runs.", "the values differ from the model's last layer for this sentence.")),
        ("longer sentence", case("Two children are playing football in the park.", "use last_hidden_state.")),
        ("word split into pieces", case("Tokenization splits unbelievably long words.",
                                        "keep every word piece; do not merge or drop tokens.")),
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
