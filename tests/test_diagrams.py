"""The chapters' diagrams (sbert_teach/diagrams.py): they draw, say what they should, fit the column,
keep their text apart and give the same SVG bytes every time."""

import itertools
import re

import numpy as np
import pytest
import torch

matplotlib = pytest.importorskip("matplotlib")

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.text import Text  # noqa: E402

from sbert_teach import diagrams  # noqa: E402
from sbert_teach.objectives import mnr_loss_from_embeddings, triplet_loss_from_embeddings  # noqa: E402
from sbert_teach.pooling import cls_pooling, max_pooling, mean_pooling  # noqa: E402

NAMES = list(diagrams.DIAGRAMS)

#: Words each diagram must show; for mathtext labels the SVG keeps the source string, "$|u-v|$".
KEY_LABELS = {
    "pooling": ["[CLS]", "dog", "[PAD]", "mask", "CLS", "mean", "max"],
    "cross_vs_bi_encoder": ["Cross-encoder", "Bi-encoder", "[SEP]", "BERT", "shared weights", "cached", "\\cos(u, v)"],
    "softmax_head": ["|u-v|", "W_t", "3 \u00d7 3n", "entailment", "neutral", "contradiction", "cross-entropy",
                     "thrown away"],
    "regression_setup": ["\\cos(u, v)", "gold score", "4.0 / 5", "squared error", "MSE"],
    "triplet_geometry": ["margin", "Euclidean", "\\varepsilon = 1", "\\|a-p\\|", "\\|a-n\\|"],
    "in_batch_similarity_matrix": ["positives", "anchors", "in-batch negative", "correct pair", "20 \u00d7 cos",
                                   "$a_1$", "$p_4$"],
}


def texts(fig):
    """Every visible, non-empty text artist the diagram drew."""
    return [t for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def extents(fig):
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    return [(t.get_text(), Text.get_window_extent(t, renderer)) for t in texts(fig)]


def test_the_registry_names_every_drawing_function_in_chapter_order():
    assert NAMES == ["pooling", "cross_vs_bi_encoder", "softmax_head", "regression_setup", "triplet_geometry",
                     "in_batch_similarity_matrix"]
    assert set(KEY_LABELS) == set(NAMES)
    for name, function in diagrams.DIAGRAMS.items():
        assert function.__name__ == name and "Chapter" in function.__doc__  # says which chapter explains it
        assert f"``{name}``" in diagrams.__doc__


@pytest.mark.parametrize("name", NAMES)
def test_each_diagram_draws_a_figure_that_fits_the_column(name):
    fig = diagrams.draw(name)
    assert isinstance(fig, matplotlib.figure.Figure)
    assert fig.get_figwidth() * 100 <= 700  # 7 inches at 100 dpi
    assert texts(fig), "a diagram without words"
    svg = diagrams.svg(name)
    width_pt = float(re.search(r'<svg[^>]*\swidth="([\d.]+)pt"', svg).group(1))
    assert width_pt / 72 * 100 <= 700  # what the notebook shows, after bbox_inches="tight"
    assert width_pt == pytest.approx(fig.get_figwidth() * 72)  # nothing sticks out and widens it


@pytest.mark.parametrize("name", NAMES)
def test_each_svg_shows_its_key_labels(name):
    svg = diagrams.svg(name)
    missing = [label for label in KEY_LABELS[name] if label.replace("&", "&amp;") not in svg]
    assert not missing, f"{name} lacks {missing}"


def test_the_mnr_diagram_marks_the_diagonal_as_the_targets():
    svg = diagrams.svg("in_batch_similarity_matrix")
    batch = len(diagrams.MNR_COSINES)
    for i in range(1, batch + 1):
        assert f'id="mnr-diagonal-{i}"' in svg
        for j in range(1, batch + 1):
            assert (f'id="mnr-negative-{i}-{j}"' in svg) == (i != j)
    cells = {t.get_text(): t for t in texts(diagrams.draw("in_batch_similarity_matrix"))}
    for i, j in itertools.product(range(batch), repeat=2):  # the diagonal's numbers in bold, the negatives' not
        assert (cells[f"{diagrams.MNR_COSINES[i, j]:.2f}"].get_fontweight() == "bold") == (i == j)


@pytest.mark.parametrize("name", NAMES)
def test_two_draws_give_the_same_svg_bytes(name):
    first, second = diagrams.svg(name), diagrams.svg(name)
    assert first == second
    assert "<dc:date>" not in first


def test_the_notebook_theme_does_not_change_a_diagram():
    sns = pytest.importorskip("seaborn")
    plain = diagrams.svg("softmax_head")
    with matplotlib.rc_context():
        sns.set_theme(style="whitegrid", context="notebook")  # what book.setup does
        matplotlib.rcParams["svg.hashsalt"] = "something else"
        assert diagrams.svg("softmax_head") == plain


@pytest.mark.parametrize("name", NAMES)
def test_no_two_texts_overlap_and_all_stay_inside_the_figure(name):
    fig = diagrams.draw(name)
    boxes = extents(fig)
    frame = fig.bbox
    for text, box in boxes:
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1, text
    overlapping = [(a, b) for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2) if box_a.overlaps(box_b)]
    assert not overlapping, f"{name}: overlapping texts {overlapping}"


def test_the_pooling_numbers_are_what_the_package_computes():
    tokens = torch.tensor(diagrams.POOLING_VECTORS, dtype=torch.float32)[None]
    mask = torch.tensor(diagrams.POOLING_MASK)[None]
    example = diagrams.pooled_example()
    for key, function in (("cls", cls_pooling), ("mean", mean_pooling), ("max", max_pooling)):
        assert np.allclose(function(tokens, mask)[0].numpy(), example[key], atol=1e-6), key
    assert not np.allclose(diagrams.POOLING_VECTORS.max(axis=0), example["max"])  # padding would change max...
    assert not np.allclose(diagrams.POOLING_VECTORS.mean(axis=0), example["mean"])  # ...and mean
    shown = {t.get_text() for t in texts(diagrams.draw("pooling"))}
    assert {diagrams._number(x) for x in np.concatenate(list(example.values()))} <= shown


def test_the_triplet_panels_print_the_package_loss():
    shown = " ".join(t.get_text() for t in texts(diagrams.draw("triplet_geometry")))
    losses = []
    for d_ap, d_an in diagrams.TRIPLET_CASES:
        a, p, n = torch.zeros(1, 2), torch.tensor([[d_ap, 0.0]]), torch.tensor([[0.0, d_an]])
        loss = float(triplet_loss_from_embeddings(a, p, n, margin=1.0, distance="euclidean"))
        assert loss == pytest.approx(diagrams.triplet_loss(d_ap, d_an))
        assert f"= {loss:.1f}" in shown
        losses.append(loss)
    assert losses[0] > 0 and losses[1] == 0  # one panel inside the margin, one past it


def test_the_mnr_probabilities_are_the_package_loss_per_row():
    cosines = torch.tensor(diagrams.MNR_COSINES, dtype=torch.float64)
    probabilities = diagrams.mnr_target_probabilities()
    for i in range(len(cosines)):  # one anchor at a time: its loss is -log of the printed probability
        # anchor e_0 and unit positives p_j = c_ij e_0 + sqrt(1 - c_ij^2) e_(j+1), so cos(anchor, p_j) = c_ij
        anchor = torch.zeros(1, len(cosines) + 1, dtype=torch.float64)
        anchor[0, 0] = 1.0
        positives = torch.zeros(len(cosines), len(cosines) + 1, dtype=torch.float64)
        positives[:, 0] = cosines[i]
        positives[torch.arange(len(cosines)), torch.arange(len(cosines)) + 1] = torch.sqrt(1 - cosines[i] ** 2)
        order = [i] + [j for j in range(len(cosines)) if j != i]  # the target first, as mnr expects row 0 -> 0
        loss = mnr_loss_from_embeddings(anchor, positives[order], scale=diagrams.MNR_SCALE)
        assert float(torch.exp(-loss)) == pytest.approx(probabilities[i], rel=1e-6)  # the loss runs in float32
    assert probabilities[2] < 0.9 < probabilities.min(initial=1, where=np.arange(4) != 2)  # row 3's hard negative


def test_show_displays_svg_and_rejects_unknown_names(monkeypatch):
    shown = []
    display = pytest.importorskip("IPython.display")
    monkeypatch.setattr(display, "display", shown.append)
    diagrams.show("pooling")
    assert len(shown) == 1 and isinstance(shown[0], display.SVG) and "<svg" in shown[0].data
    with pytest.raises(ValueError) as error:
        diagrams.show("nope")
    for name in NAMES:
        assert name in str(error.value)
    assert "'nope'" in str(error.value)
