"""Multiple-negatives ranking with a gradient cache: big batches in small memory (GradCache).

In-batch negatives train better with bigger batches (:mod:`.mnr`), but a batch of B pairs keeps
the activations of 2B sentences alive until the backward pass. The loss couples every row with
every other, so the batch cannot simply be split into independent parts. GradCache splits the
*encoder* instead, in two passes:

1. embed every column in mini-batches of ``mini_batch_size`` rows **without** gradients (nothing
   is kept but the vectors), saving the random-number state before each mini-batch;
2. compute the MNR loss on the whole batch of vectors, exactly as :mod:`.mnr` does;
3. in the backward pass, the loss hands back d loss / d vector for every row. Each mini-batch
   is embedded again, **with** gradients, under its saved random state (so dropout draws the
   same masks and the vectors are the very ones of pass 1), and back-propagated with its slice
   of those gradients. Only one mini-batch's activations are alive at a time.

The parameter gradients are those of the uncached loss on the same mini-batches; the price is a
second forward pass (roughly 20-50% more time). Pass 3 lives in the backward pass of the vectors
(an autograd ``Function``), so ``loss = objective(features, labels); loss.backward()`` does
everything: the package's :func:`~sbert_teach.training.training_step`, an fp16 gradient scaler
(its scale reaches the cached gradients through the chain rule) and any loss written on the
vectors, such as :class:`~sbert_teach.objectives.matryoshka.MatryoshkaObjective`, work unchanged.
Pass 3 re-enters the autocast setting of pass 1, because a training step runs its backward pass
outside autocast. The whole batch's score matrix (B x 2B numbers) is still built at once.
Pass 3 adds to the parameters' ``.grad``, so take gradients with ``loss.backward()``, not
``torch.autograd.grad``.

Each mini-batch is padded only as far as its own longest sentence, as sentence-transformers does.
It runs in one process: under torchrun, DDP would see every parameter's gradient once per
mini-batch, which it does not allow.

Reference: Gao, Zhang, Han & Callan (2021), *Scaling Deep Contrastive Learning Batch Size under
Memory Limited Setup*, arXiv:2101.06983; the loss is Henderson et al. (2017), arXiv:1705.00652.

Inputs: ``(anchor, positive)`` or ``(anchor, positive, negative)``, no label (as :mod:`.mnr`).

Example:
    >>> import torch
    >>> features = {"input_ids": torch.ones(5, 3, dtype=torch.long), "attention_mask": torch.tensor([[1, 1, 0]] * 5)}
    >>> [tuple(part["input_ids"].shape) for part in mini_batches(features, mini_batch_size=2)]
    [(2, 2), (2, 2), (1, 2)]
"""

from __future__ import annotations

from contextlib import contextmanager

import torch

from ..distributed import is_distributed
from .mnr import MultipleNegativesRankingObjective


def mini_batches(features, mini_batch_size: int):
    """Split one column's tokenizer output into consecutive mini-batches of rows.

    Each keeps only the columns up to its own longest sentence: trailing padding that every row
    of the mini-batch shares is dropped (leading padding is kept, so positions do not move).
    """
    mask = features["attention_mask"]
    parts = []
    for begin in range(0, mask.shape[0], mini_batch_size):
        rows = slice(begin, begin + mini_batch_size)
        used = mask[rows].bool().any(dim=0).nonzero()
        width = int(used.max()) + 1 if used.numel() else mask.shape[1]
        parts.append({key: value[rows, :width] if value.dim() >= 2 and value.shape[1] == mask.shape[1] else value[rows]
                      for key, value in features.items()})
    return parts


class RandomState:
    """The CPU (and the encoder's CUDA device's) random-number state at one moment, to replay later."""

    def __init__(self, device: torch.device):
        self.cpu = torch.get_rng_state()
        self.cuda_device = device if device.type == "cuda" else None
        self.cuda = torch.cuda.get_rng_state(device) if self.cuda_device is not None else None

    @contextmanager
    def replayed(self):
        """Run the block from this state; the global state afterwards is as if the block never ran."""
        cuda = self.cuda_device is not None
        with torch.random.fork_rng(devices=[self.cuda_device] if cuda else [], device_type="cuda" if cuda else "cpu"):
            torch.set_rng_state(self.cpu)
            if self.cuda is not None:
                torch.cuda.set_rng_state(self.cuda, self.cuda_device)
            yield


class _ReembedInBackward(torch.autograd.Function):
    """Passes a column's vectors through unchanged; its backward pass runs ``reembed(grad)``."""

    @staticmethod
    def forward(ctx, vectors, reembed):
        ctx.reembed = reembed
        return vectors.clone()

    @staticmethod
    def backward(ctx, grad):
        ctx.reembed(grad)
        return None, None


class CachedMultipleNegativesRankingObjective(MultipleNegativesRankingObjective):
    """:class:`~sbert_teach.objectives.mnr.MultipleNegativesRankingObjective` whose encoder never
    sees more than ``mini_batch_size`` rows at once with gradients (GradCache).

    Same loss, same gradients; the batch size is limited by the (B x 2B) score matrix, not by the
    encoder's activations. Use a large training batch and the biggest ``mini_batch_size`` that fits.
    """

    def __init__(self, encoder, scale: float = 20.0, mini_batch_size: int = 32, use_hard_negatives: bool = True):
        super().__init__(encoder, scale=scale, use_hard_negatives=use_hard_negatives)
        if isinstance(mini_batch_size, bool) or not isinstance(mini_batch_size, int) or mini_batch_size < 1:
            raise ValueError(f"mini_batch_size must be a positive whole number of rows, got {mini_batch_size!r}.")
        self.mini_batch_size = mini_batch_size

    def embed(self, features) -> list[torch.Tensor]:
        return [self.embed_column(f) for f in features]

    def embed_column(self, features) -> torch.Tensor:
        """Pass 1 for one column; the vectors it returns run pass 3 when gradients flow back into them."""
        encoder = self.encoder
        needs_backward = torch.is_grad_enabled() and any(p.requires_grad for p in encoder.parameters())
        if needs_backward and is_distributed():
            raise RuntimeError("The cached MNR objective runs in one process only: under torchrun, DDP would see "
                               "each parameter's gradient once per mini-batch. Use MultipleNegativesRankingObjective "
                               "(objective 'mnr') with a smaller per-process batch instead.")
        rows = features["attention_mask"].shape[0]
        if needs_backward and self.mini_batch_size > rows:
            # the training loop's batches are all full, so this is the batch size: no gradient cache at all
            raise ValueError(f"mini_batch_size={self.mini_batch_size} is larger than the batch of {rows} rows, so "
                             "the cache saves no memory and costs a second pass. Set mini_batch_size to at most "
                             f"{rows} (the batch size), or raise the batch size.")
        parts = mini_batches(features, self.mini_batch_size)
        states, vectors = [], []
        with torch.no_grad():
            for part in parts:
                states.append(RandomState(encoder.device) if needs_backward else None)
                vectors.append(encoder(part))
        vectors = torch.cat(vectors)
        if not needs_backward:  # evaluation, or a frozen encoder: nothing to replay
            return vectors
        device_type = encoder.device.type
        autocast = dict(device_type=device_type, enabled=torch.is_autocast_enabled(device_type),
                        dtype=torch.get_autocast_dtype(device_type))

        def reembed(grad):
            with torch.enable_grad():
                begin = 0
                for part, state in zip(parts, states):
                    with state.replayed(), torch.autocast(**autocast):
                        again = encoder(part)
                    end = begin + again.shape[0]
                    torch.autograd.backward(again, grad[begin:end].to(again.dtype))
                    begin = end

        return _ReembedInBackward.apply(vectors.requires_grad_(), reembed)
