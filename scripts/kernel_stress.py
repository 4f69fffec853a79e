"""Count kernel hangs: run notebooks many times through the book's executor stack.

The book build executes chapters with jupyter-book -> myst-nb -> jupyter-cache ->
nbclient; this script calls the same ``jupyter_cache.executors.utils.single_nb_execution``
on a notebook of many quick cells (or on the chapters you name), over and over, while
other processes keep every CPU busy, as on a loaded 2-core CI machine. A run whose
cell gets no reply within ``--cell-timeout`` seconds counts as a hang: with the cells
taking milliseconds, only a kernel that stopped answering gets there (ipykernel 7's
dropped shell wake-up, ipython/ipykernel#1554).

Usage:
    python scripts/kernel_stress.py --runs 100            # the quick-cells notebook
    python scripts/kernel_stress.py --runs 1000 --minutes 12   # as many runs as fit in 12 minutes
    python scripts/kernel_stress.py --runs 5 notebooks/08_choosing_a_loss.ipynb
Prints one line per hang and a summary; ``--json FILE`` writes the counts.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

import ipykernel
import nbformat
from jupyter_cache.executors.utils import single_nb_execution
from nbclient.exceptions import CellTimeoutError


MIXED_CELLS = [
    "import sys, time\nprint('out ' * 50)\nprint('err', file=sys.stderr)",
    "from IPython.display import display, HTML\ndisplay(HTML('<b>x</b>'))\nx = 1",
    "time.sleep(0.05)\nfor i in range(20):\n    print(i, end=' ', flush=True)",
    "import threading\nthreading.Thread(target=lambda: print('from a thread')).start()\ny = 2",
]


def quick_cells_notebook(n_cells: int, mixed: bool = False) -> nbformat.NotebookNode:
    """Cells that take milliseconds but exchange many shell and iopub messages.

    ``mixed``: like a chapter's cells, with stdout and stderr streams, rich displays,
    short sleeps and output from a background thread.
    """
    sources = [MIXED_CELLS[i % len(MIXED_CELLS)] if mixed else f"x = {i}\nprint('cell', x)\nx * 2"
               for i in range(n_cells)]
    cells = [nbformat.v4.new_code_cell(source) for source in sources]
    return nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                          "language": "python"}})


def burn(stop_at: float) -> None:
    while time.time() < stop_at:
        sum(i * i for i in range(10_000))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="chapters to run (default: a quick-cells notebook)")
    parser.add_argument("--runs", type=int, default=100, help="executions of each notebook")
    parser.add_argument("--cells", type=int, default=60, help="cells in the quick-cells notebook")
    parser.add_argument("--cell-timeout", type=float, default=30, help="seconds without a reply that count as a hang")
    parser.add_argument("--mixed", action="store_true", help="chapter-like cells: streams, displays, sleeps, threads")
    parser.add_argument("--minutes", type=float, default=None, help="stop starting new runs after this long")
    parser.add_argument("--load", type=int, default=os.cpu_count() or 2, help="CPU-burning processes beside it")
    parser.add_argument("--json", type=Path, help="write the counts here")
    args = parser.parse_args()

    notebooks = [(str(p), nbformat.read(p, as_version=4), str(p.parent.resolve())) for p in args.notebooks]
    if not notebooks:
        kind = "mixed" if args.mixed else "quick"
        notebooks = [(f"{kind} cells ({args.cells})", quick_cells_notebook(args.cells, args.mixed), tempfile.gettempdir())]
    stop_at = time.time() + 24 * 3600
    burners = [multiprocessing.Process(target=burn, args=(stop_at,), daemon=True) for _ in range(args.load)]
    for b in burners:
        b.start()
    counts = {"ipykernel": ipykernel.__version__, "runs": 0, "hangs": 0, "errors": 0, "load_processes": args.load,
              "cell_timeout_s": args.cell_timeout, "notebooks": [name for name, _, _ in notebooks]}
    start = time.perf_counter()
    try:
        for run in range(args.runs):
            if args.minutes and time.perf_counter() - start > 60 * args.minutes:
                break
            for name, nb, cwd in notebooks:
                copy = nbformat.from_dict(json.loads(json.dumps(nb)))
                result = single_nb_execution(copy, cwd=cwd, timeout=args.cell_timeout, allow_errors=False)
                counts["runs"] += 1
                if isinstance(result.err, CellTimeoutError):
                    counts["hangs"] += 1
                    print(f"run {run + 1}: {name}: HANG (no reply in {args.cell_timeout:g} s)", flush=True)
                elif result.err is not None:
                    counts["errors"] += 1
                    print(f"run {run + 1}: {name}: error {result.err.__class__.__name__}", flush=True)
    finally:
        for b in burners:
            b.terminate()
    counts["seconds"] = round(time.perf_counter() - start, 1)
    print(f"ipykernel {counts['ipykernel']}: {counts['hangs']} hangs and {counts['errors']} errors in "
          f"{counts['runs']} runs ({counts['seconds']} s, {args.load} CPU-burning processes beside it)")
    if args.json:
        args.json.write_text(json.dumps(counts, indent=1) + "\n")
    return 1 if counts["hangs"] else 0


if __name__ == "__main__":
    sys.exit(main())
