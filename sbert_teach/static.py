"""Static embeddings: a word-piece table and a mean, no transformer layers (Part III, "small and fast models").

A :class:`StaticEncoder` looks every word piece of a sentence up in one table
and averages the rows. Nothing looks at context, so "bank" means the same in
"river bank" and "bank loan", but encoding costs a table look-up per token
instead of six transformer layers: about a hundred times faster than MiniLM-L6
on one CPU thread (``benchmarks/static_vs_transformer.py`` measures both).
It is sentence-transformers' ``models.StaticEmbedding`` (an ``EmbeddingBag``
in ``"mean"`` mode over the tokens, without ``[CLS]`` and ``[SEP]``), made to
plug in wherever a :class:`~sbert_teach.encoder.SentenceEncoder` does: the
objectives call ``encoder(features)``, :func:`~sbert_teach.training.train`
tokenises through ``encoder.tokenizer``, evaluation calls ``encode``.

Start from a trained model's table with :meth:`StaticEncoder.from_model`, then
train it like any encoder (MNR works well). :func:`save_static` writes a
folder that ``SentenceTransformer(path)`` loads as a ``StaticEmbedding``;
:func:`load_static` reads it back.

Example:
    >>> from sbert_teach import get_model
    >>> static = StaticEncoder.from_model(get_model("reference"))      # doctest: +SKIP
    >>> static.encode(["A man eats.", "Someone is eating."]).shape     # doctest: +SKIP
    torch.Size([2, 384])
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .st_format import finish_folder
from .validation import check_sentences, warn_truncated

#: What ``modules.json`` calls the module; sentence-transformers 3.x to 6.x all resolve this name.
ST_MODULE_TYPE = "sentence_transformers.models.StaticEmbedding"


def _backend_tokenizer(tokenizer):
    """The ``tokenizers.Tokenizer`` inside ``tokenizer`` (itself, or a Hugging Face fast tokenizer's)."""
    from tokenizers import Tokenizer

    backend = getattr(tokenizer, "backend_tokenizer", tokenizer)
    if not isinstance(backend, Tokenizer):
        raise TypeError(
            f"A static encoder needs a fast (Rust) tokenizer, got {type(tokenizer).__name__}. Pass a "
            "tokenizers.Tokenizer or a transformers fast tokenizer (AutoTokenizer.from_pretrained(..., use_fast=True))."
        )
    return backend


class WordPieceTokenizer:
    """A ``tokenizers.Tokenizer`` called like a Hugging Face tokenizer, adding no special tokens.

    A static model has no use for ``[CLS]`` and ``[SEP]``: they would add the
    same two rows to every sentence's mean. This is the call
    :class:`~sbert_teach.data.TextColumnsCollator` makes
    (``padding``, ``truncation``, ``max_length``, ``return_tensors="pt"``),
    on the very tokenizer sentence-transformers' ``StaticEmbedding`` uses, so
    both see the same word pieces. It pads on the right with ``pad_token_id``.
    """

    padding_side = "right"

    def __init__(self, tokenizer, pad_token_id: int = 0):
        from tokenizers import Tokenizer

        # a private copy: a Hugging Face tokenizer changes its backend's padding/truncation state on every call
        self.backend = Tokenizer.from_str(_backend_tokenizer(tokenizer).to_str())
        self.backend.no_padding()
        self.backend.no_truncation()
        self.pad_token_id = int(pad_token_id)

    def __len__(self) -> int:
        return self.backend.get_vocab_size(with_added_tokens=True)

    def token_ids(self, texts) -> list[list[int]]:
        """Word-piece ids of each text, untruncated, without special tokens."""
        return [e.ids for e in self.backend.encode_batch(list(texts), add_special_tokens=False)]

    def __call__(self, texts, padding=False, truncation=False, max_length: int | None = None,
                 return_tensors: str | None = None, verbose: bool = True) -> dict:
        if isinstance(texts, str):
            raise TypeError(f"Pass a list of texts, not a single string: [{texts!r}].")
        ids = self.token_ids(texts)
        if truncation and max_length is not None:
            ids = [seq[:max_length] for seq in ids]
        if padding in (True, "longest", "max_length"):
            width = max((len(seq) for seq in ids), default=0)
            if padding == "max_length" and max_length is not None:
                width = max(width, max_length)
            input_ids = np.full((len(ids), width), self.pad_token_id, dtype=np.int64)
            mask = np.zeros((len(ids), width), dtype=np.int64)
            for row, seq in enumerate(ids):
                input_ids[row, :len(seq)], mask[row, :len(seq)] = seq, 1
            if return_tensors == "pt":
                return {"input_ids": torch.from_numpy(input_ids), "attention_mask": torch.from_numpy(mask)}
            return {"input_ids": input_ids.tolist(), "attention_mask": mask.tolist()}
        if return_tensors == "pt":
            raise ValueError("return_tensors='pt' needs padding=True: the texts have different lengths.")
        return {"input_ids": ids, "attention_mask": [[1] * len(seq) for seq in ids]}


class StaticEncoder(nn.Module):
    """Sentence vector = mean of the word-piece table rows of its tokens (no transformer layers).

    Args:
        tokenizer: a ``tokenizers.Tokenizer`` or a Hugging Face fast tokenizer.
        embedding_weights: the table, ``(rows, dim)``; every token id must have a row.
        embedding_dim: instead of ``embedding_weights``: a random table of this width.
        normalize: L2-normalise the output.
        max_length: longer sentences keep their first ``max_length`` word pieces. A static
            model has no position limit; this only bounds the work on very long texts.
        pad_token_id: the id that pads batches (masked out, so any id in the table will do).
    """

    #: No transformer: the training loop's speed paths look here, find none and use the plain forward
    transformer = None
    pooling = "mean"

    def __init__(self, tokenizer, embedding_weights=None, embedding_dim: int | None = None, normalize: bool = False,
                 max_length: int = 512, pad_token_id: int = 0):
        super().__init__()
        self.tokenizer = WordPieceTokenizer(tokenizer, pad_token_id)
        vocab = len(self.tokenizer)
        if embedding_weights is not None:
            weights = torch.as_tensor(embedding_weights, dtype=torch.float32)
            if weights.ndim != 2:
                raise ValueError(f"embedding_weights must be a (rows, dim) table, got shape {tuple(weights.shape)}.")
            if weights.shape[0] < vocab:
                raise ValueError(f"The table has {weights.shape[0]} rows but the tokenizer has {vocab} tokens: every "
                                 "token id needs a row. Pass the table that belongs to this tokenizer.")
            self.embedding = nn.EmbeddingBag.from_pretrained(weights.clone(), freeze=False, mode="mean")
        elif embedding_dim is not None:
            self.embedding = nn.EmbeddingBag(vocab, embedding_dim, mode="mean")
        else:
            raise ValueError("Pass embedding_weights (a table) or embedding_dim (for a random table).")
        if max_length < 1:
            raise ValueError(f"max_length must be at least 1, got {max_length}.")
        if not 0 <= pad_token_id < self.embedding.num_embeddings:
            raise ValueError(f"pad_token_id {pad_token_id} has no row in the table of {self.embedding.num_embeddings}.")
        self.normalize = normalize
        self.max_length = max_length

    @classmethod
    def from_model(cls, model, normalize: bool = False, max_length: int = 512) -> "StaticEncoder":
        """A static encoder with a copy of ``model``'s input word-piece table and its tokenizer.

        ``model`` is a :class:`~sbert_teach.encoder.SentenceEncoder` (or anything with a
        Hugging Face ``transformer`` and fast ``tokenizer``). Only the token table is
        copied: position and token-type embeddings and every layer are left behind.
        """
        transformer = getattr(model, "transformer", None)
        if transformer is None or not hasattr(transformer, "get_input_embeddings"):
            raise TypeError(f"from_model needs a SentenceEncoder (a transformer and its tokenizer), got "
                            f"{type(model).__name__}.")
        table = transformer.get_input_embeddings().weight.detach().float().cpu()
        return cls(model.tokenizer, table, normalize=normalize, max_length=max_length,
                   pad_token_id=model.tokenizer.pad_token_id or 0)

    @property
    def embedding_dim(self) -> int:
        return self.embedding.embedding_dim

    @property
    def hidden_size(self) -> int:
        return self.embedding_dim

    @property
    def device(self) -> torch.device:
        return self.embedding.weight.device

    def tokenize(self, sentences) -> dict[str, torch.Tensor]:
        """Tokenise a batch (no special tokens), padding to its longest sentence."""
        sentences = check_sentences(sentences)
        return self.tokenizer(sentences, padding=True, truncation=True, max_length=self.max_length, return_tensors="pt")

    def forward(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        """``(batch, embedding_dim)`` from :meth:`tokenize`'s output (``input_ids`` and ``attention_mask``,
        any padding side), or from sentence-transformers' flat ``input_ids`` with ``offsets``."""
        ids = features["input_ids"]
        if "offsets" in features:
            flat, offsets = ids, features["offsets"]
            if flat.ndim != 1 or offsets.ndim != 1:
                raise ValueError("With offsets, input_ids must be one flat list of ids (sentence-transformers' layout).")
        else:
            mask = features.get("attention_mask")
            if mask is None:
                mask = torch.ones_like(ids)
            if ids.ndim != 2 or mask.shape != ids.shape:
                raise ValueError(f"input_ids {tuple(ids.shape)} and attention_mask {tuple(mask.shape)} must both be "
                                 "(batch, tokens): pass the output of encoder.tokenize(sentences).")
            real = mask.bool()
            flat = ids[real]  # row by row, so each sentence's tokens stay together
            lengths = real.sum(1)
            offsets = torch.cumsum(lengths, 0) - lengths
        if flat.numel() and (int(flat.min()) < 0 or int(flat.max()) >= self.embedding.num_embeddings):
            raise ValueError(f"Token ids from {int(flat.min())} to {int(flat.max())} do not all fit the table of "
                             f"{self.embedding.num_embeddings} rows: tokenise with this encoder's tokenize().")
        emb = self.embedding(flat.to(self.device), offsets.to(self.device))  # a sentence with no tokens gives zeros
        return F.normalize(emb, p=2, dim=-1) if self.normalize else emb

    def encode(self, sentences, batch_size: int = 64, normalize: bool = False, show_progress: bool = False,
               convert_to_numpy: bool = False, inference_mode: bool = True, keep_on_device: bool = False,
               smart_batching: bool = True, dynamic_padding: bool = True, padding_free: bool | str = "auto",
               mixed_precision: str = "off"):
        """Embed ``sentences``; ``(n, embedding_dim)`` in input order, on the CPU unless ``keep_on_device``.

        The same call as :meth:`SentenceEncoder.encode <sbert_teach.encoder.SentenceEncoder.encode>`.
        ``smart_batching``, ``dynamic_padding``, ``padding_free`` and ``mixed_precision`` are accepted
        so that code written for a transformer runs unchanged, and change nothing: the tokens go in as
        one flat list with offsets (an ``EmbeddingBag``), so there is no padding to save, and a look-up
        has no matrix products to run in lower precision.
        """
        sentences = check_sentences(sentences)
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
        ids = self.tokenizer.token_ids(sentences)
        warn_truncated(sum(len(seq) > self.max_length for seq in ids), len(sentences), self.max_length, "sentences")
        lengths = np.array([min(len(seq), self.max_length) for seq in ids])
        flat = torch.tensor([t for seq in ids for t in seq[:self.max_length]], dtype=torch.long)
        starts = torch.from_numpy(np.concatenate([[0], np.cumsum(lengths)]))
        batches = range(0, len(sentences), batch_size)
        if show_progress:
            from tqdm.auto import tqdm

            batches = tqdm(batches, desc="encode", unit="batch")
        was_training = self.training
        self.eval()
        try:
            with torch.inference_mode() if inference_mode else torch.no_grad():
                chunks = []
                for start in batches:
                    rows = starts[start:min(start + batch_size, len(sentences)) + 1]
                    chunks.append(self({"input_ids": flat[rows[0]:rows[-1]], "offsets": rows[:-1] - rows[0]}))
                emb = torch.cat(chunks).float()
        finally:
            self.train(was_training)
        if normalize:
            emb = F.normalize(emb, p=2, dim=-1)
        if convert_to_numpy:
            return emb.cpu().numpy()
        return emb if keep_on_device else emb.cpu()


# ----------------------------------------------------------------------------
# sentence-transformers folder format

def save_static(encoder: StaticEncoder, path, model_card: str | None = None) -> Path:
    """Write ``encoder`` so that ``SentenceTransformer(path)`` loads it as a ``StaticEmbedding``.

    The folder holds ``model.safetensors`` (``embedding.weight``), ``tokenizer.json`` with
    truncation at ``max_length`` (so sentence-transformers cuts long texts where we do) and the
    pad token (which sentence-transformers turns off: it never pads), ``modules.json`` (the
    static module in the folder's root, then ``Normalize`` if set) and
    ``config_sentence_transformers.json``.
    """
    from safetensors.torch import save_file

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    save_file({"embedding.weight": encoder.embedding.weight.detach().cpu().contiguous()}, str(path / "model.safetensors"))
    tokenizer = encoder.tokenizer
    saved = type(tokenizer.backend).from_str(tokenizer.backend.to_str())
    saved.enable_truncation(encoder.max_length)
    pad_token = saved.id_to_token(tokenizer.pad_token_id)
    saved.enable_padding(pad_id=tokenizer.pad_token_id, pad_token=pad_token or "[PAD]")
    saved.save(str(path / "tokenizer.json"))
    modules = [{"idx": 0, "name": "0", "path": "", "type": ST_MODULE_TYPE}]
    return finish_folder(path, modules, encoder.normalize, model_card or (
        "# Static sentence encoder (sbert_teach)\n\n"
        f"A word-piece table of {encoder.embedding.num_embeddings} rows x {encoder.embedding_dim} and a mean, "
        "no transformer layers.\n\n```python\nfrom sentence_transformers import SentenceTransformer\n"
        "model = SentenceTransformer('path/to/this/folder')\n```\n"
    ))


def load_static(path) -> StaticEncoder:
    """Read a folder written by :func:`save_static` (or any sentence-transformers ``StaticEmbedding``
    folder saved with ``embedding.weight``) back into a :class:`StaticEncoder`."""
    from safetensors.torch import load_file
    from tokenizers import Tokenizer

    path = Path(path)
    modules_file = path / "modules.json"
    if not modules_file.exists():
        raise FileNotFoundError(f"No modules.json in {path}: not a sentence-transformers folder.")
    modules = json.loads(modules_file.read_text())
    kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
    if not kinds or kinds[0] != "StaticEmbedding" or any(k != "Normalize" for k in kinds[1:]):
        raise ValueError(f"{path} holds modules {kinds}; a static encoder is StaticEmbedding, optionally then Normalize.")
    folder = path / modules[0]["path"]
    weights = load_file(str(folder / "model.safetensors"))
    if "embedding.weight" not in weights:
        raise ValueError(f"{folder / 'model.safetensors'} has no 'embedding.weight' (it has {sorted(weights)}).")
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    truncation, padding = tokenizer.truncation, tokenizer.padding
    return StaticEncoder(tokenizer, weights["embedding.weight"], normalize="Normalize" in kinds,
                         max_length=truncation["max_length"] if truncation else 512,
                         pad_token_id=padding["pad_id"] if padding else 0)
