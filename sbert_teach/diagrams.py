"""Explanatory diagrams for the chapters: boxes, arrows, few words (matplotlib only).

One function per idea, each returning a :class:`matplotlib.figure.Figure`:

================================  =======  ===========================================================
function                          chapter  what it shows
================================  =======  ===========================================================
``pooling``                       2        token vectors of "[CLS] a dog runs [SEP]" + padding pooled
                                           three ways: CLS token, mean and max over real tokens
``cross_vs_bi_encoder``           3        cross-encoder (both sentences in one BERT pass -> score) vs
                                           the siamese bi-encoder (shared BERT -> u, v -> cosine)
``softmax_head``                  4        (u, v, |u-v|) -> W_t -> softmax over the NLI classes ->
                                           cross-entropy; the head is thrown away after training
``regression_setup``              5        cos(u, v) against the STSb score / 5, squared error
``triplet_geometry``              6        anchor, positive, negative and the margin ε = 1 (Euclidean)
``in_batch_similarity_matrix``    6        MNR: anchors x positives, 20 · cos, diagonal = targets
================================  =======  ===========================================================

In a chapter, ``diagrams.show("softmax_head")`` displays one as SVG; :func:`svg` returns
the SVG text. The same diagram always gives the same bytes (fixed ``svg.hashsalt``, no
date in the metadata), so re-executing a notebook leaves its outputs unchanged.

The figures are drawn on matplotlib's default style whatever theme the notebook set
(the book sets seaborn's), at most 7 inches wide (700 px at 100 dpi), in one palette:
sentence A and ``u`` orange, sentence B and ``v`` blue, BERT yellow, pooling lavender,
``|u-v|``, positives and correct pairs green, training-only parts and losses red, special
tokens, padding and negatives grey. Figures are not registered with pyplot, so nothing
is shown twice and nothing needs closing.

Example:
    >>> from sbert_teach import diagrams
    >>> fig = diagrams.softmax_head()
    >>> float(fig.get_figwidth() * fig.dpi)  # pixels at 100 dpi
    700.0
    >>> diagrams.svg("pooling") == diagrams.svg("pooling")
    True
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import matplotlib
import matplotlib.style
import numpy as np
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle

from .validation import check_choice

DPI = 100
MAX_WIDTH_IN = 7.0  # a ~700 px book column at 100 dpi

#: The palette: one colour per role, the same in every diagram.
COLORS = {
    "a": "#FAD7A0",  # sentence A, u, anchors
    "b": "#AED6F1",  # sentence B, v, positives' column headers
    "bert": "#F9E79F",
    "pool": "#D7BDE2",
    "diff": "#ABEBC6",  # |u-v|, positives, correct pairs
    "head": "#F5B7B1",  # training-only parts and losses
    "other": "#E5E7E9",  # special tokens, padding, negatives
}
INK = "#1C2833"
SOFT_INK = "#5D6D7E"
ARROW = "#515A5A"

#: Fixed so the SVG ids, hence the bytes, are the same on every run.
STYLE = {
    "svg.hashsalt": "sbert-teach-diagrams",
    "svg.fonttype": "path",
    "font.family": "DejaVu Sans",
    "mathtext.fontset": "dejavusans",
    "font.size": 10,
}


# ----------------------------------------------------------------------------- drawing helpers


@dataclass(frozen=True)
class Box:
    """Where a drawn box sits (centre and size, in inches): arrows attach to its sides."""

    x: float
    y: float
    w: float
    h: float

    @property
    def left(self):
        return (self.x - self.w / 2, self.y)

    @property
    def right(self):
        return (self.x + self.w / 2, self.y)

    @property
    def top(self):
        return (self.x, self.y + self.h / 2)

    @property
    def bottom(self):
        return (self.x, self.y - self.h / 2)


def _edge(color: str) -> tuple:
    """The outline colour of a fill: the same hue, darker."""
    return tuple(0.62 * c for c in to_rgb(color))


def _canvas(width: float, height: float):
    """A blank figure whose data coordinates are inches from the bottom-left corner."""
    fig = Figure(figsize=(width, height), dpi=DPI, facecolor="white")
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    return fig, ax


def _text(ax, x, y, s, *, size=10, color=INK, ha="center", va="center", **kwargs):
    return ax.text(x, y, s, fontsize=size, color=color, ha=ha, va=va, **kwargs)


def _box(ax, x, y, w, h, label="", color=COLORS["other"], *, size=10, dashed=False, bold=False, lw=1.2):
    """A rounded box centred at (x, y) with ``label`` in its middle."""
    ax.add_patch(FancyBboxPatch(
        (x - w / 2, y - h / 2), w, h, boxstyle=f"round,pad=0,rounding_size={min(0.07, h / 3):.3f}",
        facecolor=color, edgecolor=_edge(color), linewidth=lw, linestyle="--" if dashed else "-",
    ))
    if label:
        _text(ax, x, y, label, size=size, weight="bold" if bold else "normal")
    return Box(x, y, w, h)


def _arrow(ax, start, end, *, color=ARROW, dashed=False, both=False, curve=0.0, lw=1.3):
    """An arrow from ``start`` to ``end`` (points in inches); ``curve`` bends it."""
    ax.add_patch(FancyArrowPatch(
        start, end, arrowstyle="<|-|>" if both else "-|>", mutation_scale=11, color=color, linewidth=lw,
        linestyle="--" if dashed else "-", shrinkA=1.5, shrinkB=1.5, connectionstyle=f"arc3,rad={curve}",
    ))


def _vector(ax, x, y, label, color, *, w=0.72):
    """A sentence vector as a flat bar (its width stands for n numbers) with its name inside."""
    return _box(ax, x, y, w, 0.26, label, color, lw=1.0)


def _column(ax, x, top, values, color, *, width=0.5, height=0.3, bold=()):
    """A vector of numbers drawn as a column of cells below ``top``; ``bold`` indexes the cells to stress."""
    for i, value in enumerate(values):
        _box(ax, x, top - height * (i + 0.5), width, height, _number(value), color, size=9, bold=i in bold, lw=0.8)
    return Box(x, top - height * len(values) / 2, width, height * len(values))


def _number(value: float) -> str:
    return f"{value:.1f}".replace("-", "\u2212")


def _siamese(ax, xa, xb, y0, *, width=1.1, step=0.66):
    """Sentence A / B -> BERT (shared weights) -> pooling -> u / v, bottom-up from y0.

    Returns the boxes of ``u`` and ``v``.
    """
    vectors = []
    for x, key, name, vec in ((xa, "a", "Sentence A", "u"), (xb, "b", "Sentence B", "v")):
        sentence = _box(ax, x, y0, width, 0.36, name, COLORS[key])
        bert = _box(ax, x, y0 + step, width, 0.44, "BERT", COLORS["bert"], bold=True)
        pool = _box(ax, x, y0 + 2 * step, width, 0.3, "pooling", COLORS["pool"], size=9)
        vector = _vector(ax, x, y0 + 2.85 * step, f"${vec}$", COLORS[key])
        for lower, upper in ((sentence, bert), (bert, pool), (pool, vector)):
            _arrow(ax, lower.top, upper.bottom)
        vectors.append((bert, vector))
    (bert_a, u), (bert_b, v) = vectors
    _arrow(ax, bert_a.right, bert_b.left, dashed=True, both=True, color=SOFT_INK, lw=1.0)
    _note(ax, (xa + xb) / 2, bert_a.y + 0.355, "shared weights", size=8.5)
    return u, v


def _point(ax, xy, key, name):
    """A labelled point of the embedding space."""
    ax.add_patch(Circle(xy, 0.11, facecolor=COLORS[key], edgecolor=_edge(COLORS[key]), linewidth=1.3, zorder=3))
    _text(ax, xy[0], xy[1], f"${name}$", size=9.5, zorder=4)


def _note(ax, x, y, s, *, size=9, ha="center"):
    """A short grey remark."""
    return _text(ax, x, y, s, size=size, color=SOFT_INK, ha=ha, style="italic")


def _heading(ax, x, y, s):
    return _text(ax, x, y, s, size=11.5, weight="bold")


# ----------------------------------------------------------------------------- chapter 2

#: The pooling example: one row per token, ``hidden = 3``; padding rows are not zero, as in BERT's output.
POOLING_TOKENS = ("[CLS]", "a", "dog", "runs", "[SEP]", "[PAD]", "[PAD]")
POOLING_MASK = np.array([1, 1, 1, 1, 1, 0, 0])
POOLING_VECTORS = np.array([
    [0.2, 0.9, -0.4], [0.1, -0.3, 0.5], [0.8, 0.2, -0.1], [-0.5, 0.6, 0.3], [0.4, -0.4, 0.2],
    [0.9, -0.6, 0.7], [1.0, 0.4, 0.8],
])


def pooled_example() -> dict:
    """What each pooling gives for :data:`POOLING_VECTORS` (the numbers the chapter 2 diagram prints)."""
    real = POOLING_VECTORS[POOLING_MASK.astype(bool)]
    return {"cls": POOLING_VECTORS[0], "mean": real.mean(axis=0), "max": real.max(axis=0)}


def pooling() -> Figure:
    """Chapter 2: one sentence's token vectors pooled three ways (CLS, mean and max, padding masked out)."""
    fig, ax = _canvas(7.0, 4.6)
    gap, top = 0.56, 4.1
    xs = 3.5 + gap * (np.arange(len(POOLING_TOKENS)) - 3)
    real = POOLING_MASK.astype(bool)
    argmax = np.where(real[:, None], POOLING_VECTORS, -np.inf).argmax(axis=0)  # which token wins each row
    _text(ax, 3.5, 4.4, "BERT's output: one vector per token (3 numbers here; 384 in MiniLM, 768 in BERT-base)", size=10)
    columns = []
    for i, (x, token) in enumerate(zip(xs, POOLING_TOKENS)):  # real tokens in BERT's colour, padding grey
        column = _column(ax, x, top, POOLING_VECTORS[i], COLORS["bert" if real[i] else "other"],
                         bold=[d for d in range(3) if argmax[d] == i])
        ink = INK if real[i] else SOFT_INK
        _text(ax, x, column.bottom[1] - 0.17, token, size=9, color=ink, weight="bold" if i == 0 else "normal")
        _text(ax, x, column.bottom[1] - 0.45, str(POOLING_MASK[i]), size=9, color=ink)
        columns.append(column)
    cls_column, mask_y = columns[0], columns[0].bottom[1] - 0.45
    _note(ax, xs[-1] + 0.35, mask_y, "\u2190 mask", ha="left")
    ax.add_patch(Rectangle((cls_column.x - 0.29, cls_column.y - cls_column.h / 2 - 0.04), 0.58,
                           cls_column.h + 0.08, fill=False, edgecolor=_edge(COLORS["a"]), linewidth=2.0))
    # a bracket under the real tokens: mean and max only read these
    bracket_y, stem = mask_y - 0.22, (xs[2], mask_y - 0.34)
    ax.plot([xs[0] - 0.25, xs[0] - 0.25, xs[4] + 0.25, xs[4] + 0.25],
            [bracket_y + 0.06, bracket_y, bracket_y, bracket_y + 0.06], color=ARROW, linewidth=1.2)
    ax.plot([stem[0], stem[0]], [bracket_y, stem[1]], color=ARROW, linewidth=1.2)
    _note(ax, xs[5] + 0.36, bracket_y, "padding: ignored")

    out_top, name_y = 1.65, 0.45
    results = pooled_example()
    for x, key, color, name, caption in (
        (0.75, "cls", COLORS["a"], "CLS", "the [CLS] vector"),
        (xs[2], "mean", COLORS["pool"], "mean", "average over mask = 1"),
        (5.35, "max", COLORS["diff"], "max", "per-row max over mask = 1 (bold)"),
    ):
        vector = _column(ax, x, out_top, results[key], color)
        _text(ax, x, name_y, name, size=10.5, weight="bold")
        _note(ax, x, name_y - 0.27, caption, size=8.5)
        if key == "cls":
            _arrow(ax, cls_column.left, vector.top, curve=0.3)
        else:
            _arrow(ax, stem, vector.top)
    return fig


# ----------------------------------------------------------------------------- chapter 3


def cross_vs_bi_encoder() -> Figure:
    """Chapter 3: a cross-encoder reads each pair together; SBERT encodes each sentence once, then compares."""
    fig, ax = _canvas(7.0, 4.3)
    ax.plot([3.25, 3.25], [0.15, 4.15], color=COLORS["other"], linewidth=1.5)

    # left: one joint input, one BERT pass, one score
    _heading(ax, 1.6, 4.05, "Cross-encoder")
    pieces = (("[CLS]", "other", 0.52), ("A", "a", 0.36), ("[SEP]", "other", 0.52), ("B", "b", 0.36),
              ("[SEP]", "other", 0.52))
    x = 1.6 - (sum(w for *_, w in pieces) + 0.05 * (len(pieces) - 1)) / 2
    for label, key, w in pieces:
        token = _box(ax, x + w / 2, 0.95, w, 0.36, label, COLORS[key], size=9)
        x += w + 0.05
    bert = _box(ax, 1.6, 1.9, 2.5, 0.55, "BERT", COLORS["bert"], bold=True)
    score = _box(ax, 1.6, 3.1, 1.5, 0.4, "score", COLORS["other"])
    _arrow(ax, (1.6, token.top[1]), bert.bottom)
    _arrow(ax, bert.top, score.bottom)
    _note(ax, 1.6, 0.45, "one BERT pass for every pair")
    _note(ax, 1.6, 0.2, "n sentences: n(n\u22121)/2 passes")

    # right: two towers with the same weights, vectors compared by cosine
    _heading(ax, 5.15, 4.05, "Bi-encoder (SBERT)")
    u, v = _siamese(ax, 4.25, 6.05, 0.95)
    cosine = _box(ax, 5.15, 3.45, 1.3, 0.38, "$\\cos(u, v)$", COLORS["other"])
    _arrow(ax, u.top, (cosine.x - 0.3, cosine.bottom[1]))
    _arrow(ax, v.top, (cosine.x + 0.3, cosine.bottom[1]))
    _note(ax, 5.15, 0.45, "one pass per sentence")
    _note(ax, 5.15, 0.2, "u, v computed once and cached")
    return fig


# ----------------------------------------------------------------------------- chapter 4

#: Illustrative class probabilities of the softmax head, gold class first.
NLI_EXAMPLE = (("entailment", 0.71), ("neutral", 0.21), ("contradiction", 0.08))


def softmax_head() -> Figure:
    """Chapter 4: ``softmax(W_t (u, v, |u-v|))`` trained with cross-entropy; only the encoder is kept."""
    fig, ax = _canvas(7.0, 5.2)
    xc = 2.6
    u, v = _siamese(ax, 1.7, 3.5, 0.35)
    _note(ax, 5.55, 1.05, "encoder: kept after training")

    # the classifier's input: three blocks of length n
    blocks = [_vector(ax, xc + dx, 2.85, label, COLORS[key], w=0.76)
              for dx, key, label in ((-0.8, "a", "$u$"), (0.0, "b", "$v$"), (0.8, "diff", "$|u-v|$"))]
    _arrow(ax, u.top, blocks[0].bottom)
    _arrow(ax, v.top, blocks[1].bottom)
    _note(ax, blocks[2].right[0] + 0.12, 2.85, "length 3n", ha="left")

    linear = _box(ax, xc, 3.55, 2.3, 0.4, "linear $W_t$ (3 \u00d7 3n)", COLORS["head"])
    _arrow(ax, (xc, blocks[0].top[1]), linear.bottom)
    classes = []
    for i, (name, p) in enumerate(NLI_EXAMPLE):
        box = _box(ax, xc + 1.12 * (i - 1), 4.3, 1.06, 0.5, "", COLORS["head"], lw=2.2 if i == 0 else 1.2)
        _text(ax, box.x, box.y + 0.1, name, size=8.5)
        _text(ax, box.x, box.y - 0.12, f"{p:.2f}", size=9, weight="bold")
        classes.append(box)
    _arrow(ax, linear.top, (xc, classes[1].bottom[1]))
    _note(ax, classes[0].left[0] - 0.2, 4.3, "softmax", ha="right")
    loss = _box(ax, xc, 4.95, 2.9, 0.36, "cross-entropy with the gold label", COLORS["head"], size=9)
    _arrow(ax, classes[1].top, loss.bottom)
    _note(ax, xc + 1.72, 4.95, "gold: entailment", ha="left")

    # the head: only used to train
    left, right = classes[0].left[0] - 0.08, classes[2].right[0] + 0.08
    bottom, top = linear.bottom[1] - 0.1, classes[0].top[1] + 0.1
    ax.add_patch(FancyBboxPatch((left, bottom), right - left, top - bottom, boxstyle="round,pad=0,rounding_size=0.08",
                                fill=False, edgecolor=_edge(COLORS["head"]), linestyle="--", linewidth=1.2))
    _note(ax, right + 0.15, 3.85, "head: training only,", ha="left")
    _note(ax, right + 0.15, 3.6, "thrown away afterwards", ha="left")
    return fig


# ----------------------------------------------------------------------------- chapter 5


def regression_setup() -> Figure:
    """Chapter 5: ``cos(u, v)`` regressed onto the gold STSb score scaled to 0..1, mean squared error."""
    fig, ax = _canvas(7.0, 3.6)
    u, v = _siamese(ax, 1.1, 2.9, 0.35)
    cosine = _box(ax, 2.0, 2.95, 1.7, 0.4, "$\\cos(u, v)$ = 0.65", COLORS["other"])
    _arrow(ax, u.top, (cosine.x - 0.4, cosine.bottom[1]))
    _arrow(ax, v.top, (cosine.x + 0.4, cosine.bottom[1]))
    loss = _box(ax, 5.1, 2.95, 2.5, 0.5, "squared error\n$(0.65 - 0.80)^2$", COLORS["head"], size=9.5)
    _arrow(ax, cosine.right, loss.left)
    gold = _box(ax, 5.1, 1.55, 2.5, 0.5, "gold score\n4.0 / 5 = 0.80", COLORS["diff"], size=9.5)
    _arrow(ax, gold.top, loss.bottom)
    _note(ax, 5.1, 0.95, "STSb: 0 (unrelated) to 5 (same meaning)")
    _note(ax, 5.1, 0.7, "scaled to 0..1")
    _note(ax, 5.1, 3.45, "mean over the batch = MSE loss")
    return fig


# ----------------------------------------------------------------------------- chapter 6

TRIPLET_MARGIN = 1.0
#: (distance a-p, distance a-n) of the two panels: one still inside the margin, one past it.
TRIPLET_CASES = ((1.0, 1.5), (1.0, 2.4))


def triplet_loss(d_ap: float, d_an: float, margin: float = TRIPLET_MARGIN) -> float:
    """``max(d(a, p) - d(a, n) + margin, 0)``, the loss each panel of the chapter 6 diagram prints."""
    return max(d_ap - d_an + margin, 0.0)


def triplet_geometry() -> Figure:
    """Chapter 6: the triplet loss is zero once the negative is at least the margin farther than the positive."""
    fig, ax = _canvas(7.0, 3.9)
    scale = 0.6  # inches per embedding unit
    _text(ax, 3.5, 3.65, "loss = $\\max(\\|a-p\\| - \\|a-n\\| + \\varepsilon,\\ 0)$,   Euclidean distance, "
          f"$\\varepsilon = {TRIPLET_MARGIN:g}$", size=10)
    ax.plot([3.5, 3.5], [0.1, 3.35], color=COLORS["other"], linewidth=1.5)
    for cx, (d_ap, d_an) in zip((1.75, 5.25), TRIPLET_CASES):
        a = np.array([cx - 0.45, 1.95])
        inner, outer = scale * d_ap, scale * (d_ap + TRIPLET_MARGIN)
        # n anywhere in the shaded disc costs something; the ring between the circles is the margin
        ax.add_patch(Circle(a, outer, facecolor=COLORS["head"], alpha=0.35, edgecolor="none"))
        ax.add_patch(Circle(a, outer, fill=False, edgecolor=_edge(COLORS["head"]), linewidth=1.0))
        ax.add_patch(Circle(a, inner, fill=False, edgecolor=SOFT_INK, linestyle="--", linewidth=1.0))
        down = np.array([0.0, -1.0])
        _arrow(ax, a + inner * down, a + outer * down, both=True, color=_edge(COLORS["head"]), lw=1.0)
        _text(ax, a[0] + 0.08, a[1] - (inner + outer) / 2, f"margin $\\varepsilon$ = {TRIPLET_MARGIN:g}", size=8.5,
              ha="left")
        for d, angle, key, name in ((d_ap, 1.75, "diff", "p"), (d_an, 0.3, "head", "n")):
            direction = np.array([np.cos(angle), np.sin(angle)])
            end = a + scale * d * direction
            ax.plot([a[0], end[0]], [a[1], end[1]], color=ARROW, linewidth=1.0)
            side = np.array([direction[1], -direction[0]])  # right of the segment, inside the dashed circle
            label = a + 0.5 * inner * direction + 0.13 * side
            _text(ax, label[0], label[1], f"{d:.1f}", size=8.5, color=SOFT_INK)
            _point(ax, end, key, name)
        _point(ax, a, "a", "a")
        loss = triplet_loss(d_ap, d_an)
        verdict = "n too close: loss > 0, push n out" if loss > 0 else "n at least \u03b5 farther than p: loss 0"
        _text(ax, cx, 0.45, f"loss = max({d_ap:.1f} \u2212 {d_an:.1f} + {TRIPLET_MARGIN:g}, 0) = {loss:.1f}",
              size=9.5, weight="bold")
        _note(ax, cx, 0.18, verdict, size=8.5)
    return fig


#: Illustrative cosines cos(a_i, p_j); row 3 has a hard in-batch negative (p_2).
MNR_COSINES = np.array([
    [0.82, 0.31, 0.12, 0.40],
    [0.25, 0.77, 0.18, 0.30],
    [0.35, 0.62, 0.70, 0.28],
    [0.10, 0.22, 0.15, 0.66],
])
MNR_SCALE = 20.0


def mnr_target_probabilities(cosines=MNR_COSINES, scale: float = MNR_SCALE) -> np.ndarray:
    """Row-wise ``softmax(scale * cos)`` at the diagonal: what the chapter 6 MNR diagram prints per anchor."""
    scores = scale * np.asarray(cosines)
    probs = np.exp(scores - scores.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    return np.diag(probs)


def in_batch_similarity_matrix() -> Figure:
    """Chapter 6: multiple negatives ranking, each anchor's row is a softmax whose target is the diagonal."""
    fig, ax = _canvas(7.0, 3.9)
    batch = len(MNR_COSINES)
    cw, ch, x0, y_top = 0.62, 0.46, 1.35, 3.1
    xs = x0 + cw * (np.arange(batch) + 0.5)
    ys = y_top - ch * (np.arange(batch) + 0.5)
    mid_x, bottom = x0 + cw * batch / 2, y_top - ch * batch
    _text(ax, mid_x, 3.72, "positives", size=10, weight="bold")
    _text(ax, 0.3, (y_top + bottom) / 2, "anchors", size=10, weight="bold", rotation=90)
    for j, x in enumerate(xs):
        _box(ax, x, y_top + 0.25, cw - 0.08, 0.34, f"$p_{j + 1}$", COLORS["b"])
    for i, y in enumerate(ys):
        _box(ax, x0 - 0.35, y, 0.5, ch - 0.08, f"$a_{i + 1}$", COLORS["a"])
        for j, x in enumerate(xs):
            target = i == j
            cell = Rectangle((x - cw / 2, y - ch / 2), cw, ch, facecolor=COLORS["diff" if target else "other"],
                             edgecolor="white", linewidth=2)
            cell.set_gid(f"mnr-diagonal-{i + 1}" if target else f"mnr-negative-{i + 1}-{j + 1}")
            ax.add_patch(cell)
            _text(ax, x, y, f"{MNR_COSINES[i, j]:.2f}", size=9.5, weight="bold" if target else "normal")

    # each row is one softmax classification: how much of it lands on the diagonal
    x_prob = x0 + cw * batch + 0.9
    _text(ax, x_prob, y_top + 0.25, "$P(p_i \\mid a_i)$", size=9.5)
    for y, prob in zip(ys, mnr_target_probabilities()):
        _arrow(ax, (x0 + cw * batch + 0.06, y), (x_prob - 0.3, y))
        _text(ax, x_prob, y, f"{prob:.2f}", size=9.5, weight="bold")
    _note(ax, x_prob, bottom - 0.2, "row softmax", size=8.5)

    x_legend = 5.45
    for k, (key, label) in enumerate((("diff", "correct pair"), ("other", "in-batch negative"))):
        y = ys[0] - 0.36 * k
        ax.add_patch(Rectangle((x_legend, y - 0.09), 0.18, 0.18, facecolor=COLORS[key], edgecolor=_edge(COLORS[key])))
        _text(ax, x_legend + 0.28, y, label, size=9, ha="left")
    _note(ax, x_legend, ys[2], "hard negative: $p_2$ for $a_3$", ha="left", size=8.5)

    _text(ax, 3.5, 0.78, "cell: $\\cos(a_i, p_j)$;   row $i$: softmax of 20 \u00d7 cos, target $p_i$", size=9.5)
    _text(ax, 3.5, 0.5, "loss: mean over the rows of $-\\log P(p_i \\mid a_i)$", size=9.5)
    _note(ax, 3.5, 0.2, f"B = {batch}: each anchor gets B \u2212 1 = {batch - 1} negatives for free", size=8.5)
    return fig


# ----------------------------------------------------------------------------- showing them

#: name -> drawing function, in chapter order.
DIAGRAMS = {
    "pooling": pooling,
    "cross_vs_bi_encoder": cross_vs_bi_encoder,
    "softmax_head": softmax_head,
    "regression_setup": regression_setup,
    "triplet_geometry": triplet_geometry,
    "in_batch_similarity_matrix": in_batch_similarity_matrix,
}


def draw(name: str) -> Figure:
    """The named diagram as a figure, drawn on matplotlib's default style plus :data:`STYLE`."""
    check_choice(name, DIAGRAMS, "diagram")
    with matplotlib.style.context(["default", STYLE]):
        return DIAGRAMS[name]()


def svg(name: str) -> str:
    """The named diagram as SVG text; the same bytes on every call."""
    fig = draw(name)
    buffer = io.BytesIO()
    with matplotlib.style.context(["default", STYLE]):
        # the canvas is the whole drawing (its margins are laid out), so "tight" with no pad keeps its size
        fig.savefig(buffer, format="svg", bbox_inches="tight", pad_inches=0, metadata={"Date": None})
    return buffer.getvalue().decode("utf-8")


def show(name: str) -> None:
    """Display the named diagram as SVG in a notebook: a chapter cell is just ``diagrams.show("pooling")``."""
    check_choice(name, DIAGRAMS, "diagram")
    from IPython.display import SVG, display

    display(SVG(svg(name)))
