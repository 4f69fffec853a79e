"""Regression objective: cosine similarity against a gold score, MSE (chapter 5).

Train on STS pairs whose scores are scaled to 0..1 (STSb's 0-5 divided by 5).

Reference: Reimers & Gurevych (2019), arXiv:1908.10084, section 3.

Inputs: ``(sentence1, sentence2)`` with a float score per pair.

Example:
    >>> import torch
    >>> u = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    >>> v = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    >>> regression_loss_from_embeddings(u, v, torch.tensor([1.0, 0.0]))
    tensor(0.)
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .base import Objective, computed_in_float32, require_labels


@computed_in_float32
def regression_loss_from_embeddings(u, v, scores):
    """Mean squared error between ``cos(u, v)`` and ``scores``."""
    if scores.numel() != u.shape[0]:
        raise ValueError(f"Expected {u.shape[0]} scores, one per pair, got {scores.numel()}.")
    return F.mse_loss(F.cosine_similarity(u, v, dim=-1), scores.to(u.dtype).view(-1))


class RegressionObjective(Objective):
    """Cosine similarity + MSE, the paper's regression objective."""

    text_columns = ("sentence1", "sentence2")
    label_column = "score"
    label_dtype = torch.float32

    def loss_from_embeddings(self, embeddings, labels):
        u, v = embeddings
        return regression_loss_from_embeddings(u, v, require_labels(labels, "regression"))
