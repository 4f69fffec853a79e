"""A short training run on the packaged data must beat the untuned start (CI scale).

The triplet and softmax runs go through ``recipes.trained`` with the chapters' seed (42), so in
the CI run (tests first, then the notebooks under nbval, one fresh cache) each model is trained
here, for real, and chapters 4, 6 and 7 load the same models instead of training them again.
"""

import re
import subprocess
import sys

import pytest
from sentence_transformers import SentenceTransformer

from sbert_teach import TrainConfig, get_model, make_objective, train
from sbert_teach.recipes import trained

pytestmark = pytest.mark.slow


def test_short_triplet_run_raises_stsb_dev_spearman():
    result = trained("triplet", "smoke", seed=42, show_progress=False)
    print(f"triplet: {result.before['spearman_cosine']:.4f} -> {result.after['spearman_cosine']:.4f} "
          f"in {result.train.seconds:.0f} s")
    assert result.after["spearman_cosine"] > result.before["spearman_cosine"] + 0.01
    assert result.train.losses[-1] < result.train.losses[0]


def test_short_softmax_run_learns_nli():
    """The softmax objective learns its task: SNLI accuracy well above the majority class.

    Its effect on STS at this scale is *not* asserted: from the packaged
    random-layer start, 250 steps on 4k SNLI pairs lower STSb dev Spearman
    (measured 0.613 -> 0.57). Chapter 4 discusses why; issue 2's note has the figures.
    """
    from collections import Counter

    from sbert_teach import load_nli, nli_accuracy

    result = trained("softmax", "smoke", seed=42, show_progress=False)
    held_out = load_nli("test", limit=1000)
    majority = max(Counter(held_out["label"]).values()) / len(held_out)
    accuracy = nli_accuracy(result.module, held_out)
    print(f"softmax: SNLI test accuracy {accuracy:.3f} (majority {majority:.3f}); STSb dev "
          f"{result.before['spearman_cosine']:.4f} -> {result.after['spearman_cosine']:.4f}")
    assert accuracy > majority + 0.08


def test_cli_regression_run_raises_spearman_and_writes_a_sentence_transformers_folder(tmp_path):
    out = subprocess.run([sys.executable, "-m", "sbert_teach", "train", "--objective", "regression", "--scale",
                          "smoke", "--seed", "1", "--steps", "60", "--output", str(tmp_path / "reg")],
                         capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr
    print(out.stdout)
    before, after = map(float, re.search(r"before: ([\d.]+)\s+after: ([\d.]+)", out.stdout).groups())
    assert after > before + 0.01
    model = SentenceTransformer(str(tmp_path / "reg"), device="cpu")
    assert model.encode(["A sentence."]).shape == (1, 384)


def test_same_seed_same_loss_history(toy_pairs):
    histories = []
    for _ in range(2):
        encoder = get_model("untuned", seed=3)
        config = TrainConfig(batch_size=4, max_steps=4, learning_rate=1e-4, seed=7, show_progress=False)
        histories.append(train(make_objective("regression", encoder), toy_pairs, config).losses)
    assert histories[0] == histories[1]
