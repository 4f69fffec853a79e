"""A short training run on the packaged data must beat the untuned start (CI scale)."""

import re
import subprocess
import sys

import pytest
from sentence_transformers import SentenceTransformer

from sbert_teach import TrainConfig, get_model, load_sts, make_objective, pairs_dataset, train
from sbert_teach.recipes import run

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("objective", ["softmax", "triplet"])
def test_short_run_raises_stsb_dev_spearman(objective):
    result = run(objective, "smoke", seed=1, show_progress=False)
    print(f"{objective}: {result.before['spearman_cosine']:.4f} -> {result.after['spearman_cosine']:.4f} "
          f"in {result.train.seconds:.0f} s")
    assert result.after["spearman_cosine"] > result.before["spearman_cosine"] + 0.01
    assert result.train.losses[-1] < result.train.losses[0]


def test_cli_regression_run_raises_spearman_and_writes_a_sentence_transformers_folder(tmp_path):
    out = subprocess.run([sys.executable, "-m", "sbert_teach", "train", "--objective", "regression", "--scale",
                          "smoke", "--seed", "1", "--output", str(tmp_path / "reg")],
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr
    print(out.stdout)
    before, after = map(float, re.search(r"before: ([\d.]+)\s+after: ([\d.]+)", out.stdout).groups())
    assert after > before + 0.01
    model = SentenceTransformer(str(tmp_path / "reg"), device="cpu")
    assert model.encode(["A sentence."]).shape == (1, 384)


def test_same_seed_same_loss_history(tiny_encoder):
    ds = pairs_dataset(["a cat", "a dog", "the sun", "a car"] * 4, ["a kitten", "a puppy", "the moon", "a bus"] * 4,
                       [0.9, 0.8, 0.2, 0.5] * 4)
    histories = []
    for _ in range(2):
        encoder = get_model("untuned", seed=3)
        config = TrainConfig(batch_size=4, max_steps=4, learning_rate=1e-4, seed=7, show_progress=False)
        histories.append(train(make_objective("regression", encoder), ds, config).losses)
    assert histories[0] == histories[1]
