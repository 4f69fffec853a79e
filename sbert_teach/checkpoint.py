"""Checkpoints: everything needed to continue a training run exactly where it stopped (chapter 9).

A checkpoint holds the objective's weights (encoder and any head), the
optimizer, the learning-rate schedule, the gradient scaler, the step, the data
order and position, the random-number states of Python, NumPy and torch (CPU
and CUDA), and the history so far. :func:`save_checkpoint` writes to a
temporary file in the same folder and renames it over the old one, so a crash
in the middle of a write never damages the last good checkpoint.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import torch

CHECKPOINT_FILE = "checkpoint.pt"
FORMAT_VERSION = 1


class CheckpointError(RuntimeError):
    """A checkpoint is missing, unreadable, or does not fit the run that wants to resume from it."""


def capture_rng() -> dict:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def checkpoint_path(folder) -> Path:
    return Path(folder) / CHECKPOINT_FILE


def save_checkpoint(folder, state: dict) -> Path:
    """Write ``state`` to ``folder/checkpoint.pt`` atomically (temp file + rename) and return the path."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    target = checkpoint_path(folder)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        torch.save({"format": FORMAT_VERSION, **state}, tmp)
        with open(tmp, "rb") as f:  # make the bytes durable before the rename makes them visible
            os.fsync(f.fileno())
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return target


def load_checkpoint(folder) -> dict:
    """Read ``folder/checkpoint.pt``; raise :class:`CheckpointError` saying what is wrong and what to do."""
    path = checkpoint_path(folder)
    if not path.exists():
        raise CheckpointError(
            f"No checkpoint to resume from at {path}. Start the run without resume (and with "
            "checkpoint_every / --checkpoint-every set), or point output_dir / --output at the folder of the run "
            "you want to continue."
        )
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as error:  # truncated or overwritten file: torch raises many different types
        raise CheckpointError(
            f"The checkpoint at {path} is corrupt or unreadable ({type(error).__name__}: {error}). "
            "Delete it to start again from scratch, or restore it from a copy."
        ) from None
    if not isinstance(state, dict) or state.get("format") != FORMAT_VERSION:
        raise CheckpointError(
            f"{path} is not a checkpoint written by this version of sbert_teach. Delete it to start again."
        )
    return state
