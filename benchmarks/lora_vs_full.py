"""LoRA against full fine-tuning: how many parameters train, and what a training step costs.

Both sides, in one process, alternating repetitions (A B, B A, ...), each repetition on a
freshly loaded copy of the packaged encoder (all-MiniLM-L6-v2):

* full: every weight trains (22.7M parameters);
* LoRA: :func:`sbert_teach.lora.add_lora` with r=8, alpha=16, no dropout, on peft's default
  targets for BERT (query and value of every layer); everything else is frozen.

The same work on both sides: multiple-negatives ranking on (anchor, positive) pairs from the
packaged SNLI train split (premise, entailed hypothesis; no hard negative), batch 16,
``max_seq_length`` 128, :func:`sbert_teach.train` with its defaults (padding-free pass, fused
AdamW, clipping at 1.0), learning rate 2e-5 (full) and 2e-4 (LoRA, the usual tenfold), seed 42.
The learning rate changes no arithmetic, only the values.

What is timed: ``TrainResult.seconds`` divided by the number of steps (from just before the
first batch is drawn to just after the last optimizer step; loading the model and adding the
adapters are outside), and this process's CPU time over the same call. One untimed warm-up
run of 2 steps per side comes first.

Printed: ``lora_vs_full_step_time_ratio`` (full step time / LoRA step time; above 1 means a
LoRA step is faster), ``lora_vs_full_cpu_time_ratio`` (the same from CPU time, steadier on a
busy machine), and the trainable parameters of each side.

    OMP_NUM_THREADS=1 python benchmarks/lora_vs_full.py --threads 1     # 20 steps, 3 repetitions
    python benchmarks/lora_vs_full.py --quick
"""

from __future__ import annotations

import time

import _common as C

BATCH = 16
MAX_LEN = 128
LEARNING_RATES = {"full": 2e-5, "lora": 2e-4}
LORA = {"r": 8, "alpha": 16, "dropout": 0.0}
SIZES = {"tiny": (1, 1, 4), "quick": (5, 2, 16), "full": (20, 3, 16)}  # steps, reps, batch


def snli_pairs(rows: int):
    """(anchor, positive) = (premise, an entailed hypothesis), the first ``rows`` premises that have one."""
    import sbert_teach as st

    triplets = st.nli_triplets(st.load_nli("train", limit=rows * 4 + 200))
    return triplets.select(range(rows)).remove_columns("negative")


def build(side: str):
    from sbert_teach import lora, resources
    from sbert_teach.persistence import load_encoder

    encoder = load_encoder(str(resources.packaged_model_path()), max_length=MAX_LEN)
    if side == "lora":
        lora.add_lora(encoder, **LORA)
    return encoder


def run(side: str, data, steps: int, batch: int, device) -> dict:
    import sbert_teach as st
    from sbert_teach import lora

    encoder = build(side)
    objective = st.make_objective("mnr", encoder, use_hard_negatives=False)
    config = st.TrainConfig(batch_size=batch, learning_rate=LEARNING_RATES[side], max_steps=steps, seed=42,
                            show_progress=False, device=str(device))
    cpu = time.process_time()
    result = st.train(objective, data, config)
    cpu = time.process_time() - cpu
    assert result.steps == steps
    counts = lora.count_parameters(objective)
    return {"seconds": result.seconds / steps, "cpu_seconds": cpu / steps, "final_loss": result.losses[-1],
            "trainable": counts.trainable, "total": counts.total}


def main(argv=None):
    args = C.parser(__doc__.split("\n\n")[0]).parse_args(argv)
    device = C.setup_torch(args)
    steps, reps, batch = SIZES[C.mode(args)]
    reps = args.reps or reps
    data = snli_pairs(steps * batch)
    if not args.tiny:
        for side in ("full", "lora"):
            run(side, data.select(range(2 * batch)), 2, batch, device)  # warm-up
    print(f"training: {steps} steps of {batch} pairs, {reps} repetitions per side", flush=True)
    runs = C.alternate({side: (lambda s=side: run(s, data, steps, batch, device)) for side in ("full", "lora")}, reps)
    wall = {side: [r["seconds"] for r in v] for side, v in runs.items()}
    cpu = {side: [r["cpu_seconds"] for r in v] for side, v in runs.items()}
    params = {side: {"trainable": v[0]["trainable"], "total": v[0]["total"]} for side, v in runs.items()}
    record = {
        "benchmark": "lora_vs_full", "machine": C.machine(device),
        "settings": {"steps": steps, "batch_size": batch, "reps": reps, "max_seq_length": MAX_LEN,
                     "objective": "mnr (anchor, positive) on SNLI train, no hard negative",
                     "learning_rates": LEARNING_RATES,
                     "lora": {**LORA, "target_modules": "peft default (query, value)"},
                     "model": "all-MiniLM-L6-v2 (packaged)"},
        "results": {
            "parameters": params,
            "step_seconds": {side: C.stats(v) for side, v in wall.items()},
            "step_cpu_seconds": {side: C.stats(v) for side, v in cpu.items()},
            "final_loss": {side: [round(r["final_loss"], 4) for r in v] for side, v in runs.items()},
        },
    }
    ratios = {"lora_vs_full_step_time_ratio": C.ratio_stats(wall["full"], wall["lora"])["median"],
              "lora_vs_full_cpu_time_ratio": C.ratio_stats(cpu["full"], cpu["lora"])["median"]}
    for side in ("full", "lora"):
        p = params[side]
        print(f"{side:>4s}: {p['trainable']:,} of {p['total']:,} parameters train "
              f"({100 * p['trainable'] / p['total']:.2f}%); step {C.stats(wall[side])['median'] * 1000:.0f} ms "
              f"(CPU {C.stats(cpu[side])['median'] * 1000:.0f} ms)")
    print(f"trainable parameters, full / LoRA: {params['full']['trainable'] / params['lora']['trainable']:.0f}x")
    C.finish("lora_vs_full", args, record, ratios)


if __name__ == "__main__":
    main()
