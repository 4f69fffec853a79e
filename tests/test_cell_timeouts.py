"""A stuck kernel fails fast and says so, a slow one is never failed for being slow (scripts/kernel_watch.py,
scripts/execute_book.py, the root conftest.py for nbval); the last-resort wall-clock limit
(scripts/cell_timeouts.py); the ipykernel pin that keeps the known hang away."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def _script(name):
    sys.path.insert(0, str(ROOT / "scripts"))
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _hanging_notebook(path: Path, seconds: float = 60) -> Path:
    return _notebook(path, f"import time\ntime.sleep({seconds})")


#: A kernel that stops itself, as a hung one does: no CPU time, no output, no reply.
STOPPED = "import os, signal\nos.kill(os.getpid(), signal.SIGSTOP)"


def _busy(seconds: float) -> str:
    """A cell that keeps the kernel computing for ``seconds``, printing nothing."""
    return f"import time\nend = time.perf_counter() + {seconds}\nwhile time.perf_counter() < end:\n    sum(range(1000))"


def _notebook(path: Path, source: str) -> Path:
    cells = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell(source)]
    nb = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                        "language": "python"}})
    nbformat.write(nb, path)
    return path


def test_the_last_resort_limit_comes_from_the_slowest_measured_cell(tmp_path, monkeypatch):
    timeouts = _script("cell_timeouts")
    monkeypatch.setattr(timeouts, "RECORD", tmp_path / "slowest.json")
    assert timeouts.cell_timeout("local") == 1800  # nothing measured yet: the old blanket value
    timeouts.record_slowest("local", {"04.ipynb": 400.0, "08.ipynb": 3.0}, "a test")
    assert timeouts.cell_timeout("local") == 4000 == json.loads((tmp_path / "slowest.json").read_text())["local"]["timeout_s"]
    timeouts.record_slowest("smoke", {"08.ipynb": 3.0}, "a test")
    assert timeouts.cell_timeout("smoke") == timeouts.FLOOR_S and timeouts.cell_timeout("local") == 4000


def test_the_book_config_uses_the_measured_local_limit():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["execute"]["timeout"] == _script("cell_timeouts").cell_timeout("local")


def test_the_watch_counts_cpu_time_not_wall_time():
    watch_module = _script("kernel_watch")
    now = [0.0]
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    idle = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        time.sleep(0.5)
        watches = {name: watch_module.KernelWatch(p.pid, stretch=1.0, min_cpu=0.2, clock=lambda: now[0])
                   for name, p in (("busy", busy), ("idle", idle))}
        time.sleep(1.5)
        now[0] = 1.5  # the stretch has passed on the watches' clock
        assert watches["busy"].stuck_for() is None  # it used CPU time: progress
        assert watches["idle"].stuck_for() == 1.5
        watches["idle"].saw_output()  # output is progress too
        assert watches["idle"].stuck_for() is None
    finally:
        busy.kill(), idle.kill(), busy.wait(), idle.wait()


def test_a_bad_stretch_is_refused_with_the_fix(monkeypatch):
    watch_module = _script("kernel_watch")
    monkeypatch.setenv("SBERT_TEACH_STUCK_AFTER", "two minutes")
    with pytest.raises(ValueError, match="unset it for the default 120 s"):
        watch_module.stuck_after()


def test_a_stuck_cell_names_its_chapter_and_cell_within_the_stretch_and_is_retried_once(tmp_path, capsys):
    execute_book = _script("execute_book")
    start = time.perf_counter()
    nb, result, attempts = execute_book.execute(_notebook(tmp_path / "07_stuck.ipynb", STOPPED), timeout=600,
                                                scale="smoke", stretch=3)
    out = capsys.readouterr().out
    assert attempts == 2 and result.err is not None
    assert out.count("07_stuck.ipynb, cell 1 ('import os, signal...'): the kernel is stuck: it used no CPU time") == 2
    assert "retrying the chapter once, with a fresh kernel (attempt 2 of 2)" in out
    assert "ipykernel#1554" in out
    assert time.perf_counter() - start < 2 * (3 + 20)  # two attempts, each the stretch plus kernel start-up


def test_a_busy_cell_is_never_failed_for_being_slow(tmp_path, capsys):
    """8 s of work, with a stretch of 2 s: the old rule (no reply within a limit) failed any cell past its limit."""
    execute_book = _script("execute_book")
    nb, result, attempts = execute_book.execute(_notebook(tmp_path / "04_busy.ipynb", _busy(8)), timeout=600,
                                                scale="smoke", stretch=2)
    assert result.err is None and attempts == 1 and "stuck" not in capsys.readouterr().out
    assert execute_book.cell_seconds(nb)[1] >= 8


def test_a_runaway_cell_meets_the_last_resort_limit_and_is_told_how_to_raise_it(tmp_path, capsys):
    execute_book = _script("execute_book")
    nb, result, attempts = execute_book.execute(_notebook(tmp_path / "06_runaway.ipynb", _busy(60)), timeout=3,
                                                scale="smoke", stretch=30)
    out = capsys.readouterr().out
    assert attempts == 1 and result.err is not None  # slow, not stuck: no retry
    assert "06_runaway.ipynb, cell 1 ('import time...'): still running after 3 s" in out
    assert "SBERT_TEACH_CELL_TIMEOUT=SECONDS" in out


def test_a_quick_chapter_runs_once_and_records_cell_times(tmp_path, capsys):
    execute_book = _script("execute_book")
    nb, result, attempts = execute_book.execute(_hanging_notebook(tmp_path / "01_quick.ipynb", seconds=0.2),
                                                timeout=30, scale="smoke")
    assert attempts == 1 and result.err is None and "retrying" not in capsys.readouterr().out
    times = execute_book.cell_seconds(nb)
    assert set(times) == {0, 1} and 0.15 < times[1] < 10


def _nbval(notebook: Path, *options, stretch: float) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SBERT_TEACH_SCALE": "smoke", "SBERT_TEACH_STUCK_AFTER": str(stretch)}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "conftest", "--nbval-lax", *options,
                           "-q", "-p", "no:cacheprovider", str(notebook)],
                          cwd=notebook.parent, env=env, capture_output=True, text=True, timeout=240)


def test_nbval_fails_a_stuck_kernel_within_the_stretch_and_names_the_cell(tmp_path):
    start = time.perf_counter()
    proc = _nbval(_notebook(tmp_path / "05_stuck.ipynb", STOPPED), stretch=3)
    assert proc.returncode != 0
    assert "05_stuck.ipynb, Cell 1: the kernel is stuck: it used no CPU time and sent no output for" in proc.stdout, \
        proc.stdout[-3000:]
    assert time.perf_counter() - start < 60  # the last-resort limit here is 1,800 s


def test_nbval_passes_a_busy_cell_past_the_old_limit(tmp_path):
    """Before, --nbval-cell-timeout=3 failed this 8 s cell as a kernel that stopped answering."""
    proc = _nbval(_notebook(tmp_path / "05_busy.ipynb", _busy(8)), stretch=2)
    assert proc.returncode == 0, proc.stdout[-3000:]


def test_nbval_names_the_last_resort_limit_and_how_to_raise_it(tmp_path):
    proc = _nbval(_notebook(tmp_path / "05_runaway.ipynb", _busy(60)), "--nbval-cell-timeout=3", stretch=30)
    assert proc.returncode != 0
    assert "05_runaway.ipynb, Cell 1: still running after 3 s" in proc.stdout, proc.stdout[-3000:]
    assert "--nbval-cell-timeout=SECONDS" in proc.stdout


def test_ipykernel_is_pinned_below_7_in_both_environments():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "ipykernel>=6.29,<7" in project["optional-dependencies"]["book"]
    assert "- ipykernel>=6.29,<7" in (ROOT / "environment.yml").read_text()
    import ipykernel

    assert int(ipykernel.__version__.split(".")[0]) < 7, f"ipykernel {ipykernel.__version__}: run make setup again"


@pytest.mark.parametrize("what", ["quick", "mixed"])
def test_the_stress_script_counts_runs(tmp_path, what):
    out = tmp_path / "counts.json"
    proc = subprocess.run([sys.executable, str(ROOT / "scripts" / "kernel_stress.py"), "--runs", "2", "--cells", "8",
                           "--load", "1", "--json", str(out), *(["--mixed"] if what == "mixed" else [])],
                          capture_output=True, text=True, timeout=240)
    counts = json.loads(out.read_text())
    assert proc.returncode == 0 and counts["runs"] == 2 and counts["hangs"] == 0 and counts["errors"] == 0, proc.stdout


@pytest.mark.parametrize("saved_by", ["an editor", "nbconvert"])
def test_a_chapter_executed_for_the_build_is_found_in_the_cache_the_build_reads(tmp_path, saved_by):
    """The build must use what scripts/execute_book.py executed, not execute every chapter again."""
    from jupyter_cache import get_cache

    execute_book = _script("execute_book")
    path = _hanging_notebook(tmp_path / "02_quick.ipynb", seconds=0.1)
    if saved_by == "nbconvert":  # the committed chapters carry an earlier run's timing records
        saved = nbformat.read(path, as_version=4)
        for cell in saved.cells:
            cell.metadata["execution"] = {"iopub.execute_input": "2026-11-22T17:18:59.634745Z"}
        nbformat.write(saved, path)
    nb, result, _ = execute_book.execute(path, timeout=30, scale="smoke")
    cache = get_cache(str(tmp_path / "cache"))
    execute_book.store(cache, path, nb, result.time)
    fresh = nbformat.read(path, as_version=4)  # what jupyter-book reads from disk
    record = cache.match_cache_notebook(fresh)
    assert record.data["execution_seconds"] == result.time
