import pytest
import torch

from sbert_teach import TrainConfig, load_encoder, make_objective, save_encoder, train
from sbert_teach.encoder import SentenceEncoder

SENTENCES = ["A cat sits on the mat.", "A man is cooking.", "Stocks fell sharply today.", "Rain."]


def tiny_training(encoder, ds):
    train(make_objective("regression", encoder), ds, TrainConfig(batch_size=4, max_steps=3, learning_rate=1e-3,
                                                                  show_progress=False))
    return encoder


@pytest.mark.parametrize("pooling,dense", [("mean", None), ("max", None), ("cls", 32)])
def test_saved_model_loads_in_sentence_transformers_with_identical_embeddings(tiny_encoder, toy_pairs, tmp_path,
                                                                              pooling, dense):
    from sentence_transformers import SentenceTransformer

    encoder = SentenceEncoder(tiny_encoder.transformer, tiny_encoder.tokenizer, pooling=pooling, dense_dim=dense)
    ours = tiny_training(encoder, toy_pairs).encode(SENTENCES)
    save_encoder(encoder, tmp_path / "model")
    theirs = SentenceTransformer(str(tmp_path / "model"), device="cpu").encode(SENTENCES, convert_to_tensor=True)
    assert theirs.shape == (len(SENTENCES), dense or 384)
    torch.testing.assert_close(ours, theirs, rtol=1e-4, atol=1e-5)
    back = load_encoder(tmp_path / "model")
    assert (back.pooling, back.embedding_dim) == (pooling, dense or 384)
    torch.testing.assert_close(back.encode(SENTENCES), ours, rtol=1e-5, atol=1e-6)
