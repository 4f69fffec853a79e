"""How a chapter degrades on a busy machine: wall time and CPU time, alone and beside a load.

Runs one chapter (default chapter 5 at the ``smoke`` scale, trained-model cache emptied first so
it trains) four ways in one run, and prints each against the first:

* ``alone``: nothing else running, OpenMP's default wait policy;
* ``alone, passive``: nothing else running, ``OMP_WAIT_POLICY=PASSIVE`` (what an idle machine pays);
* ``loaded, spinning``: beside a second process that keeps two threads busy with matrix products
  (another training job), with OpenMP's default wait policy (threads spin while they wait);
* ``loaded, passive``: the same load, with the chapter's kernel under ``OMP_WAIT_POLICY=PASSIVE``,
  which ``sbert_teach`` (on import), ``make book`` and ``make test`` now set.

A fair share of two cores against a two-thread load is half the machine, so "loaded" wall time
about twice "alone" is the best to hope for; CPU time should stay about the same, since the work is
the same. Threads that spin while they wait for a core burn CPU without doing work: CPU time grows.

Usage: python benchmarks/busy_machine.py [--notebook notebooks/05_regression_sts.ipynb] [--scale smoke]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOAD = ("import torch\ntorch.set_num_threads(2)\na = torch.randn(768, 768)\n"
        "while True:\n    b = a @ a\n")


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # every waited-for descendant: the kernel too
    return usage.ru_utime + usage.ru_stime


def run_chapter(notebook: Path, scale: str, env_extra: dict) -> tuple[float, float]:
    """Execute ``notebook`` in a fresh kernel; return (wall seconds, CPU seconds of it and its kernel)."""
    from sbert_teach import resources
    shutil.rmtree(resources.cache_dir() / "trained", ignore_errors=True)  # train, do not load
    env = {**os.environ, "SBERT_TEACH_SCALE": scale, "SBERT_TEACH_HEADLESS": "1", **env_extra}
    if env_extra.get("OMP_WAIT_POLICY") is None:
        env.pop("OMP_WAIT_POLICY", None)
    out = Path("/tmp") / f"busy_machine_{notebook.stem}.ipynb"
    cpu0, t0 = children_cpu_seconds(), time.perf_counter()
    subprocess.run([sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
                    "--ExecutePreprocessor.timeout=-1", str(notebook), "--output", str(out)],
                   env=env, check=True, capture_output=True, cwd=notebook.parent)
    return time.perf_counter() - t0, children_cpu_seconds() - cpu0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebook", default=str(ROOT / "notebooks" / "05_regression_sts.ipynb"))
    parser.add_argument("--scale", default="smoke")
    parser.add_argument("--output", default=str(ROOT / "benchmarks" / "results" / "busy_machine.json"))
    args = parser.parse_args()
    notebook = Path(args.notebook).resolve()

    rows = {"alone": run_chapter(notebook, args.scale, {"OMP_WAIT_POLICY": None}),
            "alone, passive": run_chapter(notebook, args.scale, {"OMP_WAIT_POLICY": "PASSIVE"})}
    for name, policy in (("loaded, spinning", None), ("loaded, passive", "PASSIVE")):
        load = subprocess.Popen([sys.executable, "-c", LOAD], env={k: v for k, v in os.environ.items()
                                                                   if k != "OMP_WAIT_POLICY"})
        try:
            time.sleep(2)  # the load is running before the chapter starts
            rows[name] = run_chapter(notebook, args.scale, {"OMP_WAIT_POLICY": policy})
        finally:
            load.kill()
            load.wait()

    wall0, cpu0 = rows["alone"]
    print(f"{notebook.name} at the {args.scale} scale, {os.cpu_count()} CPUs")
    print(f"{'run':18s} {'wall s':>8s} {'x alone':>8s} {'CPU s':>8s} {'x alone':>8s}")
    for name, (wall, cpu) in rows.items():
        print(f"{name:18s} {wall:8.1f} {wall / wall0:8.2f} {cpu:8.1f} {cpu / cpu0:8.2f}")
    record = {"notebook": notebook.name, "scale": args.scale, "cpus": os.cpu_count(),
              "measured": time.strftime("%Y-%m-%d"),
              "runs": {name: {"wall_s": round(w, 1), "cpu_s": round(c, 1)} for name, (w, c) in rows.items()}}
    Path(args.output).write_text(json.dumps(record, indent=1) + "\n")


if __name__ == "__main__":
    main()
