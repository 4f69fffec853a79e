"""The files every sentence-transformers folder ends with, written once for every kind of encoder.

:mod:`sbert_teach.persistence` (transformer encoders) and :mod:`sbert_teach.static` (static
embeddings) each write their own model files, then call :func:`finish_folder` for the module
list, the library's config and a model card. It imports nothing from either, so both can use it.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

NORMALIZE_TYPE = "sentence_transformers.models.Normalize"


def write_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2) + "\n")


def finish_folder(path: Path, modules: list[dict], normalize: bool, model_card: str) -> Path:
    """Append a ``Normalize`` module if asked, then write ``modules.json``, the library's config and ``README.md``."""
    import sbert_teach

    modules = list(modules)
    if normalize:
        idx = len(modules)
        modules.append({"idx": idx, "name": str(idx), "path": f"{idx}_Normalize", "type": NORMALIZE_TYPE})
    write_json(path / "modules.json", modules)
    write_json(path / "config_sentence_transformers.json", {
        "__version__": {"sbert_teach": sbert_teach.__version__, "pytorch": torch.__version__},
        "prompts": {}, "default_prompt_name": None, "similarity_fn_name": "cosine",
    })
    (path / "README.md").write_text(model_card)
    return path
