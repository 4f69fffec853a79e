"""Matryoshka: one model whose vectors can be cut short (Matryoshka representation learning).

Any objective's loss is computed again on the first ``d`` numbers of every vector, for each
``d`` in ``dims`` (e.g. 384, 256, 128, 64, 32), and the weighted losses are summed. The front of
the vector then has to carry the meaning on its own, so after training ``vectors[:, :64]`` is a
usable (if weaker) 64-dimensional embedding: six times less memory for an index, faster search.

As in sentence-transformers, each cut vector is L2-normalised again before the inner loss (for
cosine losses this changes nothing; for distances and MSE it does), and float labels that look
like vectors of the full width (a teacher's vectors, for distillation) are cut to ``d`` too, not
normalised. Every ``d`` is used at every step (sentence-transformers' ``n_dims_per_step=-1``).
Include the full width in ``dims``, or the full vectors are never trained as such.

Reference: Kusupati et al. (2022), *Matryoshka Representation Learning*, NeurIPS,
arXiv:2205.13147.

Inputs: those of the wrapped objective (e.g. ``(anchor, positive)`` for MNR).

Example:
    >>> import torch
    >>> from sbert_teach.objectives.mnr import mnr_loss_from_embeddings
    >>> def mnr(embeddings, labels):
    ...     return mnr_loss_from_embeddings(*embeddings)
    >>> a = torch.eye(4); p = torch.eye(4)
    >>> # at width 2, rows 3 and 4 are cut to zero: their anchors can no longer find their positives
    >>> round(float(matryoshka_loss_from_embeddings(mnr, [a, p], None, dims=(4, 2))), 4)
    0.6931
"""

from __future__ import annotations

import warnings

import torch
import torch.nn.functional as F

from .base import Objective, computed_in_float32


def check_dims(dims, weights=None, width: int | None = None) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """``dims`` and their ``weights`` (default: 1 each) as tuples, or a clear error."""
    dims = tuple(dims)
    if not dims:
        raise ValueError("Matryoshka needs at least one width in dims, e.g. dims=(384, 256, 128, 64, 32).")
    if not all(isinstance(d, int) and not isinstance(d, bool) and d > 0 for d in dims):
        raise ValueError(f"Matryoshka dims must be positive whole numbers, got {dims}.")
    if any(a <= b for a, b in zip(dims, dims[1:])):
        raise ValueError(f"Matryoshka dims must be in decreasing order without repeats, got {dims}; "
                         f"write them from widest to narrowest, e.g. {tuple(sorted(set(dims), reverse=True))}.")
    if width is not None and dims[0] > width:
        fitting = tuple(d for d in dims if d <= width)
        raise ValueError(f"Matryoshka dim {dims[0]} is wider than the {width}-dimensional embeddings; use widths "
                         f"up to {width}, e.g. dims={(width, *[d for d in fitting if d < width])}.")
    weights = (1.0,) * len(dims) if weights is None else tuple(float(w) for w in weights)
    if len(weights) != len(dims):
        raise ValueError(f"Give one Matryoshka weight per width: {len(dims)} dims but {len(weights)} weights.")
    return dims, weights


@computed_in_float32
def cut_and_normalise(vectors, dim: int):
    """The first ``dim`` numbers of each vector, L2-normalised again."""
    return F.normalize(vectors[..., :dim], p=2, dim=-1)


def matryoshka_loss_from_embeddings(inner_loss_fn, embeddings, labels, dims, weights=None):
    """``sum_i weights[i] * inner_loss_fn([cut_and_normalise(e, dims[i]) for e in embeddings], labels_i)``.

    ``inner_loss_fn(embeddings, labels)`` is any objective's ``loss_from_embeddings``;
    ``embeddings`` is the list of one ``(batch, width)`` tensor per text column. ``labels_i`` is
    ``labels[..., :dims[i]]`` when the labels are float vectors of the full width, else ``labels``.
    """
    width = embeddings[0].shape[-1]
    dims, weights = check_dims(dims, weights, width)
    vector_labels = torch.is_tensor(labels) and labels.is_floating_point() and labels.dim() in (2, 3) \
        and labels.shape[-1] == width
    loss = 0.0
    for dim, weight in zip(dims, weights):
        cut = [cut_and_normalise(e, dim) for e in embeddings]
        loss = loss + weight * inner_loss_fn(cut, labels[..., :dim] if vector_labels else labels)
    return loss


class MatryoshkaObjective(Objective):
    """Train ``inner_objective`` at every width in ``dims`` at once (widest first).

    Args:
        inner_objective: any objective that computes its loss from the vectors and has no layers
            of its own (e.g. MNR, cached MNR, regression, triplet, distillation; not softmax,
            whose classifier takes exactly the full width).
        dims: widths, widest first; the first should be the encoder's full width.
        weights: one weight per width (default 1 each).
    """

    def __init__(self, inner_objective, dims=(384, 256, 128, 64, 32), weights=None):
        if not isinstance(inner_objective, Objective):
            raise TypeError("MatryoshkaObjective wraps an objective such as MultipleNegativesRankingObjective("
                            f"encoder), got {type(inner_objective).__name__}.")
        if type(inner_objective).forward is not Objective.forward:
            raise ValueError(f"{type(inner_objective).__name__} computes its loss its own way, not from the vectors "
                             "alone, so Matryoshka cannot cut them; wrap an objective that does.")
        own = [name for name, _ in inner_objective.named_parameters() if not name.startswith("encoder.")]
        if own:
            raise ValueError(f"{type(inner_objective).__name__} has layers of its own ({', '.join(own)}) that expect "
                             "the full width, so its loss cannot be computed on cut vectors; wrap an objective "
                             "without them (e.g. MNR or regression).")
        super().__init__(inner_objective.encoder)
        width = getattr(inner_objective.encoder, "embedding_dim", None)
        self.dims, self.weights = check_dims(dims, weights, width)
        if width is not None and self.dims[0] != width:
            warnings.warn(f"Matryoshka dims {self.dims} leave out the full width {width}: the full vectors are "
                          f"never trained as such. Start dims with {width}.", stacklevel=2)
        # A plain attribute, not a submodule: its encoder is already ours, and it has nothing else to store
        object.__setattr__(self, "inner", inner_objective)
        self.text_columns = inner_objective.text_columns
        self.label_column = inner_objective.label_column
        self.label_dtype = inner_objective.label_dtype

    def __new__(cls, inner_objective=None, *args, **kwargs):
        # An inner objective with its own way of embedding (the cached MNR's two passes) must keep it.
        # A subclass, rather than an ``embed`` on every instance, so that the training loop still sees
        # a plain forward, and may use its fast embedding paths, whenever the inner objective has one.
        if cls is MatryoshkaObjective and isinstance(inner_objective, Objective) \
                and type(inner_objective).embed is not Objective.embed:
            cls = _MatryoshkaEmbeddingThroughInner
        return super().__new__(cls)

    def loss_from_embeddings(self, embeddings, labels):
        return matryoshka_loss_from_embeddings(self.inner.loss_from_embeddings, embeddings, labels,
                                               self.dims, self.weights)


class _MatryoshkaEmbeddingThroughInner(MatryoshkaObjective):
    """:class:`MatryoshkaObjective` around an objective that embeds its own way (e.g. with a gradient cache)."""

    def embed(self, features):
        return self.inner.embed(features)


def make_matryoshka_objective(encoder, inner: str = "mnr", dims=(384, 256, 128, 64, 32), weights=None,
                              **inner_kwargs) -> MatryoshkaObjective:
    """``MatryoshkaObjective(make_objective(inner, encoder, **inner_kwargs), dims, weights)``: the
    registry's ``"matryoshka"``, so that it too is built from an encoder and keyword arguments."""
    from . import make_objective  # the registry imports this module

    return MatryoshkaObjective(make_objective(inner, encoder, **inner_kwargs), dims, weights)
