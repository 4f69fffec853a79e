"""Where the speed comes from: turn each speed switch of sbert_teach off in turn and time it.

Training (softmax objective, the packaged encoder, batch 16, the same steps and data as
``train_vs_st.py``) with :class:`sbert_teach.TrainConfig` switches:

* ``padding_free=False``: one forward pass per sentence column again, length-sorted sub-batches
  (``smart_batching``) still on;
* ``padding_free=False, smart_batching=False``: one pass per column, each padded to its longest
  sentence (the plain dynamic padding every loop has);
* ``dynamic_padding=False``: every batch padded to ``max_seq_length`` (128), the static way;
* ``fused_optimizer=False``: AdamW's for-each implementation instead of the fused kernel;
* on CUDA also ``mixed_precision="off"`` (no bf16 autocast), ``allow_tf32=False`` and
  ``sync_every=1`` (read the loss back to the host after every step).

Encoding (``SentenceEncoder.encode`` on STSb test sentences, batch 64) with
``padding_free=False`` (padded dense layers, batches still length-sorted; on CUDA, where ``"auto"``
leaves it off, ``padding_free=True`` as an extra that is *on*), ``smart_batching=False``, ``dynamic_padding=False``, ``inference_mode=False`` (``no_grad``), and on
CUDA ``mixed_precision="auto"`` (bf16) as an extra that is *on* rather than off.

Each ``<switch>_share_ratio`` line is (time with that switch off) / (time with all on): the
factor that switch contributes here. Timed like the other scripts (whole training loop; whole
``encode`` call), variants alternating within each repetition.

    python benchmarks/switches.py --quick
"""

from __future__ import annotations

import _common as C

SIZES = {"tiny": (1, 1, 4, 16), "quick": (2, 2, 16, 96), "full": (20, 3, 16, 2000)}  # steps, reps, batch, sentences


def main(argv=None):
    from encode_vs_st import BATCH, MAX_LEN, sts_sentences
    from train_vs_st import load_data, packaged_path, run_ours

    from sbert_teach.persistence import load_encoder

    args = C.parser(__doc__.split("\n\n")[0]).parse_args(argv)
    device = C.setup_torch(args)
    steps, reps, batch, n_sent = SIZES[C.mode(args)]
    reps = args.reps or reps
    cuda = device.type == "cuda"
    train_variants = {
        "all_on": {},
        "padding_free": {"padding_free": False},
        "padding_free_and_smart_batching": {"padding_free": False, "smart_batching": False},
        "dynamic_padding": {"dynamic_padding": False},
        "fused_optimizer": {"fused_optimizer": False},
    }
    if cuda:
        train_variants.update({"mixed_precision": {"mixed_precision": "off"}, "allow_tf32": {"allow_tf32": False},
                               "sync_every": {"sync_every": 1}})
    data = load_data("softmax", steps * batch)
    if not args.tiny:
        run_ours("softmax", data.select(range(2 * batch)), 2, batch, device)  # warm-up
    print(f"training: {steps} steps of {batch}, {reps} repetitions per variant", flush=True)
    runs = C.alternate({k: (lambda v=v: run_ours("softmax", data, steps, batch, device, **v))
                        for k, v in train_variants.items()}, reps)
    train_secs = {k: [r["seconds"] for r in v] for k, v in runs.items()}

    sentences = sts_sentences(n_sent)
    encoder = load_encoder(packaged_path(), max_length=MAX_LEN).to(device).eval()
    # padding_free="auto" is on for a CPU and off on CUDA, so on CUDA the row turns it on instead
    padding_free = {"padding_free_on": {"padding_free": True}} if cuda else {"padding_free": {"padding_free": False}}
    encode_variants = {"all_on": {}, **padding_free, "smart_batching": {"smart_batching": False},
                       "dynamic_padding": {"dynamic_padding": False}, "inference_mode": {"inference_mode": False}}
    if cuda:
        encode_variants["bf16_autocast_on"] = {"mixed_precision": "auto"}
    encoder.encode(sentences[:BATCH])  # warm-up

    def timed_encode(options):
        with C.Clock(device) as clock:
            encoder.encode(sentences, batch_size=BATCH, convert_to_numpy=True, **options)
        return {"seconds": clock.wall, "cpu_seconds": clock.cpu}

    print(f"encoding: {len(sentences)} sentences, batch {BATCH}, {reps} repetitions per variant", flush=True)
    eruns = C.alternate({k: (lambda v=v: timed_encode(v)) for k, v in encode_variants.items()}, reps)
    encode_secs = {k: [r["seconds"] for r in v] for k, v in eruns.items()}

    record = {
        "benchmark": "switches", "machine": C.machine(device),
        "settings": {"train_steps": steps, "batch_size": batch, "reps": reps, "encode_sentences": len(sentences),
                     "encode_batch_size": BATCH, "objective": "softmax", "model": "all-MiniLM-L6-v2 (packaged)"},
        "results": {
            "train": {k: {"switches": train_variants[k], "seconds": C.stats(v),
                          "share": C.ratio_stats(v, train_secs["all_on"])} for k, v in train_secs.items()},
            "encode": {k: {"switches": encode_variants[k], "seconds": C.stats(v),
                           "share": C.ratio_stats(v, encode_secs["all_on"])} for k, v in encode_secs.items()},
        },
    }
    ratios = {f"train_{k}_share_ratio": record["results"]["train"][k]["share"]["median"]
              for k in train_variants if k != "all_on"}
    ratios.update({f"encode_{k}_share_ratio": record["results"]["encode"][k]["share"]["median"]
                   for k in encode_variants if k != "all_on"})
    C.finish("switches", args, record, ratios)


if __name__ == "__main__":
    main()
