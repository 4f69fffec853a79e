"""Issue 5's list of bad inputs: each gets an error (or, for long text, a warning) that names the problem
and the fix, raised before any tensor work, so no traceback from deep inside torch."""

import math

import pytest
import torch

from sbert_teach import TrainConfig, load_encoder, make_objective, pairs_dataset, train
from sbert_teach.persistence import ModelNotFoundError
from sbert_teach.validation import TruncationWarning

LONG = "word " * 400


@pytest.mark.parametrize("sentences,message", [
    ([], "is empty"),
    (["fine", "   "], r"\[1\] is an empty or whitespace-only string"),
    (["fine", 3], r"\[1\] is int"),
    (["fine", None], r"\[1\] is NoneType"),
    (None, "must be a list of strings"),
    ("one string", "Wrap it in a list"),
])
def test_encode_rejects_bad_sentences_with_the_fix(tiny_encoder, sentences, message):
    with pytest.raises((TypeError, ValueError), match=message):
        tiny_encoder.encode(sentences)


def test_text_longer_than_max_length_is_counted_in_a_warning(tiny_encoder):
    with pytest.warns(TruncationWarning, match=r"2 of 3 sentences are longer than max_length=128") as caught:
        emb = tiny_encoder.encode([LONG, "short one", LONG + "more"])
    assert emb.shape[0] == 3 and torch.isfinite(emb).all()
    assert caught[0].filename == __file__  # the warning points at the caller's line, not inside the package


def test_training_counts_truncated_texts_once(tiny_encoder):
    data = pairs_dataset([LONG, "a cat", "a dog", "the sun"] * 2, ["a kitten", LONG, "a puppy", "the moon"] * 2,
                         [0.9, 0.8, 0.2, 0.5] * 2)
    with pytest.warns(TruncationWarning, match=r"4 of 16 training texts") as caught:
        result = train(make_objective("regression", tiny_encoder), data,
                       TrainConfig(batch_size=4, max_steps=2, show_progress=False))
    assert result.truncated == 4
    assert caught[0].filename == __file__


@pytest.mark.parametrize("labels,message", [([0, 3], r"0\.\.2"), ([0, -1], r"0\.\.2|-1")])
def test_labels_out_of_range_or_minus_one(labels, message):
    with pytest.raises(ValueError, match=message):
        pairs_dataset(["a", "b"], ["c", "d"], labels, num_labels=3)


def test_mismatched_pair_lengths():
    with pytest.raises(ValueError, match="same length|lengths"):
        pairs_dataset(["a", "b"], ["c"], [0.1, 0.2])


def test_batch_larger_than_the_data(tiny_encoder, toy_pairs):
    with pytest.raises(ValueError, match=r"batch_size 64 is larger than the dataset \(16 rows\)"):
        train(make_objective("regression", tiny_encoder), toy_pairs, TrainConfig(batch_size=64, show_progress=False))


def test_nan_loss_names_the_step_and_the_batch(tiny_encoder, toy_pairs):
    class Broken(type(make_objective("regression", tiny_encoder))):
        calls = 0

        def loss_from_embeddings(self, embeddings, labels):
            Broken.calls += 1
            loss = super().loss_from_embeddings(embeddings, labels)
            return loss * math.inf if Broken.calls == 3 else loss

    with pytest.raises(FloatingPointError, match=r"Loss is (inf|nan) at step 3 \(the batch of dataset rows \d+"):
        train(Broken(tiny_encoder), toy_pairs, TrainConfig(batch_size=4, max_steps=4, show_progress=False))


def test_wrong_model_path_says_what_a_model_folder_holds(tmp_path):
    with pytest.raises(ModelNotFoundError, match="modules.json"):
        load_encoder(tmp_path / "no-such-model")
