"""The chapter 6 checkers: accept the package's answer, hint at typical mistakes, report unwritten code."""

import torch
import torch.nn.functional as F

from sbert_teach import checks
from sbert_teach.objectives import mnr_loss_from_embeddings, triplet_loss_from_embeddings
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

def reference_mnr(anchors, positives, negatives=None, scale=20.0):
    extra = [] if negatives is None else [negatives]
    return mnr_loss_from_embeddings(anchors, positives, *extra, scale=scale)


def test_in_batch_negatives_accepts_the_reference():
    result = checks.in_batch_negatives_loss(reference_mnr)
    assert result.passed, result.report()


def test_in_batch_negatives_hints_at_dot_products():
    def dot(anchors, positives, negatives=None, scale=20.0):
        cands = positives if negatives is None else torch.cat([positives, negatives])
        return F.cross_entropy(scale * anchors @ cands.T, torch.arange(len(anchors)))

    result = checks.in_batch_negatives_loss(dot)
    assert not result.passed
    hints = _hints(result)
    assert "normalise" in hints
    assert "F.normalize" not in hints and "cross_entropy(" not in hints


def test_in_batch_negatives_hints_at_forgotten_hard_negatives():
    def no_negatives(anchors, positives, negatives=None, scale=20.0):
        return mnr_loss_from_embeddings(anchors, positives, scale=scale)

    result = checks.in_batch_negatives_loss(no_negatives)
    assert not result.passed
    failed = {case for case, _ in result.failed_cases}
    assert "with hard negatives" in failed and "random batch, no hard negatives" not in failed
    assert "hard negatives are missing" in _hints(result)


def test_in_batch_negatives_hints_at_a_wrong_target():
    def first_column(anchors, positives, negatives=None, scale=20.0):
        cands = positives if negatives is None else torch.cat([positives, negatives])
        scores = scale * F.normalize(anchors, dim=-1) @ F.normalize(cands, dim=-1).T
        return F.cross_entropy(scores, torch.zeros(len(anchors), dtype=torch.long))

    assert "diagonal" in _hints(checks.in_batch_negatives_loss(first_column))


def test_in_batch_negatives_not_written():
    result = checks.in_batch_negatives_loss(_not_written)
    assert result.not_written and "not written yet" in result.report()


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
