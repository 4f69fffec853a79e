"""Retrieval: a search task built from NLI pairs, and the figures that measure search (chapter "Fine-tune an
existing embedding model on your data").

A *retrieval task* is what ``sentence_transformers``' ``InformationRetrievalEvaluator`` takes: queries
``{qid: text}``, a corpus ``{cid: text}`` and the relevant documents of each query ``{qid: {cid, ...}}``.
Bring your own as a :class:`RetrievalTask`, or build one from the packaged NLI data with
:func:`nli_retrieval_task`: a query is a hypothesis its premise *entails*, the corpus is every distinct
premise of the split, and a query's relevant documents are the premises that entail it. No retrieval
benchmark ships offline (BEIR, MTEB and ir_datasets download at run time), so this is the search task the
book can run anywhere; :meth:`RetrievalTask.describe` says what it is not.

The metrics are small pure functions of one ranked list of ids and one set of relevant ids
(:func:`recall_at_k`, :func:`mrr_at_k`, :func:`ndcg_at_k`, ...); :func:`evaluate_retrieval` encodes,
ranks the whole corpus exactly by cosine similarity and averages them over the queries, under the keys
``InformationRetrievalEvaluator`` uses (``cosine_recall@10``, ``cosine_mrr@10``, ``cosine_ndcg@10``, ...),
with its definitions (binary relevance; the ideal DCG of ``min(k, relevant)`` hits at the top; ties in
score broken by the smaller corpus id), so the two agree on the same embeddings.

Example:
    >>> ranked, relevant = ["d7", "d2", "d5"], {"d5"}
    >>> mrr_at_k(ranked, relevant, 10), recall_at_k(ranked, relevant, 2)
    (0.3333333333333333, 0.0)
    >>> round(ndcg_at_k(ranked, relevant, 10), 4)   # 1 / log2(3 + 1)
    0.5
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from . import resources
from .data import LoadReport, _finish, load_nli

RETRIEVAL_SPLITS = ("train", "dev", "test")
#: share of the NLI train file's premises (by a stable hash of the text) that form the dev task
DEV_FRACTION = 0.1


# ----------------------------------------------------------------------------
# The task

@dataclass
class RetrievalTask:
    """Queries, a corpus and the relevant documents of each query (the shape ``InformationRetrievalEvaluator``
    takes), checked on creation.

    ``pairs`` holds ``(query, relevant document)`` texts to train on (empty for a test task);
    :meth:`pairs_dataset` turns them into ``anchor``/``positive`` columns for the MNR objective.
    ``how`` and ``caveats`` say in words how the task was made and what it is not; ``report`` counts
    what was dropped on the way.

    >>> task = RetrievalTask({"q1": "a cat sleeps"}, {"d1": "A cat sleeps on a sofa.", "d2": "A dog runs."},
    ...                      {"q1": {"d1"}})
    >>> print(task)
    your data: 1 queries, 2 documents (1 relevant per query on average).
    """

    queries: dict[str, str]
    corpus: dict[str, str]
    relevant: dict[str, set[str]]
    pairs: list[tuple[str, str]] = field(default_factory=list)
    name: str = "your data"
    how: str = ""
    caveats: str = ""
    report: LoadReport | None = None

    def __post_init__(self):
        for what, texts in (("queries", self.queries), ("corpus", self.corpus)):
            if not isinstance(texts, dict) or not texts:
                raise ValueError(f"{what} must be a non-empty dict {{id: text}}, got {type(texts).__name__} "
                                 f"of length {len(texts) if hasattr(texts, '__len__') else '?'}. "
                                 f"Give at least one {'query' if what == 'queries' else 'document'}.")
            for key, text in texts.items():
                if not isinstance(key, str) or not isinstance(text, str) or not text.strip():
                    raise ValueError(f"{what}[{key!r}] = {text!r}: ids and texts must be strings, texts non-empty. "
                                     "Convert ids with str() and remove empty texts.")
        self.relevant = {qid: set(ids) for qid, ids in self.relevant.items()}
        unknown_queries = sorted(set(self.relevant) - set(self.queries))
        if unknown_queries:
            raise ValueError(f"relevant names {len(unknown_queries)} query ids that are not in queries, e.g. "
                             f"{unknown_queries[:3]}. Key relevant by the ids of queries.")
        for qid in self.queries:
            ids = self.relevant.get(qid)
            if not ids:
                raise ValueError(f"Query {qid!r} has no relevant document: every query needs at least one. "
                                 "Remove the query or add the id of a document that answers it.")
            missing = sorted(c for c in ids if c not in self.corpus)
            if missing:
                raise ValueError(f"Query {qid!r} lists relevant ids that are not in the corpus: {missing[:3]}. "
                                 "Add those documents to the corpus or fix the ids.")

    def describe(self) -> str:
        """What the task holds, how it was built and what it is not, in plain words."""
        per_query = sum(map(len, self.relevant.values())) / len(self.queries)
        lines = [f"{self.name}: {len(self.queries):,} queries, {len(self.corpus):,} documents "
                 f"({per_query:.2g} relevant per query on average)"
                 + (f", {len(self.pairs):,} (query, document) pairs to train on." if self.pairs else ".")]
        lines += [text for text in (self.how, self.caveats) if text]
        if self.report is not None:
            lines.append(f"Counted on the way: {self.report}.")
        return "\n".join(lines)

    __str__ = describe

    def pairs_dataset(self):
        """The training pairs as a :class:`datasets.Dataset` with ``anchor`` (query) and ``positive`` (document)."""
        from datasets import Dataset

        if not self.pairs:
            raise ValueError(f"{self.name} has no training pairs (a test task is for measuring only). "
                             "Build the 'train' split: nli_retrieval_task('train').")
        queries, documents = zip(*self.pairs)
        return Dataset.from_dict({"anchor": list(queries), "positive": list(documents)})


# ----------------------------------------------------------------------------
# Building a task from NLI pairs

def text_key(text: str) -> str:
    """The form in which two texts count as the same: case, spacing and a final full stop ignored."""
    return " ".join(text.casefold().split()).rstrip(" .!")


def _home_of_premise(premise_key: str, dev_fraction: float) -> str:
    # a stable hash (Python's hash() changes between runs), so the same premise always lands on the same side
    digest = hashlib.blake2b(premise_key.encode("utf-8"), digest_size=8).digest()
    return "dev" if int.from_bytes(digest, "big") < dev_fraction * 2 ** 64 else "train"


def _sources_in_words(profile) -> tuple[str, str]:
    """(data in words, documents in words) for the profile's NLI sources."""
    if profile.nli == ("packaged:snli",):
        return "SNLI (packaged: the first 100k lines of train, the full test split)", "one-sentence photo captions"
    return " + ".join(profile.nli), "photo captions (SNLI) and sentences from MultiNLI's genres"


def nli_retrieval_task(split: str = "test", resources_profile=None, limit: int | None = None,
                       corpus_size: int | None = None, seed: int = 0,
                       dev_fraction: float = DEV_FRACTION) -> RetrievalTask:
    """A search task from NLI pairs: find the premise that entails a hypothesis.

    * queries: hypotheses labelled *entailment*; one query per distinct text (:func:`text_key`), whose
      relevant documents are all the premises of the split that entail it;
    * corpus: every distinct premise of the split, those without an entailed hypothesis included;
    * ``train`` and ``dev`` divide the NLI train split by a stable hash of the premise (``dev_fraction``
      of the premises go to dev); ``test`` is the NLI test split.

    The three are disjoint: no text that is a premise or query of one is a premise or query of another.
    Pairs are dropped, and counted in ``task.report``, when the hypothesis equals its premise or another
    premise (a trivial match), when a train or dev text also occurs in the test split, or when a query
    text would be a query of both train and dev.

    ``limit`` keeps that many queries drawn at random (``seed``) from the whole split, not its first rows;
    ``corpus_size`` keeps the relevant documents of those queries plus randomly drawn other premises up to
    that many documents. Ids are ``{split}-q{row}`` and ``{split}-d{row}``, the row (of the NLI split read)
    where the text first occurs, so they do not change with ``limit``.
    """
    if split not in RETRIEVAL_SPLITS:
        raise ValueError(f"Unknown retrieval split {split!r}. Choose one of: train, dev, test (dev is carved out of "
                         "the NLI train split, so there is no 'validation').")
    if not 0.0 < dev_fraction < 1.0:
        raise ValueError(f"dev_fraction must be between 0 and 1 (exclusive), got {dev_fraction}.")
    for what, value in (("limit", limit), ("corpus_size", corpus_size)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 1):
            raise ValueError(f"{what} must be a positive whole number or None (all), got {value!r}.")
    profile = resources.get_profile(resources_profile)
    source_split = "test" if split == "test" else "train"
    source = load_nli(source_split, resources_profile=profile)[:]  # a dict of lists: one read per column
    premises, hypotheses, labels = source["sentence1"], source["sentence2"], source["label"]
    entailment = 0  # data.NLI_LABELS order

    # Texts of the test split, which train and dev must not contain.
    if split == "test":
        in_test = set()
    else:
        test = load_nli("test", resources_profile=profile)[:]
        in_test = {text_key(t) for t in test["sentence1"]}
        in_test |= {text_key(h) for h, y in zip(test["sentence2"], test["label"]) if y == entailment}

    def home(premise_key):
        return "test" if split == "test" else _home_of_premise(premise_key, dev_fraction)

    # Every premise of the source split, with its home: the basis of both the corpus and the checks below.
    premise_home, premise_row = {}, {}
    for row, premise in enumerate(premises):
        key = text_key(premise)
        if key not in premise_row and key not in in_test:
            premise_row[key] = row
            premise_home[key] = home(key)
    # The homes in which each hypothesis text would be a query (train and dev must not share one).
    query_homes: dict[str, set[str]] = {}
    for premise, hypothesis, label in zip(premises, hypotheses, labels):
        if label == entailment and text_key(premise) in premise_home:
            query_homes.setdefault(text_key(hypothesis), set()).add(premise_home[text_key(premise)])

    report = LoadReport(f"{split} retrieval task from {source_split} NLI pairs")
    relevant_rows: dict[str, set[int]] = {}  # query key -> premise rows
    query_row: dict[str, int] = {}
    pairs = []
    for row, (premise, hypothesis, label) in enumerate(zip(premises, hypotheses, labels)):
        p_key, h_key = text_key(premise), text_key(hypothesis)
        if label != entailment or home(p_key) != split:
            continue  # not a query, or another split's
        report.read += 1
        if p_key in in_test:
            report.drop("premise also in the test split")
        elif h_key == p_key:
            report.drop("hypothesis equal to its premise")
        elif h_key in premise_home:
            report.drop("hypothesis equal to another premise")
        elif h_key in in_test:
            report.drop("hypothesis also in the test split")
        elif len(query_homes[h_key]) > 1:
            report.drop("hypothesis a query of both train and dev")
        else:
            report.kept += 1
            query_row.setdefault(h_key, row)
            relevant_rows.setdefault(h_key, set()).add(premise_row[p_key])
            pairs.append((hypothesis.strip(), premise_row[p_key], h_key))
    _finish(report)

    chosen = sorted(query_row, key=query_row.get)
    total_queries = len(chosen)
    if limit is not None and limit < total_queries:
        chosen = sorted(random.Random(seed).sample(chosen, limit), key=query_row.get)
    needed = sorted({r for key in chosen for r in relevant_rows[key]})
    corpus_rows = sorted(r for key, r in premise_row.items() if premise_home[key] == split)
    corpus_cut = corpus_size is not None and corpus_size < len(corpus_rows)
    if corpus_cut:
        if corpus_size < len(needed):
            raise ValueError(f"corpus_size={corpus_size} is smaller than the {len(needed)} documents the chosen "
                             f"queries need. Raise corpus_size to at least {len(needed)}, or lower limit.")
        needed_set = set(needed)
        others = [r for r in corpus_rows if r not in needed_set]
        corpus_rows = sorted(needed + random.Random(seed + 1).sample(others, corpus_size - len(needed)))

    queries = {f"{split}-q{query_row[key]}": hypotheses[query_row[key]].strip() for key in chosen}
    relevant = {f"{split}-q{query_row[key]}": {f"{split}-d{r}" for r in relevant_rows[key]} for key in chosen}
    corpus = {f"{split}-d{r}": premises[r].strip() for r in corpus_rows}
    chosen_set = set(chosen)
    train_pairs = [] if split == "test" else [(h, premises[r].strip()) for h, r, key in pairs if key in chosen_set]

    data_words, document_words = _sources_in_words(profile)
    several = sum(len(ids) > 1 for ids in relevant.values())
    corpus_words = (f"{len(corpus):,} premises of the split: the relevant ones and others drawn at random "
                    f"(seed {seed})") if corpus_cut else "every distinct premise of the split"
    how = (f"Built from {data_words}: each query is a hypothesis that its premise entails (neutral and "
           f"contradiction pairs are not used); the corpus is {corpus_words}; a query's relevant documents are "
           f"the premises that entail it (more than one for {several:,} queries). ")
    if split != "test":
        how += (f"Train and dev divide the NLI train split by a stable hash of the premise ({dev_fraction:.0%} "
                "of the premises to dev); texts of the test split are removed from both, so no premise or query "
                "text is shared by train, dev and test. ")
    if len(chosen) < total_queries:
        how += f"{len(chosen):,} of the {total_queries:,} queries, drawn at random from the whole split (seed {seed})."
    caveats = (f"What it is not: a web or question-answering search benchmark (MS MARCO, BEIR, MTEB). The "
               f"documents are {document_words}, the queries short statements that annotators wrote from them, "
               "often with the same words; only the annotated premises count as relevant, so another premise "
               "that also entails a query counts as a miss. Its figures are not comparable with published "
               "retrieval results.")
    return RetrievalTask(queries, corpus, relevant, train_pairs, name=f"NLI retrieval ({split})", how=how.strip(),
                         caveats=caveats, report=report)


# ----------------------------------------------------------------------------
# Metrics of one ranked list (binary relevance)

def _hits(ranked, relevant, k: int) -> list[bool]:
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be a whole number of at least 1, got {k!r}.")
    if not relevant:
        raise ValueError("relevant is empty: a query needs at least one relevant id to be measured.")
    ranked = list(ranked)
    if len(set(ranked)) != len(ranked):
        raise ValueError("ranked holds the same id twice: a ranking lists each document once.")
    return [doc in relevant for doc in ranked[:k]]


def accuracy_at_k(ranked, relevant, k: int) -> float:
    """1.0 if any relevant id is among the first ``k``, else 0.0 (also called hit rate or success@k)."""
    return float(any(_hits(ranked, relevant, k)))


def precision_at_k(ranked, relevant, k: int) -> float:
    """Relevant ids among the first ``k``, divided by ``k`` (even when fewer than ``k`` were ranked)."""
    return sum(_hits(ranked, relevant, k)) / k


def recall_at_k(ranked, relevant, k: int) -> float:
    """Share of the relevant ids found among the first ``k``."""
    return sum(_hits(ranked, relevant, k)) / len(relevant)


def mrr_at_k(ranked, relevant, k: int) -> float:
    """``1 / rank`` of the first relevant id within the first ``k`` (ranks count from 1), else 0."""
    return next((1.0 / rank for rank, hit in enumerate(_hits(ranked, relevant, k), start=1) if hit), 0.0)


def ndcg_at_k(ranked, relevant, k: int) -> float:
    """DCG of the first ``k`` (a hit at rank ``r`` adds ``1 / log2(r + 1)``) over the DCG of the best
    possible list: ``min(k, len(relevant))`` hits at the top."""
    dcg = sum(1.0 / math.log2(rank + 1) for rank, hit in enumerate(_hits(ranked, relevant, k), start=1) if hit)
    ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(k, len(relevant)) + 1))
    return dcg / ideal


def average_precision_at_k(ranked, relevant, k: int) -> float:
    """Mean of the precision at the rank of each hit within the first ``k``, over ``min(k, len(relevant))``
    (its mean over queries is MAP@k)."""
    total, found = 0.0, 0
    for rank, hit in enumerate(_hits(ranked, relevant, k), start=1):
        if hit:
            found += 1
            total += found / rank
    return total / min(k, len(relevant))


#: the metric behind each key name (the parameters below shadow the function names)
METRICS = {"accuracy": accuracy_at_k, "precision": precision_at_k, "recall": recall_at_k, "ndcg": ndcg_at_k,
           "mrr": mrr_at_k, "map": average_precision_at_k}


# ----------------------------------------------------------------------------
# Ranking and evaluating

def rank_corpus(query_embeddings, corpus_embeddings, corpus_ids, k: int,
                query_chunk_size: int = 256) -> list[list[tuple[str, float]]]:
    """For each query, the ``k`` best corpus ids by cosine similarity as ``(id, score)``, best first.

    Exact (every document is scored). Equal scores are ordered by the smaller corpus id, as
    ``InformationRetrievalEvaluator`` orders them, so the ranking does not depend on the corpus order.
    """
    corpus_ids = [str(c) for c in corpus_ids]
    query_embeddings, corpus_embeddings = torch.as_tensor(query_embeddings), torch.as_tensor(corpus_embeddings)
    if corpus_embeddings.shape[0] != len(corpus_ids) or corpus_embeddings.shape[0] == 0:
        raise ValueError(f"{corpus_embeddings.shape[0]} corpus embeddings for {len(corpus_ids)} corpus ids: "
                         "pass one embedding per id, and at least one.")
    if len(set(corpus_ids)) != len(corpus_ids):
        raise ValueError("corpus_ids holds the same id twice: give each document its own id.")
    if not isinstance(k, int) or isinstance(k, bool) or k < 1:
        raise ValueError(f"k must be a whole number of at least 1, got {k!r}.")
    if k > len(corpus_ids):
        raise ValueError(f"k={k} is larger than the corpus ({len(corpus_ids)} documents): every document would be "
                         f"in the top {k}. Use k up to {len(corpus_ids)}, or search a larger corpus.")
    order = sorted(range(len(corpus_ids)), key=corpus_ids.__getitem__)
    ids = [corpus_ids[i] for i in order]
    corpus = F.normalize(corpus_embeddings[torch.tensor(order)].float(), p=2, dim=-1)
    queries = F.normalize(query_embeddings.float().to(corpus.device), p=2, dim=-1)
    ranked = []
    for start in range(0, len(queries), query_chunk_size):
        scores = queries[start:start + query_chunk_size] @ corpus.T
        values, top = scores.topk(k, dim=1)
        # topk promises no order among equal scores: rows with a tie re-sort stably (columns are in id order)
        tied = ((scores >= values[:, -1:]).sum(1) > k) | (values[:, 1:] == values[:, :-1]).any(1)
        if tied.any():
            rows = tied.nonzero().squeeze(1)
            resorted = torch.sort(scores[rows], dim=1, descending=True, stable=True)
            values[rows], top[rows] = resorted.values[:, :k], resorted.indices[:, :k]
        ranked += [[(ids[j], s) for j, s in zip(row_ids, row_scores)]
                   for row_ids, row_scores in zip(top.tolist(), values.tolist())]
    return ranked


def retrieval_metrics(rankings: dict, relevant: dict, score_name: str = "cosine", accuracy_at_k=(1, 3, 5, 10),
                      precision_recall_at_k=(1, 3, 5, 10), mrr_at_k=(10,), ndcg_at_k=(10,),
                      map_at_k=(100,)) -> dict[str, float]:
    """Mean of each metric over the queries of ``rankings`` (``{qid: [cid, ...]}``, best first), keyed like
    ``InformationRetrievalEvaluator`` (``cosine_accuracy@1``, ..., ``cosine_map@100``)."""
    if not rankings:
        raise ValueError("rankings is empty: rank at least one query.")
    ks_of = {"accuracy": accuracy_at_k, "precision": precision_recall_at_k, "recall": precision_recall_at_k,
             "ndcg": ndcg_at_k, "mrr": mrr_at_k, "map": map_at_k}
    out = {}
    for name, metric in METRICS.items():  # the evaluator's order of keys
        for k in ks_of[name]:
            values = [metric(ranked, relevant[qid], k) for qid, ranked in rankings.items()]
            out[f"{score_name}_{name}@{k}"] = sum(values) / len(values)
    return out


def _embed(model, texts: list[str], role: str, batch_size: int) -> torch.Tensor:
    """Vectors from sbert_teach's encoder, a sentence-transformers model (its query or document side), or any
    object whose ``encode(texts, batch_size=...)`` returns an array."""
    from .encoder import SentenceEncoder

    if isinstance(model, SentenceEncoder):
        return model.encode(texts, batch_size=batch_size)
    encode_for_role = getattr(model, f"encode_{role}", None)  # sentence-transformers >= 5: prompts per role
    if callable(encode_for_role):
        return torch.as_tensor(encode_for_role(texts, batch_size=batch_size, convert_to_tensor=True)).cpu()
    if not callable(getattr(model, "encode", None)):
        raise TypeError(f"{type(model).__name__} has no encode(): pass an sbert_teach SentenceEncoder "
                        "(sbert_teach.get_model(...)) or a sentence-transformers model.")
    return torch.as_tensor(model.encode(texts, batch_size=batch_size)).cpu()


def evaluate_retrieval(model, task: RetrievalTask, batch_size: int = 64, accuracy_at_k=(1, 3, 5, 10),
                       precision_recall_at_k=(1, 3, 5, 10), mrr_at_k=(10,), ndcg_at_k=(10,), map_at_k=(100,),
                       return_rankings: bool = False):
    """Search ``task.corpus`` for each of ``task.queries`` with ``model`` and measure it.

    Encodes queries and corpus, ranks the whole corpus by cosine similarity (:func:`rank_corpus`) and returns
    the means of :func:`retrieval_metrics`, e.g. ``cosine_recall@10``, ``cosine_mrr@10``, ``cosine_ndcg@10``.
    ``model`` is an sbert_teach encoder or a sentence-transformers model (always scored by cosine here; the
    library's evaluator uses the model's own similarity, which is cosine for most models).
    ``return_rankings=True`` also returns ``{qid: [(cid, score), ...]}`` to look at the hits.
    """
    if not isinstance(task, RetrievalTask):
        raise TypeError(f"task must be a RetrievalTask, got {type(task).__name__}. Build one with "
                        "nli_retrieval_task(...) or RetrievalTask(queries, corpus, relevant).")
    qids, cids = list(task.queries), list(task.corpus)
    query_embeddings = _embed(model, [task.queries[q] for q in qids], "query", batch_size)
    corpus_embeddings = _embed(model, [task.corpus[c] for c in cids], "document", batch_size)
    depth = max(max(ks, default=1) for ks in (accuracy_at_k, precision_recall_at_k, mrr_at_k, ndcg_at_k, map_at_k))
    # metrics at a k beyond the corpus read the whole ranked corpus, as InformationRetrievalEvaluator does
    hits = dict(zip(qids, rank_corpus(query_embeddings, corpus_embeddings, cids, min(depth, len(cids)))))
    figures = retrieval_metrics({q: [c for c, _ in row] for q, row in hits.items()}, task.relevant, "cosine",
                                accuracy_at_k, precision_recall_at_k, mrr_at_k, ndcg_at_k, map_at_k)
    return (figures, hits) if return_rankings else figures
