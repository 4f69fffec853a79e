"""Checkpoints, resume, and torchrun: interrupted runs end where uninterrupted ones do."""

from __future__ import annotations

import os
import random
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from sbert_teach import TrainConfig, make_objective, pairs_dataset, train
from sbert_teach.checkpoint import CheckpointError, checkpoint_path, load_checkpoint, save_checkpoint

SCRIPT = Path(__file__).parent / "scripts" / "train_tiny.py"
ENV = {**os.environ, "TQDM_DISABLE": "1", "OMP_NUM_THREADS": "1"}


def _run(out, *extra, kill_at=None, sig=signal.SIGKILL):
    """Run the tiny training; optionally send ``sig`` once it reports step ``kill_at``."""
    cmd = [sys.executable, str(SCRIPT), str(out), *extra]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if kill_at is not None and line.startswith(f"step {kill_at} "):
            proc.send_signal(sig)
            break
    out_rest, err = proc.communicate(timeout=300)
    return proc.returncode, "".join(lines) + out_rest, err


def _weights(folder: Path) -> dict:
    state = load_file(folder / "model.safetensors")
    state.update({f"head.{k}": v for k, v in torch.load(folder / "head.pt").items()})
    return state


def _max_difference(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max(float((a[k].double() - b[k].double()).abs().max()) for k in a)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("full")
    code, stdout, err = _run(out, "--steps", "12", "--checkpoint-every", "2", "--dropout")
    assert code == 0, err
    return _weights(out), stdout


@pytest.mark.slow
@pytest.mark.parametrize("kill_at", sorted(random.Random(2026).sample(range(1, 12), 3)))
def test_killed_run_resumes_to_the_same_weights(tmp_path, uninterrupted, kill_at):
    """SIGKILL (no chance to save) at a random step; resume from the last periodic checkpoint."""
    full_weights, _ = uninterrupted
    code, stdout, _ = _run(tmp_path, "--steps", "12", "--checkpoint-every", "2", "--dropout", "--slow", kill_at=kill_at)
    assert code == -signal.SIGKILL
    saved_step = load_checkpoint(tmp_path)["step"]
    assert saved_step <= kill_at and saved_step % 2 == 0
    code, stdout, err = _run(tmp_path, "--steps", "12", "--checkpoint-every", "2", "--dropout", "--resume")
    assert code == 0, err
    first_step = int(re.search(r"^step (\d+) ", stdout, re.M).group(1))
    assert first_step == saved_step + 1, "the resumed run must continue after the checkpoint, not restart"
    assert _max_difference(_weights(tmp_path), full_weights) <= 1e-6


@pytest.mark.slow
def test_sigterm_saves_a_checkpoint_at_the_current_step_and_resume_finishes(tmp_path, uninterrupted):
    full_weights, _ = uninterrupted
    code, stdout, err = _run(tmp_path, "--steps", "12", "--checkpoint-every", "100", "--dropout", "--slow",
                             kill_at=5, sig=signal.SIGTERM)
    assert code != 0 and "checkpoint" in err.lower()
    assert 5 <= load_checkpoint(tmp_path)["step"] < 12  # saved on the signal, not on the (never reached) interval
    code, stdout, err = _run(tmp_path, "--steps", "12", "--checkpoint-every", "100", "--dropout", "--resume")
    assert code == 0, err
    assert _max_difference(_weights(tmp_path), full_weights) <= 1e-6


def test_a_crash_during_a_write_keeps_the_last_good_checkpoint(tmp_path, monkeypatch):
    save_checkpoint(tmp_path, {"step": 4, "payload": torch.arange(3)})

    def crash(obj, f, *a, **k):
        Path(f).write_bytes(b"half a checkpo")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(tmp_path, {"step": 6})
    monkeypatch.undo()
    assert load_checkpoint(tmp_path)["step"] == 4
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"], "no temporary file is left behind"


def test_missing_and_corrupt_checkpoints_say_what_to_do(tmp_path):
    with pytest.raises(CheckpointError, match="No checkpoint to resume from"):
        load_checkpoint(tmp_path)
    checkpoint_path(tmp_path).write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="corrupt or unreadable.*Delete it"):
        load_checkpoint(tmp_path)


def test_resume_without_a_checkpoint_fails_fast(tmp_path, tiny_encoder, toy_pairs):
    objective = make_objective("regression", tiny_encoder)
    with pytest.raises(CheckpointError, match="No checkpoint"):
        train(objective, toy_pairs, TrainConfig(batch_size=4, max_steps=2, show_progress=False),
              output_dir=tmp_path, resume=True)


def test_same_seed_same_loss_history_in_process(tiny_encoder, toy_pairs):
    import copy

    histories = []
    for _ in range(2):
        objective = make_objective("regression", copy.deepcopy(tiny_encoder))
        histories.append(train(objective, toy_pairs, TrainConfig(batch_size=4, max_steps=4, seed=5, learning_rate=1e-3,
                                                                 show_progress=False)).losses)
    assert histories[0] == histories[1]


def _torchrun(out, objective, nproc, batch_size):
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={nproc}",
           str(SCRIPT), str(out), "--objective", objective, "--steps", "6", "--batch-size", str(batch_size),
           "--checkpoint-every", "0"]
    done = subprocess.run(cmd, capture_output=True, text=True, env={**ENV, "MASTER_ADDR": "127.0.0.1"}, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return [float(x) for x in re.findall(r"^step \d+ loss (\S+)", done.stdout, re.M)]


@pytest.mark.slow
@pytest.mark.parametrize("objective", ["softmax", "mnr"])
def test_two_processes_match_one_with_the_same_global_batch(tmp_path, objective):
    """torchrun, gloo, 2 CPU processes x 4 rows vs 1 process x 8 rows: same losses within 1e-4.

    For MNR this only holds because embeddings are gathered from both processes: with local
    negatives only, each process would rank among 4 candidates instead of 8 and the loss would differ.
    """
    if objective == "mnr":  # the check has teeth: ranking within each half gives a different loss
        from sbert_teach.objectives import mnr_loss_from_embeddings

        a, p = torch.randn(8, 16, generator=torch.Generator().manual_seed(0)), torch.randn(8, 16)
        halves = (mnr_loss_from_embeddings(a[:4], p[:4]) + mnr_loss_from_embeddings(a[4:], p[4:])) / 2
        assert abs(float(halves - mnr_loss_from_embeddings(a, p))) > 1e-3
    one = _torchrun(tmp_path / "one", objective, 1, 8)
    two = _torchrun(tmp_path / "two", objective, 2, 8)
    assert len(one) == len(two) == 6
    assert max(abs(a - b) for a, b in zip(one, two)) <= 1e-4, (one, two)
