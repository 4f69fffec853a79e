"""Every chapter runs under the hub profile at the smoke scale, against the local hub (tests/local_hub.py):
bert-base-uncased's layout and depth (13 hidden states), the reference's own modules.json, SNLI + MultiNLI
and STSb in their real schemas. No chapter may assume the offline model's depth or width."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import execute_book  # noqa: E402
import local_hub  # noqa: E402
from chapter_outputs import check_claims  # noqa: E402
from cell_timeouts import cell_timeout  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def hub_env(tmp_path_factory):
    root = local_hub.build(tmp_path_factory.mktemp("local_hub_chapters"))
    return {**local_hub.environment(root), "SBERT_TEACH_CACHE": str(root / "sbert_teach"), "SBERT_TEACH_SCALE": "smoke",
            "TQDM_DISABLE": "1", "TRANSFORMERS_VERBOSITY": "error", "HF_HUB_DISABLE_PROGRESS_BARS": "1"}


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_runs_under_the_hub_profile(chapter, hub_env, monkeypatch):
    for key, value in hub_env.items():  # the kernel inherits this process's environment
        monkeypatch.setenv(key, value)
    # the book's executor: a per-cell limit from measured cell times, a message naming a cell whose kernel
    # stops answering, and one retry with a fresh kernel (scripts/execute_book.py, issue 15)
    nb, result, attempts = execute_book.execute(chapter, cell_timeout("smoke"), "smoke")
    assert result.err is None, f"{chapter.name} failed under the hub profile (attempts: {attempts}): {result.err!r}"
    printed = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "resources: hub\n" in printed and "bert-base-uncased" in printed  # the setup line: the profile it ran under
    # the prose quotes no number (the cells print them), and what it states flatly about the run holds under
    # the hub too (tests/test_chapterNN_claims.py)
    assert check_claims(chapter.stem, nb), f"{chapter.stem} has no claims test (tests/test_chapterNN_claims.py)"
