"""Data: NLI pairs, STS pairs scored 0..1, NLI triplets, and collators (chapters 4-6).

Every loader returns a :class:`datasets.Dataset` with fixed column names and
*counts* every row it drops. The counts are logged as a warning and kept in
:data:`LAST_REPORTS` (and returned with ``return_report=True``), so nothing
disappears silently.
"""

from __future__ import annotations

import csv
import json
import logging
import random
from collections import Counter, OrderedDict
from dataclasses import dataclass, field

import torch

from . import resources
from .validation import check_choice, check_labels, check_same_length, check_sentences, count_truncated

log = logging.getLogger("sbert_teach")

#: Our label order. Sources are mapped onto it by *name*, never by position
#: (HF SNLI uses entailment=0, the old AllNLI script used contradiction=0).
NLI_LABELS = ("entailment", "neutral", "contradiction")


@dataclass
class LoadReport:
    """What a loader read, kept and dropped (with a reason for each drop)."""

    source: str
    read: int = 0
    kept: int = 0
    dropped: Counter = field(default_factory=Counter)
    drawn: str | None = None  # set when a subset was drawn from the kept rows: how, in words

    def drop(self, reason: str) -> None:
        self.dropped[reason] += 1

    def __str__(self) -> str:
        why = ", ".join(f"{n} {r}" for r, n in self.dropped.most_common()) or "none"
        line = f"{self.source}: read {self.read}, kept {self.kept}, dropped {sum(self.dropped.values())} ({why})"
        return f"{line}; {self.drawn}" if self.drawn else line


#: The most recent report of each loader, by source name.
LAST_REPORTS: "OrderedDict[str, LoadReport]" = OrderedDict()


def _finish(report: LoadReport):
    LAST_REPORTS[report.source] = report
    if report.dropped:
        log.warning("%s", report)
    else:
        log.info("%s", report)


def _clean_text(value) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()


# ----------------------------------------------------------------------------
# Small subsets, drawn across the whole file

#: The seed of every subset draw: one fixed subset per size, whatever seed the training uses.
SUBSET_SEED = 0


def draw_subset(size: int, limit: int, strata=None, groups=None, seed: int = SUBSET_SEED) -> list[int]:
    """Indices (in file order) of a seeded subset of ``limit`` of ``size`` rows, drawn across the whole file.

    The files are sorted (STSb by genre, SNLI by photo), so their first rows are one kind of text. Each stratum
    (``strata[i]``: a genre or a source) gets its share of ``limit`` in proportion to its size (largest
    remainders), and inside a stratum whole ``groups`` (``groups[i]``: e.g. the premise, so that a premise keeps
    its hypotheses together for triplets) are drawn at random; the last group drawn is cut to fill the share.

    >>> draw_subset(6, 3, strata=["a", "a", "a", "a", "b", "b"], seed=0)  # 2 rows of a, 1 of b
    [0, 2, 4]
    """
    if limit >= size:
        return list(range(size))
    strata = [""] * size if strata is None else list(strata)
    groups = list(range(size)) if groups is None else list(groups)
    check_same_length(rows=range(size), strata=strata, groups=groups)
    by_stratum: "OrderedDict[object, OrderedDict[object, list[int]]]" = OrderedDict()
    for i, (stratum, group) in enumerate(zip(strata, groups)):
        by_stratum.setdefault(stratum, OrderedDict()).setdefault(group, []).append(i)
    counts = {k: sum(len(rows) for rows in g.values()) for k, g in by_stratum.items()}
    exact = {k: limit * n / size for k, n in counts.items()}
    share = {k: int(v) for k, v in exact.items()}
    for k in sorted(exact, key=lambda k: exact[k] - share[k], reverse=True)[: limit - sum(share.values())]:
        share[k] += 1
    rng = random.Random(seed)
    chosen: list[int] = []
    for stratum, stratum_groups in by_stratum.items():
        keys = list(stratum_groups)
        rng.shuffle(keys)
        taken = 0
        for key in keys:
            if taken >= share[stratum]:
                break
            rows = stratum_groups[key][: share[stratum] - taken]
            chosen.extend(rows)
            taken += len(rows)
    return sorted(chosen)


def _draw(ds, report: LoadReport, limit: int | None, strata=None, groups=None, what: str = "rows"):
    """The drawn subset of ``ds`` (or ``ds`` itself when ``limit`` is None or not smaller), noted in the report."""
    if limit is None or limit >= len(ds):
        return ds
    rows = draw_subset(len(ds), limit, strata, groups)
    how = f"in proportion to its {what}" if strata is not None and len(set(strata)) > 1 else "at random"
    report.drawn = f"drew {len(rows)} of the {len(ds)} kept, across the whole file {how} (seed {SUBSET_SEED})"
    log.info("%s: %s", report.source, report.drawn)  # the reader logged what it read and kept
    return ds.select(rows)


# ----------------------------------------------------------------------------
# NLI

def _label_index(value, names: list[str] | None) -> int | None:
    """Map a raw label (name or index into ``names``) to our order; None if unusable."""
    if isinstance(value, str):
        name = value.strip().lower()
    elif isinstance(value, int) and not isinstance(value, bool) and names is not None and 0 <= value < len(names):
        name = names[value]
    else:
        return None
    return NLI_LABELS.index(name) if name in NLI_LABELS else None


def _keep_nli_row(report: LoadReport, cols: dict, s1, s2, label) -> None:
    """Keep one cleaned NLI row, or count why it is dropped (shared by both NLI readers)."""
    if s1 is None or s2 is None:
        report.drop("empty or non-text sentence")
    elif label is None:
        report.drop("no gold label")
    else:
        cols["sentence1"].append(s1)
        cols["sentence2"].append(s2)
        cols["label"].append(label)
        report.kept += 1


def nli_from_records(records, source: str = "records", label_names: list[str] | None = None, limit: int | None = None):
    """Build an NLI dataset from dicts with ``sentence1``/``premise``, ``sentence2``/``hypothesis``
    and ``gold_label``/``label``. Rows with a missing sentence or unknown label
    (SNLI's ``-`` and ``-1``) are dropped and counted.
    """
    from datasets import Dataset

    report = LoadReport(source)
    cols = {"sentence1": [], "sentence2": [], "label": []}
    for rec in records:
        if limit is not None and report.kept >= limit:
            break
        report.read += 1
        if not isinstance(rec, dict):
            report.drop("malformed line or not a record")
            continue
        s1 = _clean_text(rec.get("sentence1", rec.get("premise")))
        s2 = _clean_text(rec.get("sentence2", rec.get("hypothesis")))
        label = _label_index(rec.get("gold_label", rec.get("label")), label_names)
        _keep_nli_row(report, cols, s1, s2, label)
    _finish(report)
    return Dataset.from_dict(cols), report


def nli_from_columns(table, source: str, label_names: list[str], limit: int | None = None, chunk_rows: int = 65_536):
    """Like :func:`nli_from_records`, for a hub ``datasets.Dataset`` with ``premise``, ``hypothesis`` and an
    integer ``label`` (a ClassLabel whose ``names`` are given): read column by column, a chunk at a time,
    instead of row by row (20x faster: 950k rows/s against 48k on a 2-core CPU). Counts read, kept and dropped exactly as
    :func:`nli_from_records` does, stopping at the row that brings ``kept`` to ``limit``.
    """
    from datasets import Dataset

    ours = {i: NLI_LABELS.index(n) for i, n in enumerate(label_names) if n in NLI_LABELS}
    report = LoadReport(source)
    cols = {"sentence1": [], "sentence2": [], "label": []}
    for start in range(0, len(table), chunk_rows):
        if limit is not None and report.kept >= limit:
            break
        chunk = table[start:start + chunk_rows]  # a dict of column lists (one Arrow read per column)
        for p, h, y in zip(chunk["premise"], chunk["hypothesis"], chunk["label"]):
            if limit is not None and report.kept >= limit:
                break
            report.read += 1
            s1, s2 = _clean_text(p), _clean_text(h)
            label = ours.get(y) if isinstance(y, int) and not isinstance(y, bool) else None
            _keep_nli_row(report, cols, s1, s2, label)
    _finish(report)
    return Dataset.from_dict(cols), report


def _iter_jsonl(path):
    """Parsed JSON lines; a malformed line becomes None, which the loader counts as dropped."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                yield None


def load_hub_dataset(name: str, split: str):
    """``datasets.load_dataset(name, split=split)``, or a :class:`~sbert_teach.resources.MissingResourceError`
    saying what to do when the hub cannot be reached and the data set is not cached."""
    from datasets import load_dataset

    try:
        return load_dataset(name, split=split)
    except (ConnectionError, OSError, ValueError) as error:  # offline and not cached, or no such data set
        raise resources.MissingResourceError(
            f"The hub data set {name!r} (split {split!r}) could not be loaded: {type(error).__name__}: "
            f"{str(error)[:300]}. The hub profile needs huggingface.co once (on Colab: check the runtime is "
            "connected), or a cache that already holds the data set (HF_HUB_OFFLINE=1). Offline, use the "
            "packaged profile: SBERT_TEACH_RESOURCES=packaged (command line: --resources packaged)."
        ) from error


def load_nli(split: str = "train", resources_profile=None, limit: int | None = None, return_report: bool = False):
    """NLI sentence pairs with integer labels in :data:`NLI_LABELS` order.

    Columns: ``sentence1`` (premise), ``sentence2`` (hypothesis), ``label``.

    * packaged: SNLI ``train`` (first 100k lines) or ``test``;
    * hub: SNLI + MultiNLI (``validation_matched`` for MNLI's ``test``), label -1 dropped.

    ``limit`` draws that many pairs across the whole of each file (:func:`draw_subset`, seeded): each source gets
    its share, and a premise's hypotheses are drawn together (so triplets can still be built from the subset).
    """
    from datasets import concatenate_datasets

    profile = resources.get_profile(resources_profile)
    check_choice(split, ("train", "test"), "NLI split")
    parts, reports = [], []
    for source in profile.nli:
        if source == "packaged:snli":
            ds, rep = nli_from_records(_iter_jsonl(resources.packaged_snli_path(split)), f"snli-{split} (packaged)")
        else:
            hub_split = "validation_matched" if (source.endswith("multi_nli") and split == "test") else split
            raw = load_hub_dataset(source, hub_split)
            names = raw.features["label"].names  # read, not assumed
            ds, rep = nli_from_columns(raw, f"{source}-{hub_split}", names)
        parts.append(ds)
        reports.append(rep)
    ds = parts[0] if len(parts) == 1 else concatenate_datasets(parts)
    sources = [rep.source for rep, part in zip(reports, parts) for _ in range(len(part))]
    ds = _draw(ds, reports[-1], limit, strata=sources, groups=list(zip(sources, ds["sentence1"])), what="sources")
    if reports[-1].drawn:
        for rep in reports[:-1]:
            rep.drawn = reports[-1].drawn
    return (ds, reports) if return_report else ds


def nli_triplets(nli, seed: int | None = None, return_report: bool = False):
    """(anchor, positive, negative) = (premise, an entailed hypothesis, a contradicting one).

    One triplet per premise that has both; premises lacking either are counted.
    """
    from datasets import Dataset

    by_premise: dict[str, dict[int, list[str]]] = OrderedDict()
    for s1, s2, y in zip(list(nli["sentence1"]), list(nli["sentence2"]), list(nli["label"])):
        by_premise.setdefault(s1, {0: [], 2: []})
        if y in (0, 2):
            by_premise[s1][y].append(s2)
    rng = random.Random(seed)
    report = LoadReport("nli-triplets", read=len(by_premise))
    cols = {"anchor": [], "positive": [], "negative": []}
    for premise, hyps in by_premise.items():
        if not hyps[0] or not hyps[2]:
            report.drop("premise without both an entailment and a contradiction")
            continue
        pos = hyps[0][0] if seed is None else rng.choice(hyps[0])
        neg = hyps[2][0] if seed is None else rng.choice(hyps[2])
        cols["anchor"].append(premise)
        cols["positive"].append(pos)
        cols["negative"].append(neg)
        report.kept += 1
    _finish(report)
    ds = Dataset.from_dict(cols)
    return (ds, report) if return_report else ds


# ----------------------------------------------------------------------------
# STS

def sts_from_rows(rows, source: str = "rows", score_max: float = 5.0, limit: int | None = None):
    """Build an STS dataset from ``(sentence1, sentence2, score)`` rows, scaling scores to 0..1.

    With ``limit``, reading stops once that many pairs are kept, so the report counts what was read.
    A row may carry a fourth field, its genre, kept in a ``genre`` column (the loaders draw subsets with it).
    """
    from datasets import Dataset

    report = LoadReport(source)
    cols = {"sentence1": [], "sentence2": [], "score": []}
    genres = []
    for row in rows:
        if limit is not None and report.kept >= limit:
            break
        report.read += 1
        try:
            s1, s2, score, *genre = row
            if len(genre) > 1:
                raise ValueError("too many fields")
            score = float(score)
        except (TypeError, ValueError):
            report.drop("malformed row")
            continue
        s1, s2 = _clean_text(s1), _clean_text(s2)
        if s1 is None or s2 is None:
            report.drop("empty or non-text sentence")
        elif not 0.0 <= score <= score_max:
            report.drop(f"score outside 0..{score_max:g}")
        else:
            cols["sentence1"].append(s1)
            cols["sentence2"].append(s2)
            cols["score"].append(score / score_max)
            genres.extend(genre)
            report.kept += 1
    _finish(report)
    if genres and len(genres) == report.kept:
        cols["genre"] = genres
    return Dataset.from_dict(cols), report


def _packaged_sts_rows(path):
    # genre, source, year, id, score, s1, s2 [, extra columns on some lines]
    with open(path, encoding="utf-8", newline="") as f:
        for fields in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            yield (fields[5], fields[6], fields[4], fields[0]) if len(fields) >= 7 else None


def load_sts(split: str = "test", resources_profile=None, limit: int | None = None, return_report: bool = False):
    """STS Benchmark pairs. Columns: ``sentence1``, ``sentence2``, ``score`` in 0..1 (gold/5).

    ``limit`` draws that many pairs across the whole file (:func:`draw_subset`, seeded), in proportion to the
    genres where the file names them (the packaged copy: captions, news, forums); the first pairs would be
    captions only.
    """
    profile = resources.get_profile(resources_profile)
    check_choice(split, ("train", "dev", "test"), "STS split")
    if profile.sts == "packaged:stsb":
        ds, report = sts_from_rows(_packaged_sts_rows(resources.packaged_sts_path(split)), f"stsb-{split} (packaged)")
    else:
        raw = load_hub_dataset(profile.sts, "validation" if split == "dev" else split)
        # this hub copy is already divided by 5
        ds, report = sts_from_rows(zip(raw["sentence1"], raw["sentence2"], raw["score"]), f"{profile.sts}-{split}", 1.0)
    genres = ds["genre"] if "genre" in ds.column_names else None
    ds = _draw(ds, report, limit, strata=genres, what="genres")
    if "genre" in ds.column_names:
        ds = ds.remove_columns("genre")
    return (ds, report) if return_report else ds


def pairs_dataset(sentences1, sentences2, labels, num_labels: int | None = None):
    """Your own pairs as a dataset, checked. ``num_labels`` set: class labels; else float scores."""
    from datasets import Dataset

    check_same_length(sentences1=sentences1, sentences2=sentences2, labels=labels)
    s1 = check_sentences(sentences1, "sentences1")
    s2 = check_sentences(sentences2, "sentences2")
    if num_labels is not None:
        return Dataset.from_dict({"sentence1": s1, "sentence2": s2, "label": check_labels(labels, num_labels)})
    return Dataset.from_dict({"sentence1": s1, "sentence2": s2, "score": [float(x) for x in labels]})


# ----------------------------------------------------------------------------
# Collators: tokenise each text column and pad to the longest in *this* batch.

class TextColumnsCollator:
    """Turn a list of rows into ``(features_per_column, labels)`` with dynamic padding.

    ``features_per_column`` is a list with one tokenizer output per text column
    (e.g. ``[premises, hypotheses]``), each padded only as far as its own
    longest sentence, which is what makes small batches cheap.
    """

    def __init__(self, tokenizer, text_columns, label_column=None, label_dtype=torch.long, max_length: int = 128,
                 dynamic_padding: bool = True):
        self.tokenizer = tokenizer
        self.text_columns = list(text_columns)
        self.label_column = label_column
        self.label_dtype = label_dtype
        self.max_length = max_length
        #: False pads every batch to ``max_length`` (static padding), the slow way, kept for comparison
        self.dynamic_padding = dynamic_padding
        #: texts seen and texts cut to ``max_length`` so far (train() reports the count once, at the end)
        self.texts_seen = 0
        self.texts_truncated = 0

    def __call__(self, rows):
        padding = True if getattr(self, "dynamic_padding", True) else "max_length"
        features = []
        for column in self.text_columns:
            texts = [row[column] for row in rows]
            encoded = self.tokenizer(texts, padding=padding, truncation=True, max_length=self.max_length,
                                     return_tensors="pt")
            self.texts_seen += len(texts)
            self.texts_truncated += count_truncated(self.tokenizer, texts, encoded["attention_mask"].sum(1).tolist(),
                                                    self.max_length)
            features.append(encoded)
        labels = None
        if self.label_column is not None:
            labels = torch.tensor([row[self.label_column] for row in rows], dtype=self.label_dtype)
        return features, labels
