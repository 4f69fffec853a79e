"""Softmax classification objective on NLI (SBERT paper, section 3; chapter 4).

The two sentence vectors ``u`` and ``v`` are joined, by default as
``(u, v, |u - v|)``, and a linear layer maps the result to the 3 NLI classes;
the loss is cross-entropy. Only the joined vector sees both sentences, so the
encoder has to put what matters for entailment into each vector on its own.

Reference: Reimers & Gurevych (2019), *Sentence-BERT*, arXiv:1908.10084, Table 6
for the concatenation ablation.

Inputs: ``(sentence1, sentence2)`` with an integer label per pair.

Example:
    >>> import torch
    >>> from torch import nn
    >>> u, v = torch.randn(4, 8), torch.randn(4, 8)
    >>> head = nn.Linear(3 * 8, 3)
    >>> loss = softmax_loss_from_embeddings(u, v, torch.tensor([0, 1, 2, 0]), head)
    >>> loss.shape
    torch.Size([])
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..validation import check_choice
from .base import Objective, require_labels

#: The pieces a concatenation can be built from (paper, Table 6).
CONCATENATION_PARTS = {
    "u": lambda u, v: u,
    "v": lambda u, v: v,
    "|u-v|": lambda u, v: torch.abs(u - v),
    "u*v": lambda u, v: u * v,
}
DEFAULT_CONCATENATION = ("u", "v", "|u-v|")


def softmax_features(u: torch.Tensor, v: torch.Tensor, concatenation=DEFAULT_CONCATENATION) -> torch.Tensor:
    """The classifier's input: the named pieces joined along the last dimension."""
    if not concatenation:
        raise ValueError("concatenation is empty: name at least one of " + ", ".join(CONCATENATION_PARTS))
    for part in concatenation:
        check_choice(part, CONCATENATION_PARTS, "concatenation part")
    if u.shape != v.shape:
        raise ValueError(f"u and v must have the same shape, got {tuple(u.shape)} and {tuple(v.shape)}.")
    return torch.cat([CONCATENATION_PARTS[p](u, v) for p in concatenation], dim=-1)


def softmax_loss_from_embeddings(u, v, labels, classifier: nn.Module, concatenation=DEFAULT_CONCATENATION):
    """Cross-entropy of ``classifier(softmax_features(u, v))`` against integer ``labels``.

    Computed in the head's dtype (float32 for half-precision vectors under autocast, as
    sentence-transformers does); float64 vectors with a float64 head stay float64.
    """
    logits = classifier(softmax_features(u, v, concatenation).to(classifier.weight.dtype))
    if labels.dim() != 1 or labels.shape[0] != u.shape[0]:
        raise ValueError(f"Expected {u.shape[0]} labels, one per pair, got shape {tuple(labels.shape)}.")
    if labels.numel() and (labels.min() < 0 or labels.max() >= logits.shape[-1]):
        raise ValueError(
            f"Labels must be in 0..{logits.shape[-1] - 1}; got values {labels.min().item()}..{labels.max().item()}."
        )
    return F.cross_entropy(logits, labels)


class SoftmaxObjective(Objective):
    """SBERT's classification objective: ``softmax(W (u, v, |u-v|))`` with cross-entropy.

    Args:
        encoder: the shared sentence encoder.
        num_labels: number of classes (3 for NLI).
        concatenation: pieces of the classifier input, any of ``u``, ``v``,
            ``|u-v|``, ``u*v``. Default ``("u", "v", "|u-v|")``.
    """

    text_columns = ("sentence1", "sentence2")
    label_column = "label"

    def __init__(self, encoder, num_labels: int = 3, concatenation=DEFAULT_CONCATENATION):
        super().__init__(encoder)
        self.concatenation = tuple(concatenation)
        softmax_features(torch.zeros(1, 1), torch.zeros(1, 1), self.concatenation)  # validate names early
        self.num_labels = num_labels
        self.classifier = nn.Linear(len(self.concatenation) * encoder.embedding_dim, num_labels)

    def loss_from_embeddings(self, embeddings, labels):
        u, v = embeddings
        return softmax_loss_from_embeddings(u, v, require_labels(labels, "softmax"), self.classifier, self.concatenation)

    @torch.no_grad()
    def predict(self, features) -> torch.Tensor:
        """Predicted class index per pair."""
        u, v = self.embed(features)
        return self.classifier(softmax_features(u, v, self.concatenation)).argmax(-1)
