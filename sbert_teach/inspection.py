"""Looking inside pooled sentence vectors (chapter 2).

* :func:`pool_all_modes`: run the transformer once and pool its output with CLS, mean and max, three
  times cheaper than three encoders.
* :func:`token_shares`: split the cosine of two pooled vectors exactly into one share per real token.
* :func:`draw_shares`: plot those shares, one bar per token.

The chapter explains the maths; these functions keep the plumbing out of its teaching cells.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from . import pooling
from .validation import check_choice

POOLING_MODES = ("cls", "mean", "max")


def pool_all_modes(model, sentences, batch_size: int = 32) -> dict[str, torch.Tensor]:
    """``{mode: (len(sentences), hidden)}`` for each of cls, mean and max, one transformer pass per batch.

    Equal to ``get_model(..., pooling=mode).encode(sentences)`` for each mode (tests/test_inspection.py).
    """
    order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))  # similar lengths share a batch
    pooled = {mode: torch.empty(len(sentences), model.hidden_size) for mode in POOLING_MODES}
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        feats = model.tokenize([sentences[i] for i in rows])
        with torch.no_grad():
            hidden = model.transformer(**feats).last_hidden_state
        for mode in pooled:
            pooled[mode][rows] = pooling.pool(mode, hidden, feats["attention_mask"])
    return pooled


def _shares(hidden: torch.Tensor, own: torch.Tensor, other: torch.Tensor, mode: str) -> torch.Tensor:
    """One real-token share per row of ``hidden``; the shares sum to cos(own, other)."""
    other_unit = other / other.norm()
    if mode == "mean":  # u = mean of h_t, so cos = sum_t h_t . v_hat / (T |u|)
        return hidden @ other_unit / (len(hidden) * own.norm())
    if mode == "max":  # dimension j belongs to the token that supplied its maximum
        return torch.zeros(len(hidden)).index_add_(0, hidden.argmax(dim=0), own * other_unit / own.norm())
    share = torch.zeros(len(hidden))  # cls: the whole cosine is carried by the first real token
    share[0] = own @ other_unit / own.norm()
    return share


def token_shares(model, s1: str, s2: str, mode: str):
    """``(cosine, [tokens of s1, tokens of s2], [shares of s1, shares of s2])`` for pooling ``mode``."""
    check_choice(mode, POOLING_MODES, "pooling")
    feats = model.tokenize([s1, s2])
    with torch.no_grad():
        hidden = model.transformer(**feats).last_hidden_state
    masks = feats["attention_mask"].bool()
    u, v = pooling.pool(mode, hidden, feats["attention_mask"])
    shares = [_shares(hidden[0][masks[0]], u, v, mode).numpy(), _shares(hidden[1][masks[1]], v, u, mode).numpy()]
    pieces = [model.tokenizer.convert_ids_to_tokens(ids[m]) for ids, m in zip(feats["input_ids"], masks)]
    return F.cosine_similarity(u, v, dim=0).item(), pieces, shares


def draw_shares(model, model_name: str, s1: str, s2: str, mode: str, axes=None) -> float:
    """Bar charts of each token's share of cos(s1, s2), one panel per sentence; returns the cosine."""
    import matplotlib.pyplot as plt
    import numpy as np

    cos, pieces, shares = token_shares(model, s1, s2, mode)
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    for ax, toks, share, label in zip(axes, pieces, shares, ["sentence 1", "sentence 2"]):
        ax.barh(range(len(toks)), share, color=np.where(share >= 0, "tab:blue", "tab:red"))
        ax.set_yticks(range(len(toks)), toks)
        ax.invert_yaxis()  # first token on top
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlabel("share of the cosine")
        ax.set_ylabel("token")
        ax.set_title(f"{label}: shares sum to {share.sum():.3f}", fontsize=10)
    axes[0].figure.suptitle(f"{model_name}, {mode} pooling: cos = {cos:.3f}\n'{s1}'  vs  '{s2}'",
                            fontsize=11, y=1.02)
    return cos


def headless() -> bool:
    """True in the book's own batch runs (make book, make test), which set ``SBERT_TEACH_HEADLESS=1``."""
    import os

    return os.environ.get("SBERT_TEACH_HEADLESS") == "1"


def share_explorer(models: dict, pairs: list):
    """A live explorer of :func:`draw_shares`: pick a pair, a pooling and a model (needs ipywidgets).

    In the book's batch runs it prints a note and returns None instead: executing an ``interactive``
    widget without a browser can deadlock the notebook client (jupyter/nbclient#312), and the page shows
    a static figure.
    """
    if headless():
        print("The explorer opens in a live notebook (Jupyter or Colab); the figure above shows one pair.")
        return None
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    def explore(pair, mode, model):
        draw_shares(models[model], model, *pairs[pair], mode)
        plt.show()

    return widgets.interactive(
        explore,
        pair=widgets.Dropdown(options=[(f"{a}  |  {b}", i) for i, (a, b) in enumerate(pairs)],
                              description="pair", layout=widgets.Layout(width="620px")),
        mode=widgets.Dropdown(options=list(POOLING_MODES), description="pooling"),
        model=widgets.Dropdown(options=list(models), description="model"),
    )
