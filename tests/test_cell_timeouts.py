"""A kernel that stops answering fails fast and says so (scripts/cell_timeouts.py, scripts/execute_book.py,
the root conftest.py for nbval); the ipykernel pin that keeps the known hang away."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
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
    cells = [nbformat.v4.new_code_cell("x = 1"), nbformat.v4.new_code_cell(f"import time\ntime.sleep({seconds})")]
    nb = nbformat.v4.new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                        "language": "python"}})
    nbformat.write(nb, path)
    return path


def test_timeouts_come_from_the_slowest_measured_cell(tmp_path, monkeypatch):
    timeouts = _script("cell_timeouts")
    monkeypatch.setattr(timeouts, "RECORD", tmp_path / "slowest.json")
    assert timeouts.cell_timeout("local") == 1800  # nothing measured yet: the old blanket value
    timeouts.record_slowest("local", {"04.ipynb": 400.0, "08.ipynb": 3.0}, "a test")
    assert timeouts.cell_timeout("local") == 1600 == json.loads((tmp_path / "slowest.json").read_text())["local"]["timeout_s"]
    timeouts.record_slowest("smoke", {"08.ipynb": 3.0}, "a test")
    assert timeouts.cell_timeout("smoke") == timeouts.FLOOR_S and timeouts.cell_timeout("local") == 1600


def test_the_book_config_uses_the_measured_local_timeout():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["execute"]["timeout"] == _script("cell_timeouts").cell_timeout("local")
    assert config["execute"]["timeout"] < 1800


def test_a_hung_cell_names_its_chapter_and_cell_and_the_chapter_is_retried_once(tmp_path, capsys):
    execute_book = _script("execute_book")
    nb, result, attempts = execute_book.execute(_hanging_notebook(tmp_path / "07_slow.ipynb"), timeout=3, scale="smoke")
    out = capsys.readouterr().out
    assert attempts == 2 and result.err is not None
    assert out.count("07_slow.ipynb, cell 1 ('import time...'): the kernel stopped answering: no reply in 3 s") == 2
    assert "retrying the chapter once, with a fresh kernel (attempt 2 of 2)" in out
    assert "ipykernel#1554" in out


def test_a_quick_chapter_runs_once_and_records_cell_times(tmp_path, capsys):
    execute_book = _script("execute_book")
    nb, result, attempts = execute_book.execute(_hanging_notebook(tmp_path / "01_quick.ipynb", seconds=0.2),
                                                timeout=30, scale="smoke")
    assert attempts == 1 and result.err is None and "retrying" not in capsys.readouterr().out
    times = execute_book.cell_seconds(nb)
    assert set(times) == {0, 1} and 0.15 < times[1] < 10


def test_nbval_reports_a_timeout_as_a_kernel_that_stopped_answering(tmp_path):
    notebook = _hanging_notebook(tmp_path / "05_hang.ipynb")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SBERT_TEACH_SCALE": "smoke"}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "conftest", "--nbval-lax", "--nbval-cell-timeout=3",
                           "-q", "-p", "no:cacheprovider", str(notebook)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240)
    assert proc.returncode != 0
    assert "05_hang.ipynb, Cell 1: the kernel stopped answering: no reply in 3 s" in proc.stdout, proc.stdout[-3000:]


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
