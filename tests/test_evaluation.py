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
