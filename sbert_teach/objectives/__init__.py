"""Training objectives (chapters 4-6, 8 and Part III).

Each objective is an ``nn.Module`` wrapping a :class:`~sbert_teach.encoder.SentenceEncoder`
plus a *pure* function ``*_loss_from_embeddings`` that takes plain tensors,
so the maths can be checked with hand-made vectors.

The names, the data shape each loss fits and the module behind it live in one place, the recipe
registry (:mod:`sbert_teach.recipe_registry`): :func:`make_objective` and :data:`OBJECTIVES` read
it, and so do the command line's ``--objective`` choices (``python -m sbert_teach train --help``
lists them with what each needs). Adding a loss: ``CONTRIBUTING.md``, "Adding a loss".

``make_objective("matryoshka", encoder, inner="mnr", dims=(384, 256, 128, 64, 32))`` wraps the
objective named ``inner`` (any without layers of its own: not ``softmax``), so that its vectors
still work when cut to their first 256, 128, ... numbers.
"""

from __future__ import annotations

from collections.abc import Mapping

from .batch_hard import BatchHardTripletObjective, batch_hard_triplet_loss_from_embeddings
from .cached_mnr import CachedMultipleNegativesRankingObjective
from .distillation import DistillationMSEObjective, mse_loss_from_embeddings
from .matryoshka import MatryoshkaObjective, make_matryoshka_objective, matryoshka_loss_from_embeddings
from .mnr import MultipleNegativesRankingObjective, mnr_loss_from_embeddings
from .regression import RegressionObjective, regression_loss_from_embeddings
from .softmax import CONCATENATION_PARTS, SoftmaxObjective, softmax_features, softmax_loss_from_embeddings
from .triplet import TRIPLET_DISTANCES, TripletObjective, triplet_loss_from_embeddings


class _Registered(Mapping):
    """``{name: objective class or factory}``, read from the recipe registry at each look-up (a view, not
    a second list: a loss registered there, even by a test, is here too)."""

    @staticmethod
    def _recipes():
        from ..recipe_registry import RECIPES  # the registry imports the objective modules: read it late

        return RECIPES

    def __getitem__(self, name):
        return self._recipes()[name].objective

    def __iter__(self):
        return iter(self._recipes())

    def __len__(self):
        return len(self._recipes())

    def __repr__(self):
        return f"OBJECTIVES({', '.join(self)})"


#: Every loss by name, as the recipe registry declares it.
OBJECTIVES = _Registered()


def make_objective(name: str, encoder, **kwargs):
    """Build the objective registered as ``name`` around ``encoder``; ``kwargs`` go to it (after the
    recipe's own ``options``), e.g. ``make_objective("mnr", encoder, use_hard_negatives=False)``."""
    from .. import recipe_registry

    recipe = recipe_registry.get(name)  # an unknown name: the error lists the registered ones
    return recipe.objective(encoder, **{**recipe.options, **kwargs})


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
