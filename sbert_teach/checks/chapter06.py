"""Checkers for chapter 6 (triplet objective and in-batch negatives)."""

from __future__ import annotations

import logging

import torch
import torch.nn.functional as F

from ..data import NLI_LABELS, nli_triplets
from ..objectives import mnr_loss_from_embeddings, triplet_loss_from_embeddings
from .core import expect, expect_close, fail, run_checks

__all__ = ["triplet_loss", "in_batch_negatives_loss", "nli_rows_to_triplets"]


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

def _mnr_variants(a, p, negatives, scale):
    cands = torch.cat([p, *negatives], dim=0)
    target = torch.arange(a.shape[0])
    cos = F.normalize(a, dim=-1) @ F.normalize(cands, dim=-1).T
    return [
        (F.cross_entropy(scale * (a @ cands.T), target), "you seem to use plain dot products; the scores are cosine "
                                                         "similarities, so normalise the vectors first."),
        (F.cross_entropy(cos, target), "the `scale` is missing: multiply the cosine similarities by it before the "
                                       "cross-entropy."),
        (F.cross_entropy(scale * cos, target, reduction="sum"), "you seem to add the anchors' losses up; the loss is "
                                                                "their mean."),
        (F.cross_entropy(scale * cos[:, : p.shape[0]], target) if negatives else None,
         "the hard negatives are missing: they are extra candidates (extra columns) for every anchor."),
        (F.cross_entropy(scale * cos, torch.zeros_like(target)), "the right answer for anchor i is candidate i (the "
                                                                 "diagonal), not always the first one."),
    ]


def in_batch_negatives_loss(fn, strict: bool = False):
    """Exercise 6.2: ``fn(anchors, positives, negatives=None, scale=20.0) -> scalar tensor``.

    Multiple-negatives ranking: cross-entropy over ``scale * cos(anchor_i, candidate_j)`` where the
    candidates are all positives (then all hard negatives, if given) and candidate ``i`` is right.
    """

    def compare(a, p, neg, scale, hint, pass_scale=True):
        def test():
            inputs = [t.clone() for t in (a, p)] + ([neg.clone()] if neg is not None else [])
            kwargs = {"scale": scale} if pass_scale else {}
            if neg is None:
                out = fn(inputs[0], inputs[1], **kwargs)
            else:
                out = fn(inputs[0], inputs[1], inputs[2], **kwargs)
            _scalar(out, "the loss")
            negatives = [] if neg is None else [neg]
            want = mnr_loss_from_embeddings(a, p, *negatives, scale=scale)
            if not _close(out.detach(), want):
                for wrong, why in _mnr_variants(a, p, negatives, scale):
                    if wrong is not None and _close(out.detach(), wrong) and not _close(wrong, want):
                        fail(why)
                expect_close(out.detach(), want, hint)
            originals = (a, p) + (() if neg is None else (neg,))
            expect(all(torch.equal(x, y) for x, y in zip(inputs, originals)), "your function changed its inputs.")
        return test

    a, p, n = _rand(6, 8, seed=3), _rand(6, 8, seed=4), _rand(6, 8, seed=5)
    # positives close to their anchors, but with very different lengths: cosine, not dot product
    near_p = (a + 0.3 * p) * torch.tensor([0.1, 5.0, 1.0, 0.5, 3.0, 2.0]).unsqueeze(1)

    def one_pair_no_negatives():
        out = _scalar(fn(a[:1].clone(), p[:1].clone(), scale=20.0), "the loss")
        expect(abs(float(out.detach())) < 1e-6, "with one pair and no hard negative the only candidate is the right "
                                                "one, so the loss is 0.")

    def keeps_gradient():
        x = a.clone().requires_grad_(True)
        out = _scalar(fn(x, near_p.clone(), scale=20.0), "the loss")
        expect(out.requires_grad, "the result has no gradient: compute it with torch operations on the inputs.")
        out.backward()
        expect(x.grad is not None and torch.isfinite(x.grad).all(), "the gradient did not reach the anchors.")

    return run_checks("in-batch negatives loss", [
        ("random batch, no hard negatives", compare(a, p, None, 20.0, "the values differ from cross-entropy over "
                                                    "the scaled cosine similarity matrix with the diagonal as target.")),
        ("scale 20 is the default", compare(a, p, None, 20.0, "give `scale` the default value 20.", pass_scale=False)),
        ("positives of different lengths", compare(a, near_p, None, 20.0, "only the directions of the vectors "
                                                   "should matter.")),
        ("with hard negatives", compare(a, p, n, 20.0, "each anchor's candidates are all positives followed by all "
                                                       "hard negatives; the right one is still its own positive.")),
        ("scale 1", compare(a, near_p, None, 1.0, "use the `scale` argument rather than a fixed number.")),
        ("scale 50 with hard negatives", compare(a, near_p, n, 50.0, "use the `scale` argument rather than a fixed "
                                                                     "number.")),
        ("one pair, no negatives", one_pair_no_negatives),
        ("one pair with a hard negative", compare(a[:1], p[:1], n[:1], 20.0, "a single anchor still has its hard "
                                                                             "negative as a wrong candidate.")),
        ("gradient flows", keeps_gradient),
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
