"""Small helpers every chapter notebook calls first (the link between the book and the package).

* :func:`setup_chapter` picks the resources (hub or packaged) and the scale
  (``smoke`` in CI, ``local`` for the offline book, ``paper`` on a GPU with the
  hub), prints them, seeds everything and sets a plotting style. Every
  chapter runs the *same* code at whichever size this returns.
* :func:`duration` writes a time in the unit a reader would say it in.

The prose of a chapter never quotes a computed number: the cells print them and the prose says how to read
them, so a chapter reads the same on the website, on Colab and in a student's copy (``tests/test_prose.py``).
The measurements shipped with the package are read by :mod:`sbert_teach.shipped_records`.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

from . import resources
from .chapter_times import expected_time  # noqa: F401  (the setup line; recipes.training_plan)

COMPARISON_CHAPTER = 7  # loads (or trains) every recipe of the book
TODAYS_PRACTICE = 10  # Part III's first chapter: from here on the start is the finished reference model


@dataclass(frozen=True)
class ChapterSettings:
    """What a chapter runs on. ``scale`` decides data sizes and step counts."""

    chapter: int
    profile: resources.Profile
    scale: resources.Scale
    device: str
    seed: int
    on_colab: bool

    def describe(self) -> str:
        steps = f"{self.scale.max_steps} steps per objective" if self.scale.max_steps is not None else "one epoch"
        from . import recipe_registry

        for recipe in map(recipe_registry.get, recipe_registry.in_the_book()):  # a recipe's own step count
            own = recipe.steps.get(self.scale.name)
            if own and own != self.scale.max_steps and self.chapter in (recipe.chapter, COMPARISON_CHAPTER):
                steps += f" ({recipe.name}: {own})"
        start, sizes = self.profile.untuned_text, f"{steps}, batch {self.scale.batch_size}"
        if self.chapter >= TODAYS_PRACTICE:  # fine-tuning a finished model; the untuned one is still at hand
            start = f"{self.profile.reference_text}\n  untuned:   {self.profile.untuned_text}"
            sizes = "the chapter chooses its own sizes for it"
        return (f"Chapter {self.chapter}\n  resources: {self.profile.name}\n  start:     {start}\n"
                f"  scale:     {self.scale.name}: {sizes}\n"
                f"  device:    {self.device}, seed {self.seed}\n"
                f"  time:      {expected_time(self.chapter, self.scale.name, self.device, self.profile.name)}")


def on_colab() -> bool:
    return "google.colab" in sys.modules


def default_scale_name() -> str:
    """``SBERT_TEACH_SCALE`` if set; else ``colab`` on a GPU with the hub (minutes a chapter on a T4;
    ``SBERT_TEACH_SCALE=paper`` for the paper's full epoch), else ``local``."""
    if os.environ.get(resources.ENV_SCALE):
        return os.environ[resources.ENV_SCALE]
    import torch

    return "colab" if torch.cuda.is_available() and resources.get_profile().name == "hub" else "local"


def setup_chapter(chapter: int, seed: int = 42, quiet: bool = False) -> ChapterSettings:
    """Choose resources and scale, seed, quieten library logging and style the plots."""
    import logging
    import warnings

    import torch

    from .training import seed_everything

    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    logging.getLogger("transformers").setLevel(logging.ERROR)
    # The data loaders report what they read and dropped; in a chapter that is part of the story,
    # so print it as plain output rather than as a red warning.
    log = logging.getLogger("sbert_teach")
    if not any(getattr(h, "_sbert_teach_book", False) for h in log.handlers):
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        handler._sbert_teach_book = True
        log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    warnings.filterwarnings("ignore", message=".*TypedStorage.*")
    profile = resources.get_profile()
    scale = resources.get_scale(default_scale_name())
    device = "cuda" if torch.cuda.is_available() else "cpu"
    seed_everything(seed)
    try:  # plotting is optional for package users, present in the book environment
        import matplotlib
        import seaborn as sns

        sns.set_theme(style="whitegrid", context="notebook")
        matplotlib.rcParams["figure.dpi"] = 100
        matplotlib.rcParams["savefig.bbox"] = "tight"
    except ImportError:
        pass
    if on_colab():  # ipywidgets 8 widgets render on Colab only through its custom widget manager
        try:
            from google.colab import output

            output.enable_custom_widget_manager()
        except (ImportError, AttributeError):
            pass
    settings = ChapterSettings(chapter, profile, scale, device, seed, on_colab())
    if not quiet:
        print(settings.describe())
    return settings


def duration(seconds: float) -> str:
    """A time in the unit a reader would say it in: "107 hours", "42 minutes", "47 seconds" (chapter 3)."""
    if seconds >= 2 * 3600:
        return f"{seconds / 3600:,.0f} hours"
    if seconds >= 2 * 60:
        return f"{seconds / 60:,.0f} minutes"
    if seconds >= 10:
        return f"{seconds:,.0f} seconds"
    return f"{seconds:.2g} seconds"
