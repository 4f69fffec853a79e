"""Time each chapter without Jupyter: its code cells run in order in a fresh IPython shell.

One process per chapter, from ``notebooks/``, with matplotlib's Agg backend. Used to measure the
chapters on a GPU machine that has torch but no Jupyter server (the "GPU" column of the
instructors page, ``book/data/chapter_times_gpu.json``)::

    SBERT_TEACH_SCALE=local python scripts/time_chapters.py            # all chapters
    python scripts/time_chapters.py 04_softmax_nli.ipynb --output times.json
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ONE_CHAPTER = r"""
import json, sys, time
from IPython.core.interactiveshell import InteractiveShell
cells = [c for c in json.load(open(sys.argv[1]))["cells"] if c["cell_type"] == "code"]
shell = InteractiveShell.instance()
start = time.perf_counter()
for i, cell in enumerate(cells):
    if not shell.run_cell("".join(cell["source"])).success:
        sys.exit(f"code cell {i + 1} of {len(cells)} failed")
print("CHAPTER_SECONDS", time.perf_counter() - start)
"""


def time_chapter(name: str, env: dict | None = None) -> tuple[float | None, str]:
    """Run chapter ``name``'s code cells in a fresh process; return (seconds or None if it failed, its output)."""
    proc = subprocess.run([sys.executable, "-c", ONE_CHAPTER, name], cwd=ROOT / "notebooks", text=True,
                          capture_output=True, env={**os.environ, **(env or {}), "MPLBACKEND": "Agg"})
    seconds = [float(line.split()[1]) for line in proc.stdout.splitlines() if line.startswith("CHAPTER_SECONDS")]
    if proc.returncode or not seconds:
        return None, f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return seconds[0], proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("chapters", nargs="*", help="notebook file names (default: all chapters)")
    parser.add_argument("--output", type=Path, default=Path("chapter_times.json"))
    args = parser.parse_args()
    import torch

    names = args.chapters or sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    chapters, failed = {}, []
    for name in names:
        seconds, output = time_chapter(name)
        if seconds is None:
            failed.append(name)
            print(f"{name}: FAILED\n{output}", flush=True)
            continue
        chapters[name] = {"seconds": round(seconds, 1)}
        print(f"{name}: {seconds:.1f} s", flush=True)
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"
    args.output.write_text(json.dumps({"device": device, "torch": torch.__version__,
                                       "scale": os.environ.get("SBERT_TEACH_SCALE", "local"),
                                       "how": "scripts/time_chapters.py", "chapters": chapters}, indent=1) + "\n")
    if failed:
        sys.exit(f"{len(failed)} chapter(s) failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
