"""Chapter 2's inspection tools: one transformer pass pooled three ways, and exact token shares of a cosine."""

import pytest
import torch
import torch.nn.functional as F

from sbert_teach import get_model
from sbert_teach.inspection import pool_all_modes, token_shares

SENTENCES = ["A man is playing a guitar.", "A woman slices an onion on a wooden board in the kitchen.",
             "Dogs.", "Two children play in the snow while their parents watch from the window."]


@pytest.mark.parametrize("mode", ["cls", "mean", "max"])
def test_pool_all_modes_equals_an_encoder_with_that_pooling(mode):
    pooled = pool_all_modes(get_model("untuned", seed=1), SENTENCES, batch_size=3)  # batches cross the lengths
    direct = get_model("untuned", seed=1, pooling=mode).encode(SENTENCES)
    torch.testing.assert_close(pooled[mode], direct, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("mode", ["cls", "mean", "max"])
def test_token_shares_sum_to_the_cosine(mode):
    model = get_model("untuned", seed=1, pooling=mode)
    cos, pieces, shares = token_shares(model, SENTENCES[0], SENTENCES[1], mode)
    u, v = model.encode(SENTENCES[:2])
    assert cos == pytest.approx(F.cosine_similarity(u, v, dim=0).item(), abs=1e-4)
    for toks, share in zip(pieces, shares):
        assert len(toks) == len(share) and toks[0] == "[CLS]" and toks[-1] == "[SEP]"
        assert float(share.sum()) == pytest.approx(cos, abs=1e-4)
    if mode == "cls":
        assert all((share[1:] == 0).all() for share in shares)


def test_token_shares_rejects_an_unknown_pooling():
    with pytest.raises(ValueError, match="mean"):
        token_shares(get_model("untuned", seed=1), "a", "b", "average")


def test_share_explorer_is_a_widget_live_and_a_note_in_batch_runs(monkeypatch, capsys):
    import ipywidgets

    from sbert_teach.inspection import share_explorer

    models, pairs = {"untuned start": get_model("untuned", seed=1)}, [("A dog runs.", "A dog is running.")]
    monkeypatch.setenv("SBERT_TEACH_HEADLESS", "1")
    assert share_explorer(models, pairs) is None and "live notebook" in capsys.readouterr().out
    monkeypatch.setenv("SBERT_TEACH_HEADLESS", "0")
    widget = share_explorer(models, pairs)
    assert isinstance(widget, ipywidgets.interactive)
    assert [c.description for c in widget.children[:3]] == ["pair", "pooling", "model"]
