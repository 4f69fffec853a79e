"""Write the appendix page ``book/how_fast.md`` from the JSON records in ``benchmarks/results/``.

Every figure on the page comes from a record; nothing is typed in except the SBERT paper's
Table 7, quoted as the paper gives it.

    python benchmarks/report.py [--results benchmarks/results] [--output book/how_fast.md]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

#: SBERT paper (Reimers & Gurevych 2019), Table 7: sentences per second, SBERT-base, CPU / GPU.
PAPER_TABLE7 = {"cpu": (44, 83), "gpu": (1378, 2042)}
GOALS = {"train_vs_st_ratio": 1.25, "encode_vs_st_ratio": 1.0, "encode_vs_naive_ratio": 1.8}

SOURCES = """\
Each item below has a switch in the package, so `benchmarks/switches.py` can turn it off and show
what it is worth (the "switches" table above).

* **Dynamic padding** (`TrainConfig(dynamic_padding=...)`, `encode(dynamic_padding=...)`). A batch is
  padded only as far as its own longest sentence, never to the 128-token limit. Most STS and NLI
  sentences are 10 to 20 word pieces long, so padding to 128 would multiply the work several times.
* **Length-sorted batching** ("smart batching"; `encode(smart_batching=...)`,
  `TrainConfig(smart_batching=...)`). `encode()` sorts the sentences by token length before cutting
  batches, so the sentences that share a batch have nearly the same length and hardly any padding is
  left; the vectors are put back in input order at the end. This is the paper's Table 7 trick.
  In training the batch itself must stay random, so the loop sorts *inside* the batch instead: all
  the batch's sentences (every column) are cut into length-sorted sub-batches, each padded to its own
  longest sentence (`sbert_teach.speed.embed_length_sorted`).
* **Padding-free passes** (`TrainConfig(padding_free=...)`, `encode(padding_free=...)`, BERT models).
  One step further: the dense layers (the query, key, value and output projections and the
  feed-forward block, nearly all the arithmetic) work on the real tokens only, packed into one
  matrix; only attention, which must know which tokens belong to which sentence, uses a padded
  layout (`sbert_teach.speed.padding_free_bert`). In training all the sentences of a batch go
  through one such pass: on NLI batches about 45% of the column-padded tokens are padding, and one
  pass instead of one per column also means one dense gradient for the 30,522-row word-embedding
  table, not two or three. In `encode()` it removes what sorting leaves: a length-sorted batch of 64
  STSb sentences is still about 15% padding (the long tail of the longest batches). The vectors, the
  loss and the gradients are the same as with plain passes, up to float rounding (tested). With it
  on, smart batching in `encode()` is worth less than before (the dense layers no longer see the
  padding it saves); it still shortens attention. `encode(padding_free="auto")` uses it on a CPU
  only: on a GPU, at this model size and batch 64, the extra gather and scatter kernels cost more
  than the little padding left after sorting (the GPU switches table).
* **Fused AdamW** (`TrainConfig(fused_optimizer=...)`). The optimizer updates all parameters in one
  fused kernel instead of a loop of small tensor operations per parameter group.
* **No needless host-device copies** (`TrainConfig(sync_every=...)`). On a GPU the loop keeps the
  losses on the device and reads them back in one copy every 50 steps instead of waiting for the GPU
  after every step; batches come from pinned memory and are copied without blocking.
* **No Python work per token.** Tokenising runs in the Rust tokenizer, once per sentence; padding a
  batch is one NumPy array fill per sentence; pooling, masking and the losses are tensor operations.
  No Python loop runs over tokens anywhere in `encode()` or the training step (this one is how the
  code is written, so it has no switch).
* **`torch.inference_mode` for encoding** (`encode(inference_mode=...)`). Stronger than `no_grad`:
  tensors made inside skip autograd's version counters and view tracking.
* **On a GPU: bf16 autocast and TF32** (`TrainConfig(mixed_precision=..., allow_tf32=...)`,
  `encode(mixed_precision="auto")`). The large matrix products run in bfloat16 on the tensor cores;
  what autocast leaves in float32 may use TF32. Both only on CUDA; TF32 is switched on for the
  training loop only and restored afterwards.
"""


def load(results: Path) -> dict:
    records = {}
    for path in sorted(results.glob("*.json")):
        try:
            records[path.stem] = json.loads(path.read_text())
        except json.JSONDecodeError:
            continue
    return records


def f(x, digits=2):
    return "n/a" if x is None else f"{x:,.{digits}f}"


def spread(s, digits=2):
    return f"{f(s['median'], digits)} ({f(s['min'], digits)} to {f(s['max'], digits)})"


def machine_line(rec) -> str:
    m = rec.get("machine", {})
    where = m.get("gpu") or f"{m.get('cpu', '?')}, {m.get('cpu_cores', '?')} cores, torch threads: {m.get('torch_threads', '?')}"
    v = m.get("versions", {})
    load_avg = m.get("load_average_at_start")
    busy = ""
    if load_avg and m.get("cpu_cores") and load_avg[0] > m["cpu_cores"]:
        busy = (f" **The machine was busy** (loaded: load average {load_avg[0]:.1f} on {m['cpu_cores']} cores at the start):"
                " wall times are noisy; the CPU-time ratios are steadier.")
    return (f"*Measured {m.get('date_utc', '?')} on {where} ({m.get('device', '?')}), mode `{rec.get('mode', '?')}`; "
            f"torch {v.get('torch', '?')}, transformers {v.get('transformers', '?')}, "
            f"sentence-transformers {v.get('sentence_transformers', '?')}, sbert_teach {v.get('sbert_teach', '?')}.*"
            + busy)


def train_section(rec) -> list[str]:
    s = rec["settings"]
    out = [f"Training: {s['steps']} steps of {s['batch_size']} pairs, {s['reps']} alternating repetitions per side, "
           f"{s['model']}, {s['optimizer']}, learning rate {s['learning_rate']}.", "",
           "| objective | sbert_teach pairs/s | sentence-transformers trainer pairs/s | speed-up (wall) | speed-up (CPU time) |",
           "| --- | --- | --- | --- | --- |"]
    names = {"softmax": "softmax (NLI)", "mnr": "multiple negatives ranking (NLI triplets)"}
    for obj, r in rec["results"].items():
        out.append(f"| {names.get(obj, obj)} | {spread(r['pairs_per_second']['sbert_teach'], 1)} | "
                   f"{spread(r['pairs_per_second']['st_trainer'], 1)} | {spread(r['paired_ratio'])} | "
                   f"{spread(r['cpu_time_ratio'])} |")
    return out


def encode_section(rec) -> list[str]:
    s, r = rec["settings"], rec["results"]
    out = [f"Encoding {s['sentences']:,} sentences ({s['source']}), batch {s['batch_size']}, {s['reps']} alternating "
           "repetitions per side.", "",
           "| encoder | sentences/s | sbert_teach is faster by (wall) | (CPU time) |", "| --- | --- | --- | --- |",
           f"| sbert_teach `encode()` | {spread(r['sentences_per_second']['sbert_teach'], 0)} | | |",
           f"| sentence-transformers `encode()` | {spread(r['sentences_per_second']['sentence_transformers'], 0)} | "
           f"{spread(r['paired_ratio_vs_st'])} | {spread(r['cpu_time_ratio_vs_st'])} |",
           f"| naive loop (unsorted batches) | {spread(r['sentences_per_second']['naive'], 0)} | "
           f"{spread(r['paired_ratio_vs_naive'])} | {spread(r['cpu_time_ratio_vs_naive'])} |",
           f"| sbert_teach `encode(padding_free=False)` (smart batching alone) | "
           f"{spread(r['sentences_per_second']['smart_batching_only'], 0)} | | |"]
    diff = r["max_abs_difference"]
    out += ["", f"They compute the same vectors: the largest difference between sbert_teach's and "
            f"sentence-transformers' is {diff['vs_sentence_transformers']:.1e}, and {diff['vs_naive']:.1e} "
            "against the naive loop."]
    return out


def scaling_section(rec) -> list[str]:
    r = rec["results"]
    out = ["Finding the most similar pair among n sentences (median seconds; the cross-encoder time is its measured "
           "time per pair times all n(n-1)/2 pairs, measured on the number of pairs shown).", "",
           "| n | pairs | bi-encoder s | cross-encoder s | pairs measured | cross / bi |", "| --- | --- | --- | --- | --- | --- |"]
    for row in r["rows"]:
        bi, cross = row["bi_encoder_seconds"]["median"], row["cross_encoder_seconds"]["median"]
        out.append(f"| {row['n']} | {row['pairs']:,} | {f(bi, 3)} | {f(cross, 1)} | {row['pairs_measured']:,} | "
                   f"{f(cross / bi, 0)} |")
    out += ["", f"Slope of log(time) against log(n): bi-encoder **{r['bi_encoder_loglog_slope']:.2f}** (linear is 1), "
            f"cross-encoder **{r['cross_encoder_loglog_slope']:.2f}** (quadratic is 2)."]
    return out


def switches_section(rec) -> list[str]:
    r = rec["results"]
    out = ["Each row changes one switch from its default (all others at theirs); the factor is time with the "
           "change / time with the defaults, the median of paired repetitions (range in parentheses). For a "
           "switch turned off, above 1 means it saves time here. A row whose switch is `True` or names a mode "
           "turns on something the defaults leave off on this device (bf16 autocast in `encode()`, the "
           "padding-free pass in `encode()` on a GPU): above 1 means it would cost time, which is why it is off.",
           "", "| part | switch changed | factor |", "| --- | --- | --- |"]
    for part in ("train", "encode"):
        for name, row in r[part].items():
            if name == "all_on":
                continue
            label = ", ".join(f"`{k}={v!r}`" for k, v in row["switches"].items())
            out.append(f"| {part} | {label} | {spread(row['share'])} |")
    return out


def bert_base_section(rec) -> list[str]:
    s, r = rec["settings"], rec["results"]
    mfu = spread({k: 100 * r["mfu"][k] for k in ("median", "min", "max")}, 1) + " %" if r.get("mfu") else \
        "not computed (peak FLOP/s unknown)"
    return [f"Random-init BERT, {s['layers']} layers, hidden {s['hidden']}, batch {s['batch_size']}, {s['steps']} steps:", "",
            "| pairs/s | model TFLOP/s | MFU | vs one plain pass per column |", "| --- | --- | --- | --- |",
            f"| {spread(r['pairs_per_second'], 1)} | {spread(r['achieved_tflops'], 2)} | {mfu} | "
            f"{spread(r['paired_ratio_vs_plain_passes'])} |"]


def static_section(rec) -> list[str]:
    s, r = rec["settings"], rec["results"]
    sts = r["sts_test"]
    return [f"Encoding {s['sentences']:,} sentences ({s['source']}), batch {s['batch_size']}, {s['reps']} alternating "
            f"repetitions per side, one torch thread. The static model is {s['static']}; both are then scored on "
            f"the STSb test split ({sts['transformer']['n']:,} pairs, Spearman of cosine similarity).", "",
            "| encoder | sentences/s | STSb test Spearman |", "| --- | --- | --- |",
            f"| transformer ({s['transformer']}) | {spread(r['sentences_per_second']['transformer'], 0)} | "
            f"{sts['transformer']['spearman_cosine']:.4f} |",
            f"| static word-piece table | {spread(r['sentences_per_second']['static'], 0)} | "
            f"{sts['static']['spearman_cosine']:.4f} |", "",
            f"Transformer time / static time: **{spread(r['paired_ratio'])}** (wall), "
            f"**{spread(r['cpu_time_ratio'])}** (CPU time): how many times faster the static table encodes. "
            "The Spearman column is what that speed costs."]


def lora_section(rec) -> list[str]:
    s, r = rec["settings"], rec["results"]
    lora = s["lora"]
    out = [f"{s['steps']} training steps of {s['batch_size']} pairs ({s['objective']}), {s['reps']} alternating "
           f"repetitions per side, each on a fresh copy of {s['model']}; LoRA r={lora['r']}, alpha={lora['alpha']} on "
           f"{lora['target_modules']}. Time per step is `TrainResult.seconds` over the steps.", "",
           "| side | trainable parameters | of all | step ms (wall) | step ms (CPU time) |",
           "| --- | --- | --- | --- | --- |"]
    for side, name in (("full", "full fine-tuning"), ("lora", "LoRA")):
        p = r["parameters"][side]
        ms = {k: 1000 * r["step_seconds"][side][k] for k in ("median", "min", "max")}
        cpu = {k: 1000 * r["step_cpu_seconds"][side][k] for k in ("median", "min", "max")}
        out.append(f"| {name} | {p['trainable']:,} | {100 * p['trainable'] / p['total']:.2f}% | {spread(ms, 0)} | "
                   f"{spread(cpu, 0)} |")
    ratios = rec["ratios"]
    out += ["", f"Full step time / LoRA step time: **{ratios['lora_vs_full_step_time_ratio']:.2f}x** (wall), "
            f"**{ratios['lora_vs_full_cpu_time_ratio']:.2f}x** (CPU time). LoRA still runs the whole forward and "
            "backward pass through the frozen weights (the gradients must reach the adapters in every layer); "
            "what it saves is the gradients of the frozen weights and the optimizer's work and state for them."]
    return out


def cached_mnr_section(rec) -> list[str]:
    s, rows = rec["settings"], rec["results"]["rows"]
    method = rows[0]["method"] if rows else "?"
    out = [f"One training step (forward and backward, {s['step']}) of multiple-negatives ranking on {s['data']}, "
           f"{s['model']}, `max_length` {s['max_seq_length']}; each configuration in a fresh process. Peak memory is "
           f"how far the step raised the process's memory above what the loaded model and batch already used "
           f"({method}); it includes the parameter gradients, the same on every row. The step time is "
           + ("one timed step" if s["timed_steps"] == 1 else f"the median of {s['timed_steps']} timed steps")
           + " after an untimed first one. The last two columns compare each row with "
           "plain MNR at the same batch: in the memory column above 1 means the cached step needs that many "
           "times less memory; in the time column below 1 means it takes longer. The cached step runs the "
           "encoder twice (once without gradients, once with), but the plain step pads each column to the "
           "longest sentence of the whole batch while each mini-batch is padded only to its own longest: the "
           "tokens column counts what each step computes on, padding included, against the real tokens.", "",
           "| batch | step | tokens with padding (real) | peak memory growth | plain / this (memory) | "
           "step s (CPU s) | plain / this (CPU time) |",
           "| --- | --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        step = "plain MNR" if row["mini_batch"] is None else f"cached, mini-batch {row['mini_batch']}"
        tokens = f"{row['padded_tokens']:,} ({row['tokens']:,})" if "padded_tokens" in row else "not recorded"
        out.append(f"| {row['batch']} | {step} | {tokens} | {row['peak_growth_bytes'] / 2**20:,.0f} MiB | "
                   f"{row['memory_vs_plain']:.2f}x | {f(row['step_seconds']['median'], 2)} "
                   f"({f(row['step_cpu_seconds']['median'], 2)}) | {row['cpu_time_vs_plain']:.2f}x |")
    head, ratios = s["headline"], rec["ratios"]
    out += ["", f"At batch {head['batch']} with mini-batches of {head['mini_batch']}: plain / cached peak memory "
            f"**{ratios['cached_vs_plain_memory_ratio']:.2f}x**, plain / cached step time "
            f"**{ratios['cached_vs_plain_time_ratio']:.2f}x** (wall), "
            f"**{ratios['cached_vs_plain_cpu_time_ratio']:.2f}x** (CPU time)."]
    return out


def _library_rows(rec, extra_header: str, extra) -> list[str]:
    out = [f"| comparison | sbert_teach s | library s | library / ours (wall) | library / ours (CPU time) | {extra_header} |",
           "| --- | --- | --- | --- | --- | --- |"]
    names = {"same_vectors": "same vectors (search and bookkeeping only)", "end_to_end": "end to end (encoding included)"}
    for name, r in rec["results"].items():
        out.append(f"| {names.get(name, name)} | {spread(r['seconds']['sbert_teach'], 3)} | "
                   f"{spread(r['seconds']['library'], 3)} | {spread(r['paired_ratio'])} | {spread(r['cpu_time_ratio'])} "
                   f"| {extra(r)} |")
    return out


def miner_section(rec) -> list[str]:
    s = rec["settings"]
    settings = "; ".join(", ".join(f"{k}={v}" for k, v in x.items()) for x in s["mining_settings"])
    out = [f"`sbert_teach.mining.mine_hard_negatives` against `sentence_transformers.util.mine_hard_negatives` "
           f"(exact search, `sampling_strategy=\"top\"`) on {s['pairs']:,} (premise, entailed hypothesis) pairs of "
           f"the packaged SNLI test split ({s['anchors']:,} distinct premises as anchors), with {s['extra_corpus']:,} of "
           f"the split's neutral and contradicting hypotheses as extra corpus; settings: {settings}. \"Same "
           "vectors\" gives both miners one stand-in model that looks up vectors computed beforehand, so only the "
           "mining is timed (all settings, one after the other); \"end to end\" gives each its own library's model "
           "of the same weights, which encodes the texts (first setting only). Above 1 means ours is faster.", ""]
    out += _library_rows(rec, "rows that differ", lambda r: (
        f"{sum(x['differing'] or 0 for x in r['rows']):,} of {sum(x['rows_theirs'] for x in r['rows']):,}"
        if not any(x["columns_differ"] for x in r["rows"]) else "the columns differ"))
    swapped = [g for r in rec["results"].values() for x in r["rows"] for g in x.get("gaps", [])]
    gaps = [abs(g[key]) for g in swapped for key in ("score_gap_sbert_teach", "score_gap_library")]
    if gaps:
        same_words = [g for g in swapped if g["negative_ours"].lower() == g["negative_library"].lower()]
        if max(gaps) == 0 and same_words:
            why = (f"exactly tied. Here they are texts that differ only in capitals (\"{same_words[0]['negative_ours']}\" "
                   f"and \"{same_words[0]['negative_library']}\"), which the uncased tokenizer reads alike, so each "
                   "model gives them one vector. `torch.topk` promises no order among equal scores, so which of the two "
                   "comes first may differ between two searches whose other scores differ in the last bits; from "
                   "the same vectors the rows are the same.")
        elif max(gaps) < 1e-4:
            why = ("candidates that close are as good as tied, and the last-bit differences between two encoders of "
                   "the same weights decide their order.")
        else:
            why = ("more than float rounding between two encoders of the same weights explains: see the record's "
                   "`gaps` for the rows.")
        out += ["", f"Where a row differs, the two miners took different negatives at that place. Scored against the "
                f"anchor with each model's own vectors, the two negatives are at most **{max(gaps):.1e}** apart: "
                + why]
    return out


def retrieval_section(rec) -> list[str]:
    s = rec["settings"]
    out = [f"`sbert_teach.retrieval.evaluate_retrieval` against sentence-transformers' "
           f"`InformationRetrievalEvaluator` on {s['task']}: {s['queries']:,} queries, {s['corpus']:,} documents, "
           f"the same {len(s['metrics'])} figures (accuracy, precision and recall at 1, 3, 5, 10; MRR@10, NDCG@10, "
           "MAP@100). \"Same vectors\" gives both one stand-in model that looks up vectors computed beforehand (the "
           "search and the metrics are timed); \"end to end\" gives each its own library's model of the same "
           "weights, which encodes queries and corpus. Above 1 means ours is faster.", ""]
    out += _library_rows(rec, "largest difference in any figure",
                         lambda r: f"{r['max_abs_difference']:.1e} ({r['largest_difference_at']})")
    return out


SECTIONS = {"train_vs_st": ("Training: sbert_teach vs the sentence-transformers trainer", train_section),
            "encode_vs_st": ("Encoding: `encode()` vs sentence-transformers and a naive loop", encode_section),
            "scaling": ("Scaling: bi-encoder vs cross-encoder", scaling_section),
            "switches": ("Where the speed comes from, switch by switch", switches_section),
            "bert_base": ("Training at bert-base shape", bert_base_section),
            "static_vs_transformer": ("Static embeddings vs the transformer: encoding speed and quality", static_section),
            "lora_vs_full": ("LoRA vs full fine-tuning: parameters and step time", lora_section),
            "cached_mnr_memory": ("Cached MNR vs plain MNR: peak memory and step time at the same batch",
                                  cached_mnr_section),
            "miner_vs_library": ("Hard-negative mining: sbert_teach vs sentence-transformers", miner_section),
            "retrieval_vs_library": ("Retrieval evaluation: sbert_teach vs InformationRetrievalEvaluator",
                                     retrieval_section)}


def table7(records) -> list[str]:
    out = ["## Against the paper's Table 7", "",
           "The SBERT paper (Table 7) measured SBERT-base at 44 sentences/s on CPU and 83 with smart batching "
           "(+89%), and 1,378 vs 2,042 on GPU (+48%). Our counterpart is `encode(padding_free=False)` (smart "
           "batching alone, the paper's trick) against the naive loop (same model, unsorted batches, each padded to "
           "its longest sentence), on MiniLM-L6, a model about five times smaller than BERT-base, so the absolute "
           "rates are not comparable; the gain is. The last column is `encode()` as it ships: on a CPU it adds the "
           "padding-free pass; on a GPU it leaves it off (`padding_free=\"auto\"`), so there it should match "
           "smart batching alone, up to noise.", "",
           "| device | paper: without / with smart batching | paper gain | ours: naive / smart batching sentences/s "
           "| our gain | `encode()` as shipped |",
           "| --- | --- | --- | --- | --- | --- |"]
    for dev, key in (("CPU", "encode_vs_st"), ("GPU", "encode_vs_st_cuda")):
        base, smart = PAPER_TABLE7[dev.lower()]
        rec = records.get(key)
        if rec:
            r = rec["results"]
            ours = (f"{f(r['sentences_per_second']['naive']['median'], 0)} / "
                    f"{f(r['sentences_per_second']['smart_batching_only']['median'], 0)}")
            gain = f"{100 * (r['smart_batching_only_vs_naive']['median'] - 1):+.0f}%"
            both = f"{100 * (r['paired_ratio_vs_naive']['median'] - 1):+.0f}%"
        else:
            ours, gain, both = "not measured yet (`benchmarks/gpu.sh`)", "n/a", "n/a"
        out.append(f"| {dev} | {base} / {smart} | +{100 * (smart / base - 1):.0f}% | {ours} | {gain} | {both} |")
    return out


def goals(records) -> list[str]:
    out = ["## Goals", "",
           "The goals are set for the CPU, where most readers run the book; the GPU column is for reference "
           "(on a GPU this small model waits on kernel launches, see below).", "",
           "| comparison | goal on CPU | CPU | GPU |", "| --- | --- | --- | --- |"]
    where = {"train_vs_st_ratio": "train_vs_st", "encode_vs_st_ratio": "encode_vs_st",
             "encode_vs_naive_ratio": "encode_vs_st"}
    for name, goal in GOALS.items():
        cells = []
        for suffix in ("", "_cuda"):
            rec = records.get(where[name] + suffix)
            value = rec and rec.get("ratios", {}).get(name)
            verdict = "" if suffix else (" (met in this run)" if value and value >= goal else " (not met in this run)")
            cells.append("not measured" if value is None else f"{value:.2f}x{verdict}")
        out.append(f"| `{name}` | at least {goal:.2f}x | {cells[0]} | {cells[1]} |")
    return out


def busy_machine_section(rec) -> list[str]:
    runs = rec["runs"]
    wall0, cpu0 = runs["alone"]["wall_s"], runs["alone"]["cpu_s"]
    out = ["## On a busy machine", "",
           f"*Measured {rec['measured']} on {rec['cpus']} CPU cores: {rec['notebook']} at the {rec['scale']} scale, "
           "executed in a fresh kernel with its trained-model cache emptied, alone and beside a second process that "
           "keeps two threads busy with matrix products (another training job); `benchmarks/busy_machine.py`.*", "",
           "| run | wall time | against alone | CPU time (chapter and kernel) | against alone |",
           "| --- | --- | --- | --- | --- |"]
    for name, run in runs.items():
        out.append(f"| {name} | {run['wall_s']:,.0f} s | {run['wall_s'] / wall0:.2f}x | {run['cpu_s']:,.0f} s | "
                   f"{run['cpu_s'] / cpu0:.2f}x |")
    out += ["", "The load takes half of the two cores, so about twice the wall time is the fair price. torch's "
            "OpenMP threads spin while they wait for work (the default wait policy), and on a machine with "
            "fewer free cores than threads a spinning thread holds a core that the thread it waits for needs: "
            "the chapter burns far more CPU time for the same work. `OMP_WAIT_POLICY=PASSIVE` makes waiting "
            "threads sleep instead. `make book`, `make test` and `sbert_teach` itself (when imported before "
            "torch, as the command line does) set it; in your own scripts on a shared machine, export it "
            "before Python starts.", ""]
    return out


def render(records) -> str:
    lines = ["# How fast is it?", "",
             "<!-- Generated by benchmarks/report.py from benchmarks/results/*.json. Do not edit by hand: "
             "run the benchmarks, then `python benchmarks/report.py`. -->", "",
             "A reader who trains with `sbert_teach` should lose nothing against sentence-transformers, the library "
             "everyone else uses. The scripts in `benchmarks/` run both on the same work, in one process, alternating "
             "repetitions: the same packaged encoder (all-MiniLM-L6-v2), the same data, batch size, sequence length, "
             "number of steps, optimizer and learning rate. Every figure on this page is read from their JSON records "
             "(`benchmarks/results/`); ranges are the smallest and largest repetition, and \"speed-up\" is the median of "
             "the paired ratios (each repetition of one side against the repetition of the other side that ran next to "
             "it). The commands are in `benchmarks/README.md`.", ""]
    lines += goals(records) + [""]
    lines += table7(records) + [""]
    for suffix, title in (("", "CPU"), ("_cuda", "GPU")):
        found = [(k, records[k + suffix]) for k in SECTIONS if k + suffix in records]
        if not found:
            lines += [f"## Latest figures: {title}", "",
                      "No record yet. On a machine with an NVIDIA GPU run `bash benchmarks/gpu.sh`, then "
                      "`python benchmarks/report.py`.", ""] if suffix else []
            continue
        lines += [f"## Latest figures: {title}", ""]
        if suffix:
            lines += ["How to read these: at these sizes a GPU run of MiniLM-L6 takes well under a second per "
                      "repetition, and a model this small at batch 16 to 64 keeps a large GPU waiting on Python and "
                      "kernel launches rather than on arithmetic. So padding, precision and fused-kernel switches move "
                      "little, single repetitions vary widely (the first one also pays for warm-up), and model FLOPs "
                      "utilisation at bert-base shape stays low. The ratios against sentence-transformers are medians "
                      "of paired repetitions; the ranges in parentheses show how far single pairs strayed.", ""]
        for key, rec in found:
            heading, section = SECTIONS[key]
            try:
                body = section(rec)
            except (KeyError, TypeError, ZeroDivisionError) as exc:  # a record from an older script version
                body = [f"(This record lacks a field the page needs ({exc!r}): run `benchmarks/{key}.py` again.)"]
            lines += [f"### {heading}", "", machine_line(rec), ""] + body + [""]
    if "busy_machine" in records:
        lines += busy_machine_section(records["busy_machine"])
    lines += ["## Where the speed comes from", "", SOURCES]
    return "\n".join(lines).rstrip() + "\n"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--results", default=str(HERE / "results"))
    p.add_argument("--output", default=str(ROOT / "book" / "how_fast.md"))
    args = p.parse_args(argv)
    records = load(Path(args.results))
    Path(args.output).write_text(render(records))
    print(f"wrote {args.output} from {len(records)} record(s): {', '.join(records) or 'none'}")


if __name__ == "__main__":
    main()
