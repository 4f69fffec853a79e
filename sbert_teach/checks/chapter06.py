"""Checkers for chapter 6 (triplet objective and in-batch negatives)."""

from __future__ import annotations

import logging

import torch
import torch.nn.functional as F

from ..data import NLI_LABELS, nli_triplets
from ..objectives import triplet_loss_from_embeddings
from .core import expect, expect_close, fail, run_checks

__all__ = ["triplet_loss", "in_batch_accuracy", "nli_rows_to_triplets"]


def _rand(*shape, seed: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def _scalar(out, what: str) -> torch.Tensor:
    expect(isinstance(out, torch.Tensor), f"return a torch.Tensor, not {type(out).__name__}: the trainer calls "
                                          f".backward() on {what}.")
    expect(out.dim() == 0, f"return one number for the whole batch (a 0-dimensional tensor), yours has shape "
                           f"{tuple(out.shape)}. Average over the batch.")
    return out


def _close(a, b) -> bool:
    return bool(torch.allclose(torch.as_tensor(a, dtype=torch.float64), torch.as_tensor(b, dtype=torch.float64),
                               atol=1e-5, rtol=1e-4))


# ----------------------------------------------------------------------------
# Exercise 6.1

def _triplet_variants(a, p, n, margin):
    """Typical wrong answers, each with the hint it deserves."""
    dp, dn = (a - p).norm(dim=-1), (a - n).norm(dim=-1)
    return [
        (F.relu(dp - dn + margin).sum(), "you seem to add the losses of the triplets up; the loss is their mean, "
                                         "so it does not grow with the batch size."),
        (F.relu(dp.pow(2) - dn.pow(2) + margin).mean(), "you seem to use squared distances; the paper's loss uses "
                                                        "the Euclidean distance itself."),
        ((dp - dn + margin).mean(), "a triplet that already meets the margin must contribute 0, not a negative "
                                    "number: clip each triplet's value at 0 before averaging."),
        (F.relu(dn - dp + margin).mean(), "the positive and negative distances are swapped: the loss should fall "
                                          "as the positive moves closer to the anchor."),
        (F.relu(dp - dn).mean(), "the margin is missing: a negative only just further away than the positive "
                                 "should still cost something."),
        (F.relu(dp - dn + 1.0).mean() if margin != 1.0 else None,
         "your result matches margin 1 although another margin was asked for: use the `margin` argument."),
    ]


def triplet_loss(fn, strict: bool = False):
    """Exercise 6.1: ``fn(anchor, positive, negative, margin=1.0) -> scalar tensor``.

    The mean over the batch of ``max(||a - p|| - ||a - n|| + margin, 0)`` with Euclidean distance.
    """

    def compare(a, p, n, margin, hint, pass_margin=True):
        def test():
            inputs = [t.clone() for t in (a, p, n)]
            out = fn(*inputs, margin=margin) if pass_margin else fn(*inputs)
            _scalar(out, "the loss")
            want = triplet_loss_from_embeddings(a, p, n, margin=margin)
            if not _close(out.detach(), want):
                for wrong, why in _triplet_variants(a, p, n, margin):
                    if wrong is not None and _close(out.detach(), wrong) and not _close(wrong, want):
                        fail(why)
                expect_close(out.detach(), want, hint)
            expect(all(torch.equal(x, y) for x, y in zip(inputs, (a, p, n))), "your function changed its inputs.")
        return test

    a, p, n = _rand(5, 8, seed=0), _rand(5, 8, seed=1), _rand(5, 8, seed=2)
    # the negative is a margin and more further away than the positive: every triplet is satisfied
    far_a = torch.zeros(4, 3)
    far_p = torch.tensor([[0.5, 0, 0], [0, 0.2, 0], [0, 0, 1.0], [0.3, 0.4, 0]])
    far_n = far_p * 4 + torch.tensor([2.0, 0, 0])
    # a batch that mixes satisfied and violated triplets
    mix_a, mix_p = torch.zeros(4, 2), torch.tensor([[1.0, 0], [1.0, 0], [0, 2.0], [0, 0.5]])
    mix_n = torch.tensor([[3.0, 0], [0, 1.2], [0, -1.0], [4.0, 0]])

    def satisfied_is_zero():
        out = _scalar(fn(far_a.clone(), far_p.clone(), far_n.clone(), margin=1.0), "the loss")
        expect(float(out.detach()) == 0.0, "when every negative is more than the margin further from the anchor than "
                                           "its positive, the loss must be exactly 0.")

    def keeps_gradient():
        x = a.clone().requires_grad_(True)
        out = _scalar(fn(x, p.clone(), n.clone(), margin=1.0), "the loss")
        expect(out.requires_grad, "the result has no gradient: compute it with torch operations on the inputs "
                                  "(no .item(), .detach(), numpy or Python floats along the way).")
        out.backward()
        expect(x.grad is not None and torch.isfinite(x.grad).all(), "the gradient did not reach the anchor.")

    return run_checks("triplet loss", [
        ("random batch, margin 1", compare(a, p, n, 1.0, "the values differ from the triplet loss with Euclidean "
                                                         "distance, margin 1, averaged over the batch.")),
        ("margin 1 is the default", compare(a, p, n, 1.0, "give `margin` the default value 1 (the paper's).",
                                            pass_margin=False)),
        ("satisfied triplets give 0", satisfied_is_zero),
        ("mixed batch: mean over triplets", compare(mix_a, mix_p, mix_n, 1.0, "each triplet contributes its own "
                                                    "clipped value; the loss is the mean of those values.")),
        ("margin 0.5", compare(a, p, n, 0.5, "use the `margin` argument rather than a fixed number.")),
        ("margin 5", compare(mix_a, mix_p, mix_n, 5.0, "use the `margin` argument rather than a fixed number.")),
        ("one triplet", compare(a[:1], p[:1], n[:1], 1.0, "a batch of one triplet should work too.")),
        ("gradient flows", keeps_gradient),
    ], strict)


# ----------------------------------------------------------------------------
# Exercise 6.2

def _reference_accuracy(anchors, positives, batch_size, cosine: bool = True):
    hits = total = 0
    for start in range(0, len(anchors), batch_size):
        a, p = anchors[start:start + batch_size], positives[start:start + batch_size]
        scores = F.normalize(a, dim=-1) @ F.normalize(p, dim=-1).T if cosine else a @ p.T
        hits += int((scores.argmax(dim=1) == torch.arange(len(a))).sum())
        total += len(a)
    return hits / total


def in_batch_accuracy(fn, strict: bool = False):
    """Exercise 6.2: ``fn(anchors, positives, batch_size) -> float``, the share of anchors whose own positive wins.

    The pairs are cut into consecutive batches of ``batch_size`` (the last may be smaller); within each
    batch, anchor ``i`` is right when its cosine with positive ``i`` is the highest among the batch's
    positives: the diagonal of MNR's similarity matrix.
    """
    g = torch.Generator().manual_seed(6)
    anchors = torch.randn(10, 6, generator=g)
    positives = anchors + 0.9 * torch.randn(10, 6, generator=g)  # related, but not always the nearest
    lengths = torch.tensor([0.2, 5.0, 1.0, 3.0, 0.5, 2.0, 1.0, 4.0, 0.3, 1.5])[:, None]

    def case(a, p, batch_size, hint):
        def test():
            given = (a.clone(), p.clone())
            out = fn(*given, batch_size)
            expect(isinstance(out, (float, int)) or (isinstance(out, torch.Tensor) and out.numel() == 1),
                   f"return one number, the share of anchors that pick their own positive, not {type(out).__name__}.")
            expect(torch.equal(given[0], a) and torch.equal(given[1], p), "your function changed its inputs.")
            out, want = float(out), _reference_accuracy(a, p, batch_size)
            if abs(out - want) > 1e-9:
                if abs(out - _reference_accuracy(a, p, len(a))) < 1e-9 and batch_size < len(a):
                    fail("you compared every anchor with every positive of the whole set; compare only within "
                         "each batch of `batch_size` pairs.")
                if abs(out - _reference_accuracy(a, p, batch_size, cosine=False)) < 1e-9:
                    fail("that ranks by dot product; MNR scores pairs by cosine, so the vectors' lengths must not "
                         "matter.")
                if abs(out - want * len(a)) < 1e-9:
                    fail("return the share of anchors (between 0 and 1), not a count.")
                fail(hint)
        return test

    return run_checks("in-batch accuracy", [
        ("one batch of 10", case(anchors, positives, 10, "within one batch, count the anchors whose cosine is "
                                                         "highest with their own positive.")),
        ("batches of 5", case(anchors, positives, 5, "cut the pairs into consecutive batches of `batch_size` and "
                                                     "compare each anchor only with the positives of its batch.")),
        ("batches of 4: the last one is smaller", case(anchors, positives, 4, "the last batch has only 2 pairs; "
                                                                             "count its anchors too.")),
        ("vectors of different lengths", case(anchors * lengths, positives, 10, "only the directions should "
                                                                                 "matter: use cosine similarity.")),
        ("batches of 1", case(anchors, positives, 1, "with one pair per batch every anchor has only its own "
                                                     "positive to choose: the accuracy is 1.")),
    ], strict)


# ----------------------------------------------------------------------------
# Exercise 6.3

def _reference_triplets(rows):
    from datasets import Dataset

    if not rows:
        return []
    columns = dict(zip(("sentence1", "sentence2", "label"), map(list, zip(*rows))))
    quiet = logging.getLogger("sbert_teach")  # the package reports what it dropped; not the learner's concern here
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        made = nli_triplets(Dataset.from_dict(columns))
    finally:
        quiet.setLevel(level)
    return list(zip(made["anchor"], made["positive"], made["negative"]))


def nli_rows_to_triplets(fn, strict: bool = False):
    """Exercise 6.3: ``fn(rows) -> [(anchor, positive, negative), ...]``.

    ``rows`` are ``(premise, hypothesis, label)`` with integer labels in :data:`sbert_teach.NLI_LABELS`
    order. One triplet per premise that has both an entailed and a contradicting hypothesis:
    (premise, its first entailed hypothesis, its first contradicting one), premises in the order they
    first appear. This is what :func:`sbert_teach.nli_triplets` does.
    """
    ent, neu, con = (NLI_LABELS.index(name) for name in ("entailment", "neutral", "contradiction"))
    guitar, dogs, girl = "A man plays a guitar on stage.", "Two dogs run through the snow.", "A girl reads a book."
    mixed = [
        (guitar, "The man is famous.", neu),
        (guitar, "A man is asleep in bed.", con),
        (guitar, "A man is performing music.", ent),
        (dogs, "Animals are outside.", ent),
        (girl, "A child is reading.", ent),
        (girl, "Nobody is reading.", con),
        (dogs, "Two cats sleep indoors.", con),
    ]
    interleaved = [mixed[3], mixed[0], mixed[4], mixed[1], mixed[6], mixed[2], mixed[5]]
    repeated = mixed + [(guitar, "Someone makes music.", ent), (girl, "The girl is asleep.", con)]

    def same_triplets(rows, hint):
        def test():
            before = list(rows)
            out = fn(list(rows))
            expect(out is not None, "your function returned None; return the list of triplets.")
            try:
                out = [tuple(t) for t in out]
            except TypeError:
                fail(f"return a list of (anchor, positive, negative) triplets, not {type(out).__name__}.")
            expect(list(rows) == before, "your function changed its input list.")
            expect(all(len(t) == 3 for t in out), "each triplet has three sentences: anchor, positive, negative.")
            want = _reference_triplets(rows)
            swapped = [(a, n, p) for a, p, n in want]
            expect(not (out == swapped and want), "positive and negative are swapped: the entailed hypothesis is "
                                                  "the positive, the contradiction the negative.")
            expect(len(out) == len(want), "one triplet per premise that has both an entailment and a "
                                          f"contradiction: expected {len(want)} triplet(s), you returned {len(out)}.")
            expect(sorted(out) == sorted(want), hint)
            expect(out == want, "you built the right triplets but not in the order the premises first appear.")
        return test

    return run_checks("NLI rows to triplets", [
        ("mixed labels", same_triplets(mixed, "the anchor is the premise, the positive an entailed hypothesis and "
                                              "the negative a contradicting one; neutral rows are not used.")),
        ("rows of one premise apart", same_triplets(interleaved, "group the rows by premise first: a premise's "
                                                                 "hypotheses need not be next to each other.")),
        ("several entailments", same_triplets(repeated, "when a premise has several entailments or contradictions, "
                                                        "take the first of each.")),
        ("no contradiction anywhere", same_triplets([r for r in mixed if r[2] != con], "a premise without a "
                                                    "contradiction gives no triplet.")),
        ("empty input", same_triplets([], "no rows give no triplets.")),
    ], strict)
