"""What every objective shares: encode each text column, then a loss on the vectors."""

from __future__ import annotations

import functools

import torch
from torch import nn

from ..precision import upcast_half


def computed_in_float32(loss_fn):
    """Run ``loss_fn`` with autocast off and half-precision vectors upcast to float32.

    Under fp16/bf16 autocast the encoder's vectors come out in half precision; distances,
    cosines and their squares lose digits there (and fp16 overflows above 65,504), so
    float16 and bfloat16 inputs are computed and returned in float32, as sentence-transformers
    does. float32 and float64 inputs are computed in their own dtype (a float64 gradient check,
    ``torch.autograd.gradcheck``, stays float64). Integer tensors (labels) pass through unchanged.
    """
    @functools.wraps(loss_fn)
    def in_float32(*args, **kwargs):
        args = [upcast_half(a) if torch.is_tensor(a) else a for a in args]
        device = next((a.device.type for a in args if torch.is_tensor(a)), "cpu")
        with torch.autocast(device, enabled=False):
            return loss_fn(*args, **kwargs)
    return in_float32


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
