"""Batch-hard triplet loss for (sentence, class) data (chapter 8).

For each anchor, take the *farthest* sentence of its own class and the
*closest* sentence of another class in the batch, and apply the triplet hinge.
Each class needs at least two sentences in a batch, or an anchor has no positive.

Reference: Hermans, Beyer & Leibe (2017), *In Defense of the Triplet Loss for
Person Re-Identification*, arXiv:1703.07737.

Inputs: one text column ``sentence`` and an integer ``label``.

Margin: 1.0 by default here, the SBERT paper's triplet margin (Euclidean distance);
sentence-transformers' ``BatchHardTripletLoss`` defaults to 5. Pass ``margin=5`` to match it.

Example:
    >>> import torch
    >>> emb = torch.tensor([[0.0, 0.0], [0.1, 0.0], [5.0, 0.0], [5.1, 0.0]])
    >>> batch_hard_triplet_loss_from_embeddings(emb, torch.tensor([0, 0, 1, 1]))
    tensor(0.)
"""

from __future__ import annotations

import torch

from .base import Objective, computed_in_float32, require_labels


def _euclidean_matrix(x: torch.Tensor) -> torch.Tensor:
    sq = (x.unsqueeze(1) - x.unsqueeze(0)).pow(2).sum(-1)
    # sqrt has an infinite gradient at 0 (the diagonal): keep those entries at exactly 0
    zero = sq == 0
    return torch.where(zero, torch.zeros_like(sq), sq.masked_fill(zero, 1.0).sqrt())


@computed_in_float32
def batch_hard_triplet_loss_from_embeddings(embeddings, labels, margin: float = 1.0):
    """Mean over anchors of ``max(hardest_pos - hardest_neg + margin, 0)``."""
    if labels.numel() != embeddings.shape[0]:
        raise ValueError(f"Expected {embeddings.shape[0]} labels, one per sentence, got {labels.numel()}.")
    labels = labels.view(-1)
    dist = _euclidean_matrix(embeddings)
    same = labels.unsqueeze(0) == labels.unsqueeze(1)
    eye = torch.eye(len(labels), dtype=torch.bool, device=labels.device)
    hardest_pos = (dist * (same & ~eye)).max(dim=1).values
    # push same-class entries out of reach before taking the minimum
    hardest_neg = (dist + dist.max(dim=1, keepdim=True).values * same).min(dim=1).values
    return torch.relu(hardest_pos - hardest_neg + margin).mean()


class BatchHardTripletObjective(Objective):
    """Batch-hard triplet loss (Euclidean). Args: ``margin`` (default 1.0, the paper's; sentence-transformers: 5)."""

    text_columns = ("sentence",)
    label_column = "label"

    def __init__(self, encoder, margin: float = 1.0):
        super().__init__(encoder)
        self.margin = margin

    def loss_from_embeddings(self, embeddings, labels):
        return batch_hard_triplet_loss_from_embeddings(embeddings[0], require_labels(labels, "batch_hard"), self.margin)
