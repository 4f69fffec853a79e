"""The same thing in sentence-transformers: our models as ``SentenceTransformer`` objects (chapters 2, 4, 5, 6).

Each of those chapters ends its main idea with a cell that builds the library's equivalent
(``models.Pooling``, ``SoftmaxLoss``, ``CosineSimilarityLoss``, ``TripletLoss``,
``MultipleNegativesRankingLoss``, ``SentenceTransformerTrainer``) and shows that on the same
batch it gives the same number as ``sbert_teach``. Two small helpers make those cells short:

* :func:`reference_location`: what to pass to ``SentenceTransformer(...)`` for the book's
  reference SBERT (the packaged folder, or the hub name under the hub profile);
* :func:`as_sentence_transformer`: any :class:`~sbert_teach.encoder.SentenceEncoder` (the
  untuned start, the reference, a model you trained) as a ``SentenceTransformer`` with the very
  same weights, written with :func:`~sbert_teach.persistence.save_encoder` and loaded back by
  the library, so the comparison also checks that saved folders load in sentence-transformers.

sentence-transformers is an optional dependency of the package (the ``book`` and ``colab``
extras install it); it is imported only when these functions are called. The cells use the
module layout of sentence-transformers 5.4 and later
(``sentence_transformers.sentence_transformer.losses``).

Example:
    >>> from sbert_teach import get_model
    >>> from sbert_teach.library import as_sentence_transformer
    >>> st_model = as_sentence_transformer(get_model("untuned"))       # doctest: +SKIP
    >>> st_model.encode(["A man eats."]).shape                           # doctest: +SKIP
    (1, 384)
"""

from __future__ import annotations

import tempfile

from . import resources
from .persistence import save_encoder


def reference_location(resources_profile=None) -> str:
    """The reference SBERT as ``SentenceTransformer(...)`` takes it: a folder (packaged) or a hub name."""
    profile = resources.get_profile(resources_profile)
    if profile.reference.startswith("packaged:"):
        return str(resources.packaged_model_path())
    return profile.reference


def as_sentence_transformer(encoder, device=None):
    """``encoder`` as a ``sentence_transformers.SentenceTransformer`` with the same weights, in eval mode.

    The encoder is saved in the sentence-transformers folder format to a temporary folder, loaded
    with ``SentenceTransformer(folder)`` and the folder removed (the weights are in memory by
    then). The copy is independent: training it leaves ``encoder`` unchanged. ``device``
    defaults to the encoder's own device, so both can be fed the same batches.
    """
    from sentence_transformers import SentenceTransformer

    with tempfile.TemporaryDirectory(prefix="sbert_teach_st_") as folder:
        save_encoder(encoder, folder)
        model = SentenceTransformer(folder, device=str(device or encoder.device))
    # eval mode, like our encoders: no dropout, so the same batch gives the same vectors
    return model.eval()
