"""Run chapters at the ``colab`` scale on a CPU under the local hub, count their work, estimate a GPU's time.

What it checks: each chapter's code runs at the scale Colab picks on a GPU (``colab``: sizes no smoke or
local run reaches, such as a whole test split as the corpus), under the hub profile against
``tests/local_hub.py`` with enough NLI pairs for those sizes. What it cannot do is time a GPU: to run on
this machine's CPU the models are narrow (bert-base-uncased of width 32; the reference of width 64 with
its six layers, tokenizer and pooling, or with ``--reference real`` the packaged one), so most scores mean
nothing and the CPU time says little.

What it counts: every forward pass of a BERT model (ours, sentence-transformers' and peft's all end in
``BertModel.forward``) adds its rows (sentences) to "trained" when gradients are on and to "encoded"
when not, per depth (layers) and model (bert-base or the MiniLM reference and its cut-down students); our
encoder's padding-free path, which calls the layers itself, is counted where it starts.

What it estimates, per chapter, in ``book/data/chapter_times_colab_estimate.json``: the counted sentences
at the rates an H100 measured for the real models (``benchmarks/results/*_cuda.json``):

* all-MiniLM-L6-v2: its training rate at batch 16 (``train_vs_st_cuda.json``, softmax, two sentences a
  pair) and its encode rate at batch 64 (``encode_vs_st_cuda.json``); a student of fewer layers at the
  same rate per layer;
* bert-base: its training rate at batch 16 (``bert_base_cuda.json``); its encode rate, not benchmarked,
  is taken as MiniLM's times the ratio of their training rates.

An H100 is at least as fast as a T4, so that time is a floor for a T4. Scaled by the ratio of peak
FLOP/s (989 / 65, what ``scripts/colab_check.py`` uses) it is a ceiling: at these batch sizes the H100
ran at under 1% of its peak (``benchmarks/results/bert_base_cuda.json``), so a T4 loses less than that
ratio. Neither is a measurement on a T4; a GPU run of ``scripts/colab_check.py`` replaces both.

    python scripts/colab_estimate.py                       # chapters 10-13
    python scripts/colab_estimate.py 04_softmax_nli.ipynb  # any chapters
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "benchmarks"))
import local_hub  # noqa: E402
from bert_base import PEAK_BF16_TFLOPS  # noqa: E402
from colab_check import chapter_environment  # noqa: E402
from time_chapters import time_chapter  # noqa: E402

OUTPUT = ROOT / "book" / "data" / "chapter_times_colab_estimate.json"
RESULTS = ROOT / "benchmarks" / "results"
PART_THREE = ["10_finetune_for_search.ipynb", "11_hard_negatives_and_big_batches.ipynb", "12_matryoshka.ipynb",
              "13_small_and_fast.ipynb"]
NARROW_REFERENCE = {"hidden_size": 64, "num_attention_heads": 2, "intermediate_size": 128}  # six layers kept

# Loaded in each chapter's process (PYTHONPATH): counts the sentences through BertModel.forward, written at exit.
COUNTER = r'''
import atexit, json, os
import torch
import transformers.models.bert.modeling_bert as modeling_bert
import sbert_teach.speed as speed

_counts = {}


def _count(config, rows):
    model = "bert-base" if config.num_hidden_layers == 12 else "minilm"
    key = f"{model}|{config.num_hidden_layers}|{'trained' if torch.is_grad_enabled() else 'encoded'}"
    _counts[key] = _counts.get(key, 0) + int(rows)


_forward = modeling_bert.BertModel.forward
_padding_free = speed.padding_free_bert  # our encoder's fast path calls the layers, not BertModel.forward


def _counted_forward(self, input_ids=None, *args, **kwargs):
    ids = input_ids if input_ids is not None else kwargs.get("inputs_embeds")
    if ids is not None:
        _count(self.config, ids.shape[0])
    return _forward(self, input_ids, *args, **kwargs)


def _counted_padding_free(bert, input_ids, *args, **kwargs):
    _count(bert.config, input_ids.shape[0])
    return _padding_free(bert, input_ids, *args, **kwargs)


modeling_bert.BertModel.forward = _counted_forward
speed.padding_free_bert = _counted_padding_free
atexit.register(lambda: open(os.environ["COLAB_WORK_FILE"], "w").write(json.dumps(_counts)))
'''


def h100_rates() -> dict:
    """Sentences per second on the H100 (benchmarks/results), per model and kind of pass, for a full-depth model."""
    train = json.loads((RESULTS / "train_vs_st_cuda.json").read_text())
    encode = json.loads((RESULTS / "encode_vs_st_cuda.json").read_text())
    bert = json.loads((RESULTS / "bert_base_cuda.json").read_text())
    minilm_trained = 2 * train["results"]["softmax"]["pairs_per_second"]["sbert_teach"]["median"]
    minilm_encoded = encode["results"]["sentences_per_second"]["sbert_teach"]["median"]
    bert_trained = 2 * bert["results"]["pairs_per_second"]["median"]
    return {
        "minilm": {"layers": 6, "trained": minilm_trained, "encoded": minilm_encoded},
        "bert-base": {"layers": 12, "trained": bert_trained, "encoded": minilm_encoded * bert_trained / minilm_trained},
        "measured": f"{train['machine']['gpu']}, {train['machine']['date_utc'][:10]}",
    }


def h100_seconds(counts: dict, rates: dict) -> float:
    seconds = 0.0
    for key, sentences in counts.items():
        model, layers, kind = key.split("|")
        rate = rates[model][kind] * rates[model]["layers"] / int(layers)  # a shallower student: per layer
        seconds += sentences / rate
    return seconds


def narrow_reference(root: Path) -> None:
    """Replace the fixture's reference weights with random ones of width 64 (six layers, same tokenizer)."""
    import torch
    from transformers import AutoConfig, AutoModel

    snapshot = local_hub._model_repo(root, "sentence-transformers/all-MiniLM-L6-v2")
    config = AutoConfig.from_pretrained(snapshot)
    for name, value in NARROW_REFERENCE.items():
        setattr(config, name, value)
    torch.manual_seed(0)
    AutoModel.from_config(config).save_pretrained(snapshot)
    pooling = snapshot / "1_Pooling" / "config.json"
    pooling.write_text(json.dumps({**json.loads(pooling.read_text()),
                                   "word_embedding_dimension": NARROW_REFERENCE["hidden_size"]}, indent=2))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("chapters", nargs="*", help=f"notebook file names (default: {', '.join(PART_THREE)})")
    parser.add_argument("--nli-pairs", type=int, default=100_000,
                        help="NLI pairs in the hub: 100,000 gives SNLI test and dev about their real 10,000 "
                             "pairs each and train the 16,000 entailment pairs chapters 10 and 12 read")
    parser.add_argument("--sts-pairs", type=int, default=5_749,
                        help="STSb pairs per split at most: 5,749 keeps every split whole (train 5,749, dev 1,500, "
                             "test 1,379), as the hub has them")
    parser.add_argument("--reference", choices=["narrow", "real"], default="narrow",
                        help="real: the packaged all-MiniLM-L6-v2 at full size, for a chapter that needs a model "
                             "that tells texts apart (chapter 11 mines negatives with a margin; a random model's "
                             "texts all score within it, so nothing is left to train on); slow on a CPU")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="colab_estimate_"))
    try:
        return run(args, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(args, work: Path) -> int:
    rates = h100_rates()
    t4_factor = PEAK_BF16_TFLOPS["H100"] / PEAK_BF16_TFLOPS["T4"]
    root = local_hub.build(work / "hub", n_nli=args.nli_pairs, n_sts=args.sts_pairs, bert="tiny")
    if args.reference == "narrow":
        narrow_reference(root)
    (work / "counter").mkdir()
    (work / "counter" / "sitecustomize.py").write_text(COUNTER)
    record = json.loads(args.output.read_text()) if args.output.exists() else {"chapters": {}}
    record.update({
        "measured": f"{datetime.date.today()} on a {os.cpu_count()}-core CPU, colab scale, hub profile against "
                    f"tests/local_hub.py ({args.nli_pairs:,} NLI pairs, STSb splits of up to {args.sts_pairs:,} pairs), "
                    "a random bert-base of width 32",
        "rates": {k: v for k, v in rates.items()}, "t4_factor": round(t4_factor, 2),
        "how": "scripts/colab_estimate.py: counted sentences at an H100's measured rates (floor for a T4), "
               f"times {t4_factor:.1f}, the ratio of peak FLOP/s (ceiling): an estimate, not a measurement"})
    failed = []
    for name in args.chapters or PART_THREE:
        cache = tempfile.mkdtemp(prefix="sbert_teach_cache_")  # as on a fresh Colab VM: nothing cached
        counts_file = work / f"{name}.counts.json"
        env = {**chapter_environment(root, "colab", cache, first_on_path=work / "counter"),
               "COLAB_WORK_FILE": str(counts_file)}
        seconds, output = time_chapter(name, env)
        shutil.rmtree(cache, ignore_errors=True)
        if seconds is None:
            failed.append(name)
            print(f"{name}: FAILED at the colab scale\n{output}", flush=True)
            continue
        counts = json.loads(counts_file.read_text())
        floor = h100_seconds(counts, rates)
        record["chapters"][name] = {"cpu_seconds": round(seconds, 1), "reference": args.reference, "sentences": counts,
                                    "h100_seconds": round(floor, 1), "t4_ceiling_seconds": round(floor * t4_factor, 1)}
        print(f"{name}: ran at colab scale in {seconds:.0f} s (CPU, {args.reference} reference); {counts}; "
              f"estimate {floor / 60:.1f} min on an H100, at most {floor * t4_factor / 60:.1f} min on a T4", flush=True)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(record, indent=1) + "\n")
    if failed:
        print(f"{len(failed)} chapter(s) failed at the colab scale: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
