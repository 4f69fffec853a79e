import pytest
import torch

SENTENCES = [
    "A man is playing a guitar.",
    "Dogs run.",
    "The quick brown fox jumps over the lazy dog near the river bank this morning.",
    "A woman slices an onion.",
    "Kids.",
]


def test_encode_returns_input_order_and_matches_one_by_one(tiny_encoder):
    batched = tiny_encoder.encode(SENTENCES, batch_size=2)
    single = torch.cat([tiny_encoder.encode([s]) for s in SENTENCES])
    assert batched.shape == (len(SENTENCES), 384)
    torch.testing.assert_close(batched, single, rtol=1e-4, atol=1e-5)


def test_smart_batching_does_not_change_results(tiny_encoder):
    torch.testing.assert_close(tiny_encoder.encode(SENTENCES, batch_size=2, smart_batching=True),
                               tiny_encoder.encode(SENTENCES, batch_size=2, smart_batching=False),
                               rtol=1e-4, atol=1e-5)


def test_left_padding_gives_the_same_embeddings(tiny_encoder):
    right = tiny_encoder.encode(SENTENCES, batch_size=5, smart_batching=False)
    tiny_encoder.tokenizer.padding_side = "left"
    left = tiny_encoder.encode(SENTENCES, batch_size=5, smart_batching=False)
    # BERT's position ids start at 0 for every row, so left padding shifts positions
    # of the padded rows; the unpadded (longest) row must be identical.
    torch.testing.assert_close(left[2], right[2], rtol=1e-4, atol=1e-5)


def test_encode_restores_training_mode(tiny_encoder):
    tiny_encoder.train()
    tiny_encoder.encode(SENTENCES[:2])
    assert tiny_encoder.training


def test_reference_matches_sentence_transformers_encode(reference):
    from sentence_transformers import SentenceTransformer

    from sbert_teach import resources

    st = SentenceTransformer(str(resources.packaged_model_path()), device="cpu")
    theirs = st.encode(SENTENCES, convert_to_tensor=True)
    torch.testing.assert_close(reference.encode(SENTENCES), theirs, rtol=1e-4, atol=1e-5)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_encode_returns_cpu_vectors_from_a_gpu_model(reference):
    """On a GPU, encode() still hands back CPU vectors, so `.numpy()` works in the chapters (Colab)."""
    model = reference.to("cuda")
    try:
        emb = model.encode(["A man is playing a guitar.", "Someone plays music."])
        assert emb.device.type == "cpu"
        assert model.encode(["One."], keep_on_device=True).device.type == "cuda"
        emb.numpy()
    finally:
        reference.to("cpu")


def test_a_loaded_model_is_in_eval_mode_and_encode_leaves_every_module_as_it_found_it():
    """A loaded model has dropout off, and encode() restores each submodule's own mode: before, a model whose
    top module said training while its transformer was in eval mode came out of encode() with dropout on."""
    from sbert_teach import get_model

    loaded = get_model("reference")
    assert not any(m.training for m in loaded.modules())
    loaded.encode(["a sentence"])
    assert not any(m.training for m in loaded.modules())
    loaded.transformer.train()  # a mixed state, as a chapter may leave it
    modes = [m.training for m in loaded.modules()]
    loaded.encode(["a sentence"])
    assert [m.training for m in loaded.modules()] == modes
    loaded.eval()
