"""Speed paths of the training loop compute the same thing as the plain one (sbert_teach.speed)."""

import pytest
import torch

from sbert_teach import TrainConfig, make_objective, train
from sbert_teach.data import TextColumnsCollator
from sbert_teach.speed import embed_length_sorted, embed_padding_free, plan_sub_batches, supports_padding_free


def test_plan_sub_batches_is_optimal_on_a_small_case():
    assert plan_sub_batches([30, 28, 12, 11, 10, 9], overhead_tokens=8) == [(0, 2), (2, 6)]
    assert plan_sub_batches([5, 5, 5], overhead_tokens=100) == [(0, 3)]
    assert plan_sub_batches([9, 5, 1], overhead_tokens=0) == [(0, 1), (1, 2), (2, 3)]
    assert plan_sub_batches([], 10) == []
    with pytest.raises(ValueError):
        plan_sub_batches([1, 5], 10)


@pytest.fixture
def batch(tiny_encoder):
    rows = [{"sentence1": a, "sentence2": b, "label": i % 3} for i, (a, b) in enumerate([
        ("A man is playing a guitar on a small stage in front of a crowd.", "A man plays music."),
        ("Dogs run.", "Two dogs are running through a field of tall grass near the river."),
        ("Someone is cooking.", "Nobody is in the kitchen."),
        ("A child in a red coat is sitting on a bench and eating an apple.", "A kid eats.")])]
    return TextColumnsCollator(tiny_encoder.tokenizer, ["sentence1", "sentence2"], "label")(rows)


@pytest.mark.parametrize("embed", [embed_length_sorted, embed_padding_free])
def test_speed_paths_give_the_same_loss_and_gradients(tiny_encoder, batch, embed):
    assert supports_padding_free(tiny_encoder.transformer)
    objective = make_objective("softmax", tiny_encoder).eval()  # eval: no dropout, so both are deterministic
    features, labels = batch
    results = []
    for fn in (lambda: objective.embed(features), lambda: embed(tiny_encoder, features)):
        objective.zero_grad()
        embeddings = fn()
        loss = objective.loss_from_embeddings(embeddings, labels)
        loss.backward()
        grads = torch.cat([p.grad.flatten() for p in objective.parameters() if p.grad is not None])
        results.append((torch.cat(embeddings).detach(), loss.detach(), grads))
    (e0, l0, g0), (e1, l1, g1) = results
    assert torch.allclose(e0, e1, atol=1e-5)
    assert torch.allclose(l0, l1, atol=1e-6)
    assert torch.allclose(g0, g1, atol=1e-5)


@pytest.mark.parametrize("switches", [{}, {"padding_free": False}, {"padding_free": False, "smart_batching": False},
                                      {"dynamic_padding": False}, {"fused_optimizer": False}, {"sync_every": 3}])
def test_every_speed_switch_trains(tiny_encoder, toy_pairs, switches):
    config = TrainConfig(batch_size=4, max_steps=4, learning_rate=1e-4, show_progress=False, **switches)
    result = train(make_objective("regression", tiny_encoder), toy_pairs, config)
    assert result.steps == 4 and len(result.losses) == 4 and all(map(lambda x: x == x, result.losses))


def test_non_finite_loss_still_stops_training(tiny_encoder, toy_pairs):
    class Broken(type(make_objective("regression", tiny_encoder))):
        def loss_from_embeddings(self, embeddings, labels):
            return super().loss_from_embeddings(embeddings, labels) * float("nan")

    with pytest.raises(FloatingPointError, match=r"at step 1 \(the batch of dataset rows .*before that step changed"):
        train(Broken(tiny_encoder), toy_pairs, TrainConfig(batch_size=4, max_steps=2, show_progress=False))
    with pytest.raises(FloatingPointError, match="at step 1"):
        train(Broken(tiny_encoder), toy_pairs, TrainConfig(batch_size=4, max_steps=2, show_progress=False, sync_every=5))


def test_encode_switches_give_the_same_vectors(tiny_encoder):
    sentences = ["A short one.", "A much longer sentence with quite a few more words in it.", "Mid length here."]
    ref = tiny_encoder.encode(sentences)
    for options in ({"padding_free": False}, {"smart_batching": False}, {"dynamic_padding": False},
                    {"inference_mode": False}, {"mixed_precision": "auto"}):  # autocast is CUDA only: a no-op on CPU
        assert torch.allclose(tiny_encoder.encode(sentences, batch_size=2, **options), ref, atol=1e-5), options


def test_encode_takes_the_padding_free_pass_only_where_it_is_exact(tiny_encoder, monkeypatch):
    sentences = ["A short one.", "A much longer sentence with quite a few more words in it.", "Mid length here.", "Hi."]
    plain = tiny_encoder.encode(sentences, batch_size=4, padding_free=False)
    calls = []
    monkeypatch.setattr(tiny_encoder.transformer, "forward", lambda *a, **k: calls.append(1) or 1 / 0)
    # on a CPU "auto" takes the padding-free pass: the BERT module's own forward is never called
    torch.testing.assert_close(tiny_encoder.encode(sentences, batch_size=4), plain, rtol=1e-4, atol=1e-5)
    assert calls == []
    torch.testing.assert_close(tiny_encoder.encode(sentences, batch_size=4, padding_free=True), plain,
                               rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="padding_free must be True, False or 'auto'"):
        tiny_encoder.encode(sentences, padding_free="yes")
    # left padding and fixed-length padding go through the model's own forward pass
    for options in ({"dynamic_padding": False}, {"padding_free": False}):
        with pytest.raises(ZeroDivisionError):
            tiny_encoder.encode(sentences, batch_size=4, **options)
    tiny_encoder.tokenizer.padding_side = "left"
    try:
        with pytest.raises(ZeroDivisionError):
            tiny_encoder.encode(sentences, batch_size=4)
    finally:
        tiny_encoder.tokenizer.padding_side = "right"
