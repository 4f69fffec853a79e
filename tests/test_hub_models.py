"""Hub model names honour their modules.json: pooling, Dense, Normalize and max length (issue: a hub
sentence-transformers model must not load silently as mean pooling). Run against a local hub: a
temporary Hugging Face cache in the real repository layout, offline."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from sbert_teach import resources
from sbert_teach.persistence import hub_sentence_transformer_folder, load_encoder

NAME = "sentence-transformers/all-MiniLM-L6-v2"
COMMIT = "c9745ed1d9f207416be6d2e6f8de32d1f16199bf"


def _hub_repo(cache: Path, name: str, files_from: Path, commit: str = COMMIT) -> Path:
    """Lay out ``name`` as huggingface_hub caches it: models--org--name/{refs/main, snapshots/<commit>/...}."""
    repo = cache / ("models--" + name.replace("/", "--"))
    snapshot = repo / "snapshots" / commit
    shutil.copytree(files_from, snapshot)
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    return snapshot


@pytest.fixture
def local_hub(tmp_path, monkeypatch):
    import huggingface_hub.constants as constants

    cache = tmp_path / "hub"
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return cache


def test_a_hub_sentence_transformer_loads_with_its_own_pooling_normalize_and_length(local_hub):
    snapshot = _hub_repo(local_hub, NAME, resources.packaged_model_path())
    # make the hub copy differ from every default: CLS pooling, Normalize, max length 64
    (snapshot / "1_Pooling" / "config.json").write_text(json.dumps({
        "word_embedding_dimension": 384, "pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False,
        "pooling_mode_max_tokens": False, "pooling_mode_mean_sqrt_len_tokens": False}))
    (snapshot / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 64, "do_lower_case": False}))
    assert hub_sentence_transformer_folder(NAME) == snapshot
    encoder = load_encoder(NAME)
    assert (encoder.pooling, encoder.normalize, encoder.max_length) == ("cls", True, 64)
    vectors = encoder.encode(["a cat sits on the mat", "a dog"])
    assert torch.allclose(vectors.norm(dim=-1), torch.ones(2), atol=1e-5)


def test_a_plain_hub_transformer_has_no_modules_json_and_loads_as_before(local_hub):
    snapshot = _hub_repo(local_hub, "bert-base-uncased", resources.packaged_model_path())
    for name in ("modules.json", "sentence_bert_config.json"):
        (snapshot / name).unlink()
    shutil.rmtree(snapshot / "1_Pooling")
    assert hub_sentence_transformer_folder("bert-base-uncased") is None
    assert hub_sentence_transformer_folder("nobody/not-in-the-cache") is None
