"""The retrieval task built from NLI, the search metrics, and agreement with InformationRetrievalEvaluator."""

import doctest
import math

import pytest
import torch

from sbert_teach import load_nli, retrieval
from sbert_teach.retrieval import (RetrievalTask, accuracy_at_k, average_precision_at_k, evaluate_retrieval,
                                   mrr_at_k, ndcg_at_k, nli_retrieval_task, precision_at_k, rank_corpus,
                                   recall_at_k, retrieval_metrics, text_key)

# ----------------------------------------------------------------------------
# Metrics on hand-made rankings


def test_one_relevant_document_at_rank_3():
    ranked, relevant = ["d4", "d9", "d1", "d7"], {"d1"}
    assert mrr_at_k(ranked, relevant, 10) == pytest.approx(1 / 3)
    assert mrr_at_k(ranked, relevant, 2) == 0.0  # outside the cut-off
    assert ndcg_at_k(ranked, relevant, 10) == pytest.approx(1 / math.log2(4))
    assert [recall_at_k(ranked, relevant, k) for k in (1, 2, 3, 4)] == [0.0, 0.0, 1.0, 1.0]
    assert [accuracy_at_k(ranked, relevant, k) for k in (1, 3)] == [0.0, 1.0]
    assert precision_at_k(ranked, relevant, 3) == pytest.approx(1 / 3)
    assert precision_at_k(ranked, relevant, 10) == pytest.approx(1 / 10)  # divided by k, not by the list's length
    assert average_precision_at_k(ranked, relevant, 100) == pytest.approx(1 / 3)


def test_several_relevant_documents():
    ranked, relevant = ["a", "x", "b", "y"], {"a", "b", "c"}
    assert mrr_at_k(ranked, relevant, 10) == 1.0
    assert recall_at_k(ranked, relevant, 4) == pytest.approx(2 / 3)
    assert precision_at_k(ranked, relevant, 4) == pytest.approx(2 / 4)
    # DCG: hits at ranks 1 and 3; ideal: min(k, 3 relevant) hits at the top
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(ranked, relevant, 4) == pytest.approx((1 + 1 / math.log2(4)) / ideal)
    assert ndcg_at_k(ranked, relevant, 2) == pytest.approx(1 / (1 + 1 / math.log2(3)))
    assert average_precision_at_k(ranked, relevant, 4) == pytest.approx((1 / 1 + 2 / 3) / 3)
    assert average_precision_at_k(ranked, relevant, 2) == pytest.approx(1 / 2)  # over min(k, 3)


def test_a_ranking_without_hits_scores_zero_everywhere():
    for metric in (accuracy_at_k, precision_at_k, recall_at_k, mrr_at_k, ndcg_at_k, average_precision_at_k):
        assert metric(["x", "y"], {"a"}, 10) == 0.0


@pytest.mark.parametrize("ranked, relevant, k, message", [
    (["a"], {"a"}, 0, "k must be"),
    (["a"], set(), 1, "relevant is empty"),
    (["a", "b", "a"], {"a"}, 2, "same id twice"),
])
def test_metric_input_errors(ranked, relevant, k, message):
    with pytest.raises(ValueError, match=message):
        ndcg_at_k(ranked, relevant, k)


def test_doctests():
    failures, tried = doctest.testmod(retrieval)
    assert tried > 0 and failures == 0


def test_retrieval_metrics_averages_over_queries_with_the_evaluator_keys():
    figures = retrieval_metrics({"q1": ["d1", "d2"], "q2": ["d2", "d1"]}, {"q1": {"d1"}, "q2": {"d1"}},
                                accuracy_at_k=(1,), precision_recall_at_k=(1,), mrr_at_k=(10,), ndcg_at_k=(10,),
                                map_at_k=(10,))
    assert list(figures) == ["cosine_accuracy@1", "cosine_precision@1", "cosine_recall@1", "cosine_ndcg@10",
                             "cosine_mrr@10", "cosine_map@10"]
    assert figures["cosine_recall@1"] == 0.5
    assert figures["cosine_mrr@10"] == pytest.approx((1 + 1 / 2) / 2)
    assert figures["cosine_ndcg@10"] == pytest.approx((1 + 1 / math.log2(3)) / 2)


def test_rank_corpus_is_exact_and_breaks_ties_by_the_smaller_id():
    corpus = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    ids = ["d3", "d1", "d0", "d2"]  # d3 and d1 have the same vector
    ranked = rank_corpus(torch.tensor([[1.0, 0.0], [0.0, 2.0]]), corpus, ids, k=3)
    assert [c for c, _ in ranked[0]] == ["d1", "d3", "d2"]
    assert [c for c, _ in ranked[1]] == ["d0", "d2", "d1"]  # d1 and d3 tie at 0: d1 first
    assert ranked[1][1][1] == pytest.approx(1 / math.sqrt(2))
    assert [c for c, _ in rank_corpus(torch.tensor([[1.0, 0.0]]), corpus, ids, k=1)[0]] == ["d1"]
    with pytest.raises(ValueError, match="same id twice"):
        rank_corpus(corpus, corpus, ["a", "a", "b", "c"], k=1)


def test_k_larger_than_the_corpus_names_the_fix():
    corpus = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match=r"k=3 is larger than the corpus \(2 documents\).*Use k up to 2"):
        rank_corpus(corpus[:1], corpus, ["d1", "d2"], k=3)
    assert len(rank_corpus(corpus[:1], corpus, ["d1", "d2"], k=2)[0]) == 2


def test_the_evaluator_reads_a_small_corpus_whole_at_a_larger_k():
    """Its default cut-offs (up to MAP@100) stay usable on a tiny corpus: they read the whole ranking, as
    InformationRetrievalEvaluator does; only an explicit ranking deeper than the corpus is an error."""
    class Vectors:
        table = {"a cat": [1.0, 0.0], "a dog": [0.0, 1.0], "A cat sleeps.": [0.9, 0.1], "A dog runs.": [0.2, 0.8]}

        def encode(self, texts, batch_size=64):
            return torch.tensor([self.table[t] for t in texts])

    task = RetrievalTask({"q1": "a cat", "q2": "a dog"}, {"d1": "A cat sleeps.", "d2": "A dog runs."},
                         {"q1": {"d1"}, "q2": {"d2"}})
    figures = evaluate_retrieval(Vectors(), task)
    assert figures["cosine_recall@1"] == 1.0 and figures["cosine_precision@10"] == pytest.approx(0.1)


# ----------------------------------------------------------------------------
# The task


def test_a_task_of_your_own_is_checked():
    corpus = {"d1": "A cat sleeps.", "d2": "A dog runs."}
    task = RetrievalTask({"q1": "a sleeping cat"}, corpus, {"q1": ["d1"]})
    assert task.relevant == {"q1": {"d1"}} and "1 queries, 2 documents" in str(task)
    with pytest.raises(ValueError, match="not in the corpus"):
        RetrievalTask({"q1": "a sleeping cat"}, corpus, {"q1": {"d9"}})
    with pytest.raises(ValueError, match="no relevant document"):
        RetrievalTask({"q1": "a sleeping cat", "q2": "a bird"}, corpus, {"q1": {"d1"}})
    with pytest.raises(ValueError, match="not in queries"):
        RetrievalTask({"q1": "a sleeping cat"}, corpus, {"q1": {"d1"}, "q9": {"d2"}})
    with pytest.raises(ValueError, match="texts non-empty"):
        RetrievalTask({"q1": " "}, corpus, {"q1": {"d1"}})
    with pytest.raises(ValueError, match="corpus must be a non-empty dict.*Give at least one document"):
        RetrievalTask({"q1": "a sleeping cat"}, {}, {"q1": {"d1"}})
    with pytest.raises(ValueError, match="no training pairs"):
        task.pairs_dataset()


@pytest.fixture(scope="module")
def tasks():
    return {split: nli_retrieval_task(split) for split in ("train", "dev", "test")}


def _texts(task):
    return {text_key(t) for t in [*task.queries.values(), *task.corpus.values()]}


def test_train_dev_and_test_share_no_text(tasks):
    for a, b in (("train", "dev"), ("train", "test"), ("dev", "test")):
        shared = _texts(tasks[a]) & _texts(tasks[b])
        assert not shared, f"{a} and {b} share {len(shared)} texts, e.g. {sorted(shared)[:3]}"
    for task in tasks.values():
        # no query is a document of its own corpus (that would be a trivial match)
        assert not {text_key(q) for q in task.queries.values()} & {text_key(d) for d in task.corpus.values()}
        report = task.report
        assert report.read == report.kept + sum(report.dropped.values())
        assert len(task.queries) > 1000 and len(task.corpus) > len(task.queries) // 2
    # dev is about a tenth of the train file's premises
    share = len(tasks["dev"].corpus) / (len(tasks["dev"].corpus) + len(tasks["train"].corpus))
    assert 0.08 < share < 0.12
    assert tasks["train"].pairs and tasks["dev"].pairs and not tasks["test"].pairs


def test_every_query_is_entailed_by_its_relevant_premises(tasks):
    test = load_nli("test")
    entailed = {(text_key(p), text_key(h)) for p, h, y in zip(test["sentence1"], test["sentence2"], test["label"])
                if y == 0}
    task = tasks["test"]
    for qid, query in task.queries.items():
        for cid in task.relevant[qid]:
            assert (text_key(task.corpus[cid]), text_key(query)) in entailed
    assert any(len(ids) > 1 for ids in task.relevant.values())  # repeated hypotheses are one query
    # the description says how it was built and what it is not
    text = task.describe()
    assert "entails" in text and "not comparable" in text and "dropped" in text


def test_a_limit_draws_across_the_whole_split(tasks):
    full = tasks["test"]
    rows = sorted(int(qid.split("-q")[1]) for qid in full.queries)
    small = nli_retrieval_task("test", limit=200, seed=0)
    assert len(small.queries) == 200 and small.queries.items() <= full.queries.items()
    assert small.corpus == full.corpus and all(small.relevant[q] == full.relevant[q] for q in small.queries)
    drawn = sorted(int(qid.split("-q")[1]) for qid in small.queries)
    assert drawn != rows[:200]  # not the first rows
    assert drawn[0] < rows[len(rows) // 10] and drawn[-1] > rows[-len(rows) // 10]  # from both ends of the file
    assert nli_retrieval_task("test", limit=200, seed=0).queries == small.queries  # seeded
    assert nli_retrieval_task("test", limit=200, seed=1).queries != small.queries
    assert "200 of the" in small.describe()


def test_a_smaller_corpus_keeps_every_relevant_document():
    task = nli_retrieval_task("test", limit=50, corpus_size=300, seed=3)
    assert len(task.corpus) == 300 and set().union(*task.relevant.values()) <= set(task.corpus)
    with pytest.raises(ValueError, match="smaller than the"):
        nli_retrieval_task("test", limit=50, corpus_size=10)


@pytest.mark.parametrize("kwargs, message", [
    ({"split": "validation"}, "Unknown retrieval split"),
    ({"split": "test", "limit": 0}, "limit must be"),
    ({"split": "test", "corpus_size": 2.5}, "corpus_size must be"),
    ({"split": "dev", "dev_fraction": 1.0}, "dev_fraction"),
])
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        nli_retrieval_task(**kwargs)


def test_training_pairs_feed_the_mnr_columns(tasks):
    train = tasks["train"]
    dataset = train.pairs_dataset()
    assert dataset.column_names == ["anchor", "positive"] and len(dataset) == len(train.pairs) >= len(train.queries)
    assert set(dataset["positive"]) <= set(train.corpus.values())
    assert set(dataset["anchor"]) >= set(train.queries.values())


# ----------------------------------------------------------------------------
# Against sentence-transformers


def test_equal_to_information_retrieval_evaluator(reference):
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.evaluation import InformationRetrievalEvaluator

    from sbert_teach import resources

    task = nli_retrieval_task("test", limit=200, corpus_size=500, seed=0)
    library = SentenceTransformer(str(resources.packaged_model_path()), device="cpu")
    evaluator = InformationRetrievalEvaluator(task.queries, task.corpus, task.relevant, batch_size=64,
                                              write_csv=False)
    theirs = evaluator(library)
    ours = evaluate_retrieval(reference, task)  # our encoder, our ranking, our metrics
    with_their_model = evaluate_retrieval(library, task)
    assert set(theirs) == set(ours) and len(theirs) == 15
    for key, value in theirs.items():
        assert ours[key] == pytest.approx(value, abs=1e-6), key
        assert with_their_model[key] == pytest.approx(value, abs=1e-6), key
    assert 0.3 < ours["cosine_ndcg@10"] < 1.0  # a real search, neither trivial nor broken
