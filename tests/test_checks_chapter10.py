import math

import pytest

from sbert_teach import checks
from sbert_teach.retrieval import ndcg_at_k as package_ndcg
from checks_helpers import assert_reports_not_written, hints


# The answers in notebooks/10_finetune_for_search.ipynb
def ndcg_at_k(ranked_ids, relevant_ids, k):
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}.")
    if not relevant_ids:
        raise ValueError("relevant_ids is empty: NDCG needs at least one relevant document.")
    dcg = sum(1 / math.log2(rank + 1) for rank, doc in enumerate(ranked_ids[:k], start=1) if doc in relevant_ids)
    ideal = sum(1 / math.log2(rank + 1) for rank in range(1, min(k, len(relevant_ids)) + 1))
    return dcg / ideal


def recall_from_scores(scores, relevant, k):
    n_queries, n_documents = scores.shape
    if not 1 <= k <= n_documents:
        raise ValueError(f"k={k} must be between 1 and the number of documents, {n_documents}.")
    if len(relevant) != n_queries:
        raise ValueError(f"{len(relevant)} sets of relevant documents for {n_queries} queries.")
    if any(not ids for ids in relevant):
        raise ValueError("every query needs at least one relevant document.")
    top = scores.topk(k, dim=1).indices
    return sum(len(set(row.tolist()) & ids) / len(ids) for row, ids in zip(top, relevant)) / n_queries


def not_written(*args, **kwargs):
    raise NotImplementedError


def _with_checks(metric):
    """A metric with the bad-input checks of the answer, so only its arithmetic is under test."""
    def checked(ranked_ids, relevant_ids, k):
        if k < 1 or not relevant_ids:
            raise ValueError("bad input")
        return metric(ranked_ids, relevant_ids, k)
    return checked


@pytest.mark.parametrize("answer", [ndcg_at_k, package_ndcg])
def test_ndcg_reference_answers_pass(answer):
    result = checks.ndcg_by_hand(answer, strict=True)
    assert result.passed and len(result.passed_cases) == 10


def test_ndcg_without_normalising_is_told_to_divide():
    def dcg_only(ranked, relevant, k):
        return sum(1 / math.log2(r + 1) for r, d in enumerate(ranked[:k], start=1) if d in relevant)

    result = checks.ndcg_by_hand(_with_checks(dcg_only))
    assert "DCG of the best possible list" in hints(result)
    assert "several relevant documents" in dict(result.failed_cases)


def test_ndcg_with_ranks_from_zero_fails_without_showing_code():
    def ranks_from_zero(ranked, relevant, k):
        dcg = sum(1 / math.log2(r + 2) for r, d in enumerate(ranked[:k]) if d in relevant)
        ideal = sum(1 / math.log2(r + 2) for r in range(1, min(k, len(relevant)) + 1))
        return dcg / ideal

    result = checks.ndcg_by_hand(_with_checks(ranks_from_zero))
    assert not result.passed and "relevant document first" in dict(result.failed_cases)
    assert "1 / math.log2" not in hints(result)


def test_ndcg_ideal_from_every_relevant_id_fails_when_more_are_relevant_than_k():
    def ideal_ignores_k(ranked, relevant, k):
        dcg = sum(1 / math.log2(r + 1) for r, d in enumerate(ranked[:k], start=1) if d in relevant)
        return dcg / sum(1 / math.log2(r + 1) for r in range(1, len(relevant) + 1))

    failed = dict(checks.ndcg_by_hand(_with_checks(ideal_ignores_k)).failed_cases)
    assert set(failed) == {"more relevant documents than k"}
    assert "min(k, number relevant)" in failed["more relevant documents than k"]


def test_ndcg_without_input_checks_fails_only_those():
    def unchecked(ranked, relevant, k):
        return package_ndcg(ranked, relevant, k) if k >= 1 and relevant else 0.0

    failed = dict(checks.ndcg_by_hand(unchecked).failed_cases)
    assert set(failed) == {"k below 1", "no relevant ids"}
    assert all("no error was raised" in hint for hint in failed.values())


def test_ndcg_not_written_yet():
    assert_reports_not_written(checks.ndcg_by_hand, not_written)


def test_recall_reference_answer_passes():
    result = checks.recall_from_scores(recall_from_scores, strict=True)
    assert result.passed and len(result.passed_cases) == 9


def test_recall_lowest_first_or_precision_gets_its_hint():
    def lowest_first(scores, relevant, k):
        return recall_from_scores(-scores, relevant, k)

    assert "lowest scores" in hints(checks.recall_from_scores(lowest_first))

    def precision(scores, relevant, k):
        recall_from_scores(scores, relevant, k)  # the same input checks
        top = scores.topk(k, dim=1).indices
        return sum(len(set(row.tolist()) & ids) / k for row, ids in zip(top, relevant)) / len(relevant)

    result = checks.recall_from_scores(precision)
    assert "precision@k" in hints(result) and "several relevant documents" in dict(result.failed_cases)


def test_recall_that_sorts_in_place_or_skips_checks_fails():
    def sorts_in_place(scores, relevant, k):
        value = recall_from_scores(scores, relevant, k)
        scores.copy_(scores.sort(dim=1).values)
        return value

    assert set(dict(checks.recall_from_scores(sorts_in_place).failed_cases)) == {"scores left unchanged"}

    def unchecked(scores, relevant, k):
        k = min(k, scores.shape[1])
        top = scores.topk(max(k, 1), dim=1).indices
        return sum(len(set(row.tolist()) & ids) / max(len(ids), 1) for row, ids in zip(top, relevant)) / len(relevant)

    failed = dict(checks.recall_from_scores(unchecked).failed_cases)
    assert {"k larger than the corpus", "k below 1", "a query without a relevant document"} <= set(failed)
    assert "topk" not in hints(checks.recall_from_scores(unchecked))


def test_recall_not_written_yet():
    assert_reports_not_written(checks.recall_from_scores, not_written)


def test_recall_wrong_type_is_named():
    result = checks.recall_from_scores(lambda scores, relevant, k: "high")
    assert "return one number" in hints(result)
