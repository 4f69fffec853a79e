import numpy as np
import pytest
import torch

from sbert_teach import checks
from sbert_teach.checks import ExerciseNotPassed
from checks_helpers import assert_reports_not_written, hints


# The answers in notebooks/07_evaluation.ipynb
def spearman(x, y):
    if len(x) != len(y):
        raise ValueError(f"x has {len(x)} values but y has {len(y)}; they must pair up.")

    def ranks(values):
        values = np.asarray(values, dtype=float)
        order = np.argsort(values, kind="stable")
        r = np.empty(len(values))
        r[order] = np.arange(1, len(values) + 1)
        for v in np.unique(values):  # tied values share the average of their ranks
            r[values == v] = r[values == v].mean()
        return r

    rx, ry = ranks(x), ranks(y)
    if rx.std() == 0 or ry.std() == 0:
        raise ValueError("A list whose values are all equal has no ranking; Spearman is undefined.")
    rx, ry = rx - rx.mean(), ry - ry.mean()
    return float((rx * ry).sum() / np.sqrt((rx ** 2).sum() * (ry ** 2).sum()))


def top_k(scores, k):
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}.")
    values, indices = scores.topk(min(k, scores.shape[1]), dim=1)
    return [[(int(i), float(v)) for i, v in zip(ri, rv)] for ri, rv in zip(indices.tolist(), values.tolist())]


def not_written(*args):
    raise NotImplementedError


def test_spearman_reference_answer_passes():
    result = checks.spearman_correlation(spearman, strict=True)
    assert result.passed and len(result.passed_cases) == 9


def test_spearman_ordinal_ranks_fail_on_ties_with_a_hint():
    def ordinal(x, y):
        if len(x) != len(y):
            raise ValueError("lengths")
        rx, ry = np.argsort(np.argsort(x)), np.argsort(np.argsort(y))
        if rx.std() == 0 or ry.std() == 0:
            raise ValueError("constant")
        return float(np.corrcoef(rx, ry)[0, 1])

    result = checks.spearman_correlation(ordinal)
    assert not result.passed
    failed = {case for case, _ in result.failed_cases}
    assert "ties" in failed and "noisy scores" not in failed
    assert "average" in hints(result)
    assert "argsort" not in hints(result) and "corrcoef" not in hints(result)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_pearson_instead_of_spearman_fails():
    result = checks.spearman_correlation(lambda x, y: float(np.corrcoef(x, y)[0, 1]))
    failed = dict(result.failed_cases)
    assert "monotone but not linear" in failed and "ranks" in failed["monotone but not linear"]
    assert "constant input" in failed
    assert "NaN" in failed["constant input"] or "no error" in failed["constant input"]


def test_spearman_not_written_yet():
    assert_reports_not_written(checks.spearman_correlation, not_written)


def test_top_k_reference_answer_passes():
    result = checks.top_k_search(top_k, strict=True)
    assert result.passed and len(result.passed_cases) == 7


def test_top_k_worst_first_fails_with_a_hint():
    def ascending(scores, k):
        if k < 1:
            raise ValueError("k")
        values, indices = scores.sort(dim=1)
        k = min(k, scores.shape[1])
        return [[(int(i), float(v)) for i, v in zip(ri[:k], rv[:k])] for ri, rv in zip(indices.tolist(), values.tolist())]

    result = checks.top_k_search(ascending)
    assert not result.passed and "best first" in hints(result)
    assert "topk" not in hints(result) and "sort(" not in hints(result)


def test_top_k_ignoring_small_corpus_fails():
    def always_k(scores, k):
        if k < 1:
            raise ValueError("k")
        order = scores.argsort(dim=1, descending=True)
        return [[(int(row[j % len(row)]), float(s[row[j % len(row)]])) for j in range(k)]
                for row, s in zip(order, scores)]

    failed = dict(checks.top_k_search(always_k).failed_cases)
    assert "k larger than the corpus" in failed and "smaller of the two" in failed["k larger than the corpus"]


def test_top_k_in_place_sort_and_missing_k_check_fail():
    def in_place(scores, k):
        values, indices = scores.topk(min(k, scores.shape[1]), dim=1) if k > 0 else (torch.empty(0), torch.empty(0))
        scores.zero_()
        return [[(int(i), float(v)) for i, v in zip(ri, rv)] for ri, rv in zip(indices.tolist(), values.tolist())]

    failed = dict(checks.top_k_search(in_place).failed_cases)
    assert "matrix unchanged" in failed and "k = 0" in failed


def test_top_k_not_written_yet():
    assert checks.top_k_search(not_written).not_written
