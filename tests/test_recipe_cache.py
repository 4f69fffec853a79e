"""recipes.trained's cache follows the code: edited training code trains again, unchanged code is reused."""

from __future__ import annotations

import dataclasses
import importlib.util
import re
import sys
from pathlib import Path

import pytest

from sbert_teach import objectives, recipe_registry, recipes, resources
from sbert_teach.models import build_untuned_encoder

SOFTMAX_SOURCE = Path(objectives.softmax.__file__)


@pytest.fixture
def tiny_scale():
    return dataclasses.replace(resources.get_scale("smoke"), name="tiny", nli_train=64, sts_train=64,
                               triplet_source_pairs=256, eval_pairs=40, max_steps=2, batch_size=8)


@pytest.fixture
def fast_cache(tmp_path, monkeypatch):
    """An empty cache in tmp_path, a 1-layer untuned start, and a count of the runs that really train."""
    (tmp_path / "snli").symlink_to(resources.cache_dir() / "snli")  # the unpacked data stays where it is
    monkeypatch.setenv("SBERT_TEACH_CACHE", str(tmp_path))
    monkeypatch.setattr(recipes, "get_model", lambda which, profile, seed=0: build_untuned_encoder(
        resources.packaged_model_path(), seed=seed, num_layers=1))
    runs = []
    real_run = recipes.run

    def counted_run(*args, **kwargs):
        runs.append(args[0])
        return real_run(*args, **kwargs)

    monkeypatch.setattr(recipes, "run", counted_run)
    return runs


def _use_objective_from(path: Path, monkeypatch):
    """Import the softmax objective from ``path`` (a copy of its module) and make the recipe train with it."""
    spec = importlib.util.spec_from_file_location("copied_softmax", path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "copied_softmax", module)
    spec.loader.exec_module(module)
    softmax = dataclasses.replace(recipe_registry.get("softmax"), objective=module.SoftmaxObjective)
    monkeypatch.setitem(recipe_registry.RECIPES, "softmax", softmax)
    return module


def test_the_hashed_code_is_the_code_that_trains():
    names = {path.name for path in recipes.training_code_files("softmax")}
    assert {"softmax.py", "base.py", "training.py", "optimization.py", "encoder.py", "pooling.py", "data.py",
            "recipes.py", "recipe_registry.py"} <= names
    assert "regression.py" in {path.name for path in recipes.training_code_files("regression")}
    assert "softmax.py" not in {path.name for path in recipes.training_code_files("regression")}


def test_an_edited_objective_trains_again_and_unchanged_code_is_reused(tmp_path, monkeypatch, tiny_scale,
                                                                       fast_cache):
    copy = tmp_path / "copied_softmax.py"
    # the same code, importing the package absolutely, in a file of its own
    copy.write_text(re.sub(r"^from \.(\.?)", lambda m: "from sbert_teach." if m[1] else "from sbert_teach.objectives.",
                           SOFTMAX_SOURCE.read_text(), flags=re.M))
    _use_objective_from(copy, monkeypatch)
    profile = resources.get_profile("packaged")
    key = recipes._cache_key("softmax", profile, tiny_scale, 3, "untuned", {})
    first = recipes.trained("softmax", scale=tiny_scale, seed=3, show_progress=False)
    again = recipes.trained("softmax", scale=tiny_scale, seed=3, show_progress=False)
    assert fast_cache == ["softmax"]  # the second call loaded the saved model
    assert again.train.losses == first.train.losses

    edited = copy.read_text().replace("return F.cross_entropy(logits, labels)",
                                      "return F.cross_entropy(logits, labels, label_smoothing=0.5)")
    assert edited != copy.read_text()
    copy.write_text(edited)
    _use_objective_from(copy, monkeypatch)
    assert recipes._cache_key("softmax", profile, tiny_scale, 3, "untuned", {}) != key
    retrained = recipes.trained("softmax", scale=tiny_scale, seed=3, show_progress=False)
    assert fast_cache == ["softmax", "softmax"]  # the edit trained again ...
    assert retrained.train.losses != first.train.losses  # ... with the edited loss
    assert len([p for p in (tmp_path / "trained").iterdir()]) == 2  # and did not overwrite the old model
