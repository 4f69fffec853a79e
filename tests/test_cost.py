"""sbert_teach.cost: pair counting, timing helpers and extrapolation (chapter 3)."""

import numpy as np
import pytest
import torch

from sbert_teach import cost


def test_n_pairs_edge_cases_and_the_papers_example():
    assert [cost.n_pairs(n) for n in (0, 1, 2, 3)] == [0, 0, 1, 3]
    assert cost.n_pairs(10_000) == 49_995_000
    assert cost.n_pairs(np.int64(5)) == 10
    with pytest.raises(ValueError, match="0 or more"):
        cost.n_pairs(-1)
    with pytest.raises(TypeError, match="whole number"):
        cost.n_pairs(2.5)
    with pytest.raises(ValueError, match="kind of work"):
        cost.work(3, "triples")


def test_extrapolation_recovers_an_exact_cost_per_unit():
    sizes = [10, 20, 40]
    pair_seconds = [2e-3 * cost.n_pairs(n) for n in sizes]
    assert cost.fit_per_unit(sizes, pair_seconds, "pairs") == pytest.approx(2e-3)
    assert cost.extrapolate(sizes, pair_seconds, 10_000) == pytest.approx(2e-3 * 49_995_000)
    sentence_seconds = [5e-3 * n for n in sizes]
    assert cost.extrapolate(sizes, sentence_seconds, 10_000, kind="sentences") == pytest.approx(50.0)
    assert cost.loglog_slope(sizes, [n ** 2 for n in sizes]) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="zero work"):
        cost.fit_per_unit([0, 1], [0.1, 0.1], "pairs")
    with pytest.raises(ValueError, match="as many timings"):
        cost.fit_per_unit([2, 3], [0.1], "pairs")


def test_most_similar_pair_matches_brute_force_across_chunks():
    g = torch.Generator().manual_seed(0)
    emb = torch.randn(37, 8, generator=g)
    emb[30] = emb[4] * 3.0  # same direction: cosine 1, the best pair
    pair, value = cost.most_similar_pair(emb, chunk=5)
    assert pair == (4, 30) and value == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(ValueError, match="at least 2"):
        cost.most_similar_pair(emb[:1])


def test_cross_encoder_has_the_encoders_weights_and_a_one_number_head(tiny_encoder):
    cross = cost.build_cross_encoder(tiny_encoder)
    assert cross.config.num_labels == 1
    torch.testing.assert_close(cross.base_model.embeddings.word_embeddings.weight,
                               tiny_encoder.transformer.embeddings.word_embeddings.weight)
    scores = cost.cross_encoder_scores(cross, tiny_encoder.tokenizer, ["a cat", "a much longer sentence here"],
                                       ["a dog", "short"], batch_size=1)
    batched = cost.cross_encoder_scores(cross, tiny_encoder.tokenizer, ["a cat", "a much longer sentence here"],
                                        ["a dog", "short"], batch_size=2)
    assert scores.shape == (2,)
    np.testing.assert_allclose(scores, batched, atol=1e-4)  # order restored, padding harmless
    with pytest.raises(ValueError, match="2 items"):
        cost.cross_encoder_scores(cross, tiny_encoder.tokenizer, ["a", "b"], ["c"])


def test_measure_times_both_architectures(tiny_encoder):
    cross = cost.build_cross_encoder(tiny_encoder)
    sentences = ["a cat sits", "a dog runs", "the sun shines", "a car drives", "birds sing", "rain falls"]
    timings = cost.measure(cross, tiny_encoder, sentences, [3, 6], bi_repeats=1)
    assert [(t.n, t.pairs) for t in timings] == [(3, 3), (6, 15)]
    assert all(t.cross_seconds > 0 and t.bi_seconds > 0 for t in timings)
    seconds, pair = cost.time_bi_encoder(tiny_encoder, sentences)
    assert seconds > 0 and 0 <= pair[0] < pair[1] < 6
    assert cost.time_comparisons(50, 8) > 0
    with pytest.raises(ValueError, match="only 6 sentences"):
        cost.measure(cross, tiny_encoder, sentences, [7])


def test_cpu_threads_is_restored_even_after_an_error():
    before = torch.get_num_threads()
    with cost.cpu_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError):
        with cost.cpu_threads(1):
            raise RuntimeError("boom")
    assert torch.get_num_threads() == before
    with pytest.raises(ValueError, match="at least 1"):
        with cost.cpu_threads(0):
            pass
