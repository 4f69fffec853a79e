"""Training throughput at bert-base shape, and model FLOPs utilisation (MFU), with sbert_teach.

A randomly initialised ``BertConfig()`` of base size (12 layers, hidden 768, 12 heads, 110M
parameters) under the packaged tokenizer (the same 30,522 word pieces as bert-base-uncased),
mean pooling, softmax objective on SNLI, one pass over the same ``steps * batch`` rows,
AdamW 2e-5, everything else as :class:`sbert_teach.TrainConfig` defaults (bf16 autocast and TF32
on CUDA, padding-free passes, fused AdamW). Meant for a GPU (``benchmarks/gpu.sh``); it runs on
a CPU too, slowly.

Also timed, alternating: the same loop with one plain pass per sentence column
(``padding_free=False, smart_batching=False``), to show what the padding-free pass buys at this size.

Timed: ``TrainResult.seconds`` (first batch drawn to last optimizer step, device synchronised).

Model FLOPs per step count the useful work only: ``6 * N * T`` for the N = 85M weights of the
12 transformer layers over the T real (non-padding) tokens of the step, plus
``12 * layers * hidden * L**2`` per sentence of L tokens for the attention products (forward
and backward). MFU = achieved model FLOP/s / the device's peak dense bf16 FLOP/s (a built-in
table of common GPUs; ``--peak-tflops`` to set it). ``--tiny`` uses a 2-layer, hidden-64 model.

    bash benchmarks/gpu.sh      # runs this with --device cuda
"""

from __future__ import annotations

import _common as C

PEAK_BF16_TFLOPS = {"H200": 989.0, "H100 PCIe": 756.0, "H100": 989.0, "A100": 312.0, "L40S": 362.0,
                    "A10G": 70.0, "L4": 121.0, "T4": 65.0, "V100": 125.0, "RTX 4090": 165.0}
SIZES = {"tiny": (1, 1, 4), "quick": (3, 2, 8), "full": (100, 3, 16)}  # steps, reps, batch (quick: under a minute on 2 CPU cores)


def peak_tflops(device, given):
    import torch

    if given:
        return given
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(0)
    for key, value in PEAK_BF16_TFLOPS.items():  # longest names first where they overlap ("H100 PCIe")
        if key in name:
            return value
    return None


def build(tiny: bool):
    import torch
    from transformers import AutoTokenizer, BertConfig, BertModel

    from sbert_teach import SentenceEncoder, resources

    config = BertConfig(num_hidden_layers=2, hidden_size=64, num_attention_heads=2, intermediate_size=256) if tiny \
        else BertConfig()
    torch.manual_seed(0)
    tokenizer = AutoTokenizer.from_pretrained(str(resources.packaged_model_path()))
    return SentenceEncoder(BertModel(config, add_pooling_layer=False), tokenizer, max_length=128), config


def model_flops(data, tokenizer, config, max_length=128) -> float:
    """Useful FLOPs of one pass (forward + backward) over every row of ``data``."""
    layer_params = 4 * config.hidden_size ** 2 + 2 * config.hidden_size * config.intermediate_size \
        + 9 * config.hidden_size + config.intermediate_size  # weights and biases, LayerNorms
    n = config.num_hidden_layers * layer_params
    total = 0.0
    for column in ("sentence1", "sentence2"):
        lengths = [len(x) for x in tokenizer(list(data[column]), truncation=True, max_length=max_length)["input_ids"]]
        total += 6 * n * sum(lengths) + 12 * config.num_hidden_layers * config.hidden_size * sum(L * L for L in lengths)
    return total


def main(argv=None):
    import sbert_teach as st

    p = C.parser(__doc__.split("\n\n")[0])
    p.add_argument("--peak-tflops", type=float, default=None, help="the device's peak dense bf16 TFLOP/s")
    p.add_argument("--batch-size", type=int, default=None)
    args = p.parse_args(argv)
    device = C.setup_torch(args)
    steps, reps, batch = SIZES[C.mode(args)]
    batch = args.batch_size or batch
    reps = args.reps or reps
    data = st.load_nli("train", limit=steps * batch)
    encoder, config = build(args.tiny)
    flops = model_flops(data, encoder.tokenizer, config)

    def once(n_steps=steps, rows=data, **switches):
        encoder_, _ = build(args.tiny)
        module = st.make_objective("softmax", encoder_)
        cfg = st.TrainConfig(batch_size=batch, learning_rate=2e-5, max_steps=n_steps, seed=42, show_progress=False,
                             device=str(device), **switches)
        return {"seconds": st.train(module, rows, cfg).seconds}

    plain = {"padding_free": False, "smart_batching": False}  # one pass per column, as a plain loop does
    if not args.tiny:
        once(2, data.select(range(2 * batch)))  # warm-up
    all_runs = C.alternate({"sbert_teach": once, "plain_passes": lambda: once(**plain)}, reps)
    secs = [r["seconds"] for r in all_runs["sbert_teach"]]
    plain_secs = [r["seconds"] for r in all_runs["plain_passes"]]
    achieved = [flops / s / 1e12 for s in secs]
    peak = peak_tflops(device, args.peak_tflops)
    record = {
        "benchmark": "bert_base", "machine": C.machine(device),
        "settings": {"steps": steps, "batch_size": batch, "reps": reps, "layers": config.num_hidden_layers,
                     "hidden": config.hidden_size, "objective": "softmax", "peak_bf16_tflops": peak,
                     "model_flops_per_run": flops},
        "results": {"pairs_per_second": C.stats([steps * batch / s for s in secs]), "seconds": C.stats(secs),
                    "achieved_tflops": C.stats(achieved),
                    "mfu": C.stats([a / peak for a in achieved]) if peak else None,
                    "plain_passes_seconds": C.stats(plain_secs),
                    "paired_ratio_vs_plain_passes": C.ratio_stats(plain_secs, secs)},
    }
    print(f"bert-base shape: {steps * batch / sorted(secs)[len(secs) // 2]:.1f} pairs/s, "
          f"{sorted(achieved)[len(achieved) // 2]:.2f} model TFLOP/s"
          + (f", MFU {record['results']['mfu']['median']:.1%}" if peak else " (no peak known: MFU not computed)"))
    C.finish("bert_base", args, record,
             {"bert_base_vs_plain_passes_ratio": record["results"]["paired_ratio_vs_plain_passes"]["median"]})


if __name__ == "__main__":
    main()
