"""Scaling: how bi-encoder and cross-encoder time grow with the number of sentences n.

The task is the SBERT paper's motivating one: among n sentences, find the most similar pair.

* bi-encoder (sbert_teach): ``encode()`` the n sentences once, then one n x n cosine matrix;
  time grows about linearly in n (the matrix is tiny next to the encoder at these sizes);
* cross-encoder: the same packaged transformer reads each pair as one input
  (``[CLS] a [SEP] b [SEP]``) and a linear head on ``[CLS]`` scores it. Every one of the
  n(n-1)/2 pairs needs its own forward pass, so time grows about quadratically.
  The pairs are length-sorted and batched by 64 under ``torch.inference_mode``, the same care
  the bi-encoder gets. The head is untrained: only the time matters here.

n = 100, 200, 400, 800 STSb test sentences. Scoring all 319,600 pairs at n = 800 takes far
too long for a CPU run, so the cross-encoder times a random sample of at most ``cap`` pairs per
n (quick: 256, full: 2,048) and scales the measured time per pair to all n(n-1)/2 pairs; the
record says, for each n, how many pairs were actually measured. A straight line is fitted to
log(time) against log(n); its slope is the growth exponent (1: linear, 2: quadratic).

    python benchmarks/scaling.py --quick
"""

from __future__ import annotations

import _common as C

BATCH = 64
SIZES = {"tiny": ((8, 16), 8, 1), "quick": ((100, 200, 400, 800), 256, 2),
         "full": ((100, 200, 400, 800), 2048, 3)}  # n values, cap on cross-encoder pairs, reps


def cross_encoder_seconds(transformer, tokenizer, head, sentences, cap, rng, device):
    """Seconds to score every pair of ``sentences`` (measured on at most ``cap`` pairs, then scaled)."""
    import numpy as np
    import torch

    n = len(sentences)
    total = n * (n - 1) // 2
    if total <= cap:
        pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    else:
        seen = set()
        while len(seen) < cap:
            i, j = sorted(rng.choice(n, 2, replace=False).tolist())
            seen.add((i, j))
        pairs = sorted(seen)
    with C.Clock(device) as clock, torch.inference_mode():
        enc = tokenizer([sentences[i] for i, _ in pairs], [sentences[j] for _, j in pairs], truncation=True,
                        max_length=256)
        lengths = np.array([len(x) for x in enc["input_ids"]])
        order = np.argsort(-lengths, kind="stable")
        scores = []
        for start in range(0, len(pairs), BATCH):
            rows = order[start:start + BATCH]
            batch = tokenizer.pad({k: [enc[k][r] for r in rows] for k in enc}, return_tensors="pt").to(device)
            cls = transformer(**batch).last_hidden_state[:, 0]
            scores.append(head(cls).squeeze(-1))
        best = int(torch.cat(scores).argmax())  # the most similar pair among those scored
    return clock.wall * total / len(pairs), clock.cpu * total / len(pairs), len(pairs), total


def bi_encoder_seconds(encoder, sentences, device):
    import torch

    with C.Clock(device) as clock:
        emb = encoder.encode(sentences, batch_size=BATCH, normalize=True)
        sims = emb @ emb.T
        sims.fill_diagonal_(-2.0)
        int(torch.argmax(sims))
    return clock.wall, clock.cpu


def slope(ns, ts) -> float:
    import numpy as np

    return float(np.polyfit(np.log(ns), np.log(ts), 1)[0])


def main(argv=None):
    import numpy as np
    import torch

    from encode_vs_st import sts_sentences
    from sbert_teach import resources
    from sbert_teach.persistence import load_encoder

    args = C.parser(__doc__.split("\n\n")[0]).parse_args(argv)
    device = C.setup_torch(args)
    ns, cap, reps = SIZES[C.mode(args)]
    reps = args.reps or reps
    pool = list(dict.fromkeys(sts_sentences()))  # distinct sentences
    rng = np.random.default_rng(0)
    sentences = [pool[i] for i in rng.permutation(len(pool))[: max(ns)]]
    encoder = load_encoder(str(resources.packaged_model_path()), max_length=128).to(device).eval()
    torch.manual_seed(0)
    head = torch.nn.Linear(encoder.hidden_size, 1).to(device)
    encoder.encode(sentences[:BATCH])  # warm-up
    cross_encoder_seconds(encoder.transformer, encoder.tokenizer, head, sentences[:12], 16, rng, device)
    rows = []
    for n in ns:
        bi, cross, bi_cpu, cross_cpu = [], [], [], []
        for _ in range(reps):
            wall, cpu = bi_encoder_seconds(encoder, sentences[:n], device)
            bi.append(wall)
            bi_cpu.append(cpu)
            wall, cpu, measured, total = cross_encoder_seconds(encoder.transformer, encoder.tokenizer, head,
                                                               sentences[:n], cap, rng, device)
            cross.append(wall)
            cross_cpu.append(cpu)
        rows.append({"n": n, "pairs": total, "pairs_measured": measured, "bi_encoder_seconds": C.stats(bi),
                     "cross_encoder_seconds": C.stats(cross), "bi_encoder_cpu_seconds": C.stats(bi_cpu),
                     "cross_encoder_cpu_seconds": C.stats(cross_cpu)})
        print(f"  n={n:4d}: bi-encoder {np.median(bi):8.3f} s   cross-encoder {np.median(cross):10.1f} s "
              f"({measured} of {total} pairs measured)", flush=True)
    bi_med = [r["bi_encoder_seconds"]["median"] for r in rows]
    cross_med = [r["cross_encoder_seconds"]["median"] for r in rows]
    record = {"benchmark": "scaling", "machine": C.machine(device),
              "settings": {"n": list(ns), "cross_encoder_pair_cap": cap, "reps": reps, "batch_size": BATCH,
                           "model": "all-MiniLM-L6-v2 (packaged)", "sentences": "distinct STSb test sentences"},
              "results": {"rows": rows, "bi_encoder_loglog_slope": slope(ns, bi_med),
                          "cross_encoder_loglog_slope": slope(ns, cross_med)}}
    C.finish("scaling", args, record, {"cross_vs_bi_ratio": cross_med[-1] / bi_med[-1],
                                       "bi_encoder_slope": record["results"]["bi_encoder_loglog_slope"],
                                       "cross_encoder_slope": record["results"]["cross_encoder_loglog_slope"]})


if __name__ == "__main__":
    main()
