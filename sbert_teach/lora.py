"""LoRA: fine-tune an existing model by training small low-rank adapters (Part III, "fine-tune on your data").

Low-rank adaptation (Hu et al. 2021, *LoRA: Low-Rank Adaptation of Large Language
Models*, arXiv:2106.09685) keeps every weight ``W`` (``d_out x d_in``) of the model
frozen and learns a low-rank change beside it::

    h = W x + (alpha / r) * B A x        A: r x d_in,  B: d_out x r,  B = 0 at the start

so an adapted linear layer trains ``r * (d_in + d_out)`` numbers instead of
``d_in * d_out``, and the model starts out computing exactly what it did before.
The adapters are ``peft``'s, put into the transformer in place (as sentence-transformers'
``add_adapter`` does), so the encoder keeps its class and its fast padding-free pass, and
:func:`sbert_teach.train` trains them unchanged: the frozen weights have
``requires_grad=False``, get no gradient, and are left out of the optimizer
(:func:`sbert_teach.optimization.make_optimizer` skips them).

Two ways to keep the result:

* :func:`merge_lora` folds ``(alpha / r) * B A`` into ``W`` and removes the adapters: an
  ordinary encoder again, saved with :func:`sbert_teach.save_encoder` and loaded by
  ``SentenceTransformer(path)``;
* :func:`save_lora` writes the adapter alone, ``adapter_config.json`` and
  ``adapter_model.safetensors`` (a few hundred kB), the layout that peft's
  ``PeftModel.from_pretrained`` and ``SentenceTransformer(base).load_adapter(path)`` read;
  :func:`load_lora` puts it back on an encoder. The base model is named in the config, so
  :func:`save_lora` first checks that the weights stored there are the ones the adapter
  was trained on.

Save an encoder that still carries adapters with :func:`save_lora`, or merge it first:
:func:`sbert_teach.save_encoder` hands the transformer to Hugging Face's ``save_pretrained``,
which for a model with adapters writes the adapter in peft's format (where the installed
transformers and peft versions agree) and nothing else.

Example:
    >>> from sbert_teach import get_model, lora
    >>> encoder = lora.add_lora(get_model("reference"), r=8)    # doctest: +SKIP
    >>> print(lora.count_parameters(encoder))                    # doctest: +SKIP
    73,728 of 22,786,944 parameters train (0.32%)
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

__all__ = ["ParameterCount", "count_parameters", "add_lora", "adapted_modules", "has_lora", "merge_lora",
           "save_lora", "load_lora"]

ADAPTER_CONFIG = "adapter_config.json"
ADAPTER_WEIGHTS = "adapter_model.safetensors"
_PEFT_PREFIX = "base_model.model."  # peft's saved keys name the model inside a PeftModel
_ADAPTER = "default"  # peft's (and sentence-transformers') name for a single adapter


@dataclass(frozen=True)
class ParameterCount:
    """How many parameters a module has, and how many of them train."""

    trainable: int
    total: int

    @property
    def fraction(self) -> float:
        return self.trainable / self.total if self.total else 0.0

    def __str__(self) -> str:
        return f"{self.trainable:,} of {self.total:,} parameters train ({100 * self.fraction:.2f}%)"


def count_parameters(module: nn.Module) -> ParameterCount:
    """Trainable (``requires_grad``) and total parameters of ``module``, adapters included, each counted once."""
    params = list(module.parameters())  # parameters() yields a shared (tied) tensor once
    return ParameterCount(sum(p.numel() for p in params if p.requires_grad), sum(p.numel() for p in params))


def _require_peft():
    try:
        import peft
    except ImportError:
        raise ImportError("LoRA needs the `peft` package, a dependency of sbert-teach: "
                          "pip install 'peft>=0.18'.") from None
    return peft


def has_lora(encoder) -> bool:
    """True while ``encoder``'s transformer carries (unmerged) peft adapters."""
    return bool(getattr(encoder.transformer, "peft_config", None))


def adapted_modules(encoder) -> list[str]:
    """Names (inside the transformer) of the layers that carry a LoRA adapter."""
    from peft.tuners.lora import LoraLayer

    return [name for name, module in encoder.transformer.named_modules() if isinstance(module, LoraLayer)]


def _linear_names(transformer) -> list[str]:
    return [name for name, module in transformer.named_modules() if isinstance(module, nn.Linear)]


def _short_linear_names(transformer) -> list[str]:
    return sorted({n.rsplit(".", 1)[-1] for n in _linear_names(transformer)})


def _check_targets(transformer, target_modules) -> None:
    """Every requested name must match a linear layer the way peft matches: the full name or its last parts."""
    if target_modules is None or target_modules == "all-linear":
        return
    if isinstance(target_modules, str):
        raise TypeError(f"target_modules must be a list of layer names such as ['query', 'value'] (or 'all-linear'), "
                        f"not the string {target_modules!r}: wrap it in a list.")
    linear = _linear_names(transformer)
    unknown = [t for t in target_modules if not any(n == t or n.endswith("." + t) for n in linear)]
    if unknown:
        raise ValueError(f"No linear layer of this {type(transformer).__name__} is called {unknown}. LoRA adapts "
                         f"linear layers; this model's are named {_short_linear_names(transformer)} (or give a longer "
                         f"name such as {linear[0]!r}). Leave target_modules=None for peft's default for the "
                         "architecture.")


def _inject(transformer, config) -> None:
    """peft's adapters into ``transformer`` in place (base weights frozen), marked the way transformers marks them."""
    from peft import inject_adapter_in_model

    inject_adapter_in_model(config, transformer, _ADAPTER)
    # What transformers' own add_adapter sets (its version check is skipped: it may ask for an unreleased peft):
    # save_pretrained then writes the adapter in peft's format rather than wrapped weights under the wrong names.
    transformer._hf_peft_config_loaded = True


def add_lora(encoder, r: int = 8, alpha: float = 16, dropout: float = 0.0, target_modules=None,
             seed: int | None = 0):
    """Freeze ``encoder``'s transformer and give it LoRA adapters of rank ``r``; returns the same encoder.

    Args:
        encoder: a :class:`~sbert_teach.encoder.SentenceEncoder`; changed in place.
        r: the rank of each adapter (``B A`` has rank at most ``r``).
        alpha: the adapter's output is scaled by ``alpha / r`` (so changing ``r`` keeps the scale of the update).
        dropout: dropout on the adapter's input, during training only.
        target_modules: names of the linear layers to adapt, e.g. ``["query", "key", "value", "dense"]``
            or ``"all-linear"``; ``None`` uses peft's default for the architecture (BERT: query and value).
        seed: seeds the random ``A`` matrices (without moving the global random state); ``None``: unseeded.

    Only the transformer is adapted, as with sentence-transformers' ``add_adapter``: a Dense layer
    after pooling (``dense_dim``) stays trainable. Adapters in BERT's pooler (e.g. with ``"dense"``
    or ``"all-linear"``) never get a gradient, because the encoder pools the token vectors instead.
    """
    peft = _require_peft()
    transformer = encoder.transformer
    if has_lora(encoder):
        raise ValueError("This encoder already has LoRA adapters. Train them, or fold them in with merge_lora(encoder) "
                         "before adding new ones.")
    if not (isinstance(r, int) and r >= 1):
        raise ValueError(f"r (the adapter rank) must be a positive integer, got {r!r}. Typical values: 4 to 64.")
    if not alpha > 0:
        raise ValueError(f"alpha must be positive, got {alpha!r}; the update is scaled by alpha / r "
                         "(often alpha = 2r).")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout!r}.")
    _check_targets(transformer, target_modules)
    targets = list(target_modules) if isinstance(target_modules, (list, tuple)) else target_modules
    config = peft.LoraConfig(r=r, lora_alpha=alpha, lora_dropout=dropout, bias="none", target_modules=targets,
                             task_type="FEATURE_EXTRACTION")
    # where the weights came from, as transformers' add_adapter records it (save_lora checks it before use)
    config.base_model_name_or_path = getattr(transformer, "name_or_path", None) or None
    with torch.random.fork_rng(devices=[]):  # the adapters' random start, without moving the caller's RNG
        if seed is not None:
            torch.manual_seed(seed)
        try:
            _inject(transformer, config)
        except ValueError as err:
            if "target_modules" in str(err) and target_modules is None:
                raise ValueError(f"peft has no default target modules for model type "
                                 f"{transformer.config.model_type!r}: pass target_modules, chosen from "
                                 f"{_short_linear_names(transformer)}.") from err
            raise
    return encoder


def merge_lora(encoder):
    """Fold every adapter into its frozen weight (``W + (alpha / r) B A``) and remove it; returns the same encoder.

    The result is a plain transformer again (every weight trainable, as loaded), so
    :func:`sbert_teach.save_encoder` writes the full model and ``SentenceTransformer(path)`` loads it.
    """
    _require_peft()
    from peft.tuners.tuners_utils import BaseTunerLayer

    transformer = encoder.transformer
    if not has_lora(encoder):
        raise ValueError("This encoder has no LoRA adapters to merge: add them with add_lora(encoder) and train first.")
    for name, module in list(transformer.named_modules()):
        if isinstance(module, BaseTunerLayer):
            module.merge(safe_merge=True)  # safe: refuses NaN or infinite merged weights
            parent, _, child = name.rpartition(".")
            setattr(transformer.get_submodule(parent) if parent else transformer, child, module.get_base_layer())
    # what transformers' delete_adapter does once the last adapter is gone: saving writes full weights again
    del transformer.peft_config
    transformer._hf_peft_config_loaded = False
    transformer.requires_grad_(True)
    return encoder


def _base_weights(transformer) -> dict[str, torch.Tensor]:
    """The frozen weights under the adapters, under the names they have without adapters."""
    return {k.replace(".base_layer.", "."): v for k, v in transformer.state_dict().items() if ".lora_" not in k}


def _check_base(transformer, base: str) -> None:
    """Refuse to write an adapter whose named base model holds other weights than the ones it was trained on."""
    from transformers import AutoModel

    try:
        stored = AutoModel.from_pretrained(base).state_dict()
    except OSError as err:
        raise ValueError(f"The adapter's base model {base!r} cannot be loaded ({err.__class__.__name__}), so the "
                         "adapter could not be used. Save the base first (save_encoder) and pass base_model_path=, "
                         "or keep the merged model: save_encoder(merge_lora(encoder), path).") from None
    differ = [k for k, v in _base_weights(transformer).items() if k not in stored or stored[k].shape != v.shape
              or not torch.equal(stored[k], v.detach().to("cpu", stored[k].dtype))]
    if differ:
        raise ValueError(f"The base model at {base!r} is not the one these adapters were trained on ({len(differ)} "
                         f"weights differ, e.g. {differ[0]!r}), so loading the adapter there would give other "
                         "vectors. Save the base before add_lora with save_encoder(encoder, base_path) and pass "
                         "base_model_path=base_path, "
                         "or save the merged model: save_encoder(merge_lora(encoder), path).")


def save_lora(encoder, path, base_model_path=None) -> Path:
    """Write the adapter alone to the folder ``path`` and return it.

    ``adapter_config.json`` (peft's config, naming the base model) and
    ``adapter_model.safetensors`` (the ``A`` and ``B`` matrices), which peft's
    ``PeftModel.from_pretrained(base_model, path)``, sentence-transformers'
    ``SentenceTransformer(base).load_adapter(path)`` and :func:`load_lora` read.
    ``base_model_path`` (default: where the transformer was loaded from) must hold
    exactly the frozen weights under the adapters, or ``ValueError`` says what to do: a
    model built from a config, or trained in full before ``add_lora``, has no such
    folder until you save it with :func:`sbert_teach.save_encoder`.
    """
    from peft import get_peft_model_state_dict
    from safetensors.torch import save_file

    if not has_lora(encoder):
        raise ValueError("This encoder has no LoRA adapters: use save_encoder(encoder, path) for a full model.")
    transformer = encoder.transformer
    if list(transformer.peft_config) != [_ADAPTER]:
        raise ValueError(f"save_lora writes the one adapter add_lora adds; this encoder has "
                         f"{list(transformer.peft_config)}.")
    config = copy.deepcopy(transformer.peft_config[_ADAPTER])
    base = base_model_path if base_model_path is not None else config.base_model_name_or_path
    if not base:
        raise ValueError("The encoder's transformer was not loaded from a folder or hub name, so the adapter has no "
                         "base to name. Save the base with save_encoder(encoder, base_path) before add_lora and pass "
                         "base_model_path=base_path, "
                         "or save the merged model: save_encoder(merge_lora(encoder), path).")
    if Path(str(base)).expanduser().exists():
        base = str(Path(str(base)).expanduser().resolve())  # found from wherever the adapter is loaded
    _check_base(transformer, str(base))
    config.base_model_name_or_path = str(base)
    config.inference_mode = True  # as peft saves it: loaded for use unless asked to train
    state = get_peft_model_state_dict(transformer, adapter_name=_ADAPTER, save_embedding_layers=False)
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    config.save_pretrained(str(path))
    save_file({_PEFT_PREFIX + k: v.detach().cpu().contiguous() for k, v in state.items()}, str(path / ADAPTER_WEIGHTS),
              metadata={"format": "pt"})
    (path / "README.md").write_text(
        "# LoRA adapter trained with sbert_teach\n\n"
        f"Base model: `{base}`; rank {config.r}, alpha {config.lora_alpha}, "
        f"adapted layers {sorted(config.target_modules)}.\n\n"
        "```python\nfrom sentence_transformers import SentenceTransformer\n"
        f"model = SentenceTransformer({str(base)!r})\nmodel.load_adapter('path/to/this/folder')\n```\n")
    return path


def load_lora(encoder, path, trainable: bool = False):
    """Put the adapter saved in ``path`` (by :func:`save_lora` or peft) on ``encoder``; returns the same encoder.

    ``encoder`` must be the base model the adapter names (e.g. ``load_encoder(base_path)``).
    ``trainable=True`` leaves the adapter's weights trainable, to train on.
    """
    peft = _require_peft()
    from safetensors.torch import load_file

    path = Path(path)
    if not (path / ADAPTER_CONFIG).exists() or not (path / ADAPTER_WEIGHTS).exists():
        raise FileNotFoundError(f"No adapter in {path}: expected {ADAPTER_CONFIG} and {ADAPTER_WEIGHTS} "
                                "(written by save_lora or peft's save_pretrained).")
    if has_lora(encoder):
        raise ValueError("This encoder already has LoRA adapters: load the adapter onto a fresh copy of the base.")
    peft_type = json.loads((path / ADAPTER_CONFIG).read_text()).get("peft_type")
    if peft_type != "LORA":
        raise ValueError(f"{path} holds a {peft_type} adapter; load_lora reads LoRA adapters only.")
    config = peft.LoraConfig.from_pretrained(str(path))
    config.inference_mode = not trainable
    _inject(encoder.transformer, config)
    state = {k.removeprefix(_PEFT_PREFIX): v for k, v in load_file(str(path / ADAPTER_WEIGHTS)).items()}
    result = peft.set_peft_model_state_dict(encoder.transformer, state, adapter_name=_ADAPTER)
    missing = [k for k in result.missing_keys if ".lora_" in k]
    if result.unexpected_keys or missing:
        raise ValueError(f"The adapter in {path} does not fit this encoder's transformer "
                         f"(unexpected {result.unexpected_keys[:3]}, missing {missing[:3]}): load it onto the base "
                         f"model its config names, {config.base_model_name_or_path!r}.")
    return encoder
