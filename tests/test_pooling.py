import pytest
import torch

from sbert_teach.pooling import POOLING_FUNCTIONS, cls_pooling, max_pooling, mean_pooling, pool

MODES = list(POOLING_FUNCTIONS)


def padded(side: str):
    """Two sentences of lengths 3 and 1, hidden 2, padded to 4 tokens on ``side``."""
    g = torch.Generator().manual_seed(0)
    rows = [torch.randn(3, 2, generator=g) - 5.0, torch.randn(1, 2, generator=g) - 5.0]  # all negative values
    tokens = torch.zeros(2, 4, 2)  # padding vectors are 0, which would win a naive max
    mask = torch.zeros(2, 4, dtype=torch.long)
    for i, r in enumerate(rows):
        n = len(r)
        sl = slice(0, n) if side == "right" else slice(4 - n, 4)
        tokens[i, sl], mask[i, sl] = r, 1
    return tokens, mask, rows


@pytest.mark.parametrize("side", ["right", "left"])
def test_pooling_uses_only_real_tokens(side):
    tokens, mask, rows = padded(side)
    torch.testing.assert_close(mean_pooling(tokens, mask), torch.stack([r.mean(0) for r in rows]))
    torch.testing.assert_close(max_pooling(tokens, mask), torch.stack([r.max(0).values for r in rows]))
    torch.testing.assert_close(cls_pooling(tokens, mask), torch.stack([r[0] for r in rows]))


@pytest.mark.parametrize("mode", MODES)
def test_left_and_right_padding_agree(mode):
    (tr, mr, _), (tl, ml, _) = padded("right"), padded("left")
    torch.testing.assert_close(pool(mode, tr, mr), pool(mode, tl, ml))


@pytest.mark.parametrize("mode", MODES)
def test_all_padding_row_gives_zero_vector_not_nan(mode):
    tokens = torch.randn(2, 3, 4)
    mask = torch.tensor([[1, 1, 0], [0, 0, 0]])
    out = pool(mode, tokens, mask)
    assert torch.isfinite(out).all()
    assert torch.equal(out[1], torch.zeros(4))


@pytest.mark.parametrize("mode", MODES)
def test_inputs_are_not_modified_in_place(mode):
    tokens, mask, _ = padded("right")
    tokens_before, mask_before = tokens.clone(), mask.clone()
    pool(mode, tokens, mask)
    assert torch.equal(tokens, tokens_before) and torch.equal(mask, mask_before)


def test_gradients_flow_only_to_real_tokens():
    tokens, mask, _ = padded("right")
    tokens.requires_grad_(True)
    mean_pooling(tokens, mask).sum().backward()
    assert torch.all(tokens.grad[mask == 0] == 0) and torch.all(tokens.grad[mask == 1] != 0)


def test_unknown_mode_and_bad_shapes_are_clear_errors():
    with pytest.raises(ValueError, match="Unknown pooling mode 'avg'.*cls, max, mean"):
        pool("avg", torch.zeros(1, 2, 3), torch.ones(1, 2))
    with pytest.raises(ValueError, match="attention_mask shape"):
        mean_pooling(torch.zeros(1, 2, 3), torch.ones(1, 3))
    with pytest.raises(ValueError, match=r"\(batch, tokens, hidden\)"):
        max_pooling(torch.zeros(2, 3), torch.ones(2, 3))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("side", ["right", "left"])
def test_parity_with_sentence_transformers_pooling(mode, side):
    from sentence_transformers.sentence_transformer.modules.pooling import Pooling

    if mode == "cls" and side == "left":
        pytest.skip("sentence-transformers' CLS pooling reads position 0, which is padding under left padding")
    g = torch.Generator().manual_seed(1)
    tokens = torch.randn(3, 5, 8, generator=g)
    lengths = [5, 3, 1]
    mask = torch.zeros(3, 5, dtype=torch.long)
    for i, n in enumerate(lengths):
        mask[i, :n] = 1
    if side == "left":
        mask = mask.flip(1)
    theirs = Pooling(8, pooling_mode=mode)({"token_embeddings": tokens, "attention_mask": mask})["sentence_embedding"]
    torch.testing.assert_close(pool(mode, tokens, mask), theirs, rtol=1e-6, atol=1e-6)
