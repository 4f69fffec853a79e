"""Save and load encoders in the sentence-transformers folder format (chapter 9).

A saved folder is what ``SentenceTransformer(path)`` expects::

    modules.json                      # the module pipeline
    config.json, model.safetensors    # the transformer (Hugging Face format)
    tokenizer files
    sentence_bert_config.json         # max_seq_length
    1_Pooling/config.json             # which pooling
    2_Dense/{config.json, model.safetensors}   # only with a Dense layer
    config_sentence_transformers.json

so a model trained here can be shared and used with sentence-transformers,
and loaded back with :func:`load_encoder`.
"""

from __future__ import annotations

import json
from pathlib import Path

from .encoder import SentenceEncoder
from .st_format import finish_folder, write_json
from .static import StaticEncoder, load_static, save_static

_ACTIVATION_CLASS = {"identity": "torch.nn.modules.linear.Identity", "tanh": "torch.nn.modules.activation.Tanh"}
_POOLING_FLAGS = {"cls": "pooling_mode_cls_token", "mean": "pooling_mode_mean_tokens", "max": "pooling_mode_max_tokens"}


def save_encoder(encoder: SentenceEncoder, path, model_card: str | None = None) -> Path:
    """Write ``encoder`` to ``path`` in the sentence-transformers format and return the path."""
    if isinstance(encoder, StaticEncoder):  # no transformer: a StaticEmbedding folder (sbert_teach.static)
        return save_static(encoder, path, model_card)
    if getattr(encoder.transformer, "peft_config", None):  # unmerged LoRA adapters (sbert_teach.lora)
        raise ValueError(
            "This encoder carries LoRA adapters, which a plain sentence-transformers folder cannot hold with every "
            "peft version. Call sbert_teach.lora.merge_lora(encoder) first to save a plain model, or "
            "sbert_teach.lora.save_lora(encoder, path) to save the adapter alone.")
    from safetensors.torch import save_file

    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    encoder.transformer.save_pretrained(path, safe_serialization=True)
    encoder.tokenizer.save_pretrained(path)
    write_json(path / "sentence_bert_config.json", {"max_seq_length": encoder.max_length, "do_lower_case": False})
    modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"}]
    pooling = {"word_embedding_dimension": encoder.hidden_size, "pooling_mode_mean_sqrt_len_tokens": False}
    pooling.update({flag: mode == encoder.pooling for mode, flag in _POOLING_FLAGS.items()})
    write_json(path / "1_Pooling" / "config.json", pooling)
    modules.append({"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"})
    if encoder.dense is not None:
        linear = encoder.dense[0]
        write_json(path / "2_Dense" / "config.json", {
            "in_features": linear.in_features, "out_features": linear.out_features, "bias": True,
            "activation_function": _ACTIVATION_CLASS[encoder.dense_activation],
        })
        save_file({"linear.weight": linear.weight.detach().cpu().contiguous(),
                   "linear.bias": linear.bias.detach().cpu().contiguous()}, str(path / "2_Dense" / "model.safetensors"))
        modules.append({"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"})
    return finish_folder(path, modules, encoder.normalize, model_card or (
        "# Sentence encoder trained with sbert_teach\n\n"
        f"Pooling: {encoder.pooling}; embedding size {encoder.embedding_dim}.\n\n"
        "```python\nfrom sentence_transformers import SentenceTransformer\n"
        "model = SentenceTransformer('path/to/this/folder')\n```\n"
    ))


class ModelNotFoundError(FileNotFoundError):
    """A model path or name that cannot be loaded."""


def _pooling_mode(config: dict) -> str:
    if "pooling_mode" in config:  # sentence-transformers >= 5 style
        return config["pooling_mode"]
    for mode, flag in _POOLING_FLAGS.items():
        if config.get(flag):
            return mode
    raise ValueError(f"Unsupported pooling config {config}: sbert_teach supports cls, mean and max.")


def hub_sentence_transformer_folder(name: str) -> Path | None:
    """The local snapshot of hub model ``name`` when it is a sentence-transformers model (it has a
    ``modules.json``), so its pooling, Dense, Normalize and max length are read, not assumed; None for a
    plain transformer, or when the hub cannot answer (then transformers reports the problem itself)."""
    try:
        from huggingface_hub import hf_hub_download, snapshot_download
        from huggingface_hub.utils import EntryNotFoundError, LocalEntryNotFoundError
    except ImportError:  # pragma: no cover - transformers always brings huggingface_hub
        return None
    try:
        hf_hub_download(name, "modules.json")
    except (EntryNotFoundError, LocalEntryNotFoundError, OSError, ValueError):
        return None
    # weights only as safetensors, and no ONNX / OpenVINO copies: the files a SentenceEncoder reads
    return Path(snapshot_download(name, allow_patterns=["*.json", "*.txt", "*.model", "*.safetensors"]))


def load_encoder(name_or_path, pooling: str | None = None, max_length: int | None = None) -> SentenceEncoder:
    """Load a sentence-transformers folder, a Hugging Face model folder, or a hub name.

    ``pooling``/``max_length`` override what the folder says (a plain transformer
    folder has no pooling; mean is used).
    """
    from transformers import AutoModel, AutoTokenizer

    path = Path(str(name_or_path)).expanduser()
    looks_local = path.exists() or str(name_or_path).startswith((".", "/", "~")) or path.suffix != "" or len(path.parts) > 2
    if looks_local and not (path / "config.json").exists() and not (path / "modules.json").exists():
        raise ModelNotFoundError(
            f"No model at {path}: expected a folder with modules.json (sentence-transformers) or config.json "
            "(transformers). Check the path, or use 'reference' / 'untuned' for the built-in models."
        )
    if not looks_local:
        snapshot = hub_sentence_transformer_folder(str(name_or_path))
        if snapshot is not None:  # a sentence-transformers model on the hub: read its modules.json like a folder
            return load_encoder(snapshot, pooling=pooling, max_length=max_length)
    source = str(path) if looks_local else str(name_or_path)
    dense_state = dense_cfg = None
    normalize = False
    found_pooling, found_length = "mean", None
    if looks_local and (path / "modules.json").exists():
        if any(m["type"].endswith(".StaticEmbedding") for m in json.loads((path / "modules.json").read_text())):
            static = load_static(path)
            static.max_length = max_length or static.max_length
            return static
        for module in json.loads((path / "modules.json").read_text()):
            kind = module["type"].rsplit(".", 1)[-1]
            folder = path / module["path"]
            if kind == "Transformer":
                source = str(folder)
                cfg_file = folder / "sentence_bert_config.json"
                if cfg_file.exists():
                    found_length = json.loads(cfg_file.read_text()).get("max_seq_length")
            elif kind == "Pooling":
                found_pooling = _pooling_mode(json.loads((folder / "config.json").read_text()))
            elif kind == "Dense":
                from safetensors.torch import load_file

                dense_cfg = json.loads((folder / "config.json").read_text())
                dense_state = load_file(str(folder / "model.safetensors"))
            elif kind == "Normalize":
                normalize = True
            else:
                raise ValueError(f"{path} uses module {module['type']}, which sbert_teach cannot load.")
    try:
        transformer = AutoModel.from_pretrained(source)
        tokenizer = AutoTokenizer.from_pretrained(source)
    except OSError as err:
        raise ModelNotFoundError(
            f"Could not load {name_or_path!r}: {err.__class__.__name__}. Offline, hub names cannot be "
            "downloaded: use the packaged profile (SBERT_TEACH_RESOURCES=packaged) or a local folder."
        ) from None
    activation = "identity"
    if dense_cfg is not None:
        activation = {v: k for k, v in _ACTIVATION_CLASS.items()}.get(dense_cfg.get("activation_function"))
        if activation is None:
            raise ValueError(f"Unsupported Dense activation {dense_cfg.get('activation_function')!r} in {path}.")
    encoder = SentenceEncoder(
        transformer, tokenizer, pooling=pooling or found_pooling,
        dense_dim=dense_cfg["out_features"] if dense_cfg else None, dense_activation=activation,
        normalize=normalize, max_length=max_length or found_length or 128,
    )
    if dense_state is not None:
        encoder.dense[0].load_state_dict({k.split(".", 1)[-1]: v for k, v in dense_state.items()})
    return encoder.eval()  # as loaded for use: dropout off everywhere (training turns it on)
