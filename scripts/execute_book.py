"""Execute the chapters for the book build, into jupyter-book's cache, failing fast on a hung kernel.

``make book`` runs this before ``jupyter-book build``. It executes every chapter
whose code is not cached yet through the executor jupyter-book itself uses
(``jupyter_cache.executors.utils.single_nb_execution``, as myst-nb's cache mode
does) and stores the result in ``_build/.jupyter_cache``, where the build then
finds it ("Using cached notebook"). What it adds:

* a stuck kernel is told from a slow one by its CPU time (``scripts/kernel_watch.py``): a cell whose
  kernel used no CPU time and sent no output for two minutes is failed at once, and the message names
  the chapter and the cell; a cell that keeps the kernel working is never failed for being slow;
* a generous wall-clock limit per cell stays only as a last resort (``scripts/cell_timeouts.py``:
  ten times the slowest cell measured); its message says how to raise it;
* a chapter whose kernel got stuck or died is retried once with a fresh kernel, and the output says so.

Usage: python scripts/execute_book.py [--scale local] [notebooks/NN_*.ipynb ...]
Exit status 1 when a chapter failed (the build would fail on it too).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
import time
import traceback
from pathlib import Path

import nbformat
import psutil
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn
from jupyter_cache.executors.utils import ExecutionResult, single_nb_execution
from nbclient.exceptions import CellTimeoutError, DeadKernelError

sys.path.insert(0, str(Path(__file__).parent))
from cell_timeouts import cell_timeout, record_slowest  # noqa: E402
from kernel_watch import KernelWatch, stuck_message  # noqa: E402

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


def describe_cell(nb, cell_index) -> str:
    """``cell 12 ('model = ...')``: the index and the first line, as a reader finds it."""
    if cell_index is None:
        return "before the first cell"
    source = nb.cells[cell_index].source.strip().splitlines()
    first = (source[0][:70] + ("..." if len(source[0]) > 70 or len(source) > 1 else "")) if source else ""
    return f"cell {cell_index} ({first!r})"


def timeout_message(chapter: str, cell_index: int, nb, timeout: int, scale: str) -> str:
    why = (f"the last-resort limit, ten times the slowest cell measured at the {scale} scale"
           if timeout == cell_timeout(scale) else "the limit set by SBERT_TEACH_CELL_TIMEOUT")
    return (f"{chapter}, {describe_cell(nb, cell_index)}: still running after {timeout} s, {why}. The kernel kept "
            "working (a stuck kernel is caught within two minutes by its CPU time), so this cell is only slow here: "
            "raise the limit with SBERT_TEACH_CELL_TIMEOUT=SECONDS, or run on a less busy machine.")


def kernel_pid() -> int | None:
    """The pid of the kernel this process started (nbclient runs one at a time)."""
    for child in psutil.Process().children(recursive=True):
        try:
            if any("ipykernel" in part for part in child.cmdline()):
                return child.pid
        except psutil.Error:
            continue
    return None


class Watchdog(threading.Thread):
    """Watches the running cell's kernel each second; kills a stuck kernel so nbclient stops waiting.

    nbclient notices the dead kernel within a second (DeadKernelError); :attr:`stuck` then says
    which cell and for how long, so the message can call it stuck rather than dead.
    """

    def __init__(self, nb, stretch: float | None = None):
        super().__init__(daemon=True)
        self.nb, self.stretch = nb, stretch
        self.watch, self.cell_index, self.outputs = None, None, 0
        self.stuck = None  # (cell index, seconds) once it fired
        self.finished = threading.Event()

    def cell_started(self, cell, cell_index) -> None:
        pid = kernel_pid()
        if pid is not None and (self.watch is None or self.watch.pid != pid):
            self.watch = KernelWatch(pid, self.stretch)
        elif self.watch is not None:
            self.watch.start_cell()
        self.cell_index, self.outputs = cell_index, 0

    def cell_finished(self, cell, cell_index, **_) -> None:  # nbclient's on_cell_executed: the reply came
        self.cell_index = None

    def run(self) -> None:
        while not self.finished.wait(1.0):
            watch, index = self.watch, self.cell_index
            if watch is None or index is None:
                continue
            outputs = len(self.nb.cells[index].get("outputs", []))
            if outputs != self.outputs:  # nbclient appends outputs as they arrive
                self.outputs = outputs
                watch.saw_output()
            seconds = watch.stuck_for()
            if seconds is not None and index == self.cell_index:
                self.stuck = (index, seconds)
                os.kill(watch.pid, signal.SIGKILL)  # also ends a SIGSTOPped kernel
                return


def execute(path: Path, timeout: int, scale: str, attempts: int = 2, stretch: float | None = None):
    """Execute ``path`` (fresh kernel each attempt); return (notebook, result, attempts used).

    ``stretch``: seconds without CPU time or output that count as stuck (default two minutes,
    ``SBERT_TEACH_STUCK_AFTER``). ``timeout``: the wall-clock last resort per cell.
    """
    for attempt in range(1, attempts + 1):
        nb = nbformat.read(path, as_version=4)
        watchdog = Watchdog(nb, stretch)
        watchdog.start()
        start = time.perf_counter()
        try:
            result = single_nb_execution(nb, cwd=str(path.parent.resolve()), timeout=timeout, allow_errors=False,
                                         record_timing=True, on_cell_start=watchdog.cell_started,
                                         on_cell_executed=watchdog.cell_finished)
        except DeadKernelError as err:  # jupyter-cache passes it on (a stuck kernel the watchdog ended, or OOM)
            result = ExecutionResult(nb, str(path.parent), time.perf_counter() - start, err, traceback.format_exc())
        finally:
            watchdog.finished.set()
        if watchdog.stuck is not None:
            index, seconds = watchdog.stuck
            print(stuck_message(path.name, describe_cell(nb, index), seconds), flush=True)
        elif isinstance(result.err, CellTimeoutError):
            print(timeout_message(path.name, watchdog.cell_index, nb, timeout, scale), flush=True)
            return nb, result, attempt  # a slow cell: a second try would be as slow
        elif isinstance(result.err, DeadKernelError):
            print(f"{path.name}, {describe_cell(nb, watchdog.cell_index)}: the kernel died (out of memory, or "
                  "killed).", flush=True)
        else:
            return nb, result, attempt
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
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # kernels inherit it: no spinning on a busy machine
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
