"""What every objective shares: encode each text column, then a loss on the vectors."""

from __future__ import annotations

import torch
from torch import nn


class Objective(nn.Module):
    """Base class. Subclasses set :attr:`text_columns`, :attr:`label_column` and
    implement :meth:`loss_from_embeddings`.

    ``forward(features, labels)`` takes what
    :class:`~sbert_teach.data.TextColumnsCollator` returns: one tokenizer output
    per text column, encoded by the *same* encoder (the siamese part).
    """

    text_columns: tuple[str, ...] = ()
    label_column: str | None = None
    label_dtype = torch.long

    def __init__(self, encoder):
        super().__init__()
        self.encoder = encoder

    def embed(self, features) -> list[torch.Tensor]:
        return [self.encoder(f) for f in features]

    def forward(self, features, labels=None) -> torch.Tensor:
        return self.loss_from_embeddings(self.embed(features), labels)

    def loss_from_embeddings(self, embeddings: list[torch.Tensor], labels: torch.Tensor | None) -> torch.Tensor:
        raise NotImplementedError

    def extra_state_dict(self) -> dict:
        """Parameters that belong to the objective, not the encoder (e.g. a classifier head)."""
        return {k: v for k, v in self.state_dict().items() if not k.startswith("encoder.")}


def require_labels(labels, name: str):
    if labels is None:
        raise ValueError(f"The {name} objective needs labels; the data has no label column.")
    return labels
