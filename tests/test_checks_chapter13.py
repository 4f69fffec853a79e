import math

import pandas as pd
import pytest
import torch

from sbert_teach import checks
from sbert_teach.static import StaticEncoder
from checks_helpers import assert_reports_not_written, hints


# The answers in notebooks/13_small_and_fast.ipynb
def static_mean(table, input_ids, attention_mask):
    mask = attention_mask.unsqueeze(-1).to(table.dtype)
    summed = (table[input_ids] * mask).sum(dim=1)
    counts = mask.sum(dim=1).clamp(min=1)
    return summed / counts


def pick_under_budget(table, budget_ms):
    fitting = table[table["ms_per_sentence"] <= budget_ms]
    if fitting.empty:
        raise ValueError(f"No model fits {budget_ms} ms per sentence; the fastest takes "
                         f"{table['ms_per_sentence'].min()} ms.")
    ranked = fitting.sort_values(["spearman", "ms_per_sentence"], ascending=[False, True])
    return ranked.index[0]


def not_written(*args, **kwargs):
    raise NotImplementedError


def package_static_mean(table, input_ids, attention_mask):
    """The package's StaticEncoder forward on the same table: it must pass the same checker."""
    from tokenizers import Tokenizer, models

    vocab = {f"t{i}": i for i in range(table.shape[0])}
    encoder = StaticEncoder(Tokenizer(models.WordLevel(vocab, unk_token="t0")), embedding_dim=table.shape[1])
    features = {"input_ids": input_ids, "attention_mask": attention_mask.long()}
    # the checker's own table as the encoder's weight, so its gradient reaches the table it passed
    return torch.func.functional_call(encoder, {"embedding.weight": table}, (features,))


@pytest.mark.parametrize("answer", [static_mean, package_static_mean])
def test_static_mean_reference_answers_pass(answer):
    result = checks.static_mean(answer, strict=True)
    assert result.passed and len(result.passed_cases) == 7


def test_static_mean_wrong_answers_get_hints_not_the_answer():
    def with_padding(table, input_ids, attention_mask):
        return table[input_ids].mean(1)

    failed = dict(checks.static_mean(with_padding).failed_cases)
    assert "padding token's row must not count" in failed["right padding"]

    def divides_by_width(table, input_ids, attention_mask):
        mask = attention_mask.unsqueeze(-1).to(table.dtype)
        return (table[input_ids] * mask).sum(1) / input_ids.shape[1]

    failed = dict(checks.static_mean(divides_by_width).failed_cases)
    assert "divide by the number of real tokens" in failed["right padding"]

    def unguarded(table, input_ids, attention_mask):
        mask = attention_mask.unsqueeze(-1).to(table.dtype)
        return (table[input_ids] * mask).sum(1) / mask.sum(1)

    failed = dict(checks.static_mean(unguarded).failed_cases)
    assert set(failed) == {"a sentence with no real token"} and "NaN" in failed["a sentence with no real token"]

    def by_token_id(table, input_ids, attention_mask):
        mask = (input_ids != 0).unsqueeze(-1).to(table.dtype)
        return (table[input_ids] * mask).sum(1) / mask.sum(1).clamp(min=1)

    failed = dict(checks.static_mean(by_token_id).failed_cases)
    assert "from attention_mask, not from the token id" in failed["a real token with the padding id"]

    def detached(table, input_ids, attention_mask):
        return static_mean(table.detach().numpy(), input_ids.numpy(), attention_mask.numpy())

    result = checks.static_mean(detached)
    assert not result.passed
    assert "clamp" not in hints(result) and "sum(1)" not in hints(result)


def test_static_mean_not_written_yet():
    assert_reports_not_written(checks.static_mean, not_written)


def test_pick_reference_answer_passes():
    result = checks.pick_under_budget(pick_under_budget, strict=True)
    assert result.passed and len(result.passed_cases) == 8


def test_pick_wrong_answers_fail_with_hints():
    def fastest(table, budget_ms):
        fitting = table[table["ms_per_sentence"] <= budget_ms]
        if fitting.empty:
            raise ValueError(f"fastest is {table['ms_per_sentence'].min()}")
        return fitting["ms_per_sentence"].idxmin()

    failed = dict(checks.pick_under_budget(fastest).failed_cases)
    assert "not the fastest" in failed["tight budget"]

    def strict_less(table, budget_ms):
        fitting = table[table["ms_per_sentence"] < budget_ms]
        if fitting.empty:
            raise ValueError(f"fastest is {table['ms_per_sentence'].min()}")
        return fitting["spearman"].idxmax()

    failed = dict(checks.pick_under_budget(strict_less).failed_cases)
    assert "budget equal to a latency" in failed

    def ignores_budget(table, budget_ms):
        return table["spearman"].idxmax()

    failed = dict(checks.pick_under_budget(ignores_budget).failed_cases)
    assert "slower than the budget" in failed["tight budget"] and "nothing fits" in failed

    def no_tie_break(table, budget_ms):
        fitting = table[table["ms_per_sentence"] <= budget_ms]
        if fitting.empty:
            raise ValueError(f"fastest is {table['ms_per_sentence'].min()}")
        return fitting.sort_values("spearman", ascending=False, kind="stable").index[0]

    failed = dict(checks.pick_under_budget(no_tie_break).failed_cases)
    assert "faster of the two" in failed["tie in quality"]

    def returns_none(table, budget_ms):
        fitting = table[table["ms_per_sentence"] <= budget_ms]
        return None if fitting.empty else fitting["spearman"].idxmax()

    result = checks.pick_under_budget(returns_none)
    assert "nothing fits" in dict(result.failed_cases)
    assert "sort_values" not in hints(result)


def test_pick_not_written_yet():
    assert_reports_not_written(checks.pick_under_budget, not_written)


def test_reference_answer_handles_an_infinite_budget():
    table = pd.DataFrame({"ms_per_sentence": [1.0], "spearman": [0.5]}, index=["only"])
    assert pick_under_budget(table, math.inf) == "only"
