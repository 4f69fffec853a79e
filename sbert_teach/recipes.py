"""Ready-made runs of the recipes in :mod:`sbert_teach.recipe_registry` (used by the CLI and chapters).

:func:`run` trains a recipe at a scale and scores it before and after; :func:`trained` does the same
once and keeps the model (its cache key follows the settings and the code that trains). What each
recipe trains on, and with which settings, is declared in the registry, not here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from . import data, recipe_registry, resources
from .evaluation import evaluate_sts
from .models import get_model
from .precision import pick_device
from .training import TrainConfig, TrainResult, train

#: The recipes the chapters train, in the book's order (chapter 7 compares them); from the registry.
RECIPE_OBJECTIVES = recipe_registry.in_the_book()


def training_data(objective: str, resources_profile=None, scale=None):
    """The training set for ``objective`` at ``scale`` (its registry entry says which)."""
    profile, scale = resources.get_profile(resources_profile), resources.get_scale(scale)
    return recipe_registry.get(objective).training_data(profile, scale)


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


def recipe_config(objective: str, resources_profile=None, scale=None, seed: int = 42, show_progress: bool = True,
                  **overrides) -> TrainConfig:
    """The :class:`TrainConfig` a recipe trains ``objective`` with (chapter 4 prints it).

    Batch size, steps and evaluation come from the scale, the learning rate from
    the resources profile, then the recipe's own settings for both (its entry in
    :mod:`sbert_teach.recipe_registry`: softmax offline trains its head alone
    first, takes more steps and is evaluated five times on the way).
    ``overrides`` replace any field last (e.g. ``learning_rate``).
    """
    recipe = recipe_registry.get(objective)
    profile, scale = resources.get_profile(resources_profile), resources.get_scale(scale)
    return recipe.config(profile, scale, seed=seed, show_progress=show_progress, **overrides)


def run(objective: str, scale=None, seed: int = 42, output_dir=None, resources_profile=None,
        start: str = "untuned", eval_split: str = "dev", show_progress: bool = True, resume: bool = False,
        **overrides) -> RunResult:
    """Train ``objective`` from ``start`` and report STSb Spearman before and after.

    ``overrides`` replace :class:`TrainConfig` fields (e.g. ``learning_rate``).
    """
    recipe = recipe_registry.get(objective)
    profile, scale = resources.get_profile(resources_profile), resources.get_scale(scale)
    encoder = get_model(start, profile, seed=seed).to(pick_device(overrides.get("device")))  # "before" on the GPU too
    train_set = training_data(objective, profile, scale)
    eval_set = data.load_sts(eval_split, profile, limit=scale.eval_pairs)
    before = evaluate_sts(encoder, eval_set)
    config = recipe_config(objective, profile, scale, seed=seed, show_progress=show_progress, **overrides)
    objective_module = recipe.make_objective(encoder)
    history = train(objective_module, train_set, config, evaluate=lambda enc: evaluate_sts(enc, eval_set),
                    output_dir=output_dir, resume=resume)
    return RunResult(objective, before, history.evaluations[-1], history, objective_module)


#: The package's modules whose code decides what a recipe's training produces, besides the recipe's
#: objective and data loader: the loop and its pieces, the encoder, the start, the data readers, the
#: scoring, and the recipes with their registry.
TRAINING_CODE = ("training", "optimization", "precision", "loss_log", "speed", "reporting", "validation",
                 "distributed", "checkpoint", "interruption", "encoder", "pooling", "models", "persistence",
                 "data", "evaluation", "resources", "recipes", "recipe_registry", "objectives.base")


def training_code_files(objective: str) -> list[Path]:
    """The source files of the code that trains ``objective``'s recipe (what :func:`code_fingerprint` hashes):
    :data:`TRAINING_CODE`, and the modules of the recipe's objective and data loader."""
    import importlib
    import inspect

    recipe = recipe_registry.get(objective)
    modules = [importlib.import_module(f"{__package__}.{name}") for name in TRAINING_CODE]
    modules += [inspect.getmodule(part) for part in (recipe.objective, recipe.data) if part is not None]
    return sorted({Path(inspect.getsourcefile(module)).resolve() for module in modules})


def code_fingerprint(objective: str) -> str:
    """A hash of the bytes of :func:`training_code_files`: it changes whenever that code is edited."""
    import hashlib

    digest = hashlib.sha256()
    for path in training_code_files(objective):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _cache_key(objective: str, profile, scale, seed: int, start: str, overrides: dict) -> str:
    import hashlib
    import json

    import sbert_teach

    # the code as well as the settings: a model trained by an older objective or loop is never picked up
    settings = {"objective": objective, "profile": repr(profile), "scale": repr(scale), "seed": seed, "start": start,
                "overrides": {k: repr(v) for k, v in sorted(overrides.items())}, "version": sbert_teach.__version__,
                "code": code_fingerprint(objective)}
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:10]
    return f"{profile.name}-{scale.name}-{objective}-seed{seed}-{digest}"


def trained(objective: str, scale=None, seed: int = 42, resources_profile=None, start: str = "untuned",
            refresh: bool = False, show_progress: bool = True, **overrides) -> RunResult:
    """Like :func:`run`, but keep the result on disk and reuse it next time.

    Chapters 4-6 train each objective once; chapter 7 compares them all and
    picks the saved models up from here instead of training again. The key
    covers objective, resources, scale, seed, start, overrides, package
    version and a hash of the code that trains (:func:`code_fingerprint`), so
    neither a different setting nor edited code reuses a stale model. The folder is
    ``<cache>/trained/<key>/`` (see :func:`sbert_teach.resources.cache_dir`)
    and holds the encoder in sentence-transformers format, the objective's own
    head (``head.pt``) and ``result.json`` (scores, losses, timing).
    ``refresh=True`` trains again.
    """
    import json
    import os
    import shutil

    import torch

    from .persistence import load_encoder
    from .training import TrainResult

    profile, scale = resources.get_profile(resources_profile), resources.get_scale(scale)
    folder = resources.cache_dir() / "trained" / _cache_key(objective, profile, scale, seed, start, overrides)
    done = folder / "result.json"
    if done.exists() and not refresh:
        saved = json.loads(done.read_text())
        encoder = load_encoder(folder / "encoder")
        module = recipe_registry.get(objective).make_objective(encoder)
        head = torch.load(folder / "head.pt", map_location="cpu", weights_only=True)
        module.load_state_dict({**{f"encoder.{k}": v for k, v in encoder.state_dict().items()}, **head})
        history = TrainResult(**saved["train"])
        # the folder is in the package cache (resources.cache_dir()); readers need the what, not the where
        print(f"Loaded the {objective} model trained earlier with these settings"
              f" ({history.steps} steps, {history.seconds:.0f} s when it was trained).")
        return RunResult(objective, saved["before"], saved["after"], history, module)
    result = run(objective, scale=scale, seed=seed, resources_profile=profile, start=start,
                 show_progress=show_progress, **overrides)
    partial = folder.with_name(f"{folder.name}.{os.getpid()}.partial")  # two processes never share one
    shutil.rmtree(partial, ignore_errors=True)
    from .persistence import save_encoder

    save_encoder(result.module.encoder, partial / "encoder")
    torch.save(result.module.extra_state_dict(), partial / "head.pt")
    train_fields = {k: getattr(result.train, k) for k in
                    ("losses", "learning_rates", "evaluations", "steps", "examples", "seconds", "device", "config",
                     "truncated")}
    (partial / "result.json").write_text(json.dumps(
        {"objective": objective, "before": result.before, "after": result.after, "train": train_fields}, indent=1))
    shutil.rmtree(folder, ignore_errors=True)
    try:
        partial.rename(folder)  # only a complete folder is ever picked up
    except OSError:  # another process finished the same model first: keep theirs
        shutil.rmtree(partial, ignore_errors=True)
    return result


def training_plan(scale=None, seed: int = 42, resources_profile=None, device: str = "cpu") -> str:
    """Which recipe models are saved at these settings and which must be trained, with how long that took.

    Chapter 7 prints this before it loads or trains the models of chapters 4 to 6.
    """
    from .chapter_times import expected_time

    profile, scale = resources.get_profile(resources_profile), resources.get_scale(scale)
    saved = trained_models(scale, seed, profile)
    lines = []
    for objective in recipe_registry.in_the_book():
        chapter = recipe_registry.get(objective).chapter  # the chapter that trains it first
        if objective in saved:
            seconds = json.loads((saved[objective] / "result.json").read_text())["train"]["seconds"]
            lines.append(f"{objective}: saved by chapter {chapter} (its training took {seconds:.0f} s); loading it")
        else:
            steps = recipe_config(objective, profile, scale, seed=seed, show_progress=False).max_steps
            length = f"{steps:,} steps" if steps else "its full epochs"
            # expected_time reads "about N min (...)", a range "... min on a T4 ... (an estimate ...)" or
            # "not measured yet ...": each follows a colon
            lines.append(f"{objective}: not saved yet, so it trains here ({length}); chapter {chapter}'s time at "
                         f"this scale: {expected_time(chapter, scale.name, device, profile.name)}")
    return "\n".join(lines)


def trained_models(scale=None, seed: int = 42, resources_profile=None) -> dict:
    """The models of the book's recipes saved by :func:`trained` at these settings (missing ones skipped)."""
    profile, scale = resources.get_profile(resources_profile), resources.get_scale(scale)
    found = {}
    for objective in recipe_registry.in_the_book():
        folder = resources.cache_dir() / "trained" / _cache_key(objective, profile, scale, seed, "untuned", {})
        if (folder / "result.json").exists():
            found[objective] = folder
    return found
