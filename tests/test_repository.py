"""One source for the repository's address: `repository.url` in _config.yml (scripts/sync_repository.py)."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "sync_repository.py"


def test_every_badge_and_install_cell_uses_the_configured_repository():
    proc = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, f"run `python scripts/sync_repository.py`:\n{proc.stdout}"
    assert proc.stdout.startswith("0 file(s) differ")


def test_the_address_is_written_by_hand_only_in_the_config():
    spec = importlib.util.spec_from_file_location("sync_repository", SCRIPT)
    sync = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sync)
    url, branch = sync.repository()
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        assert f'REPOSITORY = "{url}"' in nb.cells[0].source and "sbert-teach[colab]" in nb.cells[0].source
        assert "RuntimeError" in nb.cells[0].source  # a failed install says what to do, not ModuleNotFoundError later
        assert f"{sync.colab_base(url, branch)}/notebooks/colab/{path.name})" in nb.cells[1].source, path.name
        assert nb.metadata["accelerator"] == "GPU" and nb.metadata["colab"]["gpuType"] == "T4"  # opens on a GPU


def test_a_new_address_in_the_config_is_caught_and_written_everywhere(tmp_path):
    copy = tmp_path / "repo"
    for part in ("notebooks", "book", "scripts"):
        shutil.copytree(ROOT / part, copy / part, ignore=shutil.ignore_patterns("data", "images", "_ext"))
    for name in ("_config.yml", "CONTRIBUTING.md"):
        shutil.copy(ROOT / name, copy / name)
    config = copy / "_config.yml"
    config.write_text(re.sub(r"url: \S+", "url: https://github.com/someone/my-sbert-book", config.read_text()))
    script = copy / "scripts" / "sync_repository.py"
    check = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True)
    assert check.returncode == 1 and "notebooks/04_softmax_nli.ipynb" in check.stdout and "book/setup.md" in check.stdout
    subprocess.run([sys.executable, str(script)], check=True, capture_output=True)
    assert subprocess.run([sys.executable, str(script), "--check"], capture_output=True).returncode == 0
    chapter = nbformat.read(copy / "notebooks" / "02_pooling.ipynb", as_version=4)
    assert 'REPOSITORY = "https://github.com/someone/my-sbert-book"' in chapter.cells[0].source
    assert "colab.research.google.com/github/someone/my-sbert-book/blob/main/notebooks/colab/02_pooling.ipynb" in chapter.cells[1].source
    colab_copy = nbformat.read(copy / "notebooks" / "colab" / "02_pooling.ipynb", as_version=4)
    assert 'REPOSITORY = "https://github.com/someone/my-sbert-book"' in colab_copy.cells[0].source
    assert "sbert-teach/sbert-teach" not in (copy / "book" / "setup.md").read_text()
