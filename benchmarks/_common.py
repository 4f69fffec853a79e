"""Shared helpers for the benchmark scripts: environment, machine record, timing statistics, output.

Every script prints one ``<name>_ratio: X.XX`` line per comparison (higher means
sbert_teach is faster) and writes a JSON record to ``benchmarks/results/<name>.json``.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import statistics
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("SBERT_TEACH_RESOURCES", "packaged")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # no fork warnings from the tokenizer threads
warnings.filterwarnings("ignore")

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).resolve().parent / "results"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    size = p.add_mutually_exclusive_group()
    size.add_argument("--quick", action="store_true", help="small sizes: under a minute on a quiet 2-core CPU")
    size.add_argument("--tiny", action="store_true", help="smallest sizes, for the test suite (figures meaningless)")
    p.add_argument("--reps", type=int, default=None, help="timed repetitions per side (alternating)")
    p.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's choice)")
    p.add_argument("--device", default=None, help="cpu or cuda (default: cuda if available)")
    p.add_argument("--results-dir", default=str(RESULTS), help="where the JSON record goes")
    p.add_argument("--tag", default="", help="suffix for the record's file name, e.g. _cuda")
    return p


def mode(args) -> str:
    return "tiny" if args.tiny else "quick" if args.quick else "full"


def setup_torch(args):
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def sync(device) -> None:
    import torch

    if getattr(device, "type", str(device)) == "cuda":
        torch.cuda.synchronize()


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine(device) -> dict:
    """What the figures were measured on."""
    import torch
    import transformers

    import sbert_teach

    info = {
        "date_utc": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "hostname_hint": platform.node()[:12],
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cpu_cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "device": str(device),
        "gpu": torch.cuda.get_device_name(0) if getattr(device, "type", "") == "cuda" else None,
        "load_average_at_start": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "sbert_teach": sbert_teach.__version__,
        },
    }
    try:
        import sentence_transformers

        info["versions"]["sentence_transformers"] = sentence_transformers.__version__
    except ImportError:
        pass
    return info


def stats(values) -> dict:
    values = [float(v) for v in values]
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values),
            "values": [round(v, 6) for v in values]}


def ratio_stats(numerators, denominators) -> dict:
    """Paired ratios (rep i of one side over rep i of the other): robust to a machine that
    gets slower or faster during the run, because both sides of a pair ran back to back."""
    return stats([a / b for a, b in zip(numerators, denominators)])


def alternate(sides: dict, reps: int, before_each=None) -> dict:
    """Run each side ``reps`` times, alternating and reversing the order every rep (A B, B A, ...).

    ``sides`` maps a name to a function returning a dict with at least ``seconds``.
    Returns ``{name: [result, ...]}``.
    """
    names = list(sides)
    out = {n: [] for n in names}
    for rep in range(reps):
        for name in (names if rep % 2 == 0 else names[::-1]):
            if before_each:
                before_each()
            out[name].append(sides[name]())
            print(f"  rep {rep + 1}/{reps} {name:>12s}: {out[name][-1]['seconds']:.3f} s", flush=True)
    return out


def finish(name: str, args, record: dict, ratios: dict) -> Path:
    """Add the ratios and end-of-run load, write the JSON record, print the ratio lines."""
    record["ratios"] = {k: round(v, 4) for k, v in ratios.items()}
    record.setdefault("machine", {})["load_average_at_end"] = list(os.getloadavg()) if hasattr(os, "getloadavg") else None
    record["mode"] = mode(args)
    out_dir = Path(args.results_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}{args.tag}.json"
    path.write_text(json.dumps(record, indent=1) + "\n")
    print(f"record: {path}")
    for key, value in ratios.items():
        print(f"{key}: {value:.2f}")
    return path


class Clock:
    """Wall time (perf_counter, after a device sync) and this process's CPU time together."""

    def __init__(self, device):
        self.device = device

    def __enter__(self):
        sync(self.device)
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        sync(self.device)
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu
        return False
