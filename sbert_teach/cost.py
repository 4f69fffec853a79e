"""What it costs to compare every pair of n sentences: cross-encoder vs bi-encoder (chapter 3).

A **cross-encoder** reads both sentences together, ``[CLS] s1 [SEP] s2 [SEP]``,
and outputs one score: finding the most similar pair among ``n`` sentences
takes ``n (n - 1) / 2`` forward passes. A **bi-encoder** (SBERT) encodes each
sentence once, ``n`` forward passes, and compares vectors with cheap dot
products.

The helpers here build a cross-encoder of the same shape as a
:class:`~sbert_teach.encoder.SentenceEncoder`, time both approaches on the
same sentences, and fit and extrapolate the timings.

Example:
    >>> from sbert_teach import cost
    >>> cost.n_pairs(10_000)
    49995000
    >>> cost.extrapolate([10, 20], [0.045, 0.19], 10_000, kind="pairs")  # doctest: +ELLIPSIS
    49995.0...
"""

from __future__ import annotations

import contextlib
import copy
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from .validation import check_choice, check_sentences

#: How each architecture's work grows with the number of sentences n.
WORK_UNITS = {"pairs": "n (n - 1) / 2 forward passes (cross-encoder)", "sentences": "n forward passes (bi-encoder)"}


def n_pairs(n: int) -> int:
    """Number of unordered pairs of ``n`` distinct items: ``n (n - 1) / 2``."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"n must be a whole number of sentences, got {type(n).__name__}.")
    if n < 0:
        raise ValueError(f"n must be 0 or more, got {n}.")
    return int(n) * (int(n) - 1) // 2


def work(n: int, kind: str) -> int:
    """Forward passes needed for ``n`` sentences: ``kind="pairs"`` (cross) or ``"sentences"`` (bi)."""
    check_choice(kind, WORK_UNITS, "kind of work")
    return n_pairs(n) if kind == "pairs" else int(n)


def build_cross_encoder(encoder, seed: int = 0):
    """A sequence-classification model with ``encoder``'s transformer weights and a fresh 1-output head.

    It has the same layers as the bi-encoder, so its cost per forward pass is
    comparable; the head is untrained, so its *scores* mean nothing. Use it
    only to measure cost (chapter 3), or fine-tune it as a real cross-encoder.
    """
    from transformers import AutoModelForSequenceClassification

    config = copy.deepcopy(encoder.transformer.config)
    config.num_labels = 1
    torch.manual_seed(seed)
    model = AutoModelForSequenceClassification.from_config(config)
    missing, unexpected = model.base_model.load_state_dict(encoder.transformer.state_dict(), strict=False)
    if unexpected or any(not key.startswith("pooler.") for key in missing):
        raise ValueError(f"{type(encoder.transformer).__name__} weights do not fit {type(model).__name__}: "
                         f"missing {missing}, unexpected {unexpected}.")
    return model.to(encoder.device).eval()


@torch.inference_mode()
def cross_encoder_scores(model, tokenizer, sentences1, sentences2, batch_size: int = 32,
                         max_length: int = 256) -> np.ndarray:
    """One forward pass per pair ``(sentences1[i], sentences2[i])``; returns the scores in input order.

    Pairs are sorted by length first so each batch pads little (the same
    "smart batching" that :meth:`SentenceEncoder.encode` uses).
    """
    s1, s2 = check_sentences(sentences1, "sentences1"), check_sentences(sentences2, "sentences2")
    if len(s1) != len(s2):
        raise ValueError(f"sentences1 has {len(s1)} items but sentences2 has {len(s2)}.")
    device = next(model.parameters()).device
    order = np.argsort([-(len(a) + len(b)) for a, b in zip(s1, s2)], kind="stable")
    scores = np.empty(len(s1), dtype=np.float32)
    for start in range(0, len(order), batch_size):
        rows = order[start:start + batch_size]
        features = tokenizer([s1[i] for i in rows], [s2[i] for i in rows], padding=True, truncation=True,
                             max_length=max_length, return_tensors="pt").to(device)
        scores[rows] = model(**features).logits[:, 0].float().cpu().numpy()
    return scores


@contextlib.contextmanager
def cpu_threads(n: int | None = 1):
    """Run the ``with`` block with ``n`` CPU threads for torch, then restore the previous number.

    Timing on one thread makes CPU measurements steadier on a shared machine:
    with several threads, every parallel step waits for the slowest one, and a
    thread that another program has pushed off its core stalls them all.
    ``None`` leaves the setting alone. GPU work is unaffected.
    """
    before = torch.get_num_threads()
    if n is not None:
        if n < 1:
            raise ValueError(f"Need at least 1 thread, got {n}.")
        torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _sync(device) -> None:
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def time_cross_encoder(model, tokenizer, sentences, batch_size: int = 32) -> tuple[float, tuple[int, int]]:
    """Score every unordered pair of ``sentences`` with a cross-encoder.

    Returns ``(seconds, (i, j))``: the wall-clock time and the best-scoring pair.
    """
    sentences = check_sentences(sentences)
    i, j = np.triu_indices(len(sentences), k=1)
    device = next(model.parameters()).device
    _sync(device)
    start = time.perf_counter()
    scores = cross_encoder_scores(model, tokenizer, [sentences[a] for a in i], [sentences[b] for b in j],
                                  batch_size=batch_size)
    _sync(device)
    seconds = time.perf_counter() - start
    best = int(np.argmax(scores)) if len(scores) else 0
    return seconds, ((int(i[best]), int(j[best])) if len(scores) else (0, 0))


def most_similar_pair(embeddings: torch.Tensor, chunk: int = 2048) -> tuple[tuple[int, int], float]:
    """The pair ``(i, j)``, ``i < j``, with the highest cosine, computed ``chunk`` rows at a time.

    It still makes ``n (n - 1) / 2`` comparisons, but each is a dot product of
    two vectors; chunking keeps memory at ``chunk * n`` numbers, not ``n * n``.
    """
    emb = F.normalize(torch.as_tensor(embeddings, dtype=torch.float32), dim=-1)
    n = len(emb)
    if n < 2:
        raise ValueError(f"Need at least 2 sentences to form a pair, got {n}.")
    best, best_pair = -float("inf"), (0, 1)
    for start in range(0, n, chunk):
        block = emb[start:start + chunk] @ emb.T  # (rows, n)
        rows = torch.arange(start, start + len(block), device=emb.device).unsqueeze(1)
        block = block.masked_fill(torch.arange(n, device=emb.device) <= rows, -float("inf"))  # keep j > i
        value, flat = block.flatten().max(dim=0)
        if value.item() > best:
            best = value.item()
            best_pair = (start + int(flat) // n, int(flat) % n)
    return best_pair, best


def time_bi_encoder(encoder, sentences, batch_size: int = 64, repeats: int = 1) -> tuple[float, tuple[int, int]]:
    """Encode ``sentences`` once each and find the most similar pair by cosine.

    Returns ``(seconds, (i, j))``; with ``repeats > 1`` the fastest of that many runs.
    """
    sentences = check_sentences(sentences)
    times = []
    for _ in range(max(1, repeats)):
        _sync(encoder.device)
        start = time.perf_counter()
        pair, _ = most_similar_pair(encoder.encode(sentences, batch_size=batch_size))
        _sync(encoder.device)
        times.append(time.perf_counter() - start)
    return min(times), pair


def time_comparisons(n: int, dim: int, device="cpu", seed: int = 0) -> float:
    """Seconds to find the most similar pair among ``n`` random ``dim``-vectors (the bi-encoder's
    comparison step alone; its cost does not depend on the values)."""
    g = torch.Generator().manual_seed(seed)
    emb = torch.randn(n, dim, generator=g).to(device)
    most_similar_pair(emb[: min(n, 64)])  # warm-up
    _sync(device)
    start = time.perf_counter()
    most_similar_pair(emb)
    _sync(device)
    return time.perf_counter() - start


@dataclass(frozen=True)
class Timing:
    """One measurement: ``n`` sentences, their pairs, and the seconds each architecture took
    to find the most similar pair among them."""

    n: int
    pairs: int
    cross_seconds: float
    bi_seconds: float


def measure(cross_encoder, encoder, sentences, sizes, batch_size: int = 32, bi_repeats: int = 3) -> list[Timing]:
    """Time both architectures on the first ``n`` of ``sentences`` for each ``n`` in ``sizes``.

    Runs one small warm-up of each first, so one-off start-up costs are not counted.
    """
    sentences = check_sentences(sentences)
    if max(sizes) > len(sentences):
        raise ValueError(f"sizes go up to {max(sizes)} but only {len(sentences)} sentences were given.")
    time_cross_encoder(cross_encoder, encoder.tokenizer, sentences[:4], batch_size)
    time_bi_encoder(encoder, sentences[:4])
    out = []
    for n in sizes:
        cross_s, _ = time_cross_encoder(cross_encoder, encoder.tokenizer, sentences[:n], batch_size)
        bi_s, _ = time_bi_encoder(encoder, sentences[:n], repeats=bi_repeats)
        out.append(Timing(int(n), n_pairs(int(n)), cross_s, bi_s))
    return out


def fit_per_unit(sizes, seconds, kind: str) -> float:
    """Seconds per unit of work (per pair for ``kind="pairs"``, per sentence for ``"sentences"``).

    A least-squares line through the origin, ``seconds = c * work(n)``: the
    largest measurements, which have the least start-up noise, weigh most.
    """
    x = np.array([work(int(n), kind) for n in sizes], dtype=np.float64)
    y = np.asarray(seconds, dtype=np.float64)
    if len(x) != len(y) or len(x) == 0:
        raise ValueError(f"Need as many timings as sizes (and at least one): {len(x)} sizes, {len(y)} timings.")
    if not (x > 0).any():
        raise ValueError("Every size has zero work; measure at least one size with work to do (n >= 2 for pairs).")
    return float((x * y).sum() / (x * x).sum())


def extrapolate(sizes, seconds, n_target: int, kind: str = "pairs") -> float:
    """Predicted seconds for ``n_target`` sentences from timings at ``sizes`` (see :func:`fit_per_unit`)."""
    return fit_per_unit(sizes, seconds, kind) * work(int(n_target), kind)


def loglog_slope(sizes, seconds) -> float:
    """Slope of log(seconds) against log(n): about 2 for quadratic cost, 1 for linear."""
    x, y = np.log(np.asarray(sizes, dtype=np.float64)), np.log(np.asarray(seconds, dtype=np.float64))
    return float(np.polyfit(x, y, 1)[0])
