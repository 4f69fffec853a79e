"""Training throughput: the sbert_teach loop vs the sentence-transformers trainer on identical work.

Both sides, in one process, alternating repetitions (A B, B A, ...), each repetition on a
freshly loaded copy of the packaged encoder (all-MiniLM-L6-v2):

* the same data: the first ``steps * batch`` rows of SNLI train (softmax objective, label
  column) or of the NLI triplets (multiple-negatives ranking with the hard negative), so each
  side makes exactly one pass over the same rows (the shuffles differ, the set of rows does not);
* batch 16, ``max_seq_length`` 128, the same number of steps, AdamW (fused kernel, which is
  also the sentence-transformers default on torch >= 2.8), learning rate 2e-5, weight decay
  0.01, linear schedule with 10% warm-up, gradient clipping at 1.0, seed 42; on CUDA bf16
  autocast and TF32 on both sides;
* no evaluation, no checkpoint saving, no logging, no progress bar.

What is timed:

* sbert_teach: ``TrainResult.seconds``, which :func:`sbert_teach.train` measures from just
  before the first batch is drawn to just after the last optimizer step (loading the model,
  building the optimizer and the data loader are outside);
* sentence-transformers: from the trainer's ``on_train_begin`` callback (fired after the
  model is wrapped and the optimizer and scheduler are built, before the first batch is
  drawn) to its ``on_step_end`` callback for the last step (after the last optimizer step,
  before the trainer's end-of-training bookkeeping).

Both include drawing and collating (tokenising) every batch, forward, backward, clipping,
the optimizer and the schedule. On CUDA the device is synchronised at both ends. One
untimed warm-up run of 2 steps per side comes first (with --quick only before the first
objective). Also recorded: this process's CPU time over each side's run, a steadier figure
than wall time on a busy machine.

    python benchmarks/train_vs_st.py --quick     # under a minute on a quiet 2-core CPU
    python benchmarks/train_vs_st.py             # 40 steps, 5 repetitions
"""

from __future__ import annotations

import math
import tempfile
import time

import _common as C

BATCH = 16
LR = 2e-5
MAX_LEN = 128
SIZES = {"tiny": (1, 1, 4), "quick": (3, 3, 16), "full": (40, 5, 16)}  # steps, reps, batch


def load_data(objective: str, rows: int):
    import sbert_teach as st

    if objective == "softmax":
        return st.load_nli("train", limit=rows)
    triplets = st.nli_triplets(st.load_nli("train", limit=rows * 4 + 200))
    return triplets.select(range(rows))


def packaged_path() -> str:
    from sbert_teach import resources

    return str(resources.packaged_model_path())


def run_ours(objective: str, data, steps: int, batch: int, device, **switches) -> dict:
    """One training run with sbert_teach; ``switches`` override :class:`TrainConfig` fields."""
    import sbert_teach as st
    from sbert_teach.persistence import load_encoder

    encoder = load_encoder(packaged_path(), max_length=MAX_LEN)
    module = st.make_objective(objective, encoder)
    config = st.TrainConfig(batch_size=batch, learning_rate=LR, warmup_ratio=0.1, max_steps=steps, weight_decay=0.01,
                            max_grad_norm=1.0, seed=42, show_progress=False, device=str(device), **switches)
    cpu = time.process_time()
    result = st.train(module, data, config)
    cpu = time.process_time() - cpu
    assert result.steps == steps
    return {"seconds": result.seconds, "cpu_seconds": cpu, "final_loss": result.losses[-1]}


def run_st(objective: str, data, steps: int, batch: int, device) -> dict:
    """One training run with SentenceTransformerTrainer, timed by callbacks (see the module docstring)."""
    from sentence_transformers import (SentenceTransformer, SentenceTransformerTrainer,
                                       SentenceTransformerTrainingArguments, losses)
    from transformers import TrainerCallback

    model = SentenceTransformer(packaged_path(), device=str(device))
    model.max_seq_length = MAX_LEN
    if objective == "softmax":
        loss = losses.SoftmaxLoss(model, embedding_dimension=model.get_sentence_embedding_dimension(), num_labels=3)
    else:
        loss = losses.MultipleNegativesRankingLoss(model, scale=20.0)
    marks = {}

    class Timer(TrainerCallback):
        def on_train_begin(self, args, state, control, **kwargs):
            C.sync(device)
            marks["start"] = (time.perf_counter(), time.process_time())

        def on_step_end(self, args, state, control, **kwargs):
            if state.global_step == steps:
                C.sync(device)
                marks["end"] = (time.perf_counter(), time.process_time())

    cuda = getattr(device, "type", str(device)) == "cuda"
    with tempfile.TemporaryDirectory() as out:
        args = SentenceTransformerTrainingArguments(
            output_dir=out, per_device_train_batch_size=batch, learning_rate=LR, warmup_steps=math.ceil(0.1 * steps),
            max_steps=steps, weight_decay=0.01, max_grad_norm=1.0, lr_scheduler_type="linear", optim="adamw_torch_fused",
            logging_strategy="no", save_strategy="no", eval_strategy="no", report_to="none", seed=42,
            dataloader_drop_last=True, disable_tqdm=True, use_cpu=not cuda, bf16=cuda, tf32=True if cuda else None,
        )
        trainer = SentenceTransformerTrainer(model=model, args=args, train_dataset=data, loss=loss, callbacks=[Timer()])
        trainer.train()
    return {"seconds": marks["end"][0] - marks["start"][0], "cpu_seconds": marks["end"][1] - marks["start"][1]}


def main(argv=None):
    args = C.parser(__doc__.split("\n\n")[0]).parse_args(argv)
    device = C.setup_torch(args)
    steps, reps, batch = SIZES[C.mode(args)]
    reps = args.reps or reps
    record = {"benchmark": "train_vs_st", "machine": C.machine(device),
              "settings": {"steps": steps, "batch_size": batch, "reps": reps, "learning_rate": LR,
                           "max_seq_length": MAX_LEN, "model": "all-MiniLM-L6-v2 (packaged)", "optimizer": "AdamW fused"},
              "results": {}}
    ratios, wall_ratios = {}, []
    for objective in ("softmax", "mnr"):
        data = load_data(objective, steps * batch)
        if not args.tiny and (objective == "softmax" or C.mode(args) == "full"):  # --quick: one warm-up in all
            warm = data.select(range(2 * batch))
            run_ours(objective, warm, 2, batch, device)
            run_st(objective, warm, 2, batch, device)
        print(f"{objective}: {steps} steps of {batch}, {reps} repetitions per side", flush=True)
        runs = C.alternate({"sbert_teach": lambda: run_ours(objective, data, steps, batch, device),
                            "st_trainer": lambda: run_st(objective, data, steps, batch, device)}, reps)
        ours = [r["seconds"] for r in runs["sbert_teach"]]
        theirs = [r["seconds"] for r in runs["st_trainer"]]
        pairs = steps * batch
        record["results"][objective] = {
            "pairs_per_second": {"sbert_teach": C.stats([pairs / s for s in ours]),
                                 "st_trainer": C.stats([pairs / s for s in theirs])},
            "seconds": {"sbert_teach": C.stats(ours), "st_trainer": C.stats(theirs)},
            "cpu_seconds": {"sbert_teach": C.stats([r["cpu_seconds"] for r in runs["sbert_teach"]]),
                            "st_trainer": C.stats([r["cpu_seconds"] for r in runs["st_trainer"]])},
            "paired_ratio": C.ratio_stats(theirs, ours),
            "cpu_time_ratio": C.ratio_stats([r["cpu_seconds"] for r in runs["st_trainer"]],
                                            [r["cpu_seconds"] for r in runs["sbert_teach"]]),
        }
        ratios[f"train_{objective}_vs_st_ratio"] = record["results"][objective]["paired_ratio"]["median"]
        wall_ratios.append(ratios[f"train_{objective}_vs_st_ratio"])
    ratios["train_vs_st_ratio"] = math.prod(wall_ratios) ** (1 / len(wall_ratios))  # geometric mean
    C.finish("train_vs_st", args, record, ratios)


if __name__ == "__main__":
    main()
