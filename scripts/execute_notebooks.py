"""Execute chapter notebooks in place (their saved outputs are what nbval compares and GitHub shows).

Usage: python scripts/execute_notebooks.py [notebooks/01_*.ipynb ...]   (default: all chapters)
Runs at SBERT_TEACH_SCALE (default smoke) on the packaged resources and prints each notebook's time.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

os.environ.setdefault("SBERT_TEACH_SCALE", "smoke")
os.environ.setdefault("SBERT_TEACH_RESOURCES", "packaged")
os.environ.setdefault("TQDM_DISABLE", "1")
# as in the Makefile, so the saved outputs match what nbval sees in CI (no download/loading bars)
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("SBERT_TEACH_HEADLESS", "1")  # as make book and make test: no live-only widgets in saved outputs

paths = [Path(p) for p in sys.argv[1:]] or sorted(Path("notebooks").glob("[0-9][0-9]_*.ipynb"))
for path in paths:
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=1800, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    nbformat.write(nb, path)
    print(f"{path}: {time.perf_counter() - start:.0f} s", flush=True)
