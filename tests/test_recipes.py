"""recipes.trained: train once, reuse the saved model (chapter 7 compares the chapters' models)."""

import dataclasses

import pytest
import torch

from sbert_teach import recipe_registry, recipes, resources


@pytest.fixture
def tiny_scale():
    return dataclasses.replace(resources.get_scale("smoke"), name="tiny", nli_train=64, sts_train=64, triplet_source_pairs=256,
                               eval_pairs=40, max_steps=2, batch_size=8)


def test_trained_is_cached_and_reloaded_identically(tmp_path, monkeypatch, tiny_scale):
    (tmp_path / "snli").symlink_to(resources.cache_dir() / "snli")  # the unpacked data stays where it is
    monkeypatch.setenv("SBERT_TEACH_CACHE", str(tmp_path))
    first = recipes.trained("softmax", scale=tiny_scale, seed=3, show_progress=False)
    saved = list((tmp_path / "trained").iterdir())
    assert len(saved) == 1 and (saved[0] / "result.json").exists() and not saved[0].name.endswith(".partial")
    again = recipes.trained("softmax", scale=tiny_scale, seed=3, show_progress=False)
    assert again.train.losses == first.train.losses and again.after == first.after
    for (name, a), b in zip(first.module.state_dict().items(), again.module.state_dict().values()):
        assert torch.equal(a.cpu(), b.cpu()), f"{name} differs after reloading"
    assert recipes.trained_models(scale=tiny_scale, seed=3) == {"softmax": saved[0]}


def test_different_settings_never_share_a_cache_entry(tiny_scale):
    profile = resources.get_profile("packaged")
    key = recipes._cache_key("softmax", profile, tiny_scale, 3, "untuned", {})
    assert key != recipes._cache_key("softmax", profile, tiny_scale, 4, "untuned", {})
    assert key != recipes._cache_key("regression", profile, tiny_scale, 3, "untuned", {})
    assert key != recipes._cache_key("softmax", profile, tiny_scale, 3, "untuned", {"learning_rate": 1e-3})
    assert key != recipes._cache_key("softmax", profile, dataclasses.replace(tiny_scale, max_steps=3), 3, "untuned", {})


def test_softmax_recipe_trains_the_head_first_offline_and_follows_the_paper_on_the_hub():
    packaged, hub = resources.get_profile("packaged"), resources.get_profile("hub")
    softmax = recipe_registry.get("softmax")
    offline = recipes.recipe_config("softmax", packaged, "smoke")
    assert offline.head_only_steps == softmax.profile_settings["packaged"]["head_only_steps"] > 0
    assert offline.head_learning_rate > offline.learning_rate
    assert offline.max_steps == softmax.steps["smoke"] > resources.get_scale("smoke").max_steps
    assert offline.eval_every  # chapter 4 plots STS against steps
    paper = recipes.recipe_config("softmax", hub, "paper")
    assert (paper.head_only_steps, paper.head_learning_rate, paper.learning_rate, paper.max_steps) == (0, None, 2e-5, None)
    # other objectives keep the scale's steps; explicit overrides win over the recipe
    assert recipes.recipe_config("regression", packaged, "smoke").max_steps == resources.get_scale("smoke").max_steps
    assert recipes.recipe_config("softmax", packaged, "smoke", learning_rate=3e-5).learning_rate == 3e-5
    with pytest.raises(TypeError, match="Unknown training setting"):
        recipes.recipe_config("softmax", packaged, "smoke", learnin_rate=1e-5)


def test_training_plan_says_what_is_saved_and_what_will_train(tmp_path, monkeypatch):
    import json

    from sbert_teach import recipes, resources

    monkeypatch.setenv("SBERT_TEACH_CACHE", str(tmp_path))
    plan = recipes.training_plan("smoke", seed=7, resources_profile="packaged")
    assert plan.count("not saved yet, so it trains here") == len(recipes.RECIPE_OBJECTIVES)
    softmax_steps = recipes.recipe_config("softmax", "packaged", "smoke").max_steps
    assert f"softmax: not saved yet, so it trains here ({softmax_steps:,} steps); chapter 4's time at this scale: " in plan
    # a combination nobody timed still reads as a sentence (it printed "takes not measured yet ..." before)
    from sbert_teach import chapter_times

    monkeypatch.setattr(chapter_times, "expected_time", lambda *args: "not measured yet with these resources")
    unmeasured = recipes.training_plan("smoke", seed=7, resources_profile="packaged")
    assert "chapter 4's time at this scale: not measured yet with these resources" in unmeasured
    assert "takes not measured" not in unmeasured
    monkeypatch.undo()
    monkeypatch.setenv("SBERT_TEACH_CACHE", str(tmp_path))
    profile, scale = resources.get_profile("packaged"), resources.get_scale("smoke")
    folder = tmp_path / "trained" / recipes._cache_key("mnr", profile, scale, 7, "untuned", {})
    folder.mkdir(parents=True)
    (folder / "result.json").write_text(json.dumps({"train": {"seconds": 88.4}}))
    plan = recipes.training_plan("smoke", seed=7, resources_profile="packaged")
    assert "mnr: saved by chapter 6 (its training took 88 s); loading it" in plan
    assert plan.count("not saved yet") == len(recipes.RECIPE_OBJECTIVES) - 1
