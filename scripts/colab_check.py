"""The Colab path on a GPU: every chapter at the `colab` scale under the local hub, timed in fp16 and bf16.

What a learner gets on Colab, rehearsed where the hub cannot be reached: the hub profile under
``HF_HUB_OFFLINE=1`` against ``tests/local_hub.py`` (real repository layouts and dataset schemas), with a
randomly initialised bert-base-uncased of full size (and, on the GPU machine, a reference with random
weights: the time is what is measured, not the scores). Each chapter's code cells run in a fresh process
with an empty package cache, as each Colab notebook gets a fresh VM (so chapter 7 trains the models it
lacks), once with fp16 autocast (what "auto" picks on a T4) and once with bf16 (``SBERT_TEACH_AUTOCAST``).
The result, ``book/data/chapter_times_colab.json``, feeds the instructors page and each chapter's setup
line (``scripts/instructors_page.py``). A T4's time is estimated from the fp16 time and the ratio of
peak FLOP/s (``benchmarks/bert_base.py``), and says so.

The GPU machine has torch, transformers and sentence-transformers but not the packaged resources,
``datasets`` or IPython, so the check is prepared here and finished there::

    python scripts/colab_check.py --prepare .colab_check     # here: the hub (bert weights left out), wheels
    # there, with .colab_check carried:
    python3 -m pip install -q --no-index --no-deps --target /tmp/site .colab_check/wheels/*.whl
    PYTHONPATH=/tmp/site:. python3 scripts/colab_check.py --hub .colab_check --output $OUT/chapter_times_colab.json
    # a call that ran out of time: copy the record back to book/data/, then run the chapters it lacks
    # (with --output book/data/chapter_times_colab.json, which travels with the tree, and cp it to $OUT)

    python scripts/colab_check.py --bert tiny --scale smoke 01_bert_token_outputs.ipynb   # on a CPU
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "benchmarks"))
import local_hub  # noqa: E402
from time_chapters import time_chapter  # noqa: E402
from bert_base import PEAK_BF16_TFLOPS  # noqa: E402

T4_PEAK_TFLOPS = PEAK_BF16_TFLOPS["T4"]  # a T4 has no bf16: its fp16 tensor-core peak

OUTPUT = ROOT / "book" / "data" / "chapter_times_colab.json"
REFERENCE = "sentence-transformers/all-MiniLM-L6-v2"
# what the chapters need that the GPU machine lacks (/work/.library/device/KINDS.md lists what it has)
WHEELS = ["datasets", "dill", "multiprocess", "ipython", "ipython-pygments-lexers", "traitlets", "jedi", "parso",
          "prompt-toolkit", "wcwidth", "pexpect", "ptyprocess", "matplotlib-inline", "stack-data",
          "asttokens", "executing", "pure-eval"]


def reference_weights(root: Path) -> Path:
    return local_hub._model_repo(root, REFERENCE) / "model.safetensors"


def prepare(root: Path, n_nli: int, n_sts: int, wheels: bool = True) -> None:
    """Everything that needs this machine's packaged resources and PyPI. The weights are left out (the
    tree that travels is limited to 64 MiB): :func:`finish` makes them there."""
    local_hub.build(root, n_nli=n_nli, n_sts=n_sts, bert=None)
    shutil.rmtree(root / "work")  # the parquet files the datasets cache was prepared from
    reference_weights(root).unlink()
    if wheels:
        download_wheels(root / "wheels")
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    print(f"prepared {root}: {size / 2**20:.1f} MiB to carry (the device tool carries 64 MiB with the tree)")


def download_wheels(wheels: Path) -> None:
    """The versions installed here, as wheels for the GPU machine's Python 3.12."""
    pins = [f"{name}=={importlib.metadata.version(name)}" for name in WHEELS]
    subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
                    "--python-version", "3.12", "--implementation", "cp", "--platform", "manylinux2014_x86_64",
                    "-d", str(wheels), *pins], check=True)


def finish(root: Path, bert: str) -> None:
    """On the GPU machine: random weights for bert-base (of ``bert``'s size) and for the reference.

    The reference keeps its real layout, ``modules.json`` (CLS pooling, Normalize) and tokenizer, so it
    costs what the real one costs; its scores are meaningless, which a timing does not mind.
    """
    import torch
    from transformers import AutoConfig, AutoModel

    if not reference_weights(root).exists():
        snapshot = reference_weights(root).parent
        torch.manual_seed(0)
        AutoModel.from_config(AutoConfig.from_pretrained(snapshot)).save_pretrained(snapshot)
    if not (local_hub._model_repo(root, "bert-base-uncased") / "config.json").exists():
        local_hub.bert_base_weights(root, bert)


def chapter_environment(root: Path, scale: str, cache: str, first_on_path: Path | None = None) -> dict[str, str]:
    """A chapter's process as on a fresh Colab VM: the hub profile against ``root``, an empty package cache."""
    path = [str(first_on_path) if first_on_path else None, str(ROOT), os.environ.get("PYTHONPATH")]
    return {**local_hub.environment(root), "SBERT_TEACH_SCALE": scale, "SBERT_TEACH_CACHE": cache,
            "SBERT_TEACH_HEADLESS": "1", "TQDM_DISABLE": "1", "TRANSFORMERS_VERBOSITY": "error",
            "HF_HUB_DISABLE_PROGRESS_BARS": "1", "PYTHONPATH": os.pathsep.join(filter(None, path))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("chapters", nargs="*", help="notebook file names (default: all chapters)")
    parser.add_argument("--prepare", type=Path, help="write the local hub and wheels to this folder, then stop")
    parser.add_argument("--hub", type=Path, help="a folder written by --prepare (default: build one now)")
    parser.add_argument("--bert", choices=sorted(local_hub.BERT_SIZES), default="base")
    parser.add_argument("--scale", default="colab")
    parser.add_argument("--precision", nargs="+", default=["fp16"], choices=["fp16", "bf16", "auto"],
                        help="fp16 is what a T4 runs (and gives the T4 estimate); add bf16 if the time allows")
    parser.add_argument("--nli-pairs", type=int, default=32_000, help="NLI pairs in the hub (colab reads 16,000)")
    parser.add_argument("--sts-pairs", type=int, default=1_500, help="STSb pairs per split (dev has 1,500)")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()
    if args.prepare:
        prepare(args.prepare, args.nli_pairs, args.sts_pairs)
        return 0
    import torch

    root = args.hub or Path(tempfile.mkdtemp(prefix="colab_check_"))
    if args.hub:
        finish(root, args.bert)
    else:
        local_hub.build(root, n_nli=args.nli_pairs, n_sts=args.sts_pairs, bert=args.bert)
    names = args.chapters or sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    print(f"{device}, torch {torch.__version__}, bert {args.bert}, scale {args.scale}, hub at {root}", flush=True)
    from bert_base import peak_tflops

    peak = peak_tflops(torch.device("cuda" if torch.cuda.is_available() else "cpu"), None)
    # a GPU call has a time limit: the record is written after every chapter, and a second call with
    # other chapters or precisions adds to the record of the first (same device, scale and size)
    record = json.loads(args.output.read_text()) if args.output.exists() else {}
    if (record.get("device"), record.get("scale"), record.get("bert")) != (device, args.scale, args.bert):
        record = {"runs": {}}
    record.update({
        "measured": f"{datetime.date.today()} on {device} (torch {torch.__version__}), {args.scale} scale, "
                    f"hub profile against tests/local_hub.py with a random bert-base-uncased ({args.bert})",
        "device": device, "torch": torch.__version__, "scale": args.scale, "profile": "hub", "bert": args.bert,
        "how": "scripts/colab_check.py: each chapter's code cells in a fresh process with an empty cache"})
    failed = []
    for precision in args.precision:
        chapters = record["runs"].setdefault(precision, {"chapters": {}})["chapters"]
        for name in names:
            cache = tempfile.mkdtemp(prefix="sbert_teach_cache_")  # a fresh VM: nothing trained, nothing cached
            env = chapter_environment(root, args.scale, cache)
            if precision != "auto":
                env["SBERT_TEACH_AUTOCAST"] = precision
            seconds, output = time_chapter(name, env)
            shutil.rmtree(cache, ignore_errors=True)
            if seconds is None:
                failed.append(f"{name} ({precision})")
                print(f"{name} ({precision}): FAILED\n{output}", flush=True)
                continue
            chapters[name] = {"seconds": round(seconds, 1)}
            print(f"{name} ({precision}): {seconds:.1f} s", flush=True)
            if peak and "fp16" in record["runs"]:  # a T4: the fp16 work at a T4's share of the peak FLOP/s
                ratio = peak / T4_PEAK_TFLOPS
                record["t4_estimate"] = {
                    "how": f"the fp16 time x {ratio:.1f} ({device} {peak:g} against T4 {T4_PEAK_TFLOPS:g} peak "
                           "TFLOP/s): an estimate, not a measurement",
                    "chapters": {n: {"seconds": round(c["seconds"] * ratio, 1)}
                                 for n, c in record["runs"]["fp16"]["chapters"].items()}}
            args.output.parent.mkdir(parents=True, exist_ok=True)
            args.output.write_text(json.dumps(record, indent=1) + "\n")
    print("record:", args.output)
    if failed:
        print(f"{len(failed)} chapter run(s) failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
