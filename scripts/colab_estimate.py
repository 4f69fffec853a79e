"""Run chapters at the ``colab`` scale on a CPU under the local hub, count their work, estimate a GPU's time.

What it checks: each chapter's code runs at the scale Colab picks on a GPU (``colab``: sizes no smoke or
local run reaches, such as a whole test split as the corpus), under the hub profile against
``tests/local_hub.py`` with enough NLI pairs for those sizes. What it cannot do is time a GPU: to run on
this machine's CPU the models are narrow (bert-base-uncased of width 32; the reference of width 64 with
its six layers, tokenizer and pooling, or with ``--reference real`` the packaged one), so most scores mean
nothing and the CPU time says little.

What it counts: every forward pass of a BERT model (ours, sentence-transformers' and peft's all end in
``BertModel.forward``) adds its rows (sentences) to "trained" when gradients are on and to "encoded"
when not, per model (bert-base or the MiniLM reference, told apart by width) and depth (a cut-down
student has fewer layers); our encoder's padding-free path, which calls the layers itself, is counted where
it starts.

What it estimates, per chapter, in ``book/data/chapter_times_colab_estimate.json``: the counted sentences
priced one by one at the rates an H100 measured for the real models, at the benchmarks' batch sizes
(``benchmarks/results/*_cuda.json``; :func:`h100_rates` says which rate stands for what). That is the low
end for a T4, which is no faster. The high end is the same work at 1/15.2 of those rates, a T4's share of
peak FLOP/s (989 / 65, what ``scripts/colab_check.py`` uses): pessimistic rather than a bound. At these
batch sizes the H100 ran at 0.6% of its peak (``benchmarks/results/bert_base_cuda.json``), most likely
waiting on Python and kernel launches, so a T4 should lose much less than that ratio, unless Colab's slower
host processor costs more than the GPU saves. Pricing per sentence is rough: mini-batches of 8 (cached MNR),
a cross-encoder's single pairs and sentence-transformers' own ``encode`` cost more per sentence than the
benchmarks' batches; a student of fewer layers is priced per layer. Only a T4 run of
``scripts/colab_check.py`` replaces the estimate, and it does so chapter by chapter.

    python scripts/colab_estimate.py                       # chapters 10-13
    python scripts/colab_estimate.py 04_softmax_nli.ipynb  # any chapters
    python scripts/colab_estimate.py --reprice             # the same counts at new benchmark rates
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
    # by width: the fixture's bert-base is 32 wide (the real one 768), so a cut-down copy of it stays bert-base;
    # the reference is 64 wide with narrow models, 384 with the real one
    model = "bert-base" if config.hidden_size in (32, 768) else "minilm"
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
    """Sentences per second on the H100 (benchmarks/results), per model and kind of pass, for a full-depth model.

    MiniLM trains at its MNR rate (what Part III trains with; 27% slower than softmax), bert-base at its softmax
    rate (the only one benchmarked; chapters 5-7 also train it with other losses). bert-base's encode rate, not
    benchmarked, is a guess: MiniLM's scaled by the ratio of their softmax training rates.
    """
    train = json.loads((RESULTS / "train_vs_st_cuda.json").read_text())
    encode = json.loads((RESULTS / "encode_vs_st_cuda.json").read_text())
    bert = json.loads((RESULTS / "bert_base_cuda.json").read_text())
    minilm_softmax = 2 * train["results"]["softmax"]["pairs_per_second"]["sbert_teach"]["median"]
    minilm_mnr = 2 * train["results"]["mnr"]["pairs_per_second"]["sbert_teach"]["median"]
    minilm_encoded = encode["results"]["sentences_per_second"]["sbert_teach"]["median"]
    bert_trained = 2 * bert["results"]["pairs_per_second"]["median"]
    return {
        "minilm": {"layers": 6, "trained": minilm_mnr, "encoded": minilm_encoded},
        "bert-base": {"layers": 12, "trained": bert_trained, "encoded": minilm_encoded * bert_trained / minilm_softmax},
        "measured": f"{train['machine']['gpu']}, {train['machine']['date_utc'][:10]}",
    }


def price(record: dict, rates: dict, t4_factor: float) -> None:
    """Each chapter's counted sentences at ``rates`` (low end) and at a T4's share of them (high end)."""
    record.update(rates=rates, t4_factor=round(t4_factor, 2))
    for chapter in record["chapters"].values():
        low = h100_seconds(chapter["sentences"], rates)
        chapter.update(h100_seconds=round(low, 1), t4_ceiling_seconds=round(low * t4_factor, 1))


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
    parser.add_argument("--reprice", action="store_true",
                        help="run nothing: price the counts already in --output at the current benchmark rates")
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
    record = json.loads(args.output.read_text()) if args.output.exists() else {"chapters": {}}
    record["how"] = ("scripts/colab_estimate.py: each chapter's model passes, counted, priced per sentence at an "
                     f"H100's measured rates (low end) and at 1/{t4_factor:.1f} of them, a T4's share of peak "
                     "FLOP/s (high end): an estimate, not a measurement")
    if args.reprice:  # new rates, the same counts
        price(record, rates, t4_factor)
        args.output.write_text(json.dumps(record, indent=1) + "\n")
        return 0
    root = local_hub.build(work / "hub", n_nli=args.nli_pairs, n_sts=args.sts_pairs, bert="tiny")
    if args.reference == "narrow":
        narrow_reference(root)
    (work / "counter").mkdir()
    (work / "counter" / "sitecustomize.py").write_text(COUNTER)
    record["counted"] = (f"{datetime.date.today()} on a {os.cpu_count()}-core CPU, against tests/local_hub.py "
                         f"({args.nli_pairs:,} NLI pairs, STSb splits of up to {args.sts_pairs:,} pairs)")
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
        record["chapters"][name] = {"cpu_seconds": round(seconds, 1), "reference": args.reference,
                                    "sentences": json.loads(counts_file.read_text())}
        price(record, rates, t4_factor)
        priced = record["chapters"][name]
        print(f"{name}: ran at colab scale in {seconds:.0f} s (CPU, {args.reference} reference); "
              f"{priced['sentences']}; {priced['h100_seconds'] / 60:.1f} min at an H100's rates, "
              f"{priced['t4_ceiling_seconds'] / 60:.1f} min at a T4's share of peak FLOP/s", flush=True)
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(record, indent=1) + "\n")
    if failed:
        print(f"{len(failed)} chapter(s) failed at the colab scale: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
