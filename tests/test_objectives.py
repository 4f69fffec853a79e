"""Each loss on hand-made embeddings, and numerical parity with sentence-transformers."""

import pytest
import torch
from torch import nn

from sbert_teach.objectives import (
    SoftmaxObjective, batch_hard_triplet_loss_from_embeddings, make_objective, mnr_loss_from_embeddings,
    regression_loss_from_embeddings, softmax_features, softmax_loss_from_embeddings, triplet_loss_from_embeddings,
)

D = 6


def rand(*shape, seed=0):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def toward(a, b, t):
    """Point a fraction ``t`` of the way from ``b`` to ``a``."""
    return b + t * (a - b)


# -- behaviour on hand-made tensors ------------------------------------------------

def test_softmax_classifier_input_is_u_v_absdiff():
    u, v = rand(4, D), rand(4, D, seed=1)
    torch.testing.assert_close(softmax_features(u, v), torch.cat([u, v, (u - v).abs()], dim=1))
    torch.testing.assert_close(softmax_features(u, v, ("u*v",)), u * v)

    class Fake(nn.Module):
        embedding_dim = D
    assert SoftmaxObjective(Fake()).classifier.in_features == 3 * D
    assert SoftmaxObjective(Fake(), concatenation=("u", "v", "|u-v|", "u*v")).classifier.in_features == 4 * D


def test_softmax_loss_falls_when_the_classifier_favours_the_gold_label():
    u, v = rand(5, D), rand(5, D, seed=1)
    labels = torch.tensor([0, 1, 2, 0, 1])
    head = nn.Linear(3 * D, 3)
    before = softmax_loss_from_embeddings(u, v, labels, head)
    opt = torch.optim.SGD(head.parameters(), lr=0.5)
    for _ in range(20):
        opt.zero_grad()
        softmax_loss_from_embeddings(u, v, labels, head).backward()
        opt.step()
    assert softmax_loss_from_embeddings(u, v, labels, head) < before


def test_regression_loss_goes_down_as_a_similar_pair_moves_closer():
    u, v = rand(3, D), rand(3, D, seed=1)
    gold = torch.ones(3)
    losses = [regression_loss_from_embeddings(u, toward(u, v, t), gold).item() for t in (0.0, 0.5, 0.9)]
    assert losses[0] > losses[1] > losses[2]


@pytest.mark.parametrize("distance", ["euclidean", "cosine", "manhattan"])
def test_triplet_loss_goes_down_as_the_positive_moves_closer(distance):
    a, p, n = rand(3, D), rand(3, D, seed=1), rand(3, D, seed=2)
    losses = [triplet_loss_from_embeddings(a, toward(a, p, t), n, margin=10.0, distance=distance).item()
              for t in (0.0, 0.5, 0.9)]
    assert losses[0] > losses[1] > losses[2]


def test_triplet_margin_is_the_papers_one_by_default():
    a = torch.zeros(1, 2)
    p = torch.tensor([[1.0, 0.0]])
    n = torch.tensor([[1.5, 0.0]])  # d(a,n) - d(a,p) = 0.5 < margin 1
    torch.testing.assert_close(triplet_loss_from_embeddings(a, p, n), torch.tensor(0.5))


def test_mnr_loss_goes_down_as_positives_move_to_their_anchors():
    a, p = rand(4, D), rand(4, D, seed=1)
    losses = [mnr_loss_from_embeddings(a, toward(a, p, t)).item() for t in (0.0, 0.5, 0.9)]
    assert losses[0] > losses[1] > losses[2]


def test_batch_hard_loss_goes_down_as_classes_tighten():
    emb, labels = rand(6, D), torch.tensor([0, 0, 1, 1, 2, 2])
    centres = torch.stack([emb[labels == c].mean(0) for c in labels])
    losses = [batch_hard_triplet_loss_from_embeddings(toward(centres, emb, t), labels, margin=5.0).item()
              for t in (0.0, 0.5, 0.9)]
    assert losses[0] > losses[1] > losses[2]


def test_bad_objective_inputs_are_clear_errors():
    with pytest.raises(ValueError, match="Unknown objective 'contrastive'.*softmax"):
        make_objective("contrastive", encoder=None)
    with pytest.raises(ValueError, match=r"Unknown concatenation part 'u\+v'"):
        softmax_features(rand(2, D), rand(2, D), ("u", "u+v"))
    with pytest.raises(ValueError, match="Unknown triplet distance"):
        triplet_loss_from_embeddings(rand(2, D), rand(2, D), rand(2, D), distance="chebyshev")
    with pytest.raises(ValueError, match="Labels must be in 0..2"):
        softmax_loss_from_embeddings(rand(2, D), rand(2, D), torch.tensor([0, 3]), nn.Linear(3 * D, 3))
    with pytest.raises(ValueError, match="Expected 2 scores"):
        regression_loss_from_embeddings(rand(2, D), rand(2, D), torch.ones(3))


# -- parity with sentence-transformers ---------------------------------------------

class EmbeddingsAsModel(nn.Module):
    """Stands in for a SentenceTransformer: its 'features' already are the embeddings."""

    def __init__(self):
        super().__init__()
        self.anchor = nn.Parameter(torch.zeros(1))

    @property
    def device(self):
        return self.anchor.device

    def forward(self, features):
        return {"sentence_embedding": features["sentence_embedding"]}


def test_parity_softmax():
    from sentence_transformers.sentence_transformer.losses import SoftmaxLoss

    u, v, labels = rand(8, D), rand(8, D, seed=1), torch.tensor([0, 1, 2, 2, 1, 0, 0, 1])
    theirs = SoftmaxLoss(EmbeddingsAsModel(), D, num_labels=3)
    head = nn.Linear(3 * D, 3)
    head.load_state_dict(theirs.classifier.state_dict())
    expected = theirs([{"sentence_embedding": u}, {"sentence_embedding": v}], labels)
    torch.testing.assert_close(softmax_loss_from_embeddings(u, v, labels, head), expected, rtol=1e-6, atol=1e-6)


def test_parity_regression():
    from sentence_transformers.sentence_transformer.losses import CosineSimilarityLoss

    u, v, scores = rand(8, D), rand(8, D, seed=1), torch.rand(8, generator=torch.Generator().manual_seed(2))
    expected = CosineSimilarityLoss(EmbeddingsAsModel()).compute_loss_from_embeddings([u, v], scores)
    torch.testing.assert_close(regression_loss_from_embeddings(u, v, scores), expected, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("distance", ["euclidean", "cosine", "manhattan"])
def test_parity_triplet(distance):
    from sentence_transformers.sentence_transformer.losses import TripletDistanceMetric, TripletLoss

    a, p, n = rand(8, D), rand(8, D, seed=1), rand(8, D, seed=2)
    theirs = TripletLoss(EmbeddingsAsModel(), getattr(TripletDistanceMetric, distance.upper()), triplet_margin=1.0)
    expected = theirs.compute_loss_from_embeddings([a, p, n], None)
    torch.testing.assert_close(triplet_loss_from_embeddings(a, p, n, 1.0, distance), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("with_negatives", [False, True])
def test_parity_multiple_negatives_ranking(with_negatives):
    from sentence_transformers.sentence_transformer.losses import MultipleNegativesRankingLoss

    cols = [rand(8, D), rand(8, D, seed=1)] + ([rand(8, D, seed=2)] if with_negatives else [])
    expected = MultipleNegativesRankingLoss(EmbeddingsAsModel(), scale=20.0).compute_loss_from_embeddings(cols, None)
    torch.testing.assert_close(mnr_loss_from_embeddings(*cols, scale=20.0), expected, rtol=1e-5, atol=1e-5)


def test_parity_batch_hard_triplet():
    from sentence_transformers.sentence_transformer.losses import BatchHardTripletLoss

    emb, labels = rand(10, D), torch.tensor([0, 0, 1, 1, 1, 2, 2, 3, 3, 3])
    expected = BatchHardTripletLoss(EmbeddingsAsModel(), margin=1.0).compute_loss_from_embeddings([emb], labels)
    torch.testing.assert_close(batch_hard_triplet_loss_from_embeddings(emb, labels, 1.0), expected, rtol=1e-5, atol=1e-5)
