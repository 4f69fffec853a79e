"""Cached MNR (GradCache), Matryoshka and MSE distillation: the maths on hand-made tensors, the
gradients of the cached objective against the uncached one, and parity with sentence-transformers
on one batch through a tiny one-layer encoder (the same weights on both sides)."""

from __future__ import annotations

import copy
from contextlib import contextmanager

import pytest
import torch

from sbert_teach import resources
from sbert_teach.models import build_untuned_encoder
from sbert_teach.objectives import (
    CachedMultipleNegativesRankingObjective, DistillationMSEObjective, MatryoshkaObjective,
    MultipleNegativesRankingObjective, RegressionObjective, SoftmaxObjective, make_objective,
    matryoshka_loss_from_embeddings, mnr_loss_from_embeddings, mse_loss_from_embeddings)
from sbert_teach.objectives.cached_mnr import RandomState, mini_batches

ANCHORS = ["A man is playing a guitar.", "A woman slices an onion on a board in the kitchen.", "Rain.",
           "Two dogs run along the beach.", "A child reads a book.", "The market is busy this morning."]
POSITIVES = ["Someone plays music.", "Cooking.", "It is raining outside today, again.", "Dogs on the sand.",
             "A kid is reading.", "Many people are shopping at the stalls."]
NEGATIVES = ["A cat sleeps.", "A man sings loudly on a stage in front of a crowd.", "Sunshine.", "A car parks.",
             "An old man writes a letter.", "The shop is closed."]
B = len(ANCHORS)


@pytest.fixture(scope="module")
def shared_encoder():
    return build_untuned_encoder(resources.packaged_model_path(), seed=0, num_layers=1)


@pytest.fixture
def encoder(shared_encoder):
    """A fresh copy of the one-layer encoder (eval mode: no dropout unless a test turns it on)."""
    return copy.deepcopy(shared_encoder).eval()


@pytest.fixture(scope="module")
def st_model(shared_encoder):
    """The same weights as a sentence-transformers model (each test sets its mode and clears its gradients)."""
    from sbert_teach.library import as_sentence_transformer

    return as_sentence_transformer(shared_encoder)


def library_loss_and_grads(st_model, loss_module, texts, labels=None, seed=0):
    """What :func:`loss_and_grads` gives, through the library's loss on its own tokenisation."""
    st_model.zero_grad(set_to_none=True)
    torch.manual_seed(seed)
    loss = loss_module([st_model.preprocess(list(t)) for t in texts], labels)
    loss.backward()
    return loss.detach(), {f"transformer.{n}": p.grad.clone()
                           for n, p in st_model[0].auto_model.named_parameters() if p.grad is not None}


def columns(encoder, *texts):
    return [encoder.tokenize(list(t)) for t in texts]


def loss_and_grads(objective, features, labels=None, seed=0):
    """The loss and every encoder gradient of one backward pass, from a fixed random state."""
    objective.zero_grad(set_to_none=True)
    torch.manual_seed(seed)
    loss = objective(features, labels)
    loss.backward()
    return loss.detach(), {n: p.grad.clone() for n, p in objective.encoder.named_parameters() if p.grad is not None}


def assert_same(a, b, rtol=1e-5, atol=1e-5):
    (loss_a, grads_a), (loss_b, grads_b) = a, b
    torch.testing.assert_close(loss_a, loss_b, rtol=rtol, atol=atol)
    assert grads_a.keys() == grads_b.keys() and len(grads_a) > 10
    for name in grads_a:
        torch.testing.assert_close(grads_a[name], grads_b[name], rtol=rtol, atol=atol, msg=name)


# -- cached MNR ----------------------------------------------------------------------

def test_mini_batches_cut_rows_and_the_padding_they_do_not_use(encoder):
    features = encoder.tokenize(["a b c d e f g", "a", "a b", "a"])
    parts = mini_batches(features, 2)
    assert [p["input_ids"].shape[0] for p in parts] == [2, 2]
    assert parts[0]["input_ids"].shape[1] == features["input_ids"].shape[1]  # holds the longest sentence
    assert parts[1]["attention_mask"].shape[1] == 4  # [CLS] a b [SEP]: the batch's extra padding dropped
    torch.testing.assert_close(parts[1]["input_ids"], features["input_ids"][2:, :4])


@pytest.mark.parametrize("with_negatives", [False, True])
def test_cached_gradients_equal_full_batch_mnr_without_dropout(encoder, with_negatives):
    features = columns(encoder, ANCHORS, POSITIVES, *([NEGATIVES] if with_negatives else []))
    full = loss_and_grads(MultipleNegativesRankingObjective(encoder), features)
    cached = loss_and_grads(CachedMultipleNegativesRankingObjective(encoder, mini_batch_size=2), features)
    assert full[0] > 0.1  # a real loss, with real gradients
    assert_same(cached, full)


def test_with_dropout_one_mini_batch_gives_exactly_the_full_batch_gradients(encoder):
    encoder.train()
    features = columns(encoder, ANCHORS, POSITIVES)
    full = loss_and_grads(MultipleNegativesRankingObjective(encoder), features)
    cached = loss_and_grads(CachedMultipleNegativesRankingObjective(encoder, mini_batch_size=B), features)
    assert_same(cached, full)
    encoder.eval()  # dropout really was drawn: the same batch without it gives another loss
    assert abs(loss_and_grads(MultipleNegativesRankingObjective(encoder), features)[0] - full[0]) > 1e-4


def _uncached_on_the_same_mini_batches(encoder, features, mini_batch_size, seed=0):
    """What GradCache must reproduce: every mini-batch embedded with gradients, in the same order."""
    encoder.zero_grad(set_to_none=True)
    torch.manual_seed(seed)
    vectors = [torch.cat([encoder(p) for p in mini_batches(f, mini_batch_size)]) for f in features]
    loss = mnr_loss_from_embeddings(*vectors)
    loss.backward()
    return loss.detach(), {n: p.grad.clone() for n, p in encoder.named_parameters() if p.grad is not None}


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=pytest.mark.skipif(
    not torch.cuda.is_available(), reason="the CUDA random state is replayed only on a GPU"))])
def test_with_dropout_the_replayed_random_state_gives_the_masks_of_the_first_pass(encoder, monkeypatch, device):
    encoder.to(device).train()
    features = columns(encoder, ANCHORS, POSITIVES)
    expected = _uncached_on_the_same_mini_batches(encoder, features, 2)
    objective = CachedMultipleNegativesRankingObjective(encoder, mini_batch_size=2)
    assert_same(loss_and_grads(objective, features), expected)

    @contextmanager
    def not_replayed(self):
        yield

    monkeypatch.setattr(RandomState, "replayed", not_replayed)  # the second pass draws new dropout masks
    loss, grads = loss_and_grads(objective, features)
    torch.testing.assert_close(loss, expected[0])  # the first pass is unchanged, its gradients are not
    assert any(not torch.allclose(grads[n], expected[1][n], rtol=1e-3, atol=1e-5) for n in grads)


def test_no_forward_pass_with_gradients_sees_more_than_a_mini_batch(encoder):
    seen = []  # (gradients on?, rows) of every encoder call
    encoder.register_forward_pre_hook(lambda module, args: seen.append((torch.is_grad_enabled(),
                                                                        args[0]["input_ids"].shape[0])))
    objective = CachedMultipleNegativesRankingObjective(encoder, mini_batch_size=2)
    loss = objective(columns(encoder, ANCHORS, POSITIVES, NEGATIVES))
    assert seen and all(not grad for grad, _ in seen)  # pass 1: no graph kept
    loss.backward()
    with_grad = [rows for grad, rows in seen if grad]
    assert with_grad and max(with_grad) <= 2 and sum(with_grad) == 3 * B  # pass 3: every row, two at a time

    seen.clear()
    with torch.no_grad():  # evaluation: one pass, nothing to replay
        CachedMultipleNegativesRankingObjective(encoder, mini_batch_size=4)(columns(encoder, ANCHORS, POSITIVES))
    assert [rows for _, rows in seen] == [4, 2, 4, 2]


def test_cached_mnr_inside_the_package_training_step(encoder):
    from sbert_teach.training import training_step

    features = columns(encoder, ANCHORS, POSITIVES)
    weights = {}
    cached = CachedMultipleNegativesRankingObjective(copy.deepcopy(encoder), mini_batch_size=2)
    for name, objective in [("full", MultipleNegativesRankingObjective(copy.deepcopy(encoder))), ("cached", cached)]:
        optimizer = torch.optim.SGD(objective.parameters(), lr=0.5)
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
        scaler = torch.amp.GradScaler("cpu", enabled=False)
        training_step(objective, features, None, optimizer, scheduler, scaler, max_grad_norm=1.0)
        weights[name] = dict(objective.encoder.named_parameters())
    moved = [n for n, p in encoder.named_parameters() if not torch.equal(p, weights["full"][n])]
    assert len(moved) > 10
    for n in moved:
        torch.testing.assert_close(weights["cached"][n], weights["full"][n], rtol=1e-5, atol=1e-6, msg=n)


def test_the_second_pass_runs_under_the_autocast_of_the_first(encoder):
    """A training step calls backward outside autocast; the replay must still compute in bf16."""
    features = columns(encoder, ANCHORS, POSITIVES)
    dtypes = []  # (gradients on?, dtype) of a dense layer's output in every forward pass
    encoder.transformer.encoder.layer[0].intermediate.dense.register_forward_hook(
        lambda module, args, out: dtypes.append((torch.is_grad_enabled(), out.dtype)))

    def bf16_loss_and_grads(objective):
        objective.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            loss = objective(features)
        loss.backward()  # outside autocast, as in training_step
        return loss.detach(), torch.cat([p.grad.flatten() for p in encoder.parameters() if p.grad is not None])

    full_loss, full_grad = bf16_loss_and_grads(MultipleNegativesRankingObjective(encoder))
    dtypes.clear()
    cached_loss, cached_grad = bf16_loss_and_grads(CachedMultipleNegativesRankingObjective(encoder, mini_batch_size=B))
    assert dtypes == [(False, torch.bfloat16)] * 2 + [(True, torch.bfloat16)] * 2  # pass 1, then pass 3, in bf16
    torch.testing.assert_close(cached_loss, full_loss)
    # bf16 kernels may differ between a pass without and with gradients, so the match is bf16-close, not exact
    assert (cached_grad - full_grad).norm() < 1e-2 * full_grad.norm()


def test_cached_mnr_equals_the_library_on_one_batch_with_dropout(encoder, st_model):
    from sentence_transformers.sentence_transformer.losses import CachedMultipleNegativesRankingLoss

    encoder.train()
    st_model.train()  # dropout on both sides: the same masks only if both replay the same random states
    try:
        ours = loss_and_grads(CachedMultipleNegativesRankingObjective(encoder, mini_batch_size=2),
                              columns(encoder, ANCHORS, POSITIVES, NEGATIVES))
        theirs = library_loss_and_grads(st_model, CachedMultipleNegativesRankingLoss(st_model, scale=20.0,
                                                                                     mini_batch_size=2),
                                        (ANCHORS, POSITIVES, NEGATIVES))
    finally:
        st_model.eval()
    assert_same(ours, theirs)


def test_cached_mnr_bad_settings_are_clear_errors(encoder):
    with pytest.raises(ValueError, match="mini_batch_size must be a positive whole number"):
        make_objective("cached_mnr", encoder, mini_batch_size=0)
    assert make_objective("cached_mnr", encoder, use_hard_negatives=False).text_columns == ("anchor", "positive")
    # a mini-batch larger than the batch would cache nothing: refused when training, before any backward pass
    objective = make_objective("cached_mnr", encoder, mini_batch_size=B + 1)
    with pytest.raises(ValueError, match=rf"mini_batch_size={B + 1} is larger than the batch of {B} rows.*at most {B}"):
        objective(columns(encoder, ANCHORS, POSITIVES))
    with torch.no_grad():  # evaluation batches may be any size
        assert torch.isfinite(objective(columns(encoder, ANCHORS, POSITIVES)))


def test_distillation_widths_are_checked_before_training():
    from sbert_teach.objectives.distillation import check_same_width

    check_same_width(384, 384)
    with pytest.raises(ValueError, match=r"384 dimensions but the teacher's have 768.*dense_dim=768.*PCA"):
        check_same_width(384, 768)


def test_the_training_loop_trains_the_cached_objective(encoder):
    from datasets import Dataset

    from sbert_teach import TrainConfig, train

    before = encoder.transformer.encoder.layer[0].output.dense.weight.clone()
    objective = make_objective("cached_mnr", encoder, mini_batch_size=2, use_hard_negatives=False)
    data = Dataset.from_dict({"anchor": ANCHORS, "positive": POSITIVES})
    result = train(objective, data, TrainConfig(batch_size=3, max_steps=2, learning_rate=1e-3, show_progress=False,
                                                device="cpu"))
    assert len(result.losses) == 2 and all(torch.isfinite(torch.tensor(result.losses)))
    assert not torch.equal(encoder.transformer.encoder.layer[0].output.dense.weight, before)


# -- Matryoshka ----------------------------------------------------------------------

def rand(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def test_matryoshka_is_the_weighted_sum_of_the_inner_loss_on_cut_renormalised_vectors():
    a, p = rand(5, 6), rand(5, 6, seed=1)

    def mnr(embeddings, labels):
        return mnr_loss_from_embeddings(*embeddings)

    expected = mnr([a, p], None) + 0.5 * mnr([a[:, :3], p[:, :3]], None)
    torch.testing.assert_close(matryoshka_loss_from_embeddings(mnr, [a, p], None, (6, 3), (1.0, 0.5)), expected)

    def mse(embeddings, labels):
        return mse_loss_from_embeddings(embeddings[0], labels)

    unit = torch.nn.functional.normalize
    teacher = rand(5, 6, seed=2)  # vectors of the full width: cut with the student's, not normalised
    expected = mse([unit(a, dim=-1)], teacher) + mse([unit(a[:, :2], dim=-1)], teacher[:, :2])
    torch.testing.assert_close(matryoshka_loss_from_embeddings(mse, [a], teacher, (6, 2)), expected)


def test_matryoshka_bad_dims_are_clear_errors(encoder):
    mnr = MultipleNegativesRankingObjective(encoder)
    with pytest.raises(ValueError, match="at least one width"):
        MatryoshkaObjective(mnr, dims=())
    with pytest.raises(ValueError, match=r"decreasing order.*\(384, 64, 32\)"):
        MatryoshkaObjective(mnr, dims=(32, 384, 64))
    with pytest.raises(ValueError, match=r"decreasing order"):
        MatryoshkaObjective(mnr, dims=(384, 64, 64))
    with pytest.raises(ValueError, match="wider than the 384-dimensional embeddings"):
        MatryoshkaObjective(mnr, dims=(512, 384))
    with pytest.raises(ValueError, match="positive whole numbers"):
        MatryoshkaObjective(mnr, dims=(384, 0))
    with pytest.raises(ValueError, match="one Matryoshka weight per width"):
        MatryoshkaObjective(mnr, dims=(384, 64), weights=(1.0,))
    with pytest.raises(ValueError, match="wider than the 6-dimensional"):  # the pure function checks too
        matryoshka_loss_from_embeddings(lambda e, l: e[0].sum(), [rand(2, 6)], None, (8, 4))
    with pytest.raises(ValueError, match="layers of its own"):
        MatryoshkaObjective(SoftmaxObjective(encoder), dims=(384, 64))
    with pytest.warns(UserWarning, match="leave out the full width 384"):
        MatryoshkaObjective(mnr, dims=(256, 64))


def test_matryoshka_keeps_one_copy_of_the_encoder_and_the_fast_embedding_path(encoder):
    from sbert_teach.training import uses_plain_forward

    objective = make_objective("matryoshka", encoder, inner="regression", dims=(384, 64))
    assert isinstance(objective.inner, RegressionObjective) and objective.label_column == "score"
    assert {k.split(".")[0] for k in objective.state_dict()} == {"encoder"}
    assert objective.extra_state_dict() == {}
    assert uses_plain_forward(objective)
    cached = MatryoshkaObjective(CachedMultipleNegativesRankingObjective(encoder, mini_batch_size=2), dims=(384, 64))
    assert isinstance(cached, MatryoshkaObjective) and not uses_plain_forward(cached)  # the inner embeds its own way
    assert uses_plain_forward(copy.deepcopy(objective))


def test_matryoshka_around_cached_mnr_equals_it_around_mnr(encoder):
    features = columns(encoder, ANCHORS, POSITIVES)
    plain = loss_and_grads(MatryoshkaObjective(MultipleNegativesRankingObjective(encoder), dims=(384, 128, 32)),
                           features)
    cached = loss_and_grads(MatryoshkaObjective(CachedMultipleNegativesRankingObjective(encoder, mini_batch_size=2),
                                                dims=(384, 128, 32)), features)
    assert_same(cached, plain)


def test_matryoshka_equals_the_library_on_one_batch(encoder, st_model):
    from sentence_transformers.sentence_transformer.losses import MatryoshkaLoss, MultipleNegativesRankingLoss

    dims, weights = (384, 128, 32), (1.0, 0.5, 2.0)
    ours = loss_and_grads(MatryoshkaObjective(MultipleNegativesRankingObjective(encoder), dims, weights),
                          columns(encoder, ANCHORS, POSITIVES))
    theirs = library_loss_and_grads(st_model, MatryoshkaLoss(st_model, MultipleNegativesRankingLoss(st_model),
                                                             list(dims), list(weights)), (ANCHORS, POSITIVES))
    assert_same(ours, theirs)


# -- MSE distillation ----------------------------------------------------------------

def test_mse_is_the_mean_squared_difference_and_float32_for_half_inputs():
    student, teacher = rand(4, 6), rand(4, 6, seed=1)
    torch.testing.assert_close(mse_loss_from_embeddings(student, teacher), ((student - teacher) ** 2).mean())
    half = mse_loss_from_embeddings(student.bfloat16(), teacher)
    assert half.dtype == torch.float32
    torch.testing.assert_close(half, ((student.bfloat16().float() - teacher) ** 2).mean())


def test_mse_mismatched_widths_and_missing_teacher_are_clear_errors(encoder):
    with pytest.raises(ValueError, match=r"384 dimensions but the teacher's have 768.*dense_dim=768.*PCA"):
        mse_loss_from_embeddings(rand(2, 384), rand(2, 768))
    with pytest.raises(ValueError, match="Expected 3 teacher vectors"):
        mse_loss_from_embeddings(rand(3, 6), rand(2, 6))
    with pytest.raises(ValueError, match="needs labels"):
        DistillationMSEObjective(encoder)(columns(encoder, ANCHORS), None)


@pytest.mark.parametrize("text_columns", [("sentence",), ("english", "translation")])
def test_mse_distillation_equals_the_library_on_one_batch(encoder, st_model, text_columns):
    from sentence_transformers.sentence_transformer.losses import MSELoss

    texts = [ANCHORS, POSITIVES][:len(text_columns)]
    teacher = rand(B, encoder.embedding_dim, seed=3) * 0.1
    objective = make_objective("distill_mse", encoder, text_columns=text_columns)
    assert objective.label_column == "teacher_embedding" and objective.label_dtype == torch.float32
    ours = loss_and_grads(objective, columns(encoder, *texts), teacher)
    assert_same(ours, library_loss_and_grads(st_model, MSELoss(st_model), texts, teacher))
