"""Cached MNR (GradCache) against plain MNR: peak memory and time of one training step at the same batch.

Each configuration runs in a **fresh subprocess**, one after the other, so no configuration sees
memory that another left behind. A configuration is a batch size and an objective:

* plain: :class:`sbert_teach.objectives.MultipleNegativesRankingObjective`, the whole batch
  through the encoder at once, every activation kept for the backward pass;
* cached, mini-batch m: :class:`sbert_teach.objectives.CachedMultipleNegativesRankingObjective`
  with ``mini_batch_size=m`` (the same loss; only m rows have activations alive at a time).

The same work everywhere: the packaged all-MiniLM-L6-v2 in training mode (dropout on),
``max_length`` 128, (anchor, positive) pairs from the packaged SNLI train split (premise, entailed
hypothesis; no hard negative): the first ``batch`` pairs of ``lora_vs_full.snli_pairs``, which draws a
seeded subset across the file (``load_nli(limit=...)``); seed 0. A step is
``loss = objective(features); loss.backward()`` with the gradients set to None before it (no
optimizer: its state would be the same on both sides). The tokenised batch and the model are
ready before the measurement starts.

What is measured, in the child process:

* memory on a CPU: the growth of the resident set during the steps, ``VmHWM`` (the kernel's
  peak resident set, reset through ``/proc/self/clear_refs`` just before the first step) minus
  ``VmRSS`` just before it. Where the reset is not allowed, ``ru_maxrss`` minus that ``VmRSS``
  stands in (marked in the record). The child runs with ``MALLOC_MMAP_THRESHOLD_=131072``, so
  glibc hands every large tensor buffer straight back to the kernel when it is freed and the
  peak is the peak of live tensors, not of malloc's cache.
* memory on a GPU: ``torch.cuda.max_memory_allocated()`` minus ``memory_allocated()`` before the
  first step (peak statistics reset there).
* time: the median over the timed steps (after one untimed first step) of the wall time (after a
  device sync) and of the process's CPU time.

The peak covers every step, so it includes the parameter gradients (about 87 MB for 22.7M
float32 parameters) on both sides. The record also counts the tokens each step computes on with
padding: the plain step pads each column to the batch's longest sentence, the cached one each
mini-batch only to its own, which pays back part of its second forward pass.

Printed: one line per configuration, then ``cached_vs_plain_memory_ratio`` (plain peak growth /
cached peak growth at the largest batch with the smallest mini-batch: how many times less memory
the cached step needs) and ``cached_vs_plain_time_ratio`` (plain step time / cached step time
there: below 1 means the cached step is slower, the price of its second forward pass) and
``cached_vs_plain_cpu_time_ratio`` (the same from CPU time, steadier on a busy machine). All come from configurations measured in the same run.

    python benchmarks/cached_mnr_memory.py --quick
    python benchmarks/cached_mnr_memory.py                 # batches 64, 128, 256; mini-batches 8, 32
    python benchmarks/cached_mnr_memory.py --device cuda --tag _cuda
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import _common as C

MAX_LEN = 128
# batches, mini-batch sizes, timed steps (after one untimed first step)
SIZES = {"tiny": ((8,), (2,), 1), "quick": ((64,), (8, 32), 1), "full": ((64, 128, 256), (8, 32), 1)}
CHILD_FLAG = "--child"


def _status_kib(field: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak_rss() -> bool:
    """Reset the kernel's peak resident set of this process to its current size (Linux 4.0+)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def child(spec: dict) -> dict:
    """One configuration, measured in this (fresh) process."""
    import gc
    import resource

    import torch

    import sbert_teach as st
    from lora_vs_full import snli_pairs
    from sbert_teach import resources
    from sbert_teach.objectives.cached_mnr import mini_batches
    from sbert_teach.persistence import load_encoder

    torch.set_num_threads(spec["threads"])
    device = torch.device(spec["device"])
    batch, mini = spec["batch"], spec["mini_batch"]
    pairs = snli_pairs(batch)
    encoder = load_encoder(str(resources.packaged_model_path()), max_length=MAX_LEN).to(device).train()
    if mini is None:
        objective = st.make_objective("mnr", encoder, use_hard_negatives=False)
    else:
        objective = st.make_objective("cached_mnr", encoder, use_hard_negatives=False, mini_batch_size=mini)
    features = [encoder.tokenize(list(pairs[column])) for column in ("anchor", "positive")]
    if device.type == "cuda":
        features = [{k: v.to(device) for k, v in f.items()} for f in features]

    def step():
        encoder.zero_grad(set_to_none=True)
        loss = objective(features)
        loss.backward()
        return float(loss)

    gc.collect()
    torch.manual_seed(0)
    # what the encoder computes on with gradients: the plain step pads each column to the batch's longest
    # sentence, the cached one each mini-batch only to its own (mini_batches drops the rest)
    parts = [[f] if mini is None else mini_batches(f, mini) for f in features]
    out = {"tokens": sum(int(f["attention_mask"].sum()) for f in features),
           "padded_tokens": sum(p["attention_mask"].numel() for column in parts for p in column)}
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats(device)
        before = torch.cuda.memory_allocated(device)
        method = "torch.cuda.max_memory_allocated"
    else:
        method = "VmHWM after clear_refs" if _reset_peak_rss() else "ru_maxrss (peak reset not allowed)"
        before = _status_kib("VmRSS") * 1024
    losses, wall, cpu = [], [], []
    for i in range(spec["steps"] + 1):
        C.sync(device)
        t0, c0 = time.perf_counter(), time.process_time()
        losses.append(step())
        C.sync(device)
        if i:  # the first step is untimed (first-touch allocations, lazy initialisation)
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    if device.type == "cuda":
        peak = torch.cuda.max_memory_allocated(device)
    elif method.startswith("VmHWM"):
        peak = _status_kib("VmHWM") * 1024
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    out.update({"peak_growth_bytes": peak - before, "before_bytes": before, "method": method,
                "step_seconds": C.stats(wall), "step_cpu_seconds": C.stats(cpu), "first_loss": losses[0]})
    return out


def run_child(spec: dict) -> dict:
    env = {**os.environ, "OMP_NUM_THREADS": str(spec["threads"]), "MALLOC_MMAP_THRESHOLD_": "131072"}
    done = subprocess.run([sys.executable, __file__, CHILD_FLAG, json.dumps(spec)], capture_output=True, text=True,
                          env=env, cwd=C.ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"configuration {spec} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def label(mini) -> str:
    return "plain" if mini is None else f"cached, mini-batch {mini}"


def main(argv=None):
    import torch

    args = C.parser(__doc__.split("\n\n")[0]).parse_args(argv)
    args.threads = args.threads or 1
    device = C.setup_torch(args)
    if not torch.cuda.is_available():
        print("no GPU here: CPU only (run with --device cuda --tag _cuda on a machine with one)", flush=True)
    batches, minis, steps = SIZES[C.mode(args)]
    print(f"one MNR step (forward + backward) on SNLI pairs, {device}, {args.threads} torch thread(s), "
          f"{steps} timed step(s) after one untimed; each configuration in a fresh process", flush=True)
    rows = []
    for batch in batches:
        for mini in (None, *minis):
            spec = {"batch": batch, "mini_batch": mini, "device": str(device), "threads": args.threads,
                    "steps": steps}
            r = run_child(spec)
            rows.append({"batch": batch, "mini_batch": mini, **r})
            print(f"  batch {batch:4d} {label(mini):>22s}: peak +{r['peak_growth_bytes'] / 2**20:8.1f} MiB, "
                  f"step {r['step_seconds']['median']:.3f} s (CPU {r['step_cpu_seconds']['median']:.3f} s)",
                  flush=True)
    plain = {row["batch"]: row for row in rows if row["mini_batch"] is None}
    for row in rows:
        base = plain[row["batch"]]
        row["memory_vs_plain"] = base["peak_growth_bytes"] / row["peak_growth_bytes"]
        row["time_vs_plain"] = base["step_seconds"]["median"] / row["step_seconds"]["median"]
        row["cpu_time_vs_plain"] = base["step_cpu_seconds"]["median"] / row["step_cpu_seconds"]["median"]
    headline = next(r for r in rows if r["batch"] == max(batches) and r["mini_batch"] == min(minis))
    print("\n| batch | step | peak growth MiB | plain / this (memory) | step s | plain / this (time) | "
          "plain / this (CPU time) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for row in rows:
        print(f"| {row['batch']} | {label(row['mini_batch'])} | {row['peak_growth_bytes'] / 2**20:,.1f} | "
              f"{row['memory_vs_plain']:.2f} | {row['step_seconds']['median']:.3f} | {row['time_vs_plain']:.2f} | "
              f"{row['cpu_time_vs_plain']:.2f} |")
    record = {
        "benchmark": "cached_mnr_memory", "machine": C.machine(device),
        "settings": {"batches": list(batches), "mini_batches": list(minis), "timed_steps": steps,
                     "max_seq_length": MAX_LEN, "model": "all-MiniLM-L6-v2 (packaged), training mode",
                     "data": "SNLI train pairs (premise, entailed hypothesis) from a seeded subset drawn across the file, no hard negative",
                     "step": "objective(features).backward(), gradients set to None first; no optimizer",
                     "headline": {"batch": headline["batch"], "mini_batch": headline["mini_batch"]},
                     "threads": args.threads},
        "results": {"rows": rows},
    }
    C.finish("cached_mnr_memory", args, record, {"cached_vs_plain_memory_ratio": headline["memory_vs_plain"],
                                                 "cached_vs_plain_time_ratio": headline["time_vs_plain"],
                                                 "cached_vs_plain_cpu_time_ratio": headline["cpu_time_vs_plain"]})


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == CHILD_FLAG:
        print(json.dumps(child(json.loads(sys.argv[2]))))
    else:
        main()
