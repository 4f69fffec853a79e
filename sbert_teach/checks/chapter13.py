"""Checkers for chapter 13 (small and fast models): the static forward with a padding mask, and
choosing a model under a latency budget."""

from __future__ import annotations

import math

import torch

from .core import expect, fail, run_checks

__all__ = ["static_mean", "pick_under_budget"]


def _reference_static_mean(table, input_ids, attention_mask):
    """Mean of the table rows of the real tokens of each row; zeros for a row without any."""
    mask = attention_mask.to(table.dtype).unsqueeze(-1)
    summed = (table[input_ids] * mask).sum(1)
    return summed / mask.sum(1).clamp(min=1)


def static_mean(fn, strict: bool = False):
    """Exercise 13.1: ``fn(table, input_ids, attention_mask) -> (batch, dim)``.

    ``table`` is ``(vocab, dim)``; ``input_ids`` and ``attention_mask`` are ``(batch, tokens)``
    with 1 for a real token and 0 for padding. Each output row is the mean of the table rows of
    that sentence's real tokens; a row with no real token gives zeros (as ``nn.EmbeddingBag``
    does). Compared with the package's :class:`~sbert_teach.static.StaticEncoder` forward.
    """
    generator = torch.Generator().manual_seed(13)
    table = torch.randn(50, 6, generator=generator)

    def run(ids, mask):
        got = fn(table.clone(), ids.clone(), mask.clone())
        expect(torch.is_tensor(got), f"return a tensor, not {type(got).__name__}.")
        expect(tuple(got.shape) == (ids.shape[0], table.shape[1]),
               f"the output has shape {tuple(got.shape)}; it needs one vector of the table's width per sentence, "
               f"({ids.shape[0]}, {table.shape[1]}) here.")
        return got

    def close(got, want, hint):
        expect(torch.allclose(got.float(), want, atol=1e-5), hint)

    def no_padding():
        ids = torch.tensor([[3, 7, 9], [1, 2, 4]])
        mask = torch.ones_like(ids)
        close(run(ids, mask), _reference_static_mean(table, ids, mask),
              "with no padding each vector is the plain average of its tokens' table rows (not the sum).")

    def with_padding():
        ids = torch.tensor([[3, 7, 9, 0, 0], [1, 2, 4, 8, 5]])
        mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
        got = run(ids, mask)
        want = _reference_static_mean(table, ids, mask)
        if torch.allclose(got.float(), table[ids].mean(1), atol=1e-5):
            fail("the padded positions were averaged in: the padding token's row must not count.")
        if torch.allclose(got.float(), (table[ids] * mask.unsqueeze(-1)).sum(1) / ids.shape[1], atol=1e-5):
            fail("the padding was left out of the sum but still counted in the division: divide by the number "
                 "of real tokens of each sentence.")
        close(got, want, "average only the rows of the real tokens (mask 1) of each sentence.")

    def padding_id_is_not_special():
        ids = torch.tensor([[0, 5, 0, 0]])  # a real token that happens to share the padding id
        mask = torch.tensor([[1, 1, 0, 0]])
        close(run(ids, mask), _reference_static_mean(table, ids, mask),
              "decide what is padding from attention_mask, not from the token id: id 0 can be a real token.")

    def padding_on_the_left():
        ids = torch.tensor([[0, 0, 3, 7], [1, 2, 4, 8]])
        mask = torch.tensor([[0, 0, 1, 1], [1, 1, 1, 1]])
        close(run(ids, mask), _reference_static_mean(table, ids, mask),
              "padding may sit on the left as well as on the right: use the mask at every position.")

    def empty_sentence():
        ids = torch.tensor([[0, 0, 0], [4, 6, 0]])
        mask = torch.tensor([[0, 0, 0], [1, 1, 0]])
        got = run(ids, mask)
        expect(bool(torch.isfinite(got).all()), "a sentence with no real token gave NaN or inf: the division "
                                                "by zero tokens needs a guard.")
        close(got, _reference_static_mean(table, ids, mask),
              "a sentence with no real token should give a vector of zeros, as nn.EmbeddingBag does.")

    def gradient_reaches_the_table():
        weights = table.clone().requires_grad_(True)
        ids = torch.tensor([[3, 7, 0], [1, 1, 2]])
        mask = torch.tensor([[1, 1, 0], [1, 1, 1]])
        got = fn(weights, ids, mask)
        expect(torch.is_tensor(got) and got.requires_grad,
               "the output carries no gradient: compute it from the table with torch operations (no .detach(), "
               "no numpy) so that training can update the rows.")
        got.sum().backward()
        grad = weights.grad
        expect(grad is not None, "no gradient reached the table: index the table you were given (no copy of it).")
        expect(float(grad[0].abs().sum()) == 0.0,
               "the padding token's row received a gradient: padding must not take part in the mean.")
        expect(torch.allclose(grad[1], torch.full((table.shape[1],), 2 / 3)),
               "a token used twice in a sentence of three counts twice in its mean (its row's gradient is 2/3).")

    def mask_as_bool():
        ids = torch.tensor([[3, 7, 9, 0]])
        mask = torch.tensor([[True, True, True, False]])
        close(run(ids, mask), _reference_static_mean(table, ids, mask.long()),
              "the mask may come as booleans; convert it to the table's dtype before multiplying.")

    return run_checks("static mean with a padding mask", [
        ("no padding", no_padding),
        ("right padding", with_padding),
        ("a real token with the padding id", padding_id_is_not_special),
        ("left padding", padding_on_the_left),
        ("a sentence with no real token", empty_sentence),
        ("gradients reach the table", gradient_reaches_the_table),
        ("boolean mask", mask_as_bool),
    ], strict)


def pick_under_budget(fn, strict: bool = False):
    """Exercise 13.2: ``fn(table, budget_ms) -> name``.

    ``table`` is a ``pandas.DataFrame`` indexed by model name with columns ``ms_per_sentence``
    and ``spearman``. Return the name of the model with the highest ``spearman`` among those whose
    ``ms_per_sentence`` is at most ``budget_ms``; on a tie in quality, the faster one. If no model
    fits the budget, raise ``ValueError`` saying so (and naming the fastest model's latency).
    """
    import pandas as pd

    table = pd.DataFrame({"ms_per_sentence": [4.0, 1.5, 0.05, 0.9], "spearman": [0.82, 0.74, 0.60, 0.74]},
                         index=["teacher", "student", "static", "student (pruned)"])

    def answer(tab, budget):
        got = fn(tab.copy(), budget)
        expect(isinstance(got, str), f"return the model's name (a string from the table's index), not "
                                     f"{type(got).__name__}.")
        expect(got in tab.index, f"{got!r} is not a model in the table; return one of its index labels.")
        return got

    def fits(budget, hint):
        def test():
            got = answer(table, budget)
            allowed = table[table.ms_per_sentence <= budget]
            best = allowed.sort_values(["spearman", "ms_per_sentence"], ascending=[False, True]).index[0]
            if table.loc[got, "ms_per_sentence"] > budget:
                fail(f"with a budget of {budget} ms you chose a model slower than the budget: keep only the models "
                     "whose latency is within it.")
            expect(got == best, hint)
        return test

    def no_budget_limit():
        got = answer(table, math.inf)
        expect(table.loc[got, "spearman"] == table.spearman.max(),
               "with an unlimited budget the best model by quality should win.")

    def exact_budget():
        got = answer(table, 0.9)
        expect(got == "student (pruned)", "a model whose latency equals the budget fits it (at most, not strictly less).")

    def nothing_fits():
        try:
            fn(table.copy(), 0.01)
        except ValueError as error:
            if "0.05" not in str(error):
                fail("the error should say how fast the fastest model is, so the reader knows what budget "
                     "would work.")
            return
        except NotImplementedError:
            raise
        except Exception as error:  # noqa: BLE001
            fail(f"you raised {type(error).__name__}; raise a ValueError when no model fits the budget.")
        fail("no model fits a 0.01 ms budget, yet nothing was raised: raise a ValueError that says so.")

    def other_table():
        other = pd.DataFrame({"ms_per_sentence": [2.0, 0.2], "spearman": [0.5, 0.7]}, index=["big", "small"])
        expect(answer(other, 5.0) == "small", "do not assume the slowest model is the best: compare the quality "
                                              "column.")

    def table_unchanged():
        given = table.copy()
        fn(given, 1.0)
        expect(given.equals(table), "your function changed the table it was given; filter a copy.")

    return run_checks("model under a latency budget", [
        ("generous budget", fits(10.0, "among the models that fit, choose the highest spearman.")),
        ("tight budget", fits(1.0, "several models fit: choose the best quality among them, not the fastest.")),
        ("tie in quality", fits(2.0, "two models that fit score the same: take the faster of the two.")),
        ("unlimited budget", no_budget_limit),
        ("budget equal to a latency", exact_budget),
        ("nothing fits", nothing_fits),
        ("another table", other_table),
        ("table unchanged", table_unchanged),
    ], strict)
