"""Every recipe, declared once: its objective, its data, the chapter that trains it, and its settings.

A *recipe* is what :func:`sbert_teach.recipes.run` and :func:`~sbert_teach.recipes.trained` train and
``python -m sbert_teach train --objective NAME`` offers: an objective, the data it learns from at a
scale, and the :class:`~sbert_teach.training.TrainConfig` fields it sets for each resources profile
and each scale. Everything else reads this module: the command line's choices, chapter 7's table,
chapter 8's checker (which data each loss fits), the tests' lists and the trained-model cache.
The entries are at the end of this module; ``batch_hard`` has no data here (chapter 8 names it only).

Adding a loss: its objective module in ``sbert_teach/objectives/``, one :func:`register` call
below, and its tests (``CONTRIBUTING.md``, "Adding a loss").
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, Callable, Mapping

from . import data
from .objectives.batch_hard import BatchHardTripletObjective
from .objectives.cached_mnr import CachedMultipleNegativesRankingObjective
from .objectives.distillation import DistillationMSEObjective
from .objectives.matryoshka import make_matryoshka_objective
from .objectives.mnr import MultipleNegativesRankingObjective
from .objectives.regression import RegressionObjective
from .objectives.softmax import SoftmaxObjective
from .objectives.triplet import TripletObjective
from .training import TrainConfig
from .validation import check_choice

#: The shapes of training data chapter 8 sorts datasets into, in words.
DATA_SHAPES = {
    "positive_pairs": "pairs that mean the same, no label",
    "pair_class": "pairs with a class label",
    "pair_score": "pairs with a graded similarity score",
    "sentence_class": "single sentences with a class label",
    "triplets": "(anchor, positive, negative) triplets",
    "teacher_vectors": "single sentences with a teacher model's vector each",
}


@dataclass(frozen=True)
class Recipe:
    """One loss and, if the book trains it, how: the single place its settings live."""

    name: str
    objective: type  # an Objective subclass, built around the encoder
    fits: tuple[str, ...]  # the DATA_SHAPES it trains on as they are (chapter 8)
    needs: str  # what it needs from the data, in words (chapter 8's hints)
    about: str = ""  # what it trains on, in a few words (the command line's help)
    # fn(profile, scale) -> dataset; None: a loss the book describes but trains at no scale
    data: Callable | None = None
    chapter: int | None = None  # the chapter that trains it first (chapter 7 reuses the model)
    profile_settings: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # TrainConfig fields per profile
    steps: Mapping[str, int] = field(default_factory=dict)  # max_steps per scale name; else the scale's max_steps
    evaluations: int | None = None  # evaluate this many times on the way when the scale sets no eval_every
    options: Mapping[str, Any] = field(default_factory=dict)  # keyword arguments of the objective

    def __post_init__(self):
        for shape in self.fits:
            check_choice(shape, DATA_SHAPES, "data shape")
        known = {f.name for f in fields(TrainConfig)}
        for profile, settings in self.profile_settings.items():
            unknown = sorted(set(settings) - known)
            if unknown:
                raise TypeError(f"Recipe {self.name!r}, profile {profile!r}: unknown training setting(s) {unknown}; "
                                "see TrainConfig for the names.")

    @property
    def trainable(self) -> bool:
        return self.data is not None

    def make_objective(self, encoder):
        return self.objective(encoder, **self.options)

    def training_data(self, profile, scale):
        """The training set at ``scale`` under ``profile`` (both objects, see :mod:`sbert_teach.resources`)."""
        if self.data is None:
            raise ValueError(f"{self.name!r} has no training data in the book; train it with sbert_teach.train "
                             "on your own dataset.")
        return self.data(profile, scale)

    def sourced_settings(self, profile, scale, seed: int = 42, show_progress: bool = True) -> dict:
        """The :class:`~sbert_teach.training.TrainConfig` fields this recipe sets at ``scale`` under
        ``profile``, each as ``(value, where it comes from)``; a field not named keeps TrainConfig's default.

        The layers apply in this order, a later one replacing an earlier: the scale's sizes, the profile's
        learning rate, the recipe's steps at this scale, the arguments, the recipe's settings for this profile,
        and last the recipe's number of evaluations where nothing else says how often to evaluate.
        """
        layers = [
            (f"scale {scale.name!r}", {"batch_size": scale.batch_size, "max_steps": scale.max_steps,
                                       "eval_every": scale.eval_every}),
            (f"resources profile {profile.name!r}", {"learning_rate": profile.learning_rate}),
            (f"recipe {self.name!r} at scale {scale.name!r}",
             {"max_steps": self.steps[scale.name]} if scale.name in self.steps else {}),
            ("argument", {"seed": seed, "show_progress": show_progress}),
            (f"recipe {self.name!r} under profile {profile.name!r}", self.profile_settings.get(profile.name, {})),
        ]
        sourced = {key: (value, source) for source, settings in layers for key, value in settings.items()}
        eval_every, max_steps = sourced["eval_every"][0], sourced["max_steps"][0]
        if self.evaluations and eval_every is None and max_steps:
            sourced["eval_every"] = (max(1, max_steps // self.evaluations),
                                     f"recipe {self.name!r}: {self.evaluations} evaluations in the run")
        return sourced

    def config(self, profile, scale, seed: int = 42, show_progress: bool = True, **overrides):
        """The :class:`~sbert_teach.training.TrainConfig`: the scale's sizes, the profile's learning
        rate, this recipe's own settings for both, then ``overrides`` (any field) last
        (:meth:`sourced_settings` says where each value comes from)."""
        sourced = self.sourced_settings(profile, scale, seed=seed, show_progress=show_progress)
        config = TrainConfig(**{key: value for key, (value, _) in sourced.items()})
        for key, value in overrides.items():
            if not hasattr(config, key):
                raise TypeError(f"Unknown training setting {key!r}; see TrainConfig for the names.")
            setattr(config, key, value)
        return config


RECIPES: dict[str, Recipe] = {}


def register(recipe: Recipe) -> Recipe:
    """Add ``recipe``; its name must be new."""
    if recipe.name in RECIPES:
        raise ValueError(f"A recipe named {recipe.name!r} is already registered; choose another name.")
    RECIPES[recipe.name] = recipe
    return recipe


def get(name: str) -> Recipe:
    check_choice(name, RECIPES, "objective")
    return RECIPES[name]


def trainable() -> list[str]:
    """The recipes the book has data for: trained by name (``train --objective NAME``); every recipe, these
    and the rest, trains on your own file with ``--data FILE``."""
    return [name for name, recipe in RECIPES.items() if recipe.trainable]


def in_the_book() -> tuple[str, ...]:
    """The recipes the chapters train, in the order the book meets them (chapter 7 compares these)."""
    return tuple(name for name, recipe in sorted(RECIPES.items(), key=lambda item: item[1].chapter or 0)
                 if recipe.trainable and recipe.chapter is not None)


# -- what a recipe trains with, for readers -------------------------------------------------

#: The rows of :func:`settings_table`: TrainConfig field -> the words a reader sees.
SETTING_NAMES = {
    "batch_size": "batch size",
    "learning_rate": "learning rate (encoder)",
    "head_learning_rate": "learning rate (the objective's own layers)",
    "head_only_steps": "steps with only the objective's layers learning",
    "max_steps": "length",
    "warmup_ratio": "linear warm-up, share of the steps",
    "weight_decay": "AdamW weight decay",
    "max_grad_norm": "gradient norm clipped to",
    "mixed_precision": "mixed precision",
    "eval_every": "evaluate every",
    "seed": "seed",
}


def settings_table(objective: str, profile=None, scale=None, seed: int = 42):
    """What ``objective``'s recipe trains with under ``profile`` at ``scale``: a pandas DataFrame with the
    columns ``setting``, ``value`` and ``where it comes from`` (chapter 4 prints it).

    The values are those of :meth:`Recipe.config` (what :func:`sbert_teach.recipes.run` trains with); the
    sources are the layers of :meth:`Recipe.sourced_settings` or ``TrainConfig's default``. ``profile`` and
    ``scale`` are names or objects (:mod:`sbert_teach.resources`); ``None`` picks the current ones.
    """
    import pandas as pd

    from . import resources

    recipe = get(objective)
    profile, scale = resources.get_profile(profile), resources.get_scale(scale)
    config = recipe.config(profile, scale, seed=seed, show_progress=False)
    sourced = recipe.sourced_settings(profile, scale, seed=seed, show_progress=False)
    rows = [("start", profile.untuned_text, f"resources profile {profile.name!r}"),
            ("optimizer", "AdamW", "sbert_teach.optimization.make_optimizer")]
    for field_name, words in SETTING_NAMES.items():
        value = getattr(config, field_name)
        source = sourced.get(field_name, (None, "TrainConfig's default"))[1]
        if field_name == "max_steps":
            value = f"{value:,} steps" if value else f"{config.epochs} epoch(s)"
            source = source if config.max_steps else f"{source}; epochs: TrainConfig's default"
        elif field_name == "head_learning_rate" and value is None:
            value = "same as the encoder"
        elif field_name == "eval_every":
            value = f"{value:,} steps" if value else "only at the end"
        rows.append((words, value, source))
    return pd.DataFrame(rows, columns=["setting", "value", "where it comes from"])


# -- the data each recipe trains on, at a scale ------------------------------------------

def nli_pairs(profile, scale):
    return data.load_nli("train", profile, limit=scale.nli_train)


def sts_train_pairs(profile, scale):
    return data.load_sts("train", profile, limit=scale.sts_train)


def nli_triplets(profile, scale):
    # only premises with both an entailment and a contradiction yield one
    return data.nli_triplets(data.load_nli("train", profile, limit=scale.triplet_source_pairs))


# -- the recipes -------------------------------------------------------------------------

register(Recipe(
    "softmax", SoftmaxObjective, fits=("pair_class",), needs="a class label for every pair",
    about="NLI classes", data=nli_pairs, chapter=4,
    # Softmax from the packaged start: with a random classifier from step 1, NLI training first lowers STSb
    # dev Spearman (encoder 1e-4, head 2e-3: 0.609 -> 0.556 at step 100, back above the start at
    # step 600). Training the head alone for the first 100 steps keeps it at 0.583 or above; both
    # end at 0.62 after 1,000 steps (scripts/softmax_start.py, record in sbert_teach/records;
    # chapter 4 shows the curves). On the hub: the paper's settings.
    profile_settings={"packaged": {"learning_rate": 1e-4, "head_learning_rate": 2e-3, "head_only_steps": 100}},
    # more steps than the others: its classifier must learn before it can teach the encoder
    steps={"smoke": 500, "local": 500, "colab": 1_000},
    evaluations=5,  # chapter 4 plots STS against steps
))
register(Recipe("regression", RegressionObjective, fits=("pair_score",),
                needs="a graded similarity score for every pair", about="STS scores", data=sts_train_pairs,
                chapter=5))
register(Recipe("triplet", TripletObjective, fits=("triplets",), needs="an explicit negative for every anchor",
                about="NLI triplets", data=nli_triplets, chapter=6))
register(Recipe("mnr", MultipleNegativesRankingObjective, fits=("positive_pairs", "triplets"),
                needs="pairs that are all positives (a hard negative per pair is optional)",
                about="in-batch negatives on NLI triplets", data=nli_triplets, chapter=6))
register(Recipe("batch_hard", BatchHardTripletObjective, fits=("sentence_class",),
                needs="single sentences with a class label each, not pairs"))
# Part III's losses: no data by name yet (chapters 11-13 train them on data they build themselves)
register(Recipe("cached_mnr", CachedMultipleNegativesRankingObjective, fits=("positive_pairs", "triplets"),
                needs="pairs that are all positives (a hard negative per pair is optional), as MNR"))
register(Recipe("matryoshka", make_matryoshka_objective, fits=("positive_pairs", "triplets"),
                needs="what its inner objective needs (MNR by default: pairs that are all positives)"))
register(Recipe("distill_mse", DistillationMSEObjective, fits=("teacher_vectors",),
                needs="a teacher model's vector for every sentence"))
