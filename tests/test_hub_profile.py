"""The hub profile (what Colab uses) runs offline under its real identifiers, against a local hub
(tests/local_hub.py: bert-base-uncased's checkpoint layout with 12 layers, the reference with its
modules.json, SNLI / MultiNLI / STSb in their dataset cards' schemas)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import local_hub  # noqa: E402

from sbert_teach import recipe_registry  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    root = local_hub.build(tmp_path_factory.mktemp("local_hub"))
    env = {**os.environ, **local_hub.environment(root), "SBERT_TEACH_CACHE": str(root / "sbert_teach"),
           "TQDM_DISABLE": "1"}
    env.pop("TRANSFORMERS_VERBOSITY", None)  # the CLI must quieten transformers by itself
    return root, env


def _cli(env, *args):
    return subprocess.run([sys.executable, "-m", "sbert_teach", *args], capture_output=True, text=True, env=env,
                          timeout=600)


@pytest.mark.parametrize("objective", recipe_registry.trainable())
def test_cli_trains_each_objective_under_the_hub_profile(hub, tmp_path, objective):
    root, env = hub
    out = _cli(env, "train", "--objective", objective, "--scale", "smoke", "--steps", "3", "--output", str(tmp_path))
    assert out.returncode == 0, out.stderr[-3000:]
    assert f"objective: {objective}  scale: smoke  steps: 3" in out.stdout
    assert "dev spearman_cosine before: " in out.stdout and (tmp_path / "modules.json").exists()
    assert "Some weights" not in out.stderr and "UNEXPECTED" not in out.stderr  # transformers' load report, hidden
    if objective == "softmax":  # SNLI and MultiNLI, each with its own report, -1 rows dropped and counted
        said = out.stdout + out.stderr  # the loaders' reports go to the log (stderr)
        assert "stanfordnlp/snli-train: read" in said and "nyu-mll/multi_nli-train: read" in said
        assert "no gold label" in said


def test_hub_models_have_bert_base_depth_and_the_references_own_modules(hub):
    root, env = hub
    code = ("from sbert_teach import get_model\n"
            "u = get_model('untuned'); r = get_model('reference')\n"
            "import torch\n"
            "f = u.tokenizer(['a cat'], return_tensors='pt')\n"
            "print(len(u.transformer(**f, output_hidden_states=True).hidden_states), u.pooling, r.pooling, r.normalize)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.split()[-4:] == ["13", "mean", "cls", "True"]


def test_evaluate_under_the_hub_profile(hub):
    root, env = hub
    out = _cli(env, "evaluate", "--model", "reference", "--split", "test")
    assert out.returncode == 0, out.stderr[-3000:]
    assert "resources: hub" in out.stdout and "spearman_cosine: " in out.stdout


def test_a_data_set_missing_from_the_hub_cache_says_what_to_do(hub, tmp_path):
    root, env = hub
    out = _cli({**env, "HF_DATASETS_CACHE": str(tmp_path)}, "evaluate", "--model", "reference", "--split", "test")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "sentence-transformers/stsb" in out.stderr and "SBERT_TEACH_RESOURCES=packaged" in out.stderr
