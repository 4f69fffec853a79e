"""Bad input gets an error that names the problem and the fix."""

import pytest

from sbert_teach import pairs_dataset
from sbert_teach.evaluation import correlations
from sbert_teach.models import get_model
from sbert_teach.persistence import ModelNotFoundError, load_encoder


@pytest.mark.parametrize("bad,error,message", [
    ([], ValueError, "sentences is empty"),
    (["ok", ""], ValueError, r"sentences\[1\] is an empty or whitespace-only string"),
    (["ok", "   "], ValueError, "whitespace-only"),
    (["ok", 3], TypeError, r"sentences\[1\] is int .*not a string"),
    (["ok", None], TypeError, r"sentences\[1\] is NoneType"),
    ("one sentence", TypeError, "not a single string. Wrap it in a list"),
    (None, TypeError, "must be a list of strings"),
])
def test_encode_rejects_bad_sentences(tiny_encoder, bad, error, message):
    with pytest.raises(error, match=message):
        tiny_encoder.encode(bad)


def test_mismatched_lengths():
    with pytest.raises(ValueError, match="Mismatched lengths: sentences1=2, sentences2=1, labels=2"):
        pairs_dataset(["a", "b"], ["c"], [0, 1], num_labels=3)
    with pytest.raises(ValueError, match="Mismatched lengths"):
        correlations([0.1, 0.2], [0.3])


def test_unknown_label():
    with pytest.raises(ValueError, match=r"labels\[1\] = 3 is out of range 0..2"):
        pairs_dataset(["a", "b"], ["c", "d"], [0, 3], num_labels=3)
    with pytest.raises(ValueError, match="-1 marks 'no gold label'"):
        pairs_dataset(["a", "b"], ["c", "d"], [0, -1], num_labels=3)
    with pytest.raises(TypeError, match="Map label names to indices"):
        pairs_dataset(["a"], ["c"], ["entailment"], num_labels=3)


def test_unknown_pooling_name(tiny_encoder):
    from sbert_teach.encoder import SentenceEncoder

    with pytest.raises(ValueError, match="Unknown pooling mode 'avg'. Choose one of: cls, max, mean"):
        SentenceEncoder(tiny_encoder.transformer, tiny_encoder.tokenizer, pooling="avg")


def test_wrong_model_path_fails_fast(tmp_path):
    with pytest.raises(ModelNotFoundError, match="No model at .*Check the path"):
        load_encoder(tmp_path / "nope")
    with pytest.raises(ModelNotFoundError, match="No model at"):
        get_model(str(tmp_path))


def test_batch_size_larger_than_data(tiny_encoder):
    from sbert_teach import TrainConfig, make_objective, train

    ds = pairs_dataset(["a b", "c d"], ["e f", "g h"], [0.1, 0.9])
    with pytest.raises(ValueError, match="batch_size 16 is larger than the dataset \\(2 rows\\)"):
        train(make_objective("regression", tiny_encoder), ds, TrainConfig(batch_size=16))
