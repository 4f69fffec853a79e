#!/usr/bin/env bash
# Run every benchmark on CUDA, plus training at bert-base shape with model FLOPs utilisation,
# then regenerate the appendix page. Written to run on a machine with an NVIDIA GPU and a CUDA
# build of torch. Last run 2026-11-22 on an H100 (records: benchmarks/results/*_cuda.json).
#
#   bash benchmarks/gpu.sh            # full sizes (a few minutes on a modern GPU)
#   bash benchmarks/gpu.sh --quick    # small sizes
#
# Records go to benchmarks/results/<name>_cuda.json, next to the CPU ones.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
SIZE="${1:-}"
export SBERT_TEACH_RESOURCES="${SBERT_TEACH_RESOURCES:-packaged}" HF_HUB_OFFLINE="${HF_HUB_OFFLINE:-1}"

if ! "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)"; then
  echo "gpu.sh: torch sees no CUDA device (torch $("$PY" -c 'import torch; print(torch.__version__)')); nothing run." >&2
  exit 1
fi
"$PY" -c "import torch; print('device:', torch.cuda.get_device_name(0), '| torch', torch.__version__, '| CUDA', torch.version.cuda)"

# static_vs_transformer onwards: not yet run on a GPU (written 2026-12-07 on a CPU-only machine)
for bench in train_vs_st encode_vs_st scaling switches bert_base static_vs_transformer lora_vs_full \
             cached_mnr_memory miner_vs_library retrieval_vs_library; do
  echo "== $bench (cuda) =="
  "$PY" "benchmarks/$bench.py" $SIZE --device cuda --tag _cuda
done
"$PY" benchmarks/report.py
