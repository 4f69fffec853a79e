"""Training objectives (chapters 4-6 and 8).

Each objective is an ``nn.Module`` wrapping a :class:`~sbert_teach.encoder.SentenceEncoder`
plus a *pure* function ``*_loss_from_embeddings`` that takes plain tensors,
so the maths can be checked with hand-made vectors.

================  ==========================================  ===================
name              data shape                                  module
================  ==========================================  ===================
``softmax``       (sentence1, sentence2) + class label        :mod:`.softmax`
``regression``    (sentence1, sentence2) + score in 0..1      :mod:`.regression`
``triplet``       (anchor, positive, negative)                :mod:`.triplet`
``mnr``           (anchor, positive[, negative]), no label    :mod:`.mnr`
``batch_hard``    (sentence) + class label                    :mod:`.batch_hard`
``cached_mnr``    as ``mnr``; big batches in small memory     :mod:`.cached_mnr`
``distill_mse``   (sentence) + the teacher's vector           :mod:`.distillation`
``matryoshka``    that of ``inner`` (default ``mnr``)         :mod:`.matryoshka`
================  ==========================================  ===================

``make_objective("matryoshka", encoder, inner="mnr", dims=(384, 256, 128, 64, 32))`` wraps the
objective named ``inner`` (any without layers of its own: not ``softmax``), so that its vectors
still work when cut to their first 256, 128, ... numbers.
"""

from __future__ import annotations

from ..validation import check_choice
from .batch_hard import BatchHardTripletObjective, batch_hard_triplet_loss_from_embeddings
from .cached_mnr import CachedMultipleNegativesRankingObjective
from .distillation import DistillationMSEObjective, mse_loss_from_embeddings
from .matryoshka import MatryoshkaObjective, make_matryoshka_objective, matryoshka_loss_from_embeddings
from .mnr import MultipleNegativesRankingObjective, mnr_loss_from_embeddings
from .regression import RegressionObjective, regression_loss_from_embeddings
from .softmax import CONCATENATION_PARTS, SoftmaxObjective, softmax_features, softmax_loss_from_embeddings
from .triplet import TRIPLET_DISTANCES, TripletObjective, triplet_loss_from_embeddings

OBJECTIVES = {
    "softmax": SoftmaxObjective,
    "regression": RegressionObjective,
    "triplet": TripletObjective,
    "mnr": MultipleNegativesRankingObjective,
    "batch_hard": BatchHardTripletObjective,
    "cached_mnr": CachedMultipleNegativesRankingObjective,
    "distill_mse": DistillationMSEObjective,
    "matryoshka": make_matryoshka_objective,
}


def make_objective(name: str, encoder, **kwargs):
    """Build an objective by name around ``encoder``."""
    check_choice(name, OBJECTIVES, "objective")
    return OBJECTIVES[name](encoder, **kwargs)


__all__ = [
    "OBJECTIVES", "make_objective", "CONCATENATION_PARTS", "TRIPLET_DISTANCES",
    "SoftmaxObjective", "softmax_features", "softmax_loss_from_embeddings",
    "RegressionObjective", "regression_loss_from_embeddings",
    "TripletObjective", "triplet_loss_from_embeddings",
    "MultipleNegativesRankingObjective", "mnr_loss_from_embeddings",
    "BatchHardTripletObjective", "batch_hard_triplet_loss_from_embeddings",
    "CachedMultipleNegativesRankingObjective",
    "DistillationMSEObjective", "mse_loss_from_embeddings",
    "MatryoshkaObjective", "make_matryoshka_objective", "matryoshka_loss_from_embeddings",
]
