"""A local Hugging Face hub: what the `hub` profile reads from huggingface.co, laid out offline.

``build(root)`` writes, under ``root``:

* ``hub/`` (``HF_HUB_CACHE``), in the cache layout ``models--org--name/{refs/main, snapshots/<sha>/}``:
  - ``bert-base-uncased``: a BERT in the real checkpoint layout (``BertForPreTraining`` weights with
    their ``bert.`` prefix and ``cls.`` heads, ``config.json``, the uncased word-piece tokenizer) with
    **12 layers**, so 13 hidden states as in bert-base, randomly initialised, at a tiny width (hidden 32)
    for the tests or at bert-base's own (``bert="base"``, for timing the chapters on a GPU);
  - ``sentence-transformers/all-MiniLM-L6-v2``: the packaged model in hub layout with its
    ``modules.json``, changed to **CLS pooling** with Normalize (so a loader that ignores
    ``modules.json`` and falls back to mean pooling is caught);
* ``datasets/`` (``HF_DATASETS_CACHE``): the three data sets in the schemas of their dataset cards,
  as ``datasets`` caches a prepared hub data set (what ``load_dataset`` finds offline):
  - ``stanfordnlp/snli`` (config ``plain_text``): ``premise``, ``hypothesis``, ``label`` a ClassLabel
    ``[entailment, neutral, contradiction]`` with ``-1`` rows; splits ``train``, ``validation``, ``test``;
  - ``nyu-mll/multi_nli`` (config ``default``): ``promptID``, ``pairID``, ``premise``,
    ``premise_binary_parse``, ``premise_parse``, ``hypothesis``, ``hypothesis_binary_parse``,
    ``hypothesis_parse``, ``genre``, ``label`` (the same ClassLabel); splits ``train``,
    ``validation_matched``, ``validation_mismatched``;
  - ``sentence-transformers/stsb`` (config ``default``): ``sentence1``, ``sentence2``, ``score`` in 0..1;
    splits ``train``, ``validation``, ``test``.

The sentences are real ones, taken from the packaged SNLI and STS Benchmark. ``environment(root)``
gives the variables that point a process at it (with ``HF_HUB_OFFLINE=1``).
"""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

COMMIT = "0123456789abcdef0123456789abcdef01234567"
NLI_NAMES = ["entailment", "neutral", "contradiction"]


def environment(root: Path) -> dict[str, str]:
    return {"HF_HUB_CACHE": str(root / "hub"), "HF_DATASETS_CACHE": str(root / "datasets"), "HF_HUB_OFFLINE": "1",
            "HF_DATASETS_OFFLINE": "1", "SBERT_TEACH_RESOURCES": "hub"}


def _model_repo(root: Path, name: str) -> Path:
    repo = root / "hub" / ("models--" + name.replace("/", "--"))
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(COMMIT)
    return repo / "snapshots" / COMMIT


#: Widths of the fixture's bert-base-uncased; both have bert-base's 12 layers (13 hidden states).
BERT_SIZES = {
    "tiny": {"hidden_size": 32, "num_attention_heads": 2, "intermediate_size": 64},  # the tests' (fast on a CPU)
    "base": {"hidden_size": 768, "num_attention_heads": 12, "intermediate_size": 3072},  # bert-base's own shape
}


def bert_base_weights(root: Path, size: str = "tiny") -> None:
    """Write random ``BertForPreTraining`` weights of ``size`` into the fixture's bert-base-uncased snapshot.

    Separate from :func:`build` so that a machine without the packaged resources (a GPU machine) can add
    full-size weights to a fixture built elsewhere with ``bert=None``.
    """
    import torch
    from transformers import BertConfig, BertForPreTraining

    config = BertConfig(vocab_size=30522, num_hidden_layers=12, max_position_embeddings=512, **BERT_SIZES[size])
    torch.manual_seed(0)
    BertForPreTraining(config).save_pretrained(_model_repo(root, "bert-base-uncased"))


def _bert_base(root: Path, tokenizer_from: Path, size: str | None) -> None:
    from transformers import AutoTokenizer

    AutoTokenizer.from_pretrained(str(tokenizer_from)).save_pretrained(_model_repo(root, "bert-base-uncased"))
    if size is not None:
        bert_base_weights(root, size)


def _reference(root: Path, packaged: Path) -> None:
    snapshot = _model_repo(root, "sentence-transformers/all-MiniLM-L6-v2")
    shutil.copytree(packaged, snapshot)
    pooling = snapshot / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    config.update(pooling_mode_cls_token=True, pooling_mode_mean_tokens=False, pooling_mode_max_tokens=False)
    pooling.write_text(json.dumps(config, indent=2))


def _cached_dataset(root: Path, name: str, config_name: str, splits: dict, features) -> None:
    """Prepare ``splits`` ({split: columns}) the way ``datasets`` caches a hub data set it has loaded."""
    from datasets import Dataset
    from datasets.packaged_modules.parquet.parquet import Parquet

    work = root / "work" / name.replace("/", "--")
    work.mkdir(parents=True, exist_ok=True)
    files = {}
    for split, columns in splits.items():
        Dataset.from_dict(columns, features=features).to_parquet(str(work / f"{split}.parquet"))
        files[split] = [str(work / f"{split}.parquet")]
    cache = root / "datasets"
    builder = Parquet(cache_dir=str(cache / "work"), dataset_name=name.split("/")[-1], config_name=config_name,
                      data_files=files, features=features, hash=COMMIT[:16])
    builder.download_and_prepare()
    # the builder writes <dataset>/<config>-<data files hash>/<version>/<hash>/; a hub download is cached
    # as <namespace>___<dataset>/<config>/<version>/<hash>/
    built = next((cache / "work" / name.split("/")[-1]).iterdir())
    target = cache / name.replace("/", "___") / config_name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(built), str(target))
    shutil.rmtree(cache / "work")


def _packaged_rows(n_nli: int, n_sts: int):
    from sbert_teach import data, resources

    profile = resources.get_profile("packaged")
    nli = data.load_nli("train", profile, limit=n_nli)
    sts = {split: data.load_sts(split, profile, limit=n_sts) for split in ("train", "dev", "test")}
    return nli, sts


def build(root: Path, n_nli: int = 1200, n_sts: int = 300, bert: str | None = "tiny") -> Path:
    """Lay the local hub out under ``root``: ``n_nli`` NLI pairs shared out over the SNLI and MultiNLI
    splits, ``n_sts`` pairs per STSb split, and a bert-base-uncased of width ``bert`` (:data:`BERT_SIZES`;
    ``None`` writes its tokenizer only, for :func:`bert_base_weights` to finish elsewhere)."""
    from datasets import ClassLabel, Features, Value

    from sbert_teach import resources

    root = Path(root)
    packaged = resources.packaged_model_path()
    _bert_base(root, packaged, bert)
    _reference(root, packaged)
    nli, sts = _packaged_rows(n_nli, n_sts)
    premises, hypotheses, labels = list(nli["sentence1"]), list(nli["sentence2"]), list(nli["label"])
    n_nli = len(premises)  # the packaged loader drops pairs without a gold label: share out what it kept
    labels = [-1 if i % 23 == 0 else y for i, y in enumerate(labels)]  # SNLI's pairs without a gold label
    label = ClassLabel(names=NLI_NAMES)

    def part(start, stop):
        return premises[start:stop], hypotheses[start:stop], labels[start:stop]

    snli_splits = {}
    for split, (a, b) in {"train": (0, n_nli // 2), "validation": (n_nli // 2, n_nli * 5 // 8),
                          "test": (n_nli * 5 // 8, n_nli * 6 // 8)}.items():
        p, h, y = part(a, b)
        snli_splits[split] = {"premise": p, "hypothesis": h, "label": y}
    _cached_dataset(root, "stanfordnlp/snli", "plain_text", snli_splits,
                    Features({"premise": Value("string"), "hypothesis": Value("string"), "label": label}))
    genres = itertools.cycle(["fiction", "government", "slate", "telephone", "travel"])
    mnli_splits = {}
    for split, (a, b) in {"train": (n_nli * 6 // 8, n_nli * 7 // 8), "validation_matched": (n_nli * 7 // 8, n_nli * 15 // 16),
                          "validation_mismatched": (n_nli * 15 // 16, n_nli)}.items():
        p, h, y = part(a, b)
        n = len(p)
        mnli_splits[split] = {"promptID": list(range(a, b)), "pairID": [f"{i}e" for i in range(a, b)], "premise": p,
                              "premise_binary_parse": [""] * n, "premise_parse": [""] * n, "hypothesis": h,
                              "hypothesis_binary_parse": [""] * n, "hypothesis_parse": [""] * n,
                              "genre": [next(genres) for _ in range(n)], "label": y}
    mnli_features = Features({"promptID": Value("int32"), "pairID": Value("string"), "premise": Value("string"),
                              "premise_binary_parse": Value("string"), "premise_parse": Value("string"),
                              "hypothesis": Value("string"), "hypothesis_binary_parse": Value("string"),
                              "hypothesis_parse": Value("string"), "genre": Value("string"), "label": label})
    _cached_dataset(root, "nyu-mll/multi_nli", "default", mnli_splits, mnli_features)
    sts_splits = {hub: {c: list(sts[ours][c]) for c in ("sentence1", "sentence2", "score")}
                  for ours, hub in (("train", "train"), ("dev", "validation"), ("test", "test"))}
    _cached_dataset(root, "sentence-transformers/stsb", "default", sts_splits,
                    Features({"sentence1": Value("string"), "sentence2": Value("string"), "score": Value("float32")}))
    return root
