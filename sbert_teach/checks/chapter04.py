"""Checkers for chapter 4 (the softmax objective on NLI): any classifier input, and a training step."""

from __future__ import annotations

import copy
import functools

import torch
import torch.nn.functional as F

from ..objectives import softmax_features as _reference_features
from .core import expect, expect_close, fail, run_checks

__all__ = ["classifier_input", "regression_training_step"]


def _hand_made(batch: int = 3, dim: int = 4):
    """Small tensors whose parts are easy to tell apart: u > 0, v mixed, so |u - v| differs from u - v and u*v."""
    g = torch.Generator().manual_seed(4)
    u = torch.rand(batch, dim, generator=g) + 0.5
    v = torch.randn(batch, dim, generator=g) * 2
    return u, v


# ----------------------------------------------------------------------------
# Exercise 4.1

def _block_hint(block, u, v, part: str) -> str:
    """Say what a wrong block looks like, without the expected numbers."""
    looks_like = {"u": u, "v": v, "|u-v|": (u - v).abs(), "u*v": u * v, "u-v": u - v, "v-u": v - u}
    for name, value in looks_like.items():
        if name != part and block.shape == value.shape and torch.allclose(block, value):
            return f"the block for {part!r} holds {name}; build each block from the part named at that position."
    return f"the block for {part!r} is wrong."


def classifier_input(fn, strict: bool = False):
    """Exercise 4.1: ``fn(u, v, parts) -> (..., len(parts) * n)``, the named parts side by side, in order.

    ``parts`` is a sequence of names from ``"u"``, ``"v"``, ``"|u-v|"``, ``"u*v"`` (the paper's Table 6).
    """

    def case(u, v, parts):
        def test():
            u0, v0 = u.clone(), v.clone()
            out = fn(u0, v0, tuple(parts))
            expect(isinstance(out, torch.Tensor), f"return a torch.Tensor, not {type(out).__name__}.")
            expect(torch.equal(u0, u) and torch.equal(v0, v),
                   "your function changed u or v (an in-place operation such as abs_ or mul_?).")
            n = u.shape[-1]
            expect(out.shape[:-1] == u.shape[:-1],
                   f"the output has shape {tuple(out.shape)}; keep one row per pair and join the parts along the "
                   "last dimension (dim=-1), which also works for a single pair given as 1-D vectors.")
            expect(out.shape[-1] == len(parts) * n,
                   f"each row has {out.shape[-1]} numbers for {len(parts)} part(s) of size {n}.")
            for i, part in enumerate(parts):
                block = out[..., i * n:(i + 1) * n]
                want = _reference_features(u, v, (part,))
                if not torch.allclose(block, want):
                    fail(_block_hint(block, u, v, part))
            expect_close(out, _reference_features(u, v, tuple(parts)), "the joined vector is wrong.")
        return test

    u, v = _hand_made()
    return run_checks("classifier input", [
        ("the paper's (u, v, |u-v|)", case(u, v, ["u", "v", "|u-v|"])),
        ("|u-v| alone", case(u, v, ["|u-v|"])),
        ("u*v", case(u, v, ["u", "v", "u*v"])),
        ("another order", case(u, v, ["|u-v|", "u*v", "v", "u"])),
        ("one pair as 1-D vectors", case(u[0], v[0], ["u", "|u-v|"])),
        ("wider vectors, n = 7", case(*_hand_made(5, 7), ["u", "v", "|u-v|", "u*v"])),
    ], strict)


# ----------------------------------------------------------------------------
# Exercise 4.2

@functools.lru_cache(maxsize=1)
def _regression_setup():
    """A 1-layer encoder without dropout (so both steps are deterministic), its objective and one STS batch.

    The word-piece table is frozen only to keep the check fast (11.7M of its 13.8M numbers); a step
    skips parameters without gradients, the learner's and the package's alike.
    """
    from .. import resources
    from ..data import TextColumnsCollator
    from ..models import build_untuned_encoder
    from ..objectives import make_objective

    encoder = build_untuned_encoder(resources.packaged_model_path(), seed=3, num_layers=1)
    for module in encoder.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = 0.0
    encoder.transformer.get_input_embeddings().weight.requires_grad_(False)
    objective = make_objective("regression", encoder)
    rows = [{"sentence1": a, "sentence2": b, "score": s} for a, b, s in [
        ("A man plays a guitar.", "A man is playing music.", 0.9),
        ("A dog runs in a field.", "A cat sleeps on a sofa.", 0.1),
        ("Two children play football.", "Kids are playing a game.", 0.75),
        ("The market fell on Monday.", "A woman rides a horse.", 0.0),
    ]]
    collate = TextColumnsCollator(encoder.tokenizer, objective.text_columns, objective.label_column)
    features, scores = collate(rows)
    return objective, features, scores


def _optimizer_and_schedule(objective):
    from ..optimization import make_optimizer, warmup_linear_schedule

    optimizer = make_optimizer(objective, learning_rate=1e-3, weight_decay=0.01)
    return optimizer, warmup_linear_schedule(optimizer, warmup_steps=1, total_steps=4)


def _largest_gap(a, b) -> float:
    return max((x - y).abs().max().item() for x, y in zip(a.parameters(), b.parameters()))


def regression_training_step(fn, strict: bool = False):
    """Exercise 4.2: ``fn(objective, features, scores, optimizer, scheduler) -> loss``, one regression step.

    The learner's step must leave exactly the weights that the package's
    :func:`sbert_teach.training.training_step` leaves, step after step: encode both sides with the one
    encoder, MSE between ``cos(u, v)`` and the scores, backward, clip the gradient norm to 1,
    optimizer step, scheduler step.
    """
    from ..training import training_step

    objective, features, scores = _regression_setup()

    def run_both(steps):
        mine, package = copy.deepcopy(objective), copy.deepcopy(objective)
        my_opt, my_sched = _optimizer_and_schedule(mine)
        pkg_opt, pkg_sched = _optimizer_and_schedule(package)
        losses = []
        for _ in range(steps):
            loss = fn(mine, features, scores.clone(), my_opt, my_sched)
            want = training_step(package, features, scores, pkg_opt, pkg_sched, max_grad_norm=1.0)
            losses.append((loss, want))
        return mine, package, my_sched, losses

    def loss_value():
        _, _, _, losses = run_both(1)
        loss, want = losses[0]
        expect(isinstance(loss, torch.Tensor) and loss.dim() == 0,
               "return the batch's loss as a 0-dimensional tensor (the value before the update).")
        u, v = (objective.encoder(f) for f in features)
        if torch.allclose(loss.detach(), F.mse_loss((u * v).sum(-1), scores).detach(), atol=1e-5):
            fail("the loss uses the dot product u . v; the regression objective compares the *cosine* with the score.")
        expect_close(loss.detach(), want, "the loss differs from the mean squared error between cos(u, v) and the "
                                          "scores, computed before the update.")

    def same_weights(steps, hint):
        def test():
            mine, package, my_sched, _ = run_both(steps)
            expect(my_sched.last_epoch == steps, f"after {steps} step(s) the scheduler moved {my_sched.last_epoch} "
                                                 "time(s); call scheduler.step() once per step, after the optimizer.")
            gap, moved = _largest_gap(mine, package), _largest_gap(mine, objective)
            expect(moved > 0, "the weights did not change: call loss.backward() and optimizer.step().")
            expect(gap < 1e-5, hint)
        return test

    def clipping():
        """With large gradients the clip decides the update; compare with the clipped and the unclipped step."""
        far = torch.full_like(scores, -1.0)  # every pair "opposite": a large loss and large gradients
        mine, clipped, unclipped = (copy.deepcopy(objective) for _ in range(3))

        def plain_sgd(model):  # lr 1, no schedule: the update is the (clipped) gradient itself
            optimizer = torch.optim.SGD(model.parameters(), lr=1.0)
            return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)

        fn(mine, features, far.clone(), *plain_sgd(mine))
        training_step(clipped, features, far, *plain_sgd(clipped), max_grad_norm=1.0)
        training_step(unclipped, features, far, *plain_sgd(unclipped), max_grad_norm=float("inf"))
        if _largest_gap(mine, unclipped) < 1e-5 < _largest_gap(mine, clipped):
            fail("the gradients were not clipped: call torch.nn.utils.clip_grad_norm_(objective.parameters(), "
                 "max_norm=1.0) between backward and the optimizer step.")
        expect(_largest_gap(mine, clipped) < 1e-5, "with large gradients your update differs from a clipped one; "
                                                   "clip the gradient norm to 1 over all of the objective's "
                                                   "parameters, after backward, before the step.")

    return run_checks("regression training step", [
        ("the loss it returns", loss_value),
        ("one step", same_weights(1, "after one step your weights differ from the package's step; check the order: "
                                     "loss, zero the gradients, backward, clip, optimizer step, scheduler step.")),
        ("three steps in a row", same_weights(3, "one step matches but three do not: are the gradients zeroed "
                                                 "before each backward, so they do not pile up?")),
        ("gradient clipping", clipping),
    ], strict)
