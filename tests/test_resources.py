import time

import pytest

from sbert_teach import resources


def test_profile_override_and_unknown_names(monkeypatch):
    monkeypatch.setenv(resources.ENV_RESOURCES, "hub")
    assert resources.get_profile().name == "hub"  # HF_HUB_OFFLINE=1: trust the local HF cache
    assert resources.get_profile("packaged").name == "packaged"
    with pytest.raises(ValueError, match="Unknown resources profile 'cloud'"):
        resources.get_profile("cloud")
    with pytest.raises(ValueError, match="Unknown scale 'huge'"):
        resources.get_scale("huge")


def test_auto_picks_packaged_when_the_hub_is_unreachable(monkeypatch):
    monkeypatch.setenv(resources.ENV_RESOURCES, "auto")
    resources.hub_reachable.cache_clear()
    start = time.perf_counter()
    name = resources.get_profile().name
    assert time.perf_counter() - start < 5
    assert name == ("hub" if resources.hub_reachable() else "packaged")


def test_both_profiles_name_the_same_roles():
    assert resources.HUB.untuned == "bert-base-uncased"
    assert resources.HUB.learning_rate == 2e-5
    assert set(vars(resources.HUB)) == set(vars(resources.PACKAGED))


def test_missing_data_fails_fast_with_the_fix(monkeypatch, tmp_path):
    from sbert_teach.data import load_nli

    monkeypatch.setenv(resources.ENV_CACHE, str(tmp_path))
    start = time.perf_counter()
    with pytest.raises(resources.MissingResourceError, match="python -m sbert_teach fetch-resources"):
        load_nli("train", "packaged")
    assert time.perf_counter() - start < 5


def test_packaged_snli_has_no_dev_split():
    with pytest.raises(ValueError, match="only train and test ship"):
        resources.packaged_snli_path("dev")


def test_hub_asked_for_but_unreachable_fails_in_seconds(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    resources.hub_reachable.cache_clear()
    if resources.hub_reachable():
        pytest.skip("the hub is reachable from here")
    start = time.perf_counter()
    with pytest.raises(resources.MissingResourceError, match="SBERT_TEACH_RESOURCES=packaged"):
        resources.get_profile("hub")
    assert time.perf_counter() - start < 5
