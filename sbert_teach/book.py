"""Small helpers every chapter notebook calls first (the link between the book and the package).

* :func:`setup_chapter` picks the resources (hub or packaged) and the scale
  (``smoke`` in CI, ``local`` for the offline book, ``paper`` on a GPU with the
  hub), prints them, seeds everything and sets a plotting style. Every
  chapter runs the *same* code at whichever size this returns.
* :func:`glue` stores a computed value so the prose can quote it
  (MyST-NB ``{glue:text}``); outside the book build it only keeps the value.
"""

from __future__ import annotations

import os
import re
import sys
from dataclasses import dataclass

from . import resources
from .chapter_times import expected_time  # noqa: F401  (the setup line; recipes.training_plan)

#: Values glued by the current kernel, also kept where MyST-NB is not installed (Colab).
GLUED: dict = {}


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


def glue(name: str, value, display: bool = False) -> None:
    """Store ``value`` under ``name`` for the prose to quote: ``{glue:text}`name:.3f` ``.

    Also kept in :data:`GLUED`, so it works where MyST-NB is not installed (Colab).
    """
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:  # numpy/torch scalar -> plain number
        value = value.item()
    GLUED[name] = value
    try:
        from myst_nb import glue as myst_glue
    except ImportError:  # nothing renders glue outside the book build
        return
    myst_glue(name, value, display=display)


GLUE_ROLE = re.compile(r"\{glue:text\}`([^`:]+)(?::([^`]*))?`")


def fill_glue(text: str, values: dict | None = None) -> str:
    """``text`` with each ``{glue:text}`name:fmt``` role replaced by ``format(values[name], fmt)``.

    A name not glued yet shows as "…" rather than stopping the chapter (tests/test_colab_copies.py
    checks that every copy glues a value before quoting it).
    """
    values = GLUED if values is None else values

    def value(match: re.Match) -> str:
        name, spec = match.group(1), match.group(2) or ""
        if name not in values:
            return "…"
        given = values[name]
        if not spec:
            return str(given)
        kind = spec[-1]  # convert as MyST-NB's glue:text does, so both render the same
        if kind == "s":
            given = str(given)
        elif kind in "bcdoxX":
            given = int(given)
        elif kind in "eEfFgGn%":
            given = float(given)
        return format(given, spec)

    return GLUE_ROLE.sub(value, text)


def glued_values(nb) -> dict:
    """The values a chapter glued, read back from its executed outputs (what the website's prose quotes)."""
    import ast

    values = {}
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            scrap = output.get("metadata", {}).get("scrapbook")
            key = (scrap or {}).get("mime_prefix", "") + "text/plain"
            if scrap and key in output.get("data", {}):
                text = "".join(output["data"][key])
                try:
                    values[scrap["name"]] = ast.literal_eval(text)
                except (ValueError, SyntaxError):
                    values[scrap["name"]] = text
    return values


def quoted_but_not_glued(nb) -> list[str]:
    """Names the chapter's Markdown quotes with a glue role that its outputs do not hold, or cannot format."""
    values, problems = glued_values(nb), []
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        for match in GLUE_ROLE.finditer("".join(cell["source"])):
            name = match.group(1)
            if name not in values:
                problems.append(name)
                continue
            try:
                fill_glue(match.group(0), values)
            except (ValueError, TypeError) as error:
                problems.append(f"{name} ({error})")
    return problems


def say(text: str) -> None:
    """Show ``text`` as Markdown with the chapter's glued values filled in (the Colab copies' prose)."""
    from IPython.display import Markdown, display

    display(Markdown(fill_glue(text.strip("\n"))))
