"""The static encoder (sbert_teach.static): a word-piece table and a mean, checked by hand, trained through
the package's own loop, and loaded by sentence-transformers as a StaticEmbedding with the same vectors."""

import pytest
import torch

from sbert_teach import TrainConfig, load_encoder, train
from sbert_teach.objectives import MultipleNegativesRankingObjective, mnr_loss_from_embeddings
from sbert_teach.static import StaticEncoder, load_static, save_static
from sbert_teach.validation import TruncationWarning

VOCAB = {"[PAD]": 0, "[UNK]": 1, "a": 2, "cat": 3, "dog": 4, "sat": 5, "on": 6, "the": 7, "mat": 8}
SENTENCES = ["A cat sits on the mat.", "A man is cooking.", "Stocks fell sharply today.", "Rain."]


def word_tokenizer():
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers

    tokenizer = Tokenizer(models.WordLevel(VOCAB, unk_token="[UNK]"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    return tokenizer


@pytest.fixture
def table():
    return torch.randn(len(VOCAB), 4, generator=torch.Generator().manual_seed(0))


def test_forward_is_the_mean_of_the_table_rows_of_the_tokens(table):
    encoder = StaticEncoder(word_tokenizer(), table)
    features = encoder.tokenize(["a cat", "The dog sat", "mat"])
    assert features["input_ids"].tolist() == [[2, 3, 0], [7, 4, 5], [8, 0, 0]]  # no [CLS]/[SEP], padded with 0
    expected = torch.stack([(table[2] + table[3]) / 2, (table[7] + table[4] + table[5]) / 3, table[8]])
    torch.testing.assert_close(encoder(features), expected)


def test_masked_tokens_are_left_out_whatever_the_padding(table):
    encoder = StaticEncoder(word_tokenizer(), table)
    expected = torch.stack([(table[2] + table[3]) / 2, (table[7] + table[4] + table[5]) / 3, table[8],
                            torch.zeros(4)])
    # left padding with real ids in the padded places, and a row with no real token (zeros, as EmbeddingBag gives)
    padded = {"input_ids": torch.tensor([[5, 2, 3], [7, 4, 5], [6, 6, 8], [3, 3, 3]]),
              "attention_mask": torch.tensor([[0, 1, 1], [1, 1, 1], [0, 0, 1], [0, 0, 0]])}
    torch.testing.assert_close(encoder(padded), expected)
    # sentence-transformers' layout: one flat list of ids and where each sentence starts
    flat = {"input_ids": torch.tensor([2, 3, 7, 4, 5, 8]), "offsets": torch.tensor([0, 2, 5, 6])}
    torch.testing.assert_close(encoder(flat), expected)


def test_encode_matches_forward_in_input_order_and_truncates_with_a_warning(table):
    encoder = StaticEncoder(word_tokenizer(), table)
    sentences = ["the cat sat on the mat", "a dog", "cat", "on a mat"]
    whole = encoder(encoder.tokenize(sentences))
    torch.testing.assert_close(encoder.encode(sentences, batch_size=3), whole)
    torch.testing.assert_close(encoder.encode(sentences, batch_size=1), whole)
    assert torch.allclose(encoder.encode(sentences, normalize=True).norm(dim=1), torch.ones(4))
    short = StaticEncoder(word_tokenizer(), table, max_length=2)
    with pytest.warns(TruncationWarning, match="1 of 2 sentences"):
        got = short.encode(["the cat sat on the mat", "a dog"])
    torch.testing.assert_close(got[0], (table[7] + table[3]) / 2)


def test_from_model_copies_the_word_piece_table_and_tokenizes_without_special_tokens(tiny_encoder):
    static = StaticEncoder.from_model(tiny_encoder)
    original = tiny_encoder.transformer.get_input_embeddings().weight
    torch.testing.assert_close(static.embedding.weight, original, rtol=0, atol=0)
    with torch.no_grad():
        static.embedding.weight[0] += 1.0
    assert not torch.equal(static.embedding.weight[0], original[0])  # a copy, not shared
    hf = tiny_encoder.tokenizer(SENTENCES, add_special_tokens=False)["input_ids"]
    ours = static.tokenize(SENTENCES)
    assert [row[:n].tolist() for row, n in zip(ours["input_ids"], ours["attention_mask"].sum(1))] == hf


@pytest.mark.filterwarnings("ignore::sbert_teach.validation.TruncationWarning")
@pytest.mark.parametrize("normalize,max_length", [(False, 512), (True, 3)])
def test_saved_folder_loads_in_sentence_transformers_with_the_same_vectors(table, tmp_path, normalize, max_length):
    from sentence_transformers import SentenceTransformer

    encoder = StaticEncoder(word_tokenizer(), table, normalize=normalize, max_length=max_length)
    sentences = ["the cat sat on the mat", "a dog", "A CAT", "zebra"]  # truncated, short, case, unknown word
    ours = encoder.encode(sentences)
    save_static(encoder, tmp_path / "static")
    model = SentenceTransformer(str(tmp_path / "static"), device="cpu")
    assert type(model[0]).__name__ == "StaticEmbedding"
    torch.testing.assert_close(model.encode(sentences, convert_to_tensor=True), ours, rtol=0, atol=1e-5)
    back = load_static(tmp_path / "static")
    assert (back.normalize, back.max_length) == (normalize, max_length)
    torch.testing.assert_close(back.encode(sentences), ours, rtol=0, atol=0)


def test_mnr_training_through_train_lowers_the_loss_and_saves_for_sentence_transformers(tiny_encoder, tmp_path):
    from datasets import Dataset
    from sentence_transformers import SentenceTransformer

    from sbert_teach import load_nli

    nli = load_nli("train", limit=400)
    pairs = [(a, b) for a, b, y in zip(nli["sentence1"], nli["sentence2"], nli["label"]) if y == 0][:64]
    assert len(pairs) == 64
    anchors, positives = [a for a, _ in pairs], [b for _, b in pairs]
    static = StaticEncoder.from_model(tiny_encoder)

    def loss_on_all_pairs():
        return float(mnr_loss_from_embeddings(static.encode(anchors), static.encode(positives)))

    before = loss_on_all_pairs()
    objective = MultipleNegativesRankingObjective(static, use_hard_negatives=False)
    result = train(objective, Dataset.from_dict({"anchor": anchors, "positive": positives}),
                   TrainConfig(batch_size=16, epochs=2, learning_rate=5e-3, show_progress=False, seed=0),
                   output_dir=tmp_path / "trained")
    assert result.steps == 8 and all(torch.isfinite(torch.tensor(result.losses)))
    after = loss_on_all_pairs()
    assert after < before - 0.1, (before, after)
    # train() saved it (save_encoder -> save_static); both libraries read back the trained vectors
    ours = static.encode(SENTENCES)
    theirs = SentenceTransformer(str(tmp_path / "trained"), device="cpu").encode(SENTENCES, convert_to_tensor=True)
    torch.testing.assert_close(theirs, ours, rtol=0, atol=1e-5)
    back = load_encoder(tmp_path / "trained")
    assert isinstance(back, StaticEncoder)
    torch.testing.assert_close(back.encode(SENTENCES), ours, rtol=0, atol=0)


def test_bad_input_is_refused_with_the_fix(table, tmp_path):
    with pytest.raises(ValueError, match="embedding_weights .* or embedding_dim"):
        StaticEncoder(word_tokenizer())
    with pytest.raises(ValueError, match="every token id needs a row"):
        StaticEncoder(word_tokenizer(), table[:5])
    with pytest.raises(ValueError, match=r"\(rows, dim\)"):
        StaticEncoder(word_tokenizer(), table[0])
    with pytest.raises(TypeError, match="fast"):
        StaticEncoder(object(), table)
    with pytest.raises(TypeError, match="SentenceEncoder"):
        StaticEncoder.from_model(StaticEncoder(word_tokenizer(), table))
    encoder = StaticEncoder(word_tokenizer(), table)
    with pytest.raises(ValueError, match="do not all fit the table"):
        encoder({"input_ids": torch.tensor([[2, 99]]), "attention_mask": torch.tensor([[1, 1]])})
    with pytest.raises(ValueError, match="must both be"):
        encoder({"input_ids": torch.tensor([[2, 3]]), "attention_mask": torch.tensor([[1, 1, 0]])})
    with pytest.raises(TypeError, match="single string"):
        encoder.encode("a cat")
    with pytest.raises(ValueError, match="batch_size"):
        encoder.encode(["a cat"], batch_size=0)
    with pytest.raises(FileNotFoundError, match="modules.json"):
        load_static(tmp_path)
