"""sbert_teach.mining: hard negatives on hand-made vectors, bad input, and against sentence-transformers.

The hand-made vectors are 2-d unit vectors at an angle from the anchor, so each cosine is cos(angle) and
the right negatives are plain to see. The library comparisons run ``sentence_transformers.util
.mine_hard_negatives`` (exact search, ``sampling_strategy="top"``) on the same inputs: seeded random
vectors with ties and repeated texts (through a minimal stand-in for a SentenceTransformer that returns
the same vectors), and SNLI (premise, entailed hypothesis) pairs with the packaged reference model,
loaded as our encoder on one side and as a ``SentenceTransformer`` on the other.
"""

import logging
import math
import re

import numpy as np
import pytest
import torch

from sbert_teach.mining import FILTERS, mine_hard_negatives

# ---------------------------------------------------------------------------------------------------------------
# hand-made vectors


def at(degrees):
    return [math.cos(math.radians(degrees)), math.sin(math.radians(degrees))]


# the anchor at 0 degrees, its positive at 10, candidates further out (c5 at 5 degrees is nearer than the positive)
ANGLES = {"q": 0, "p": 10, "c5": 5, "c20": 20, "c30": 30, "c40": 40, "c50": 50}
VECTORS = {text: at(deg) for text, deg in ANGLES.items()}
CORPUS = ["c5", "c20", "c30", "c40", "c50"]


def negatives(**settings):
    triplets, report = mine_hard_negatives(["q"], ["p"], VECTORS, corpus=CORPUS, **settings)
    assert set(triplets["anchor"]) <= {"q"} and set(triplets["positive"]) <= {"p"}
    return list(triplets["negative"]), report


def test_top_candidates_are_taken_and_the_positive_never_is():
    assert negatives(num_negatives=2)[0] == ["c5", "c20"]   # the positive (rank 2) is set aside
    assert negatives(num_negatives=5)[0] == CORPUS
    found, report = negatives(num_negatives=5, range_max=7)
    assert "p" not in found and report.removed["positive"] == 1


def test_range_min_skips_the_best_surviving_candidates():
    assert negatives(num_negatives=2, range_min=1)[0] == ["c20", "c30"]
    assert negatives(num_negatives=2, range_min=2)[0] == ["c30", "c40"]
    # range_min counts survivors of the filters: with c5 removed by the margin, the first skipped is c20
    assert negatives(num_negatives=2, range_min=1, absolute_margin=0.0)[0] == ["c30", "c40"]


def test_margins_remove_candidates_too_close_to_the_positive():
    found, report = negatives(num_negatives=2, absolute_margin=0.0)
    assert found == ["c20", "c30"] and report.removed["absolute_margin"] == 1
    # a margin of cos 10 - cos 25 also removes c20 (cos 20 > cos 25), not c30
    margin = math.cos(math.radians(10)) - math.cos(math.radians(25))
    found, report = negatives(num_negatives=2, absolute_margin=margin)
    assert found == ["c30", "c40"] and report.removed["absolute_margin"] == 2
    # relative: drop if score > cos 10 * (1 - m); the same cut at cos 25
    relative = 1 - math.cos(math.radians(25)) / math.cos(math.radians(10))
    found, report = negatives(num_negatives=2, relative_margin=relative)
    assert found == ["c30", "c40"] and report.removed["relative_margin"] == 2
    # both: each candidate is counted once, under the first filter that removed it
    found, report = negatives(num_negatives=2, absolute_margin=0.0, relative_margin=relative)
    assert found == ["c30", "c40"] and report.removed == {"positive": 1, "absolute_margin": 1, "relative_margin": 1}


def test_score_limits_and_too_few_candidates_are_counted_not_hidden(caplog):
    with caplog.at_level(logging.WARNING, logger="sbert_teach"):
        found, report = negatives(num_negatives=4, max_score=math.cos(math.radians(15)),
                                  min_score=math.cos(math.radians(45)))
    assert found == ["c20", "c30", "c40"]
    assert report.removed["max_score"] == 1 and report.removed["min_score"] == 1
    assert (report.complete, report.short, report.without_negative, report.rows, report.missing) == (0, 1, 0, 3, 1)
    assert "1 got fewer" in caplog.text
    # n-tuple rows need all four negatives: the pair is left out, and counted
    tuples, report = mine_hard_negatives(["q"], ["p"], VECTORS, corpus=CORPUS, num_negatives=4, output_format="n-tuple",
                                         max_score=math.cos(math.radians(15)), min_score=math.cos(math.radians(45)))
    assert len(tuples) == 0 and report.missing == 1 and report.short == 1


def test_an_anchor_with_no_candidate_left_gives_no_triplet_and_is_counted():
    vectors = dict(VECTORS, r=at(180), s=at(185))   # r's positive s; every other text is far from r
    triplets, report = mine_hard_negatives(["q", "r"], ["p", "s"], vectors, corpus=CORPUS, num_negatives=2,
                                           min_score=0.0)
    assert list(triplets["anchor"]) == ["q", "q"]
    assert (report.anchors, report.complete, report.short, report.without_negative, report.missing) == (2, 1, 1, 1, 2)


def test_repeated_anchors_share_negatives_and_the_lowest_positive_sets_the_margin():
    vectors = dict(VECTORS, p2=at(25))
    # q has two positives (p at 10, p2 at 25); an exact repeat of a pair counts once; c5 and c20 are
    # above the lower positive (cos 25), so absolute_margin=0 removes both
    triplets, report = mine_hard_negatives(["q", "q", "q"], ["p", "p2", "p"], vectors, corpus=CORPUS + ["c5"],
                                           num_negatives=2, absolute_margin=0.0, output_scores=True)
    assert (report.pairs, report.unique_pairs, report.anchors, report.corpus_size) == (3, 2, 1, 7)
    rows = list(zip(triplets["positive"], triplets["negative"]))
    assert rows == [("p", "c30"), ("p", "c40"), ("p2", "c30"), ("p2", "c40")]
    assert report.removed["absolute_margin"] == 2 and report.removed["positive"] == 2
    pos, neg = triplets["scores"][2]
    assert pos == pytest.approx(math.cos(math.radians(25)), abs=1e-6)
    assert neg == pytest.approx(math.cos(math.radians(30)), abs=1e-6)


def test_candidates_table_says_what_removed_each_candidate():
    _, report = negatives(num_negatives=2, range_min=1, absolute_margin=0.0, min_score=math.cos(math.radians(45)))
    table = report.candidates(anchors=1, top_k=10)
    assert list(table["candidate"]) == ["c5", "p", "c20", "c30", "c40", "c50"]
    assert list(table["verdict"]) == ["absolute_margin", "positive", "range_min", "negative", "negative", "min_score"]
    assert list(table["rank"]) == [1, 2, 3, 4, 5, 6]
    np.testing.assert_allclose(table["score"], [math.cos(math.radians(ANGLES[c])) for c in table["candidate"]],
                               atol=1e-6)
    assert (table["positive"] == "p").all()
    assert list(report.candidates(anchors=[0], top_k=2)["candidate"]) == ["c5", "p"]
    assert "unused" in set(negatives(num_negatives=1)[1].candidates()["verdict"])


def test_the_report_reads_as_a_summary():
    _, report = negatives(num_negatives=2, absolute_margin=0.0)
    text = str(report)
    assert "1 by absolute_margin" in text and "1 pairs got all 2 negatives" in text and "absolute_margin=0.0" in text


@pytest.mark.parametrize("settings, problem", [
    ({"num_negatives": 0}, "num_negatives"),
    ({"range_min": -1}, "range_min"),
    ({"range_min": 3, "range_max": 3}, "range_min"),
    ({"num_negatives": 3, "range_min": 2, "range_max": 4}, "Cannot take 3 negatives"),
    ({"output_format": "labeled-pair"}, "output_format"),
    ({"min_score": 0.9, "max_score": 0.5}, "min_score"),
    ({"absolute_margin": float("nan")}, "absolute_margin"),
    ({"relative_margin": "0.05"}, "relative_margin"),
])
def test_bad_settings_name_the_problem(settings, problem):
    with pytest.raises(ValueError, match=problem):
        mine_hard_negatives(["q"], ["p"], VECTORS, corpus=CORPUS, **settings)


def test_bad_inputs_name_the_problem():
    with pytest.raises(ValueError, match="Mismatched lengths"):
        mine_hard_negatives(["q", "q"], ["p"], VECTORS)
    with pytest.raises(TypeError, match="single string"):
        mine_hard_negatives("q", ["p"], VECTORS)
    with pytest.raises(ValueError, match="empty"):
        mine_hard_negatives([], [], VECTORS)
    with pytest.raises(ValueError, match="corpus is empty. Pass at least one"):
        mine_hard_negatives(["q"], ["p"], VECTORS, corpus=[])
    with pytest.raises(KeyError, match="no vector"):
        mine_hard_negatives(["q"], ["p"], VECTORS, corpus=["unknown text"])
    with pytest.raises(TypeError, match="SentenceEncoder"):
        mine_hard_negatives(["q"], ["p"], "reference")
    with pytest.raises(ValueError, match="NaN"):
        mine_hard_negatives(["q"], ["p"], dict(VECTORS, p=[float("nan"), 0.0]))


# ---------------------------------------------------------------------------------------------------------------
# against sentence-transformers


class VectorModel:
    """Just enough of a SentenceTransformer for the library's miner: the vectors of a {text: vector} dict."""

    device = torch.device("cpu")

    def __init__(self, vectors):
        self.vectors = vectors

    def encode_document(self, texts, **_):
        # as given, not normalised: our mapping path uses them as given too (both cosines normalise)
        return np.stack([np.asarray(self.vectors[t], dtype=np.float32) for t in texts])

    encode_query = encode_document

    @staticmethod
    def similarity(a, b):
        from sentence_transformers.util import cos_sim
        return cos_sim(a, b)

    @staticmethod
    def similarity_pairwise(a, b):
        from sentence_transformers.util import pairwise_cos_sim
        return pairwise_cos_sim(a, b)


def library_mine(anchors, positives, model, capsys=None, **settings):
    from datasets import Dataset
    from sentence_transformers.util import mine_hard_negatives as library

    dataset = Dataset.from_dict({"anchor": list(anchors), "positive": list(positives)})
    out = library(dataset, model, sampling_strategy="top", use_faiss=False, verbose=capsys is not None, **settings)
    printed = capsys.readouterr().out if capsys is not None else ""
    skipped = {name: int(n.replace(",", "")) for n, name in
               re.findall(r"Skipped ([\d,]+) potential negatives \([^)]*\) due to the (\w+) of", printed)}
    return out, skipped


def assert_same_rows(ours, theirs, score_tolerance=0.0):
    text_columns = [c for c in theirs.column_names if c != "scores"]
    assert ours.column_names == theirs.column_names
    for column in text_columns:
        assert list(ours[column]) == list(theirs[column]), column
    if "scores" in theirs.column_names:
        np.testing.assert_allclose(np.array(ours["scores"]), np.array(theirs["scores"]), rtol=0, atol=score_tolerance)


RANDOM_SETTINGS = [
    {"num_negatives": 3},
    {"num_negatives": 2, "range_min": 3},
    {"num_negatives": 3, "absolute_margin": 0.05},
    {"num_negatives": 4, "relative_margin": 0.1, "range_max": 12},
    {"num_negatives": 2, "absolute_margin": -0.05, "max_score": 0.9, "output_format": "n-tuple"},
    {"num_negatives": 5, "range_min": 2, "relative_margin": 0.0, "min_score": 0.1, "output_scores": True},
    {"num_negatives": 3, "range_max": 40, "max_score": 0.6, "output_format": "n-tuple", "output_scores": True},
]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_same_rows_as_the_library_on_random_vectors_with_ties_and_repeats(seed, capsys):
    rng = np.random.default_rng(seed)
    texts = [f"t{i}" for i in range(60)]
    # few distinct directions in 3-d: many exact ties; some rows negative to the anchor (negative positive scores)
    base = rng.normal(size=(12, 3)).astype(np.float32)
    # lengths scaled by powers of two: normalising gives bit-identical vectors, so the ties are exact
    vectors = {t: base[rng.integers(12)] * float(rng.choice([0.5, 1.0, 2.0])) for t in texts}
    anchors = [texts[i] for i in rng.integers(0, 20, size=40)]           # repeated anchors: several positives
    positives = [texts[i] for i in rng.integers(20, 45, size=40)]        # repeated positives; some exact repeats
    corpus = [texts[i] for i in rng.integers(15, 60, size=30)]            # duplicates, and some anchors in it
    for settings in RANDOM_SETTINGS:
        for extra in (None, corpus):
            theirs, skipped = library_mine(anchors, positives, VectorModel(vectors), capsys, corpus=extra, **settings)
            ours, report = mine_hard_negatives(anchors, positives, vectors, corpus=extra, **settings)
            assert_same_rows(ours, theirs)
            for name in ("absolute_margin", "relative_margin", "max_score"):  # the library counts these once each
                assert report.removed.get(name, 0) == skipped.get(name, 0), (settings, name)


# SNLI premise / entailed hypothesis pairs, with the packaged reference model on both sides

SNLI_SETTINGS = [
    {"num_negatives": 3},
    {"num_negatives": 2, "range_min": 5},
    {"num_negatives": 3, "absolute_margin": 0.05},
    {"num_negatives": 5, "relative_margin": 0.05, "range_max": 30},
    {"num_negatives": 2, "range_max": 3, "absolute_margin": 0.0, "max_score": 0.7, "min_score": 0.2,
     "output_scores": True},                                           # a narrow window: some pairs left short
    {"num_negatives": 3, "range_min": 2, "relative_margin": 0.1, "output_format": "n-tuple"},
]


@pytest.fixture(scope="module")
def snli_pairs():
    from sbert_teach import load_nli

    nli = load_nli("test", limit=400)
    pairs = [(a, b) for a, b, y in zip(nli["sentence1"], nli["sentence2"], nli["label"]) if y == 0][:120]
    others = [b for b, y in zip(nli["sentence2"], nli["label"]) if y != 0]   # neutral and contradicting hypotheses
    anchors, positives = map(list, zip(*pairs))
    assert len(pairs) == 120 and not set(anchors) & set(positives + others)
    return anchors, positives, others


def test_same_negatives_as_the_library_on_snli_with_the_reference_model(snli_pairs, reference, tmp_path, capsys):
    from sentence_transformers import SentenceTransformer

    from sbert_teach.library import reference_location

    st_model = SentenceTransformer(reference_location(), device="cpu").eval()
    anchors, positives, others = snli_pairs
    # our side goes through the encoder path once; the other runs reuse our encoder's vectors (encoding is the
    # slow part); the library encodes with the SentenceTransformer, once per corpus (its cache_folder)
    texts = list(dict.fromkeys(anchors + positives + others))
    our_vectors = dict(zip(texts, reference.encode(texts, batch_size=32, normalize=True)))
    short = 0
    for corpus in (None, others):
        for i, settings in enumerate(SNLI_SETTINGS):
            model = reference if corpus is None and i == 0 else our_vectors
            theirs, skipped = library_mine(anchors, positives, st_model, capsys, corpus=corpus,
                                           cache_folder=str(tmp_path), **settings)
            ours, report = mine_hard_negatives(anchors, positives, model, corpus=corpus, **settings)
            assert_same_rows(ours, theirs, score_tolerance=1e-5)
            for name in ("absolute_margin", "relative_margin", "max_score"):
                assert report.removed.get(name, 0) == skipped.get(name, 0), (settings, name)
                assert report.removed.get(name, 0) > 0 or name not in settings   # each filter has work to do
            short += report.short
            if i == 0:
                # some premises have two entailed hypotheses: one query, negatives shared by both pairs
                assert report.anchors == len(set(anchors)) < len(anchors)
                assert report.short == 0 and len(ours) == 3 * len(anchors)
    assert short > 0   # the comparison covers pairs with too few negatives


def test_a_sentence_transformer_like_model_is_encoded_as_the_library_encodes():
    calls = []

    class Recording(VectorModel):
        def encode_document(self, texts, **kwargs):
            calls.append(("document", list(texts), kwargs.get("normalize_embeddings")))
            return super().encode_document(texts)

        def encode_query(self, texts, **kwargs):
            calls.append(("query", list(texts), kwargs.get("normalize_embeddings")))
            return super().encode_document(texts)

    ours, _ = mine_hard_negatives(["q"], ["p"], Recording(VECTORS), corpus=CORPUS, num_negatives=2, range_min=1)
    assert list(ours["negative"]) == ["c20", "c30"]
    assert calls == [("document", CORPUS + ["p"], True), ("query", ["q"], True)]
