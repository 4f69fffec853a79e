"""Training without labels: SimCSE-style positive pairs from dropout (chapter 9).

Unsupervised SimCSE (Gao, Yao and Chen, 2021) needs nothing but sentences.
Each sentence is paired *with itself*: ``(anchor, positive) = (s, s)``. While
training, dropout is on, so the encoder sees two randomly thinned copies of
the network and returns two slightly different vectors for the same text.
Those two vectors are the positive pair; every *other* sentence in the batch
is a negative. That is exactly the multiple-negatives ranking objective of
chapter 6 (cross-entropy over ``scale * cosine``, ``scale`` 20, i.e.
temperature 0.05, the value SimCSE uses), so no new loss is needed:

>>> from sbert_teach import TrainConfig, get_model, train          # doctest: +SKIP
>>> from sbert_teach.unsupervised import simcse_objective, simcse_pairs
>>> encoder = get_model("untuned")                                  # doctest: +SKIP
>>> pairs = simcse_pairs(["A man is playing a guitar.", "A dog runs."] * 8)
>>> pairs.column_names
['anchor', 'positive']
>>> len(pairs)   # repeated sentences are kept once: a copy in the batch would be a false negative
2
>>> train(simcse_objective(encoder), pairs, TrainConfig(batch_size=2, max_steps=1))  # doctest: +SKIP

Three things make it work, and each is easy to break:

* **dropout must be on** during training (:func:`sbert_teach.train` puts the
  model in training mode; an encoder configured with dropout 0 would give two
  identical views, see :func:`dropout_rates`);
* **the same sentence must not appear twice in a batch** under different rows,
  or it becomes its own negative (:func:`simcse_pairs` drops repeats);
* **no hard negatives**: the objective uses only the ``anchor`` and
  ``positive`` columns.

Reference: Gao, Yao and Chen (2021), *SimCSE: Simple Contrastive Learning of
Sentence Embeddings*, arXiv:2104.08821. A second unsupervised method, TSDAE
(Wang, Reimers and Gurevych, 2021, arXiv:2104.06979), trains the encoder to
reconstruct a sentence from the vector of a corrupted copy; it needs a decoder
and is not implemented here.
"""

from __future__ import annotations

import warnings

from torch import nn

from .validation import check_sentences

__all__ = ["simcse_pairs", "simcse_objective", "sentences_from", "dropout_rates"]


def simcse_pairs(sentences, drop_duplicates: bool = True):
    """Unlabelled sentences as a SimCSE training set.

    Returns a :class:`datasets.Dataset` with columns ``anchor`` and
    ``positive``, both holding the sentence itself, in the order given. With
    ``drop_duplicates`` (the default) a sentence that appears again is kept
    only at its first position.

    Raises:
        TypeError: ``sentences`` is a single string or holds a non-string.
        ValueError: ``sentences`` is empty or holds an empty/whitespace-only string.
    """
    from datasets import Dataset

    sentences = check_sentences(sentences, "sentences")
    if drop_duplicates:
        sentences = list(dict.fromkeys(sentences))
    return Dataset.from_dict({"anchor": sentences, "positive": list(sentences)})


def sentences_from(dataset, columns=("sentence1", "sentence2"), limit: int | None = None) -> list[str]:
    """The distinct sentences of some text ``columns`` of ``dataset`` (labels ignored), first seen first.

    Use it to turn a labelled set (STS pairs, NLI pairs) into plain sentences,
    e.g. ``sentences_from(load_sts("train"))``. ``limit`` keeps the first ``limit``.
    """
    missing = [c for c in columns if c not in dataset.column_names]
    if missing:
        raise ValueError(f"The dataset has no column(s) {missing}; it has {dataset.column_names}.")
    seen: dict[str, None] = {}
    for column in columns:
        for sentence in dataset[column]:
            if isinstance(sentence, str) and sentence.strip():
                seen.setdefault(sentence, None)
    found = list(seen)
    return found if limit is None else found[:limit]


def dropout_rates(encoder) -> list[float]:
    """The ``p`` of every dropout layer in ``encoder`` (empty if it has none)."""
    return [m.p for m in encoder.modules() if isinstance(m, nn.Dropout)]


def simcse_objective(encoder, scale: float = 20.0):
    """The multiple-negatives ranking objective set up for SimCSE: ``anchor``/``positive`` only.

    Warns when ``encoder`` has no active dropout, since then both views of a
    sentence are identical and the positive pair teaches nothing.
    """
    from .objectives import make_objective

    if not any(p > 0 for p in dropout_rates(encoder)):
        warnings.warn("The encoder has no dropout > 0: both copies of a sentence get the same vector, so SimCSE "
                      "has no positive signal. Load a model whose config sets hidden_dropout_prob (e.g. 0.1).",
                      stacklevel=2)
    return make_objective("mnr", encoder, scale=scale, use_hard_negatives=False)
