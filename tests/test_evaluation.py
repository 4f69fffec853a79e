import pytest
import torch

from sbert_teach import evaluate_sts, load_sts
from sbert_teach.evaluation import correlations, cosine_similarity_matrix, search, semantic_search


def test_correlations_on_hand_made_scores():
    c = correlations([0.1, 0.2, 0.3, 0.4], [1.0, 2.0, 3.0, 10.0])
    assert c["spearman"] == pytest.approx(1.0) and c["pearson"] < 1.0
    assert correlations([4, 3, 2, 1], [1, 2, 3, 4])["spearman"] == pytest.approx(-1.0)


def test_similarity_matrix_and_search_on_hand_made_vectors():
    corpus = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    sim = cosine_similarity_matrix(corpus)
    torch.testing.assert_close(sim, sim.T)
    torch.testing.assert_close(sim.diagonal(), torch.ones(3))
    hits = semantic_search(torch.tensor([[1.0, 0.1]]), corpus, top_k=2)
    assert [i for i, _ in hits[0]] == [0, 2]


def test_reference_reproduces_published_stsb_test_spearman(reference):
    # all-MiniLM-L6-v2's published STSb test Spearman (cosine) is 82.03
    scores = evaluate_sts(reference, load_sts("test"))
    assert scores["n"] == 1379
    assert abs(100 * scores["spearman_cosine"] - 82.03) <= 0.2


def test_search_finds_the_paraphrase(reference):
    corpus = ["A man is eating food.", "A monkey is playing drums.", "The new movie is awesome."]
    (best, _), *_ = search(reference, ["Someone is having a meal."], corpus, top_k=3)[0]
    assert best == "A man is eating food."


def test_bootstrap_resamples_are_seeded_rows_of_indices():
    from sbert_teach.evaluation import bootstrap_resamples

    rows = bootstrap_resamples(50, count=20, seed=3)
    assert rows.shape == (20, 50) and rows.min() >= 0 and rows.max() < 50
    assert (rows == bootstrap_resamples(50, count=20, seed=3)).all()
    assert not (rows == bootstrap_resamples(50, count=20, seed=4)).all()
    with pytest.raises(ValueError, match="at least 2"):
        bootstrap_resamples(1)
    with pytest.raises(ValueError, match="count"):
        bootstrap_resamples(10, count=0)


def test_paired_bootstrap_sees_a_small_steady_gain_that_overlapping_intervals_hide():
    import numpy as np
    from scipy.stats import spearmanr

    from sbert_teach.evaluation import bootstrap_resamples, paired_bootstrap

    rng = np.random.default_rng(0)
    gold = rng.uniform(0, 1, 300)
    shared = rng.normal(0, 0.3, 300)  # noise both models make on the same pairs
    b = gold + shared
    a = gold + 0.8 * shared  # a little less of the same noise: better, and tied to b pair by pair
    rows = bootstrap_resamples(300, count=400, seed=1)

    def own_interval(x):
        boot = [spearmanr(x[i], gold[i]).statistic for i in rows]
        return np.percentile(boot, [2.5, 97.5])

    (a_low, a_high), (b_low, b_high) = own_interval(a), own_interval(b)
    assert a_low < b_high  # the two models' own intervals overlap ...
    result = paired_bootstrap(a, b, gold, resamples=rows)
    assert result["interval"][0] > 0  # ... yet the paired difference is clearly above 0
    assert result["a_better_share"] > 0.975 and result["resamples"] == 400
    assert result["a"] == pytest.approx(spearmanr(a, gold).statistic)
    assert result["difference"] == pytest.approx(result["a"] - result["b"])
    # the same resamples by hand give the same interval
    by_hand = [spearmanr(a[i], gold[i]).statistic - spearmanr(b[i], gold[i]).statistic for i in rows]
    assert result["interval"] == pytest.approx(tuple(np.percentile(by_hand, [2.5, 97.5])))
    # swapping the models mirrors the interval; a model against itself differs by exactly 0
    swapped = paired_bootstrap(b, a, gold, resamples=rows)
    assert swapped["interval"] == pytest.approx((-result["interval"][1], -result["interval"][0]))
    assert paired_bootstrap(a, a, gold, resamples=50)["interval"] == (0.0, 0.0)


def test_paired_bootstrap_of_two_unrelated_noisy_models_straddles_zero():
    import numpy as np

    from sbert_teach.evaluation import paired_bootstrap

    rng = np.random.default_rng(5)
    gold = rng.uniform(0, 1, 200)
    a, b = gold + rng.normal(0, 0.5, 200), gold + rng.normal(0, 0.5, 200)  # equally good, independent noise
    low, high = paired_bootstrap(a, b, gold, resamples=300, seed=2)["interval"]
    assert low < 0 < high


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"scores_b": [0.1, 0.2]}, "Mismatched lengths"),
        ({"gold": [0.1, float("nan"), 0.3, 0.4]}, r"gold\[1\] is nan"),
        ({"confidence": 95}, "strictly between 0 and 1"),
        ({"resamples": [[0, 1, 9, 2]]}, "there are 4 pairs"),
        ({"resamples": [[0.5, 1.0, 2.0, 3.0]]}, "whole-number indices"),
        ({"scores_a": ["high", "low", "low", "high"]}, "list of numbers"),
    ],
)
def test_paired_bootstrap_names_bad_input(kwargs, message):
    from sbert_teach.evaluation import paired_bootstrap

    args = {"scores_a": [0.1, 0.4, 0.3, 0.9], "scores_b": [0.2, 0.1, 0.5, 0.7], "gold": [0.0, 0.3, 0.4, 1.0]}
    args.update(kwargs)
    with pytest.raises(ValueError, match=message):
        paired_bootstrap(**args)
