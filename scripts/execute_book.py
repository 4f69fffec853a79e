"""Execute the chapters for the book build, into jupyter-book's cache, failing fast on a hung kernel.

``make book`` runs this before ``jupyter-book build``. It executes every chapter
whose code is not cached yet through the executor jupyter-book itself uses
(``jupyter_cache.executors.utils.single_nb_execution``, as myst-nb's cache mode
does) and stores the result in ``_build/.jupyter_cache``, where the build then
finds it ("Using cached notebook"). What it adds:

* a per-cell timeout from measured cell times (``scripts/cell_timeouts.py``),
  not a blanket half hour;
* a timeout says which chapter and cell, and that the kernel stopped answering;
* a chapter that timed out is retried once with a fresh kernel, and the output says so.

Usage: python scripts/execute_book.py [--scale local] [notebooks/NN_*.ipynb ...]
Exit status 1 when a chapter failed (the build would fail on it too).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn
from jupyter_cache.executors.utils import single_nb_execution
from nbclient.exceptions import CellTimeoutError, DeadKernelError

sys.path.insert(0, str(Path(__file__).parent))
from cell_timeouts import cell_timeout, record_slowest  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def cell_seconds(nb) -> dict[int, float]:
    """Seconds each code cell took, from nbclient's timing records."""
    from datetime import datetime

    times = {}
    for index, cell in enumerate(nb.cells):
        meta = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in meta and "shell.execute_reply" in meta:
            a, b = (datetime.fromisoformat(meta[k].replace("Z", "+00:00"))
                    for k in ("iopub.execute_input", "shell.execute_reply"))
            times[index] = (b - a).total_seconds()
    return times


def timeout_message(chapter: str, cell_index: int, nb, timeout: int, scale: str) -> str:
    source = nb.cells[cell_index].source.strip().splitlines() if cell_index is not None else [""]
    first = (source[0][:70] + ("..." if len(source[0]) > 70 or len(source) > 1 else "")) if source else ""
    why = (f"four times the slowest cell measured at the {scale} scale" if timeout == cell_timeout(scale)
           else "the limit set by SBERT_TEACH_CELL_TIMEOUT")
    return (f"{chapter}, cell {cell_index} ({first!r}): the kernel stopped answering: no reply in {timeout} s, "
            f"{why}. A kernel that goes idle without "
            "replying is ipykernel 7's hang (ipython/ipykernel#1554; this project pins ipykernel<7, check "
            "`pip show ipykernel`); a cell that is simply slower here than where it was measured looks the same: "
            "raise the limit with SBERT_TEACH_CELL_TIMEOUT=SECONDS.")


def execute(path: Path, timeout: int, scale: str, attempts: int = 2):
    """Execute ``path`` (fresh kernel each attempt); return (notebook, result, attempts used)."""
    for attempt in range(1, attempts + 1):
        nb = nbformat.read(path, as_version=4)
        current = {"index": None}
        result = single_nb_execution(nb, cwd=str(path.parent.resolve()), timeout=timeout, allow_errors=False,
                                     record_timing=True,
                                     on_cell_start=lambda cell, cell_index: current.update(index=cell_index))
        hung = isinstance(result.err, (CellTimeoutError, DeadKernelError))
        if not hung:
            return nb, result, attempt
        print(timeout_message(path.name, current["index"], nb, timeout, scale), flush=True)
        if attempt < attempts:
            print(f"{path.name}: retrying the chapter once, with a fresh kernel (attempt {attempt + 1} of {attempts}).",
                  flush=True)
    return nb, result, attempts


def store(cache, path: Path, nb, seconds: float) -> None:
    """Put executed ``nb`` in the cache under the key the build will look for.

    jupyter-cache hashes code cells with *all* their metadata, so each executed cell gets back the
    metadata of the file on disk, the one the build reads: nbclient adds its timing records
    (``metadata.execution``), and a chapter saved by nbconvert already carries older ones. Any
    difference and the build finds no match and executes every chapter again.
    """
    on_disk = nbformat.read(path, as_version=4)
    for executed, saved in zip(nb.cells, on_disk.cells, strict=True):
        executed.metadata = saved.metadata
    stage = cache.add_nb_to_project(str(path))
    cache.cache_notebook_bundle(CacheBundleIn(nb, stage.uri, data={"execution_seconds": seconds}),
                                check_validity=False, overwrite=True)


def main() -> int:
    os.environ.setdefault("SBERT_TEACH_HEADLESS", "1")  # no browser: chapters skip live-only widgets
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--scale", default=os.environ.get("SBERT_TEACH_SCALE", "local"))
    parser.add_argument("--cache", type=Path, default=ROOT / "_build" / ".jupyter_cache")
    args = parser.parse_args()
    os.environ["SBERT_TEACH_SCALE"] = args.scale
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    timeout = int(os.environ.get("SBERT_TEACH_CELL_TIMEOUT") or cell_timeout(args.scale))
    cache = get_cache(str(args.cache))
    failed, slowest, retries, executed = [], {}, 0, 0
    for path in paths:
        path = path.resolve()
        nb = nbformat.read(path, as_version=4)
        try:
            cache.match_cache_notebook(nb)
            print(f"{path.name}: cached, not executed again", flush=True)
            continue
        except KeyError:
            pass
        start = time.perf_counter()
        nb, result, attempts = execute(path, timeout, args.scale)
        retries += attempts - 1
        executed += 1
        if result.err is not None:
            failed.append(path.name)
            print(f"{path.name}: FAILED after {attempts} attempt(s): {result.err.__class__.__name__}\n"
                  f"{result.exc_string}", flush=True)
            continue
        times = cell_seconds(nb)
        store(cache, path, nb, result.time)
        slowest[path.name] = max(times.values(), default=0.0)
        print(f"{path.name}: executed in {time.perf_counter() - start:.0f} s (slowest cell {slowest[path.name]:.1f} s"
              f"{', after a retry' if attempts > 1 else ''})", flush=True)
    print(f"chapters executed: {executed}, retries: {retries}, failed: {len(failed)} (cell timeout {timeout} s)")
    if executed == len(paths) and not failed and args.scale in ("local", "smoke") and not args.notebooks:
        record_slowest(args.scale, slowest, f"scripts/execute_book.py (make book), {time.strftime('%Y-%m-%d')}, "
                                            f"{os.cpu_count()} CPU cores")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
