"""The chapter 6 checkers: accept the package's answer, hint at typical mistakes, report unwritten code."""

import torch
import torch.nn.functional as F

from sbert_teach import checks
from sbert_teach.objectives import triplet_loss_from_embeddings
from checks_helpers import assert_reports_not_written, hints as _hints


def _not_written(*args, **kwargs):
    raise NotImplementedError


# -- exercise 6.1 ---------------------------------------------------------------

def reference_triplet(anchor, positive, negative, margin=1.0):
    return triplet_loss_from_embeddings(anchor, positive, negative, margin=margin)


def test_triplet_loss_accepts_the_reference():
    result = checks.triplet_loss(reference_triplet)
    assert result.passed, result.report()
    assert "all" in result.report()


def test_triplet_loss_hints_at_a_sum_over_the_batch():
    def summed(anchor, positive, negative, margin=1.0):
        dp, dn = (anchor - positive).norm(dim=-1), (anchor - negative).norm(dim=-1)
        return F.relu(dp - dn + margin).sum()

    result = checks.triplet_loss(summed)
    assert not result.passed
    hints = _hints(result)
    assert "mean" in hints
    assert "relu" not in hints and "norm(" not in hints and ".sum()" not in hints


def test_triplet_loss_hints_at_a_fixed_margin_and_missing_clip():
    def fixed_margin(anchor, positive, negative, margin=1.0):
        dp, dn = (anchor - positive).norm(dim=-1), (anchor - negative).norm(dim=-1)
        return F.relu(dp - dn + 1.0).mean()

    result = checks.triplet_loss(fixed_margin)
    assert not result.passed
    assert {case for case, _ in result.failed_cases} == {"margin 0.5", "margin 5"}
    assert "margin" in _hints(result)

    def no_clip(anchor, positive, negative, margin=1.0):
        dp, dn = (anchor - positive).norm(dim=-1), (anchor - negative).norm(dim=-1)
        return (dp - dn + margin).mean()

    result = checks.triplet_loss(no_clip)
    assert not result.passed
    assert "satisfied triplets give 0" in {case for case, _ in result.failed_cases}


def test_triplet_loss_hints_at_squared_distances():
    def squared(anchor, positive, negative, margin=1.0):
        dp, dn = (anchor - positive).pow(2).sum(-1), (anchor - negative).pow(2).sum(-1)
        return F.relu(dp - dn + margin).mean()

    assert "squared" in _hints(checks.triplet_loss(squared))


def test_triplet_loss_reports_a_detached_result():
    def detached(anchor, positive, negative, margin=1.0):
        return torch.tensor(reference_triplet(anchor, positive, negative, margin).item())

    result = checks.triplet_loss(detached)
    assert [case for case, _ in result.failed_cases] == ["gradient flows"]


def test_triplet_loss_not_written():
    assert_reports_not_written(checks.triplet_loss, _not_written)


# -- exercise 6.2 ---------------------------------------------------------------

def my_in_batch_accuracy(anchors, positives, batch_size, similarity="cosine", per_batch=True, share=True):
    """Written out independently of the checker; the flags reproduce typical slips."""
    size = batch_size if per_batch else len(anchors)
    hits = 0
    for start in range(0, len(anchors), size):
        a, p = anchors[start:start + size], positives[start:start + size]
        scores = F.normalize(a, dim=-1) @ F.normalize(p, dim=-1).T if similarity == "cosine" else a @ p.T
        hits += sum(int(row.argmax()) == i for i, row in enumerate(scores))
    return hits / len(anchors) if share else hits


def test_in_batch_accuracy_accepts_a_correct_answer():
    result = checks.in_batch_accuracy(my_in_batch_accuracy)
    assert result.passed, result.report()


def test_in_batch_accuracy_hints_at_the_whole_set_instead_of_batches():
    result = checks.in_batch_accuracy(lambda a, p, b: my_in_batch_accuracy(a, p, b, per_batch=False))
    assert not result.passed and "within each batch" in _hints(result)


def test_in_batch_accuracy_hints_at_dot_products():
    result = checks.in_batch_accuracy(lambda a, p, b: my_in_batch_accuracy(a, p, b, similarity="dot"))
    assert not result.passed and "cosine" in _hints(result)


def test_in_batch_accuracy_hints_at_a_count():
    result = checks.in_batch_accuracy(lambda a, p, b: my_in_batch_accuracy(a, p, b, share=False))
    assert not result.passed and "not a count" in _hints(result)


def test_in_batch_accuracy_not_written():
    assert_reports_not_written(checks.in_batch_accuracy, _not_written)


# -- exercise 6.3 ---------------------------------------------------------------

def _first_of_each(rows):
    """A correct answer written independently of the package: group by premise, first entailment and contradiction."""
    found = {}
    for premise, hypothesis, label in rows:
        slots = found.setdefault(premise, {})
        slots.setdefault(label, hypothesis)
    return [(p, s[0], s[2]) for p, s in found.items() if 0 in s and 2 in s]


def test_nli_rows_to_triplets_accepts_a_correct_answer():
    result = checks.nli_rows_to_triplets(_first_of_each)
    assert result.passed, result.report()


def test_nli_rows_to_triplets_hints_at_swapped_positive_and_negative():
    def swapped(rows):
        return [(a, n, p) for a, p, n in _first_of_each(rows)]

    result = checks.nli_rows_to_triplets(swapped)
    assert not result.passed
    assert "swapped" in _hints(result)


def test_nli_rows_to_triplets_hints_at_premises_without_a_contradiction():
    def keeps_incomplete(rows):
        found = {}
        for premise, hypothesis, label in rows:
            found.setdefault(premise, {}).setdefault(label, hypothesis)
        return [(p, s.get(0, ""), s.get(2, "")) for p, s in found.items()]

    result = checks.nli_rows_to_triplets(keeps_incomplete)
    assert not result.passed
    assert "one triplet per premise" in _hints(result)


def test_nli_rows_to_triplets_hints_at_rows_not_grouped_by_premise():
    def neighbours_only(rows):  # pairs up a premise's rows only when they are adjacent
        out, run = [], []
        for row in rows + [(None, None, None)]:
            if run and row[0] != run[0][0]:
                out += _first_of_each(run)
                run = []
            run.append(row)
        return out

    result = checks.nli_rows_to_triplets(neighbours_only)
    assert not result.passed


def test_nli_rows_to_triplets_reports_unwritten_code():
    assert_reports_not_written(checks.nli_rows_to_triplets, _not_written)
