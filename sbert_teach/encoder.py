"""The siamese bi-encoder: transformer + pooling (+ optional Dense) (chapters 3 and 9).

"Siamese" means one set of weights encodes every sentence; a pair is compared
only through its two vectors. :meth:`SentenceEncoder.encode` is the fast path
for inference: it sorts sentences by token length so each batch pads very
little ("smart batching", the paper's Table 7) and returns vectors in the
order the sentences came in.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .pooling import pool
from .validation import check_choice, check_sentences, count_truncated, warn_truncated

DENSE_ACTIVATIONS = {"identity": nn.Identity, "tanh": nn.Tanh}
_MODEL_INPUTS = ("input_ids", "attention_mask", "token_type_ids")


class SentenceEncoder(nn.Module):
    """Map sentences to fixed-size vectors with a transformer, pooling and an optional Dense layer.

    Args:
        transformer: a Hugging Face encoder (e.g. ``BertModel``) returning ``last_hidden_state``.
        tokenizer: its (fast) tokenizer.
        pooling: ``"mean"`` (paper default), ``"cls"`` or ``"max"``.
        dense_dim: if set, add ``Linear(hidden, dense_dim)`` after pooling.
        dense_activation: ``"identity"`` or ``"tanh"`` after the Dense layer.
        normalize: L2-normalise the output (cosine becomes a dot product).
        max_length: longer inputs are truncated to this many tokens.

    Example:
        >>> from sbert_teach import get_model
        >>> model = get_model("reference")                           # doctest: +SKIP
        >>> model.encode(["A man eats.", "Someone is eating."]).shape  # doctest: +SKIP
        torch.Size([2, 384])
    """

    def __init__(self, transformer, tokenizer, pooling: str = "mean", dense_dim: int | None = None,
                 dense_activation: str = "identity", normalize: bool = False, max_length: int = 128):
        super().__init__()
        check_choice(pooling, ("cls", "mean", "max"), "pooling mode")
        check_choice(dense_activation, DENSE_ACTIVATIONS, "dense activation")
        self.transformer = transformer
        self.tokenizer = tokenizer
        self.pooling = pooling
        self.max_length = max_length
        self.normalize = normalize
        self.dense_activation = dense_activation
        hidden = transformer.config.hidden_size
        self.dense = nn.Sequential(nn.Linear(hidden, dense_dim), DENSE_ACTIVATIONS[dense_activation]()) if dense_dim else None

    @property
    def hidden_size(self) -> int:
        return self.transformer.config.hidden_size

    @property
    def embedding_dim(self) -> int:
        return self.dense[0].out_features if self.dense is not None else self.hidden_size

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def tokenize(self, sentences) -> dict[str, torch.Tensor]:
        """Tokenise a batch, padding to its longest sentence."""
        sentences = check_sentences(sentences)
        return self.tokenizer(sentences, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt")

    def forward(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        """``features`` as returned by :meth:`tokenize`; returns ``(batch, embedding_dim)``."""
        device = self.device
        inputs = {k: features[k].to(device, non_blocking=True) for k in _MODEL_INPUTS if k in features}
        tokens = self.transformer(**inputs).last_hidden_state
        return self.pool_tokens(tokens, inputs["attention_mask"])

    def forward_padding_free(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        """:meth:`forward` for a right-padded batch, dense layers on the real tokens only (BERT)."""
        from .speed import padding_free_bert, real_token_index

        real = real_token_index(features["attention_mask"].cpu())  # on the host: no device sync for the count
        inputs = {k: features[k].to(self.device, non_blocking=True) for k in _MODEL_INPUTS if k in features}
        tokens = padding_free_bert(self.transformer, inputs["input_ids"], inputs["attention_mask"],
                                   inputs.get("token_type_ids"), real)
        return self.pool_tokens(tokens, inputs["attention_mask"])

    def pool_tokens(self, tokens: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        """Token vectors ``(batch, tokens, hidden)`` to sentence vectors: pooling, Dense, normalisation."""
        emb = pool(self.pooling, tokens, attention_mask)
        if self.dense is not None:
            emb = self.dense(emb)
        if self.normalize:
            emb = F.normalize(emb, p=2, dim=-1)
        return emb

    def _padded_batch(self, encoded: dict, rows, dynamic_padding: bool = True) -> dict[str, torch.Tensor]:
        """Pad the pre-tokenised ``rows`` to their own longest length (or to ``max_length``)."""
        longest = max(len(encoded["input_ids"][i]) for i in rows)
        if not dynamic_padding:
            longest = max(longest, self.max_length)
        pad_id = self.tokenizer.pad_token_id or 0
        left = getattr(self.tokenizer, "padding_side", "right") == "left"
        out = {}
        for key in _MODEL_INPUTS:
            if key not in encoded:
                continue
            arr = np.full((len(rows), longest), pad_id if key == "input_ids" else 0, dtype=np.int64)
            for j, i in enumerate(rows):
                seq = encoded[key][i]
                if left:
                    arr[j, longest - len(seq):] = seq
                else:
                    arr[j, : len(seq)] = seq
            out[key] = torch.from_numpy(arr)
        return out

    def encode(self, sentences, batch_size: int = 64, normalize: bool = False,
               smart_batching: bool = True, show_progress: bool = False, convert_to_numpy: bool = False,
               inference_mode: bool = True, dynamic_padding: bool = True, mixed_precision: str = "off",
               keep_on_device: bool = False, padding_free: bool | str = "auto"):
        """Embed ``sentences`` and return ``(n, embedding_dim)`` in input order.

        The vectors come back as a CPU tensor (or NumPy array with
        ``convert_to_numpy``) wherever the model runs, so ``.numpy()``, pandas
        and seaborn work the same on a Colab GPU as on a laptop;
        ``keep_on_device=True`` leaves them on the GPU for further GPU work.

        With ``smart_batching`` the sentences are tokenised once, sorted by token
        length (longest first, so memory problems show up at once) and batched,
        so each batch pads only to its own longest sentence.

        The other switches exist to measure where the speed comes from
        (``benchmarks/``): ``inference_mode`` (no autograd bookkeeping at all;
        False uses ``torch.no_grad``), ``dynamic_padding`` (False pads every
        batch to ``max_length``), ``padding_free`` (BERT models: the dense
        layers see only the real tokens, :func:`sbert_teach.speed.padding_free_bert`;
        even a length-sorted batch of STSb sentences is about 15% padding; ``"auto"``
        uses it on a CPU, where it saves about 10%, and not on a GPU, where the
        extra gather and scatter kernels cost more than the padding they save at
        this model size) and ``mixed_precision`` (``"off"``, or
        ``"auto"``/``"bf16"``/``"fp16"`` autocast on CUDA; vectors come back
        in float32 either way).
        """
        grad_mode = torch.inference_mode() if inference_mode else torch.no_grad()
        with grad_mode:
            emb = self._encode(sentences, batch_size, normalize, smart_batching, show_progress, dynamic_padding,
                               mixed_precision, padding_free)
        if convert_to_numpy:
            return emb.cpu().numpy()
        return emb if keep_on_device else emb.cpu()

    def _encode(self, sentences, batch_size, normalize, smart_batching, show_progress, dynamic_padding,
                mixed_precision, padding_free):
        from .speed import supports_padding_free
        from .precision import autocast_dtype

        sentences = check_sentences(sentences)
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
        if padding_free not in (True, False, "auto"):
            raise ValueError(f"padding_free must be True, False or 'auto', got {padding_free!r}.")
        encoded = self.tokenizer(sentences, truncation=True, max_length=self.max_length)
        lengths = np.array([len(ids) for ids in encoded["input_ids"]])
        warn_truncated(count_truncated(self.tokenizer, sentences, lengths, self.max_length), len(sentences),
                       self.max_length, "sentences", stacklevel=4)  # point at the caller of encode()
        order = np.argsort(-lengths, kind="stable") if smart_batching else np.arange(len(sentences))
        device = self.device
        amp_dtype = autocast_dtype(mixed_precision, device)
        modes = [(module, module.training) for module in self.modules()]  # restored one by one: a mixed state stays
        self.eval()
        # left padding (some tokenizers) and fixed-length padding keep the plain forward pass
        right = getattr(self.tokenizer, "padding_side", "right") == "right"
        if padding_free == "auto":
            padding_free = device.type == "cpu"
        forward = (self.forward_padding_free if padding_free and dynamic_padding and right
                   and supports_padding_free(self.transformer) else self)
        chunks = []
        starts = range(0, len(sentences), batch_size)
        if show_progress:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc="encode", unit="batch")
        try:
            for start in starts:
                rows = order[start:start + batch_size]
                batch = self._padded_batch(encoded, rows, dynamic_padding)
                with torch.autocast(device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
                    chunks.append(forward(batch).float())
        finally:
            for module, training in modes:
                module.training = training
        sorted_emb = torch.cat(chunks)
        emb = torch.empty_like(sorted_emb)
        emb[torch.from_numpy(order).to(emb.device)] = sorted_emb  # back to input order
        if normalize:
            emb = F.normalize(emb, p=2, dim=-1)
        return emb
