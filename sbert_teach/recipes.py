"""Ready-made runs: the right data for each objective at a chosen scale (used by the CLI and chapters).

:func:`training_data` answers "what does objective X train on?":

* ``softmax``: NLI pairs with labels;
* ``regression``: STSb train pairs with scores in 0..1;
* ``triplet`` and ``mnr``: NLI triplets (premise, entailment, contradiction).
"""

from __future__ import annotations

from dataclasses import dataclass

from . import data, resources
from .evaluation import evaluate_sts
from .models import get_model
from .objectives import make_objective
from .training import TrainConfig, TrainResult, train
from .validation import check_choice

RECIPE_OBJECTIVES = ("softmax", "regression", "triplet", "mnr")


def training_data(objective: str, resources_profile=None, scale=None):
    """The training set for ``objective`` at ``scale``."""
    check_choice(objective, RECIPE_OBJECTIVES, "objective")
    profile, scale = resources.get_profile(resources_profile), resources.get_scale(scale)
    if objective == "regression":
        return data.load_sts("train", profile, limit=scale.sts_train)
    if objective == "softmax":
        return data.load_nli("train", profile, limit=scale.nli_train)
    # triplets: read more NLI pairs, since only premises with both an entailment
    # and a contradiction yield a triplet (about 1 per 3.7 pairs)
    limit = None if scale.nli_train is None else scale.nli_train * 4
    return data.nli_triplets(data.load_nli("train", profile, limit=limit))


@dataclass
class RunResult:
    objective: str
    before: dict  # STSb scores of the start
    after: dict  # STSb scores after training
    train: TrainResult
    module: object = None  # the trained objective (encoder + any head), e.g. for nli_accuracy

    @property
    def gain(self) -> float:
        return self.after["spearman_cosine"] - self.before["spearman_cosine"]


def run(objective: str, scale=None, seed: int = 42, output_dir=None, resources_profile=None,
        start: str = "untuned", eval_split: str = "dev", show_progress: bool = True, **overrides) -> RunResult:
    """Train ``objective`` from ``start`` and report STSb Spearman before and after.

    ``overrides`` replace :class:`TrainConfig` fields (e.g. ``learning_rate``).
    """
    profile, scale = resources.get_profile(resources_profile), resources.get_scale(scale)
    encoder = get_model(start, profile, seed=seed)
    train_set = training_data(objective, profile, scale)
    eval_set = data.load_sts(eval_split, profile, limit=scale.eval_pairs)
    before = evaluate_sts(encoder, eval_set)
    config = TrainConfig(batch_size=scale.batch_size, learning_rate=profile.learning_rate, max_steps=scale.max_steps,
                         eval_every=scale.eval_every, seed=seed, show_progress=show_progress)
    for key, value in overrides.items():
        if not hasattr(config, key):
            raise TypeError(f"Unknown training setting {key!r}; see TrainConfig for the names.")
        setattr(config, key, value)
    objective_module = make_objective(objective, encoder)
    history = train(objective_module, train_set, config, evaluate=lambda enc: evaluate_sts(enc, eval_set),
                    output_dir=output_dir)
    return RunResult(objective, before, history.evaluations[-1], history, objective_module)
