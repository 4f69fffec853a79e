import doctest
import warnings

import pytest
import torch

from sbert_teach import TrainConfig, pairs_dataset, train, unsupervised
from sbert_teach.objectives import MultipleNegativesRankingObjective
from sbert_teach.unsupervised import dropout_rates, sentences_from, simcse_objective, simcse_pairs

SENTENCES = ["A cat sits on the mat.", "A man is cooking.", "Stocks fell sharply today.", "Rain.",
             "Two dogs play in the snow.", "The train was late.", "She reads a book.", "A boy kicks a ball."]


def test_pairs_repeat_each_sentence_in_order():
    ds = simcse_pairs(SENTENCES)
    assert ds.column_names == ["anchor", "positive"]
    assert list(ds["anchor"]) == SENTENCES
    assert list(ds["positive"]) == SENTENCES


def test_repeats_are_kept_once_at_first_position():
    ds = simcse_pairs(["b", "a", "b", "c", "a"])
    assert list(ds["anchor"]) == ["b", "a", "c"]
    assert list(simcse_pairs(["b", "a", "b"], drop_duplicates=False)["anchor"]) == ["b", "a", "b"]


@pytest.mark.parametrize("bad,error", [([], ValueError), (["ok", "  "], ValueError), (["ok", ""], ValueError),
                                       ("one string", TypeError), (["ok", 3], TypeError)])
def test_bad_input_is_rejected_with_a_clear_error(bad, error):
    with pytest.raises(error, match="sentences"):
        simcse_pairs(bad)


def test_sentences_from_collects_distinct_sentences(toy_pairs):
    found = sentences_from(toy_pairs)
    assert found == ["a cat", "a dog", "the sun", "a car", "a kitten", "a puppy", "the moon", "a bus"]
    assert sentences_from(toy_pairs, columns=("sentence2",), limit=2) == ["a kitten", "a puppy"]
    with pytest.raises(ValueError, match="no column"):
        sentences_from(toy_pairs, columns=("anchor",))


def test_objective_is_mnr_without_hard_negatives(tiny_encoder):
    objective = simcse_objective(tiny_encoder)
    assert isinstance(objective, MultipleNegativesRankingObjective)
    assert objective.text_columns == ("anchor", "positive")
    assert objective.scale == 20.0


def test_dropout_makes_two_views_differ_only_in_training_mode(tiny_encoder):
    assert dropout_rates(tiny_encoder) and max(dropout_rates(tiny_encoder)) > 0
    features = tiny_encoder.tokenize(SENTENCES[:3])
    tiny_encoder.train()
    torch.manual_seed(0)
    first, second = tiny_encoder(features), tiny_encoder(features)
    assert not torch.allclose(first, second)
    tiny_encoder.eval()
    with torch.no_grad():
        torch.testing.assert_close(tiny_encoder(features), tiny_encoder(features))


def test_encoder_without_dropout_warns(tiny_encoder):
    for module in tiny_encoder.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    with pytest.warns(UserWarning, match="no dropout"):
        simcse_objective(tiny_encoder)


def test_a_short_simcse_run_trains_and_changes_the_encoder(tiny_encoder):
    before = tiny_encoder.encode(SENTENCES).clone()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        objective = simcse_objective(tiny_encoder)
    result = train(objective, simcse_pairs(SENTENCES),
                   TrainConfig(batch_size=4, max_steps=2, learning_rate=1e-3, show_progress=False))
    assert result.steps == 2 and all(torch.isfinite(torch.tensor(result.losses)))
    assert not torch.allclose(before, tiny_encoder.encode(SENTENCES))


def test_labelled_pairs_give_no_labels_to_simcse():
    ds = simcse_pairs(sentences_from(pairs_dataset(["x y"], ["y z"], [0.5])))
    assert set(ds.column_names) == {"anchor", "positive"}


def test_doctests():
    failures, _ = doctest.testmod(unsupervised)
    assert failures == 0
