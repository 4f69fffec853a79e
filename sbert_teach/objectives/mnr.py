"""Multiple-negatives ranking: in-batch negatives (chapter 6, "modern practice").

For anchor ``i`` the right answer is positive ``i``; every other positive in
the batch (and every hard negative, if given) is a wrong answer. Scores are
cosine similarities times ``scale`` (20, i.e. temperature 0.05), and the loss
is cross-entropy with the diagonal as target. A batch of B pairs gives each
anchor B - 1 negatives for free, so bigger batches train better.

Reference: Henderson et al. (2017), *Efficient Natural Language Response
Suggestion for Smart Reply*, arXiv:1705.00652.

Inputs: ``(anchor, positive)`` or ``(anchor, positive, negative)``, no label.

Example:
    >>> import torch
    >>> a = torch.eye(3); p = torch.eye(3)
    >>> float(mnr_loss_from_embeddings(a, p)) < 1e-6
    True
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..distributed import gather_with_grad, is_distributed, rank_and_world
from ..precision import upcast_half
from .base import Objective, computed_in_float32


@computed_in_float32
def mnr_loss_from_embeddings(anchors, positives, *negatives, scale: float = 20.0):
    """Cross-entropy over ``scale * cos(anchor_i, candidate_j)``; candidate ``i`` is right."""
    candidates = torch.cat([positives, *negatives], dim=0)
    scores = scale * F.normalize(anchors, dim=-1) @ F.normalize(candidates, dim=-1).T
    target = torch.arange(anchors.shape[0], device=anchors.device)
    return F.cross_entropy(scores, target)


class MultipleNegativesRankingObjective(Objective):
    """In-batch negatives with cosine similarity and ``scale`` (default 20)."""

    text_columns = ("anchor", "positive", "negative")

    def __init__(self, encoder, scale: float = 20.0, use_hard_negatives: bool = True):
        super().__init__(encoder)
        self.scale = scale
        if not use_hard_negatives:
            self.text_columns = ("anchor", "positive")

    def loss_from_embeddings(self, embeddings, labels=None):
        if not is_distributed():
            return mnr_loss_from_embeddings(*embeddings, scale=self.scale)
        # Under torchrun each process holds a slice of the global batch. Gather every process's
        # candidates so each anchor ranks its positive against the whole global batch, as one
        # process would; the right candidate of local anchor i is global row rank * b + i.
        anchors, *candidates = [upcast_half(e) for e in embeddings]  # as in the single-process loss
        rank, _ = rank_and_world()
        gathered = [gather_with_grad(c) for c in candidates]
        scores = self.scale * F.normalize(anchors, dim=-1) @ F.normalize(torch.cat(gathered), dim=-1).T
        target = torch.arange(anchors.shape[0], device=anchors.device) + rank * anchors.shape[0]
        return F.cross_entropy(scores, target)
