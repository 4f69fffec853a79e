"""What a run reports while it runs: the progress bar and the periodic evaluations.

Neither changes what is trained: the bar shows read-back losses, and an
evaluation runs the caller's ``evaluate(encoder) -> dict`` and puts the model
back into training mode (dropout on) before the next step.
"""

from __future__ import annotations

import os


class Progress:
    """A tqdm bar over the run's steps, or nothing (``enabled=False``, ``TQDM_DISABLE``, or not rank 0)."""

    def __init__(self, total: int, done: int, enabled: bool):
        self.bar = None
        if enabled and not os.environ.get("TQDM_DISABLE"):
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, initial=done, desc="train", unit="step")

    def show(self, losses: list[float]) -> None:
        if self.bar is not None and losses:
            self.bar.update(len(losses))
            self.bar.set_postfix(loss=f"{losses[-1]:.4f}")

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def due(step: int, every: int | None) -> bool:
    """True at every ``every``-th step (never when ``every`` is None or 0)."""
    return bool(every) and step % every == 0


def record_evaluation(evaluations: list, evaluate, objective, step: int) -> dict:
    """Run ``evaluate(encoder)``, append ``{"step": step, **scores}`` and return it; training mode resumes."""
    scores = {"step": step, **evaluate(objective.encoder)}
    evaluations.append(scores)
    objective.train()
    return scores
