"""Triplet objective (chapter 6).

``max(d(a, p) - d(a, n) + margin, 0)``: the anchor must be closer to the
positive than to the negative by at least ``margin``. The paper uses
Euclidean distance and margin 1 (sentence-transformers' default margin is 5).

Reference: Reimers & Gurevych (2019), arXiv:1908.10084, section 3;
Schroff et al. (2015), *FaceNet*.

Inputs: ``(anchor, positive, negative)``, no label.

Example:
    >>> import torch
    >>> a = torch.zeros(1, 2); p = torch.tensor([[0.1, 0.0]]); n = torch.tensor([[3.0, 0.0]])
    >>> triplet_loss_from_embeddings(a, p, n)   # n is already > margin further away
    tensor(0.)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..validation import check_choice
from .base import Objective, computed_in_float32

TRIPLET_DISTANCES = {
    "euclidean": lambda x, y: F.pairwise_distance(x, y, p=2, eps=0),
    "cosine": lambda x, y: 1 - F.cosine_similarity(x, y, dim=-1),
    "manhattan": lambda x, y: F.pairwise_distance(x, y, p=1, eps=0),
}


@computed_in_float32
def triplet_loss_from_embeddings(anchor, positive, negative, margin: float = 1.0, distance: str = "euclidean"):
    """Mean hinge loss over the triplets."""
    check_choice(distance, TRIPLET_DISTANCES, "triplet distance")
    d = TRIPLET_DISTANCES[distance]
    return F.relu(d(anchor, positive) - d(anchor, negative) + margin).mean()


class TripletObjective(Objective):
    """The paper's triplet objective. Args: ``margin`` (1.0), ``distance`` ("euclidean")."""

    text_columns = ("anchor", "positive", "negative")

    def __init__(self, encoder, margin: float = 1.0, distance: str = "euclidean"):
        super().__init__(encoder)
        check_choice(distance, TRIPLET_DISTANCES, "triplet distance")
        self.margin, self.distance = margin, distance

    def loss_from_embeddings(self, embeddings, labels=None):
        a, p, n = embeddings
        return triplet_loss_from_embeddings(a, p, n, self.margin, self.distance)
