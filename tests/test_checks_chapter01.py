"""Chapter 1 checkers: a correct answer passes, typical mistakes get a hint (never the answer)."""

import torch

from sbert_teach import checks
from checks_helpers import assert_reports_not_written, hints


def not_written(*args, **kwargs):
    raise NotImplementedError


def word_vector(sentence, word_index, tokenizer, transformer, pieces="all", offset=0):
    features = tokenizer(sentence, return_tensors="pt")
    positions = [i for i, w in enumerate(features.word_ids(0)) if w == word_index + offset]
    with torch.no_grad():
        hidden = transformer(**features).last_hidden_state[0]
    return hidden[positions].mean(dim=0) if pieces == "all" else hidden[positions[0]]


def test_word_vector_passes_a_correct_answer():
    result = checks.word_vector(word_vector)
    assert result.passed, result.report()


def test_word_vector_names_a_single_piece():
    result = checks.word_vector(lambda *a: word_vector(*a, pieces="first"))
    assert not result.passed and "average the vectors of all of them" in hints(result)


def test_word_vector_names_an_off_by_one_word():
    result = checks.word_vector(lambda *a: word_vector(*a, offset=1))
    assert not result.passed and "count words from 0" in hints(result)


def test_word_vector_catches_the_whole_sentence():
    def sentence_mean(sentence, word_index, tokenizer, transformer):
        with torch.no_grad():
            return transformer(**tokenizer(sentence, return_tensors="pt")).last_hidden_state[0].mean(dim=0)

    assert not checks.word_vector(sentence_mean).passed


def test_word_vector_not_written():
    assert_reports_not_written(checks.word_vector, not_written)
