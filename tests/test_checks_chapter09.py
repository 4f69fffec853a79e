import pytest
from datasets import Dataset

from sbert_teach import checks, unsupervised
from sbert_teach.checks import ExerciseNotPassed
from checks_helpers import assert_reports_not_written, hints


# The answers in notebooks/09_beyond.ipynb
def make_simcse_pairs(sentences):
    kept, seen = [], set()
    for i, sentence in enumerate(sentences):
        if not sentence.strip():
            raise ValueError(f"sentences[{i}] is empty; remove it.")
        key = " ".join(sentence.lower().split())  # what an uncased tokenizer sees
        if key not in seen:
            seen.add(key)
            kept.append(sentence)
    if not kept:
        raise ValueError("No sentences given.")
    return Dataset.from_dict({"anchor": kept, "positive": list(kept)})


def dense_layer_size(in_features, out_dims, bias=True):
    params, size = 0, in_features
    for out in out_dims:
        params += size * out + (out if bias else 0)
        size = out
    return size, params


def not_written(*args, **kwargs):
    raise NotImplementedError


def test_simcse_reference_answer_passes():
    result = checks.simcse_pairs(make_simcse_pairs, strict=True)
    assert result.passed and len(result.passed_cases) == 9


def test_the_package_function_drops_exact_repeats_only_and_does_not_pass():
    # calling unsupervised.simcse_pairs is not an answer: it keeps 'A man plays.' and 'a man plays.'
    failed = dict(checks.simcse_pairs(unsupervised.simcse_pairs).failed_cases)
    assert list(failed) == ["repeats in another case or spacing"]
    assert "uncased tokenizer" in failed["repeats in another case or spacing"]


def test_simcse_lowercased_or_over_eager_answers_fail_with_hints():
    def stores_lowercase(sentences):
        return make_simcse_pairs([" ".join(s.lower().split()) for s in sentences])

    assert "as it was first written" in hints(checks.simcse_pairs(stores_lowercase))

    def ignores_punctuation(sentences):
        kept, seen = [], set()
        for s in sentences:
            if not s.strip():
                raise ValueError("empty")
            key = "".join(ch for ch in s.lower() if ch.isalnum())
            if key not in seen:
                seen.add(key)
                kept.append(s)
        if not kept:
            raise ValueError("none")
        return Dataset.from_dict({"anchor": kept, "positive": kept})

    failed = dict(checks.simcse_pairs(ignores_punctuation).failed_cases)
    assert list(failed) == ["punctuation makes another sentence"] and "full stop" in failed[
        "punctuation makes another sentence"]


def test_simcse_without_checks_or_dedup_fails_with_hints():
    def naive(sentences):
        return Dataset.from_dict({"anchor": list(sentences), "positive": list(sentences)})

    result = checks.simcse_pairs(naive)
    failed = dict(result.failed_cases)
    assert set(failed) == {"exact repeats", "repeats in another case or spacing", "empty sentence",
                           "whitespace-only sentence", "empty list"}
    assert "no error was raised" in failed["empty sentence"]
    assert "Dataset.from_dict" not in hints(result) and "strip" not in hints(result) and "split()" not in hints(
        result)


def test_simcse_shuffled_or_wrong_columns_fail():
    def shifted(sentences):
        kept = list(dict.fromkeys(sentences))
        if not kept or any(not s.strip() for s in kept):
            raise ValueError("empty")
        return Dataset.from_dict({"anchor": kept, "positive": kept[1:] + kept[:1]})

    assert "two columns differ" in dict(checks.simcse_pairs(shifted).failed_cases)[
        "same text in both columns, order kept"]

    def wrong_names(sentences):
        return Dataset.from_dict({"sentence1": list(sentences), "sentence2": list(sentences)})

    assert "'anchor' and 'positive'" in hints(checks.simcse_pairs(wrong_names))

    def a_list(sentences):
        return [{"anchor": s, "positive": s} for s in sentences]

    assert "datasets.Dataset" in hints(checks.simcse_pairs(a_list))


def test_simcse_not_written_yet():
    assert_reports_not_written(checks.simcse_pairs, not_written)


def test_dense_reference_answer_passes():
    result = checks.dense_layer_size(dense_layer_size, strict=True)
    assert result.passed and len(result.passed_cases) == 5


def test_dense_without_bias_gets_the_bias_hint():
    def no_bias(in_features, out_dims, bias=True):
        params, size = 0, in_features
        for out in out_dims:
            params, size = params + size * out, out
        return size, params

    result = checks.dense_layer_size(no_bias)
    failed = dict(result.failed_cases)
    assert "one layer 384 -> 96" in failed and "without bias" not in failed
    assert "left out the biases" in failed["one layer 384 -> 96"]
    assert "49280" not in hints(result) and "49,280" not in hints(result)


def test_dense_using_pooled_size_for_every_layer_fails():
    def flat(in_features, out_dims, bias=True):
        params = sum(in_features * out + (out if bias else 0) for out in out_dims)
        return (out_dims[-1] if out_dims else in_features), params

    failed = dict(checks.dense_layer_size(flat).failed_cases)
    assert set(failed) == {"two layers 384 -> 256 -> 64"}
    assert "previous layer" in failed["two layers 384 -> 256 -> 64"]


def test_dense_not_written_yet():
    assert checks.dense_layer_size(not_written).not_written
