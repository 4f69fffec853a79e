"""The three kinds of model the book compares: untuned start, reference SBERT, your own."""

from __future__ import annotations

import torch

from . import resources
from .encoder import SentenceEncoder
from .persistence import load_encoder


def build_untuned_encoder(reference_path, seed: int = 0, pooling: str = "mean", num_layers: int | None = None) -> SentenceEncoder:
    """The packaged "before training" encoder, built honestly from what ships.

    It has the reference's architecture and tokenizer. Only the word-piece
    embedding table is copied from the reference; every other weight
    (position embeddings, layer norms, attention, feed-forward) is freshly
    initialised with ``seed``. ``num_layers`` can make it smaller for tiny tests.
    """
    from safetensors.torch import load_file
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    config = AutoConfig.from_pretrained(str(reference_path))
    if num_layers is not None:
        config.num_hidden_layers = num_layers
    torch.manual_seed(seed)
    transformer = AutoModel.from_config(config)
    state = load_file(f"{reference_path}/model.safetensors")
    key = next(k for k in state if k.endswith("embeddings.word_embeddings.weight"))
    with torch.no_grad():
        transformer.embeddings.word_embeddings.weight.copy_(state[key])
    tokenizer = AutoTokenizer.from_pretrained(str(reference_path))
    # eval mode, like a model from from_pretrained: dropout only once training starts
    return SentenceEncoder(transformer, tokenizer, pooling=pooling, max_length=128).eval()


def get_model(which: str = "reference", resources_profile=None, seed: int = 0, pooling: str | None = None) -> SentenceEncoder:
    """``"reference"`` (a finished SBERT), ``"untuned"`` (the start of training) or a folder path.

    >>> get_model("untuned").pooling   # doctest: +SKIP
    'mean'
    """
    profile = resources.get_profile(resources_profile)
    if which == "reference":
        name = resources.packaged_model_path() if profile.reference.startswith("packaged:") else profile.reference
        return load_encoder(name, pooling=pooling)
    if which == "untuned":
        if profile.untuned.startswith("packaged:"):
            return build_untuned_encoder(resources.packaged_model_path(), seed=seed, pooling=pooling or profile.pooling)
        return load_encoder(profile.untuned, pooling=pooling or profile.pooling, max_length=profile.max_length)
    return load_encoder(which, pooling=pooling)
