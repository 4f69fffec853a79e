"""Encoding throughput: sbert_teach ``encode()`` vs sentence-transformers ``encode()`` vs a naive loop.

All three in one process, alternating repetitions, on the same packaged encoder
(all-MiniLM-L6-v2, mean pooling, ``max_seq_length`` 128), the same sentences (both columns
of the STS Benchmark test split, in file order, duplicates kept; ``--quick`` takes 512 of them
evenly spaced through the file, so every genre is represented) and the same batch size (64):

* ``sbert_teach``: ``SentenceEncoder.encode(sentences, batch_size=64, convert_to_numpy=True)``:
  tokenise once, sort by token length, pad each batch to its own longest sentence, on a CPU run the
  dense layers on the real tokens only (``padding_free="auto"``: BERT models, CPU only), under
  ``torch.inference_mode``, return vectors in input order;
* ``smart_batching_only``: the same call with ``padding_free=False``: the paper's Table 7 trick
  (length-sorted batches) alone, so the appendix can compare it with the paper like for like;
* ``sentence_transformers``: ``SentenceTransformer.encode(sentences, batch_size=64)`` (numpy out;
  it sorts by character length and tokenises batch by batch);
* ``naive``: the loop most people write first: fixed batches of 64 in input order (unsorted),
  each tokenised and padded to its longest sentence, ``torch.no_grad``, mean pooling.

What is timed: the whole call, from the list of strings to a numpy array of vectors
(tokenisation included), after one untimed warm-up call per side on 64 sentences.
The record also holds the largest difference between the three sides' vectors (they must agree).

    python benchmarks/encode_vs_st.py --quick
"""

from __future__ import annotations

import _common as C

BATCH = 64
MAX_LEN = 128
SIZES = {"tiny": (32, 1), "quick": (512, 4), "full": (None, 5)}  # sentences (None: all), reps


def sts_sentences(limit=None) -> list[str]:
    import sbert_teach as st

    sts = st.load_sts("test")
    sentences = list(sts["sentence1"]) + list(sts["sentence2"])
    if limit and limit < len(sentences):  # evenly spaced, so every genre of the file is represented
        step = len(sentences) / limit
        sentences = [sentences[int(i * step)] for i in range(limit)]
    return sentences


def naive_encode(transformer, tokenizer, sentences, batch_size=BATCH, max_length=MAX_LEN, normalize=False):
    """Unsorted fixed batches, padded to the longest in the batch, mean pooling (then L2 norm if asked), no_grad."""
    import torch

    device = next(transformer.parameters()).device
    out = []
    with torch.no_grad():
        for start in range(0, len(sentences), batch_size):
            batch = tokenizer(sentences[start:start + batch_size], padding=True, truncation=True,
                              max_length=max_length, return_tensors="pt").to(device)
            tokens = transformer(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(tokens.dtype)
            emb = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            if normalize:  # the packaged model ends in a Normalize layer
                emb = torch.nn.functional.normalize(emb, dim=-1)
            out.append(emb.float().cpu())
    return torch.cat(out).numpy()


def models(device):
    from sentence_transformers import SentenceTransformer

    from sbert_teach import resources
    from sbert_teach.persistence import load_encoder

    path = str(resources.packaged_model_path())
    ours = load_encoder(path, max_length=MAX_LEN).to(device).eval()
    theirs = SentenceTransformer(path, device=str(device))
    theirs.max_seq_length = MAX_LEN
    return ours, theirs


def timed(fn, device):
    with C.Clock(device) as clock:
        out = fn()
    return {"seconds": clock.wall, "cpu_seconds": clock.cpu, "output": out}


def main(argv=None):
    import numpy as np

    args = C.parser(__doc__.split("\n\n")[0]).parse_args(argv)
    device = C.setup_torch(args)
    limit, reps = SIZES[C.mode(args)]
    reps = args.reps or reps
    sentences = sts_sentences(limit)
    ours, theirs = models(device)
    sides = {
        "sbert_teach": lambda s: ours.encode(s, batch_size=BATCH, convert_to_numpy=True),
        "sentence_transformers": lambda s: theirs.encode(s, batch_size=BATCH, show_progress_bar=False),
        "naive": lambda s: naive_encode(ours.transformer, ours.tokenizer, s, normalize=ours.normalize),
        "smart_batching_only": lambda s: ours.encode(s, batch_size=BATCH, convert_to_numpy=True, padding_free=False),
    }
    for fn in sides.values():  # warm-up
        fn(sentences[:BATCH])
    print(f"encoding {len(sentences)} STSb sentences, batch {BATCH}, {reps} repetitions per side", flush=True)
    runs = C.alternate({name: (lambda fn=fn: timed(lambda: fn(sentences), device)) for name, fn in sides.items()}, reps)
    outputs = {name: r[-1].pop("output") for name, r in runs.items()}
    for r in runs.values():
        for item in r:
            item.pop("output", None)
    n = len(sentences)
    secs = {name: [r["seconds"] for r in rs] for name, rs in runs.items()}
    cpus = {name: [r["cpu_seconds"] for r in rs] for name, rs in runs.items()}
    record = {
        "benchmark": "encode_vs_st", "machine": C.machine(device),
        "settings": {"sentences": n, "source": "STSb test, both columns", "batch_size": BATCH, "reps": reps,
                     "max_seq_length": MAX_LEN, "model": "all-MiniLM-L6-v2 (packaged)"},
        "results": {
            "sentences_per_second": {name: C.stats([n / s for s in v]) for name, v in secs.items()},
            "seconds": {name: C.stats(v) for name, v in secs.items()},
            "cpu_seconds": {name: C.stats(v) for name, v in cpus.items()},
            "paired_ratio_vs_st": C.ratio_stats(secs["sentence_transformers"], secs["sbert_teach"]),
            "paired_ratio_vs_naive": C.ratio_stats(secs["naive"], secs["sbert_teach"]),
            "smart_batching_only_vs_naive": C.ratio_stats(secs["naive"], secs["smart_batching_only"]),
            "cpu_time_ratio_vs_st": C.ratio_stats(cpus["sentence_transformers"], cpus["sbert_teach"]),
            "cpu_time_ratio_vs_naive": C.ratio_stats(cpus["naive"], cpus["sbert_teach"]),
            "max_abs_difference": {
                "vs_sentence_transformers": float(np.abs(outputs["sbert_teach"] - outputs["sentence_transformers"]).max()),
                "vs_naive": float(np.abs(outputs["sbert_teach"] - outputs["naive"]).max()),
                "vs_smart_batching_only": float(np.abs(outputs["sbert_teach"] - outputs["smart_batching_only"]).max()),
            },
        },
    }
    ratios = {"encode_vs_st_ratio": record["results"]["paired_ratio_vs_st"]["median"],
              "encode_vs_naive_ratio": record["results"]["paired_ratio_vs_naive"]["median"]}
    C.finish("encode_vs_st", args, record, ratios)


if __name__ == "__main__":
    main()
