"""The recipe registry (sbert_teach.recipe_registry): each recipe declared once, the settings it gave
before the registry existed, and a new loss trained through the command line from one entry."""

from __future__ import annotations

import dataclasses
from dataclasses import asdict
from pathlib import Path

import pytest
import torch

from sbert_teach import checks, cli, data, recipe_registry, recipes, resources
from sbert_teach.cli import build_parser
from sbert_teach.models import build_untuned_encoder
from sbert_teach.objectives.base import Objective, computed_in_float32
from sbert_teach.training import TrainConfig

# recipe_config for every (objective, profile, scale), written out by the code before the registry
# (TrainConfig, Profile.softmax_settings and Scale.softmax_steps merged in recipes.py)
FIELDS = ('batch_size', 'learning_rate', 'max_steps', 'head_learning_rate', 'head_only_steps', 'eval_every')
EXPECTED = {  # (objective, profile, scale): FIELDS; every other field is TrainConfig's default
    ('softmax', 'hub', 'smoke'): (16, 2e-05, 500, None, 0, 100),
    ('softmax', 'hub', 'local'): (16, 2e-05, 500, None, 0, 100),
    ('softmax', 'hub', 'colab'): (16, 2e-05, 1000, None, 0, 200),
    ('softmax', 'hub', 'paper'): (16, 2e-05, None, None, 0, 2000),
    ('softmax', 'packaged', 'smoke'): (16, 0.0001, 500, 0.002, 100, 100),
    ('softmax', 'packaged', 'local'): (16, 0.0001, 500, 0.002, 100, 100),
    ('softmax', 'packaged', 'colab'): (16, 0.0001, 1000, 0.002, 100, 200),
    ('softmax', 'packaged', 'paper'): (16, 0.0001, None, 0.002, 100, 2000),
    ('regression', 'hub', 'smoke'): (16, 2e-05, 120, None, 0, None),
    ('regression', 'hub', 'local'): (16, 2e-05, 250, None, 0, None),
    ('regression', 'hub', 'colab'): (16, 2e-05, 500, None, 0, None),
    ('regression', 'hub', 'paper'): (16, 2e-05, None, None, 0, 2000),
    ('regression', 'packaged', 'smoke'): (16, 0.0002, 120, None, 0, None),
    ('regression', 'packaged', 'local'): (16, 0.0002, 250, None, 0, None),
    ('regression', 'packaged', 'colab'): (16, 0.0002, 500, None, 0, None),
    ('regression', 'packaged', 'paper'): (16, 0.0002, None, None, 0, 2000),
    ('triplet', 'hub', 'smoke'): (16, 2e-05, 120, None, 0, None),
    ('triplet', 'hub', 'local'): (16, 2e-05, 250, None, 0, None),
    ('triplet', 'hub', 'colab'): (16, 2e-05, 500, None, 0, None),
    ('triplet', 'hub', 'paper'): (16, 2e-05, None, None, 0, 2000),
    ('triplet', 'packaged', 'smoke'): (16, 0.0002, 120, None, 0, None),
    ('triplet', 'packaged', 'local'): (16, 0.0002, 250, None, 0, None),
    ('triplet', 'packaged', 'colab'): (16, 0.0002, 500, None, 0, None),
    ('triplet', 'packaged', 'paper'): (16, 0.0002, None, None, 0, 2000),
    ('mnr', 'hub', 'smoke'): (16, 2e-05, 120, None, 0, None),
    ('mnr', 'hub', 'local'): (16, 2e-05, 250, None, 0, None),
    ('mnr', 'hub', 'colab'): (16, 2e-05, 500, None, 0, None),
    ('mnr', 'hub', 'paper'): (16, 2e-05, None, None, 0, 2000),
    ('mnr', 'packaged', 'smoke'): (16, 0.0002, 120, None, 0, None),
    ('mnr', 'packaged', 'local'): (16, 0.0002, 250, None, 0, None),
    ('mnr', 'packaged', 'colab'): (16, 0.0002, 500, None, 0, None),
    ('mnr', 'packaged', 'paper'): (16, 0.0002, None, None, 0, 2000),
}


@pytest.mark.parametrize("objective, profile, scale", sorted(EXPECTED))
def test_every_recipe_keeps_its_settings_at_every_profile_and_scale(objective, profile, scale):
    """The registry gives each recipe the settings it had before it existed (the table above, written
    from TrainConfig, Profile.softmax_settings and Scale.softmax_steps merged in recipes.py)."""
    config = recipes.recipe_config(objective, profile, scale)
    assert asdict(config) == {**asdict(TrainConfig()), **dict(zip(FIELDS, EXPECTED[objective, profile, scale]))}


def test_the_table_covers_every_recipe_profile_and_scale():
    assert set(EXPECTED) == {(o, p, s) for o in recipe_registry.trainable() for p in resources.PROFILES
                             for s in resources.SCALES}
    assert recipes.RECIPE_OBJECTIVES == ("softmax", "regression", "triplet", "mnr")  # the book's order


def _train_parser():
    return build_parser()._subparsers._group_actions[0].choices["train"]


def test_the_command_line_and_chapter_8_read_the_registry():
    from sbert_teach.checks.chapter08 import fitting

    objective = next(a for a in _train_parser()._actions if a.dest == "objective")
    # every registered loss is a choice (with --data each trains on your file); those with the book's data train by name
    assert list(objective.choices) == list(recipe_registry.RECIPES)
    assert recipe_registry.trainable() == list(recipes.RECIPE_OBJECTIVES)
    assert fitting("triplets") == {"triplet", "mnr", "cached_mnr", "matryoshka"}
    assert fitting("sentence_class") == {"batch_hard"} and fitting("teacher_vectors") == {"distill_mse"}


def test_every_objective_has_a_registry_entry():
    """A loss added to the objectives but not to the registry would be refused by chapter 8's checker."""
    from sbert_teach.objectives import OBJECTIVES

    assert set(OBJECTIVES) == set(recipe_registry.RECIPES)


def test_a_recipe_is_checked_when_it_is_declared():
    with pytest.raises(ValueError, match="already registered"):
        recipe_registry.register(recipe_registry.get("softmax"))
    with pytest.raises(ValueError, match="data shape"):
        recipe_registry.Recipe("x", ToyObjective, fits=("pairs",), needs="pairs")
    with pytest.raises(TypeError, match="unknown training setting"):
        recipe_registry.Recipe("x", ToyObjective, fits=("positive_pairs",), needs="pairs",
                               profile_settings={"packaged": {"learnin_rate": 1e-3}})
    with pytest.raises(ValueError, match="no training data"):
        recipe_registry.get("batch_hard").training_data(resources.PACKAGED, resources.get_scale("smoke"))


# -- a new loss, end to end: one registry entry, then the command line trains it ---------------

@computed_in_float32
def toy_loss_from_embeddings(u, v):
    """1 - cos(u, v), averaged: pulls each pair together (a toy; it has no negatives)."""
    return (1 - torch.nn.functional.cosine_similarity(u, v, dim=-1)).mean()


class ToyObjective(Objective):
    text_columns = ("sentence1", "sentence2")

    def loss_from_embeddings(self, embeddings, labels=None):
        return toy_loss_from_embeddings(*embeddings)


def toy_pairs(profile, scale):
    return data.load_sts("train", profile, limit=scale.sts_train)


@pytest.fixture
def toy_recipe(monkeypatch):
    monkeypatch.setattr(recipe_registry, "RECIPES", dict(recipe_registry.RECIPES))  # registered for this test only
    return recipe_registry.register(recipe_registry.Recipe(
        "toy", ToyObjective, fits=("positive_pairs",), needs="pairs that mean the same", about="a toy",
        data=toy_pairs, profile_settings={"packaged": {"learning_rate": 1e-3}}, steps={"tiny": 3}))


def test_a_registered_toy_recipe_trains_through_the_command_line(toy_recipe, tmp_path, monkeypatch, capsys):
    tiny = dataclasses.replace(resources.get_scale("smoke"), name="tiny", sts_train=32, eval_pairs=24, max_steps=2,
                               batch_size=8)
    monkeypatch.setitem(resources.SCALES, "tiny", tiny)
    monkeypatch.setattr(recipes, "get_model", lambda which, profile, seed=0: build_untuned_encoder(
        resources.packaged_model_path(), seed=seed, num_layers=1))
    assert "toy: a toy" in " ".join(_train_parser().format_help().split())
    code = cli.main(["train", "--objective", "toy", "--scale", "tiny", "--seed", "1", "--output", str(tmp_path),
                     "--resources", "packaged"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "objective: toy  scale: tiny  steps: 3" in out  # the recipe's own steps at this scale
    assert (tmp_path / "modules.json").exists()
    config = recipes.recipe_config("toy", "packaged", tiny)
    assert (config.learning_rate, config.max_steps, config.batch_size) == (1e-3, 3, 8)
    # chapter 8's checker knows it: a toy fits pairs that mean the same
    assert checks.choose_loss({"merged_tickets": "toy", "help_centre": "toy", "query_log": "triplet",
                               "rated_products": "regression", "forum_posts": "batch_hard",
                               "product_groups": "toy"}).passed
    # and the cache hashes the module that declares it
    assert Path(__file__).resolve() in recipes.training_code_files("toy")


# -- settings_table: what a recipe trains with, and where each value comes from (chapter 4 prints it) ----------

def _table_values(table):
    return dict(zip(table["setting"], table["value"])), dict(zip(table["setting"], table["where it comes from"]))


@pytest.mark.parametrize("objective, profile, scale", sorted(EXPECTED))
def test_the_settings_table_shows_what_the_recipe_trains_with(objective, profile, scale):
    config = recipes.recipe_config(objective, profile, scale)
    values, _ = _table_values(recipe_registry.settings_table(objective, profile, scale))
    assert values["batch size"] == config.batch_size
    assert values["learning rate (encoder)"] == config.learning_rate
    assert values["steps with only the objective's layers learning"] == config.head_only_steps
    assert values["linear warm-up, share of the steps"] == config.warmup_ratio
    assert values["AdamW weight decay"] == config.weight_decay
    head = config.head_learning_rate
    assert values["learning rate (the objective's own layers)"] == ("same as the encoder" if head is None else head)
    assert values["length"] == (f"{config.max_steps:,} steps" if config.max_steps else "1 epoch(s)")
    assert values["start"] == resources.get_profile(profile).untuned_text


def test_the_settings_table_names_the_layer_each_value_comes_from():
    _, offline = _table_values(recipe_registry.settings_table("softmax", "packaged", "smoke"))
    assert offline["learning rate (encoder)"] == "recipe 'softmax' under profile 'packaged'"
    assert offline["length"] == "recipe 'softmax' at scale 'smoke'"
    assert offline["batch size"] == "scale 'smoke'"
    assert offline["evaluate every"] == "recipe 'softmax': 5 evaluations in the run"
    assert offline["AdamW weight decay"] == "TrainConfig's default"
    values, hub = _table_values(recipe_registry.settings_table("softmax", "hub", "paper"))
    assert hub["learning rate (encoder)"] == "resources profile 'hub'"  # the paper's 2e-5: no recipe setting
    assert hub["steps with only the objective's layers learning"] == "TrainConfig's default"
    assert values["evaluate every"] == "2,000 steps" and hub["evaluate every"] == "scale 'paper'"
    _, mnr = _table_values(recipe_registry.settings_table("mnr", "packaged", "local"))
    assert mnr["length"] == "scale 'local'" and mnr["learning rate (encoder)"] == "resources profile 'packaged'"


def test_the_settings_table_follows_a_changed_scale_and_the_seed(monkeypatch):
    wide = dataclasses.replace(resources.get_scale("smoke"), name="wide", batch_size=64, max_steps=40)
    monkeypatch.setitem(resources.SCALES, "wide", wide)
    values, sources = _table_values(recipe_registry.settings_table("regression", "packaged", "wide", seed=7))
    assert values["batch size"] == 64 and sources["batch size"] == "scale 'wide'"
    assert values["length"] == "40 steps" and values["seed"] == 7


def test_the_settings_table_refuses_an_unknown_objective_with_the_choices():
    with pytest.raises(ValueError, match="softmax"):
        recipe_registry.settings_table("sofmax", "packaged", "smoke")
