"""Hard-negative mining: (anchor, positive) pairs to (anchor, positive, negative) triplets (Part III).

A *hard* negative is a text the model already places close to the anchor, but that is not its
positive. The miner embeds the anchors and a corpus (by default: all the positives), takes each
anchor's nearest corpus texts by cosine and keeps the best ``num_negatives`` of those that pass
the filters. The closest texts are often not negatives at all but texts just as true of the
anchor: paraphrases of it or of the positive ("false negatives"); the filters exist to drop them:

* the anchor's own positive(s) are never taken;
* ``absolute_margin``: drop a candidate if ``score > positive_score - absolute_margin``;
* ``relative_margin``: drop it if ``score > positive_score - |positive_score| * relative_margin``
  (for the usual positive scores that is ``positive_score * (1 - relative_margin)``);
* ``max_score`` / ``min_score``: drop it if ``score > max_score`` / ``score < min_score``;
* ``range_min``: skip the best ``range_min`` candidates that *survive* the filters above.

:func:`mine_hard_negatives` returns the triplets and a :class:`MiningReport` that counts what
each filter removed and how many pairs got fewer negatives than asked (they are kept with the
negatives found, or left out of ``"n-tuple"`` output, and always counted, never dropped
silently). :meth:`MiningReport.candidates` shows, for a few anchors, their nearest texts, each
score, and the filter that removed it: the table behind "mined negatives that are really
paraphrases".

Same as sentence-transformers 6.2.0's ``sentence_transformers.util.mine_hard_negatives`` with
``sampling_strategy="top"``, ``use_faiss=False`` and no cross-encoder: the same corpus
(``corpus + positives``, duplicates removed, first occurrence kept), the same merging of repeated
anchors (one query with several positives; the margins use its *lowest* positive score), the same
retrieval window (each anchor's ``range_max + max_positives`` nearest texts, where
``max_positives`` is the largest number of input rows sharing one anchor), the same default
``range_max`` (``range_min + 10 * num_negatives + max_positives`` when a margin or ``max_score``
is set, else ``range_min + num_negatives + max_positives``), the same order of filters, the same
``torch.topk`` calls (so ties fall the same way) and the same rows in the ``"triplet"`` and
``"n-tuple"`` formats. Ties matter: a stable sort in place of the second ``topk`` picks other
negatives among equal scores. ``tests/test_mining.py`` compares the rows with the library's, one
for one: on random vectors with exact ties, repeated anchors and texts, and on SNLI pairs with the
reference model (our encoder on one side, ``SentenceTransformer`` on the other: the same rows, the
scores within 4e-7 measured, 1e-5 allowed). Where this module differs, on purpose:

* counts: the library's printed ``min_score`` count also counts candidates already removed (the
  positive, earlier filters, padding: their score is ``-inf`` by then, below any ``min_score``);
  :attr:`MiningReport.removed` counts each candidate once, under the first filter that removed it;
* ``min_score > max_score`` or a non-finite threshold is an error here, not an empty result;
* only ``sampling_strategy="top"``, the ``"triplet"`` and ``"n-tuple"`` formats, no prompts, no
  cross-encoder rescoring, no faiss.

As in the library, a text equal to the *anchor* is not removed if it is in the corpus (only the
positives are): pass a corpus without the anchors, or a margin, which drops it (its score, 1, is
above the positive's). A margin also takes every candidate from a pair whose positive scores
low (a vague entailment such as "There are people outside."): such pairs get no negative, and
the report counts them (``without_negative``).

``model`` is our encoder (``sbert_teach.get_model``), a ``SentenceTransformer``, or precomputed
vectors as a ``{text: vector}`` mapping, which makes hand-made examples easy:
    >>> vectors = {"q": [1.0, 0.0], "p": [0.9, 0.1], "near": [0.95, 0.05], "far": [0.5, 0.5]}
    >>> triplets, report = mine_hard_negatives(["q"], ["p"], vectors, corpus=["near", "far"],
    ...                                        num_negatives=1, absolute_margin=0.0)
    >>> triplets[0]
    {'anchor': 'q', 'positive': 'p', 'negative': 'far'}
    >>> report.removed["absolute_margin"]          # "near" scores above the positive
    1
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from .encoder import SentenceEncoder
from .validation import check_choice, check_same_length, check_sentences

log = logging.getLogger("sbert_teach")

#: The filters in the order they are applied; a candidate is counted under the first that removes it.
FILTERS = ("absolute_margin", "relative_margin", "max_score", "min_score")
OUTPUT_FORMATS = ("triplet", "n-tuple")
# the library scores this many queries at a time; the same chunks give the very same topk calls
_QUERY_CHUNK = 16384

# what happened to each candidate of an anchor's retrieval window (codes in MiningReport._verdicts)
_UNUSED, _PADDING, _POSITIVE, _NEGATIVE, _RANGE_MIN = 0, 1, 2, 3, 4
_FILTER_CODE = {name: 5 + i for i, name in enumerate(FILTERS)}
VERDICTS = {_UNUSED: "unused", _PADDING: "padding", _POSITIVE: "positive", _NEGATIVE: "negative",
            _RANGE_MIN: "range_min", **{code: name for name, code in _FILTER_CODE.items()}}


@dataclass
class MiningReport:
    """What the miner looked at, what each filter removed, and who got too few negatives.

    Counts are over *pairs*: distinct (anchor, positive) rows; an anchor with two positives is one
    query whose negatives go with both. ``removed`` counts candidates in the retrieval windows
    (``anchors x window`` slots), each under the first filter that removed it; ``"positive"`` counts
    the positives found in their anchor's own window.
    """

    pairs: int                    # input rows
    unique_pairs: int             # distinct (anchor, positive) rows
    anchors: int                  # distinct anchors (queries)
    corpus_size: int              # distinct candidate texts (corpus + positives)
    num_negatives: int
    range_min: int
    range_max: int
    window: int                   # nearest texts retrieved per anchor: range_max + max_positives
    settings: dict                # the thresholds used (None where unset)
    output_format: str
    removed: dict = field(default_factory=dict)   # filter -> candidates removed
    complete: int = 0             # pairs that got all num_negatives
    short: int = 0                # pairs that got fewer (including none)
    without_negative: int = 0     # pairs that got none: no triplet carries them
    rows: int = 0                 # rows of the returned dataset
    missing: int = 0              # rows the output lacks against one per pair and negative (n-tuple: per pair)
    positive_score_mean: float = float("nan")
    negative_score_mean: float = float("nan")
    # kept for candidates(): texts, windows and what happened to each candidate
    _queries: list = field(default_factory=list, repr=False)
    _corpus: list = field(default_factory=list, repr=False)
    _positive_ids: list = field(default_factory=list, repr=False)
    _margin_positive: torch.Tensor | None = field(default=None, repr=False)
    _margin_positive_index: list = field(default_factory=list, repr=False)
    _window_ids: torch.Tensor | None = field(default=None, repr=False)
    _window_scores: torch.Tensor | None = field(default=None, repr=False)
    _verdicts: torch.Tensor | None = field(default=None, repr=False)

    def __str__(self) -> str:
        used = ", ".join(f"{k}={v}" for k, v in self.settings.items() if v is not None) or "no filters"
        removed = ", ".join(f"{n:,} positives" if k == "positive" else f"{n:,} by {k}"
                            for k, n in self.removed.items()) or "none"
        lines = [
            f"mined up to {self.num_negatives} negatives for {self.unique_pairs:,} (anchor, positive) pairs "
            f"({self.anchors:,} anchors, {self.pairs:,} input rows) from {self.corpus_size:,} candidate texts; "
            f"negatives from the surviving candidates ranked {self.range_min + 1}..{self.range_max} among each "
            f"anchor's {self.window} nearest texts; {used}",
            f"set aside from {self.anchors * self.window:,} candidates: {removed}",
            f"{self.complete:,} pairs got all {self.num_negatives} negatives, {self.short:,} got fewer "
            f"({self.without_negative:,} none): {self.rows:,} {self.output_format} rows, {self.missing:,} missing",
        ]
        if self.short:
            lines.append("too few candidates passed: raise range_max, or loosen range_min, the margins or max_score")
        return "\n".join(lines)

    def candidates(self, anchors: int | Sequence[int] | None = 3, top_k: int = 10):
        """The ``top_k`` nearest texts of some anchors, with scores and what happened to each.

        ``anchors``: the first ``n`` distinct anchors (an int), their indices among the distinct
        anchors (a list), or ``None`` for all. Returns a ``pandas.DataFrame`` with one row per
        candidate: ``anchor``, ``positive`` (the one the margins compare with: the lowest-scoring),
        ``positive_score``, ``rank`` (1 = nearest, counting the positive), ``candidate``, ``score``
        and ``verdict``: ``"negative"`` (taken), ``"positive"``, the filter that removed it
        (``"absolute_margin"``, ``"relative_margin"``, ``"max_score"``, ``"min_score"``),
        ``"range_min"`` (skipped) or ``"unused"`` (passed, but enough negatives were taken).
        """
        import pandas as pd

        if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 1:
            raise ValueError(f"top_k must be a positive integer, got {top_k!r}.")
        if anchors is None:
            chosen = range(self.anchors)
        elif isinstance(anchors, int) and not isinstance(anchors, bool):
            chosen = range(min(max(anchors, 0), self.anchors))
        else:
            chosen = list(anchors)
            bad = [i for i in chosen if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < self.anchors]
            if bad:
                raise ValueError(f"anchors {bad} are not indices of the {self.anchors} distinct anchors "
                                 f"(0..{self.anchors - 1}). Pass an int for the first n anchors, or None for all.")
        rows = []
        for q in chosen:
            shown = 0
            for slot in range(self._window_ids.shape[1]):
                verdict = int(self._verdicts[q, slot])
                if verdict == _PADDING:
                    continue
                if shown == top_k:
                    break
                shown += 1
                rows.append({
                    "anchor": self._queries[q],
                    "positive": self._corpus[self._positive_ids[q][self._margin_positive_index[q]]],
                    "positive_score": float(self._margin_positive[q]),
                    "rank": slot + 1,
                    "candidate": self._corpus[int(self._window_ids[q, slot])],
                    "score": float(self._window_scores[q, slot]),
                    "verdict": VERDICTS[verdict],
                })
        return pd.DataFrame(rows, columns=["anchor", "positive", "positive_score", "rank", "candidate", "score",
                                           "verdict"])


def _texts(values, what: str) -> list[str]:
    # accept any iterable of strings (e.g. a datasets column), checked like every other entry point
    if values is not None and not isinstance(values, (str, Sequence)) and hasattr(values, "__iter__"):
        values = list(values)
    return check_sentences(values, what)


def _threshold(value, name: str):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"{name} must be a finite number or None, got {value!r}.")
    return float(value)


def _count(value, name: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be an integer of at least {minimum}, got {value!r}.")
    return value


def _embed(model, texts: list[str], batch_size: int, role: str) -> torch.Tensor:
    """Vectors for ``texts``: encoded by ``model`` to unit length (as the library encodes with
    ``normalize_embeddings=True``), or looked up, as given, in a ``{text: vector}`` mapping (the
    cosine normalises them anyway)."""
    if isinstance(model, Mapping):
        missing = [t for t in texts if t not in model]
        if missing:
            raise KeyError(f"{len(missing)} texts have no vector in the embeddings mapping, e.g. {missing[0]!r}. "
                           "Give a vector for every anchor, positive and corpus text.")
        try:
            emb = torch.stack([torch.as_tensor(model[t], dtype=torch.float32).reshape(-1) for t in texts])
        except (RuntimeError, TypeError, ValueError) as error:
            raise ValueError(f"The embeddings mapping must hold equally long numeric vectors: {error}") from error
    elif isinstance(model, SentenceEncoder):
        emb = model.encode(texts, batch_size=batch_size, normalize=True).float()
    elif callable(getattr(model, "encode_document", None)):  # a SentenceTransformer, encoding as the library does
        encode = model.encode_query if role == "query" else model.encode_document
        emb = torch.as_tensor(encode(texts, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True,
                                     show_progress_bar=False))
    else:
        raise TypeError(f"model must be a SentenceEncoder (sbert_teach.get_model), a SentenceTransformer or a "
                        f"{{text: vector}} mapping, got {type(model).__name__}.")
    if not torch.isfinite(emb).all():
        raise ValueError("Some embeddings are NaN or infinite; check the model (or the vectors you passed).")
    return emb


def _cosine(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    # normalise again before the product, as the library's cos_sim does, so scores match to the bit
    return torch.mm(F.normalize(a, p=2, dim=-1), F.normalize(b, p=2, dim=-1).transpose(0, 1))


def mine_hard_negatives(anchors, positives, model, *, corpus=None, num_negatives: int = 3, range_min: int = 0,
                        range_max: int | None = None, absolute_margin: float | None = None,
                        relative_margin: float | None = None, max_score: float | None = None,
                        min_score: float | None = None, output_format: str = "triplet", output_scores: bool = False,
                        batch_size: int = 32):
    """Add ``num_negatives`` hard negatives to each (anchor, positive) pair; see the module docstring.

    Args:
        anchors, positives: equally long lists of texts (one pair per row; an anchor may repeat).
        model: a :class:`~sbert_teach.encoder.SentenceEncoder` (or a ``SentenceTransformer``), or
            precomputed vectors as a ``{text: vector}`` mapping covering every anchor, positive and
            corpus text.
        corpus: candidate texts; the positives are always added (default: the positives alone).
        num_negatives: negatives per pair, the top ones left after the filters and ``range_min``.
        range_min: skip this many of the best surviving candidates.
        range_max: consider each anchor's ``range_max`` best candidates once its positives are set
            aside (default: see the module docstring).
        absolute_margin, relative_margin, max_score, min_score: the filters (None: off).
        output_format: ``"triplet"`` (one row per pair and negative; a pair with fewer negatives
            gives fewer rows) or ``"n-tuple"`` (``anchor, positive, negative_1..n``; only pairs
            that got all ``num_negatives``).
        output_scores: add a ``scores`` column: ``[positive score, negative score(s)]``.
        batch_size: encoding batch size.

    Returns:
        ``(dataset, report)``: a :class:`datasets.Dataset` with columns ``anchor``,
        ``positive``, ``negative`` (or ``negative_1`` ... ``negative_n``), and a
        :class:`MiningReport`. Pairs left short are counted in the report and logged as a warning.
    """
    from datasets import Dataset

    anchors = _texts(anchors, "anchors")
    positives = _texts(positives, "positives")
    check_same_length(anchors=anchors, positives=positives)
    extra = None if corpus is None else _texts(corpus, "corpus")
    check_choice(output_format, OUTPUT_FORMATS, "output_format")
    num_negatives = _count(num_negatives, "num_negatives", 1)
    range_min = _count(range_min, "range_min", 0)
    thresholds = {name: _threshold(value, name) for name, value in zip(
        FILTERS, (absolute_margin, relative_margin, max_score, min_score))}
    low, high = thresholds["min_score"], thresholds["max_score"]
    if low is not None and high is not None and low > high:
        raise ValueError(f"min_score ({min_score}) is above max_score ({max_score}): no candidate could pass. "
                         "Swap them, or drop one.")
    batch_size = _count(batch_size, "batch_size", 1)

    # as in the library: max_positives counts input rows per anchor (repeated pairs included)
    max_positives = max(Counter(anchors).values())
    if range_max is None:
        widened = any(thresholds[k] is not None for k in ("absolute_margin", "relative_margin", "max_score"))
        range_max = range_min + num_negatives * (10 if widened else 1) + max_positives
    range_max = _count(range_max, "range_max", 1)
    if range_min >= range_max:
        raise ValueError(f"range_min ({range_min}) must be below range_max ({range_max}): nothing would be left.")
    if num_negatives > range_max - range_min:
        raise ValueError(f"Cannot take {num_negatives} negatives from ranks {range_min}..{range_max}: only "
                         f"{range_max - range_min} candidates. Lower num_negatives or range_min, or raise range_max.")

    # the corpus: given texts then the positives, duplicates removed (first occurrence kept)
    corpus_texts = list(dict.fromkeys((positives if extra is None else extra) + positives))
    corpus_id = {t: i for i, t in enumerate(corpus_texts)}
    queries = list(dict.fromkeys(anchors))
    query_id = {t: i for i, t in enumerate(queries)}
    positive_ids = [[] for _ in queries]
    for a, p in zip(anchors, positives):
        if corpus_id[p] not in positive_ids[query_id[a]]:
            positive_ids[query_id[a]].append(corpus_id[p])
    n_positives = [len(ids) for ids in positive_ids]

    corpus_emb = _embed(model, corpus_texts, batch_size, "document")
    query_emb = _embed(model, queries, batch_size, "query")
    if corpus_emb.shape[1] != query_emb.shape[1]:
        raise ValueError(f"Anchors have {query_emb.shape[1]}-d vectors but the corpus {corpus_emb.shape[1]}-d.")

    # each anchor's window: its range_max + max_positives nearest texts (padded with id -1 if the corpus is smaller)
    window = range_max + max_positives
    k = min(window, len(corpus_texts))
    parts = [torch.topk(_cosine(query_emb[i:i + _QUERY_CHUNK], corpus_emb), k=k, dim=1)
             for i in range(0, len(queries), _QUERY_CHUNK)]
    raw_scores = torch.cat([p.values for p in parts])
    window_ids = torch.cat([p.indices for p in parts])
    if window > k:
        raw_scores = torch.cat([raw_scores, raw_scores.new_full((len(queries), window - k), -math.inf)], dim=1)
        window_ids = torch.cat([window_ids, window_ids.new_full((len(queries), window - k), -1)], dim=1)

    # each (anchor, positive) pair's cosine, the way the library's pairwise cosine computes it
    rows = [q for q in range(len(queries)) for _ in range(n_positives[q])]
    pair_positive = torch.cat([torch.tensor(ids) for ids in positive_ids])
    positive_scores = (F.normalize(query_emb[rows], p=2, dim=-1)
                       * F.normalize(corpus_emb[pair_positive], p=2, dim=-1)).sum(dim=-1)

    scores = raw_scores.clone()
    verdicts = torch.full(scores.shape, _UNUSED, dtype=torch.int8)
    verdicts[window_ids == -1] = _PADDING
    scores[window_ids == -1] = -math.inf
    is_positive = torch.stack([torch.isin(window_ids[q], torch.tensor(positive_ids[q])) for q in range(len(queries))])
    verdicts[is_positive] = _POSITIVE
    scores[is_positive] = -math.inf
    removed = {"positive": int(is_positive.sum())}

    # the margins compare with the anchor's lowest positive score (the hardest positive)
    starts = [0]
    for n in n_positives[:-1]:
        starts.append(starts[-1] + n)
    lowest = [positive_scores[s:s + n].min(dim=0) for s, n in zip(starts, n_positives)]
    margin_positive = torch.stack([low.values for low in lowest])
    limit = {
        "absolute_margin": lambda m: scores + m > margin_positive[:, None],
        "relative_margin": lambda m: scores > (margin_positive - margin_positive.abs() * m)[:, None],
        "max_score": lambda m: scores > m,
        "min_score": lambda m: scores < m,
    }
    for name in FILTERS:
        if thresholds[name] is None:
            continue
        drop = limit[name](thresholds[name]) & torch.isfinite(scores)  # each candidate counted once
        verdicts[drop] = _FILTER_CODE[name]
        scores[drop] = -math.inf
        removed[name] = int(drop.sum())

    # the best range_max survivors, minus the first range_min, then the top num_negatives
    best_scores, best_slots = torch.topk(scores, k=range_max, dim=1)
    taken_slots = best_slots[:, range_min:range_min + num_negatives]
    taken_scores = best_scores[:, range_min:range_min + num_negatives]
    taken_ids = window_ids.gather(1, taken_slots)
    found = torch.isfinite(taken_scores)
    verdicts.scatter_(1, taken_slots, torch.where(found, _NEGATIVE, verdicts.gather(1, taken_slots)).to(torch.int8))
    skipped = best_slots[:, :range_min]
    verdicts.scatter_(1, skipped, torch.where(torch.isfinite(best_scores[:, :range_min]), _RANGE_MIN,
                                              verdicts.gather(1, skipped)).to(torch.int8))

    # the rows: queries in first-seen order, each positive in first-seen order, negatives best first
    columns = {"anchor": [], "positive": []}
    if output_format == "triplet":
        columns["negative"] = []
    else:
        columns.update({f"negative_{j}": [] for j in range(1, num_negatives + 1)})
    if output_scores:
        columns["scores"] = []
    used_negative_scores = []
    pair = 0
    for q, ids in enumerate(positive_ids):
        negatives = [(corpus_texts[int(i)], float(score))
                     for i, score, ok in zip(taken_ids[q], taken_scores[q], found[q]) if ok]
        for p in ids:
            positive_score = float(positive_scores[pair])
            pair += 1
            if output_format == "triplet":
                for text, score in negatives:
                    columns["anchor"].append(queries[q])
                    columns["positive"].append(corpus_texts[p])
                    columns["negative"].append(text)
                    if output_scores:
                        columns["scores"].append([positive_score, score])
                    used_negative_scores.append(score)
            elif len(negatives) == num_negatives:
                columns["anchor"].append(queries[q])
                columns["positive"].append(corpus_texts[p])
                for j, (text, score) in enumerate(negatives, start=1):
                    columns[f"negative_{j}"].append(text)
                    used_negative_scores.append(score)
                if output_scores:
                    columns["scores"].append([positive_score] + [s for _, s in negatives])
    dataset = Dataset.from_dict(columns)

    per_pair_found = torch.tensor([int(found[q].sum()) for q in rows])
    unique_pairs = len(rows)
    report = MiningReport(
        pairs=len(anchors), unique_pairs=unique_pairs, anchors=len(queries), corpus_size=len(corpus_texts),
        num_negatives=num_negatives, range_min=range_min, range_max=range_max, window=window,
        settings=dict(thresholds), output_format=output_format, removed=removed,
        complete=int((per_pair_found == num_negatives).sum()), short=int((per_pair_found < num_negatives).sum()),
        without_negative=int((per_pair_found == 0).sum()), rows=len(dataset),
        missing=(unique_pairs * num_negatives if output_format == "triplet" else unique_pairs) - len(dataset),
        positive_score_mean=float(positive_scores.mean()),
        negative_score_mean=float(torch.tensor(used_negative_scores).mean()) if used_negative_scores else math.nan,
        _queries=queries, _corpus=corpus_texts, _positive_ids=positive_ids,
        _margin_positive=margin_positive, _margin_positive_index=[int(low.indices) for low in lowest],
        _window_ids=window_ids, _window_scores=raw_scores, _verdicts=verdicts,
    )
    if report.short:
        log.warning("%s", report)
    else:
        log.info("%s", report)
    return dataset, report
