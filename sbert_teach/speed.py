"""Where the speed comes from: smart batching inside a training step (appendix "How fast is it?").

A training batch of, say, 16 NLI pairs holds 32 sentences whose lengths range
from 6 to 40 word pieces. The collator pads each column to its own longest
sentence (dynamic padding), so on SNLI about 45% of the tokens the encoder
sees are padding. :func:`embed_length_sorted` removes most of that waste
without changing what is computed:

1. sort all the sentences of the batch (every column together) by length;
2. cut the sorted list into sub-batches with :func:`plan_sub_batches`, which
   balances padding against the fixed cost of one more forward pass;
3. encode each sub-batch padded only to its own longest sentence;
4. put the vectors back in their original order and split them by column.

The batch, the loss and the gradient are the same as with one forward pass
per column (up to float rounding): a transformer encodes each sentence on its
own, and padding is masked out. Only the wasted work goes. On a GPU, where a
forward pass has a large fixed cost, the plan usually merges all columns into
one forward pass instead, which is also a saving.

For BERT models :func:`embed_padding_free` goes one step further: all the
sentences of a batch go through *one* pass in which the dense layers (the
query/key/value and output projections and the feed-forward block, nearly all
of the work) see only the real tokens, packed into one ``(tokens, hidden)``
matrix. Only attention, which must know which tokens share a sentence, works
on a padded ``(batch, length)`` layout. One pass also means one dense
gradient for the 30k-row word-embedding table instead of one per sub-batch.
:meth:`SentenceEncoder.encode <sbert_teach.encoder.SentenceEncoder.encode>` uses
the same pass (:func:`padding_free_bert`) on a CPU, for what sorting leaves.

Example:
    >>> plan_sub_batches([30, 28, 12, 11, 10, 9], overhead_tokens=8)
    [(0, 2), (2, 6)]
"""

from __future__ import annotations

import numpy as np
import torch

_MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")

#: Fixed cost of one extra forward + backward pass, in tokens' worth of work.
#: Measured roughly: on a CPU a pass costs little beyond its tokens (small
#: matrix products lose some efficiency, hence not 0); on a GPU each pass
#: launches hundreds of kernels, worth thousands of tokens.
OVERHEAD_TOKENS = {"cpu": 64, "cuda": 4096}


def plan_sub_batches(lengths, overhead_tokens: float = 64, attention_width: float | None = None) -> list[tuple[int, int]]:
    """Split lengths sorted longest first into contiguous ``(start, end)`` runs of least total cost.

    The cost of a run is ``rows * longest * (1 + longest / attention_width) + overhead_tokens``:
    padded tokens, a small quadratic term for attention when ``attention_width``
    (about six times the hidden size) is given, and the fixed cost of a pass.
    Exact dynamic programming over the cut points; ``n`` is a batch, so ``n**2`` is small.
    """
    lengths = [int(x) for x in lengths]
    if any(a < b for a, b in zip(lengths, lengths[1:])):
        raise ValueError("lengths must be sorted longest first.")
    n = len(lengths)
    if n == 0:
        return []
    best = [0.0] + [float("inf")] * n  # best[j]: least cost of covering the first j rows
    cut = [0] * (n + 1)
    for j in range(1, n + 1):
        for i in range(j):
            longest = lengths[i]
            per_token = 1.0 + (longest / attention_width if attention_width else 0.0)
            cost = best[i] + (j - i) * longest * per_token + overhead_tokens
            if cost < best[j]:
                best[j], cut[j] = cost, i
    runs, j = [], n
    while j > 0:
        runs.append((cut[j], j))
        j = cut[j]
    return runs[::-1]


def _right_padded(features) -> bool:
    mask = features["attention_mask"]
    if mask.shape[1] == 0:
        return True
    lengths = mask.sum(1)
    # right padding: every row is ones up to its length, then zeros
    positions = torch.arange(mask.shape[1], device=mask.device).unsqueeze(0)
    return bool(((positions < lengths.unsqueeze(1)) == mask.bool()).all())


def embed_length_sorted(encoder, features, overhead_tokens: float | None = None) -> list[torch.Tensor]:
    """Encode every column of a batch with length-sorted sub-batches; return one tensor per column.

    ``features`` is what :class:`~sbert_teach.data.TextColumnsCollator` returns
    (one right-padded tokenizer output per column). Equivalent to
    ``[encoder(f) for f in features]``; falls back to exactly that when the
    padding is not on the right.
    """
    if not features or not all(_right_padded(f) for f in features):
        return [encoder(f) for f in features]
    device = encoder.device
    if overhead_tokens is None:
        overhead_tokens = OVERHEAD_TOKENS.get(device.type, OVERHEAD_TOKENS["cuda"])
    keys = [k for k in _MODEL_INPUTS if all(k in f for f in features)]
    width = max(f["input_ids"].shape[1] for f in features)
    stacked = {
        k: torch.cat([torch.nn.functional.pad(f[k], (0, width - f[k].shape[1])) for f in features]) for k in keys
    }
    stacked = {k: v.cpu() for k, v in stacked.items()}
    lengths = stacked["attention_mask"].sum(1).numpy()
    order = np.argsort(-lengths, kind="stable")
    runs = plan_sub_batches(lengths[order], overhead_tokens, attention_width=6 * encoder.hidden_size)
    pieces = []
    for start, end in runs:
        rows = torch.from_numpy(order[start:end])
        longest = max(int(lengths[order[start]]), 1)
        pieces.append(encoder({k: v[rows, :longest] for k, v in stacked.items()}))
    sorted_emb = torch.cat(pieces)
    inverse = torch.empty(len(order), dtype=torch.long)
    inverse[torch.from_numpy(order)] = torch.arange(len(order))
    emb = sorted_emb[inverse.to(sorted_emb.device)]
    return list(emb.split([f["input_ids"].shape[0] for f in features]))


# ----------------------------------------------------------------------------
# Padding-free forward pass for BERT encoders

def supports_padding_free(transformer) -> bool:
    """True for a plain BERT encoder (absolute positions, no decoder, no cross-attention)."""
    cfg = getattr(transformer, "config", None)
    return (
        type(transformer).__name__ == "BertModel"
        and cfg is not None
        and not cfg.is_decoder
        and not getattr(cfg, "add_cross_attention", False)
        and getattr(cfg, "position_embedding_type", "absolute") == "absolute"
        and not getattr(cfg, "chunk_size_feed_forward", 0)
    )


def real_token_index(attention_mask) -> torch.Tensor:
    """Where the real tokens sit in the flattened ``(batch * length)`` layout (row 0 kept for empty rows)."""
    keep = attention_mask != 0
    keep[:, 0] |= ~keep.any(1)
    return keep.reshape(-1).nonzero().squeeze(1)


def padding_free_bert(bert, input_ids, attention_mask, token_type_ids=None, real=None) -> torch.Tensor:
    """``bert(input_ids, attention_mask, token_type_ids).last_hidden_state`` for right-padded inputs,
    with the dense layers run on the real tokens only. Padding positions come back as zeros.

    Uses the model's own modules and weights, so gradients reach the same parameters and
    dropout acts as in Hugging Face's ``BertModel`` (embeddings, attention probabilities,
    both residual branches). ``real`` (optional) is :func:`real_token_index` of the mask,
    computed on the host so the device need not report the number of tokens back.
    """
    batch, length = input_ids.shape
    keep = attention_mask != 0  # a new tensor: the caller's mask is left alone
    keep[:, 0] |= ~keep.any(1)  # a row with no tokens at all still attends to something
    if real is None:
        real = real_token_index(attention_mask)
    real = real.to(input_ids.device, non_blocking=True)
    positions = torch.arange(length, device=input_ids.device).expand(batch, length).reshape(-1)[real]
    if token_type_ids is None:
        token_type_ids = torch.zeros_like(input_ids)
    emb = bert.embeddings
    x = emb.word_embeddings(input_ids.reshape(-1)[real]) + emb.token_type_embeddings(token_type_ids.reshape(-1)[real])
    x = emb.dropout(emb.LayerNorm(x + emb.position_embeddings(positions)))  # (tokens, hidden)
    hidden = x.shape[-1]
    key_mask = keep[:, None, None, :]  # (batch, 1, 1, length): True = attend

    def padded(t):  # (tokens, hidden) -> (batch, length, hidden), zeros at padding
        return t.new_zeros(batch * length, t.shape[-1]).index_copy(0, real, t).view(batch, length, -1)

    for layer in bert.encoder.layer:
        att = layer.attention.self
        heads, size = att.num_attention_heads, att.attention_head_size
        qkv = [padded(proj(x)).view(batch, length, heads, size).transpose(1, 2) for proj in (att.query, att.key, att.value)]
        ctx = torch.nn.functional.scaled_dot_product_attention(
            *qkv, attn_mask=key_mask, dropout_p=att.dropout.p if att.training else 0.0,
            scale=getattr(att, "scaling", size ** -0.5))  # transformers 4.x has no `scaling`: 1/sqrt(d)
        ctx = ctx.transpose(1, 2).reshape(batch * length, heads * size)[real]
        out = layer.attention.output
        x = out.LayerNorm(out.dropout(out.dense(ctx)) + x)
        inner = layer.intermediate.intermediate_act_fn(layer.intermediate.dense(x))
        x = layer.output.LayerNorm(layer.output.dropout(layer.output.dense(inner)) + x)
    return padded(x).view(batch, length, hidden)


def embed_padding_free(encoder, features) -> list[torch.Tensor]:
    """Encode every column of a batch in one padding-free pass; one tensor per column.

    Equivalent to ``[encoder(f) for f in features]`` (up to float rounding) for a
    BERT encoder with right padding; anything else falls back to
    :func:`embed_length_sorted`.
    """
    if not features or not supports_padding_free(encoder.transformer) or not all(_right_padded(f) for f in features):
        return embed_length_sorted(encoder, features)
    width = max(f["input_ids"].shape[1] for f in features)
    keys = [k for k in _MODEL_INPUTS if all(k in f for f in features)]
    stacked = {k: torch.cat([torch.nn.functional.pad(f[k], (0, width - f[k].shape[1])) for f in features])
               for k in keys}
    emb = encoder.forward_padding_free(stacked)
    return list(emb.split([f["input_ids"].shape[0] for f in features]))
