"""The site publishes itself: a GitHub Actions workflow tests, builds and deploys the book to GitHub Pages,
checked by actionlint; the README says how to switch Pages on and where the site will be."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"


def _actionlint() -> str:
    found = shutil.which("actionlint", path=str(Path(sys.executable).parent)) or shutil.which("actionlint")
    if found is None:
        pytest.fail("actionlint is missing: it comes with the test extra (pip install -e '.[test]'; make setup).")
    return found


def _lint(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([_actionlint(), "-no-color", str(path)], capture_output=True, text=True, timeout=60)


def test_the_workflow_passes_actionlint():
    proc = _lint(WORKFLOW)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / ".github" / "workflows" / "book.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(WORKFLOW.read_text().replace("needs: build", "needs: bulid"))  # a job that does not exist
    proc = _lint(broken)
    assert proc.returncode != 0 and "bulid" in proc.stdout


def test_the_workflow_tests_builds_and_deploys_main_with_the_readme_commands():
    workflow = yaml.safe_load(WORKFLOW.read_text())
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as True
    assert triggers["push"]["branches"] == ["main"]
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    runs = [step.get("run", "") for step in build["steps"]]
    uses = [step.get("uses", "").split("@")[0] for step in build["steps"]]
    assert "make test" in runs and "make book" in runs and runs.index("make test") < runs.index("make book")
    assert "actions/upload-pages-artifact" in uses and "actions/configure-pages" in uses
    upload = next(step for step in build["steps"] if step.get("uses", "").startswith("actions/upload-pages-artifact"))
    assert upload["with"]["path"] == "_build/html"
    assert deploy["needs"] == "build" and deploy["environment"]["name"] == "github-pages"
    assert [step["uses"].split("@")[0] for step in deploy["steps"]] == ["actions/deploy-pages"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}


def test_the_readme_says_how_to_switch_pages_on_and_where_the_site_will_be():
    readme = (ROOT / "README.md").read_text()
    publishing = readme[readme.index("## Publishing"):]
    for words in (".github/workflows/book.yml", "Settings > Pages", "GitHub Actions",
                  "https://<owner>.github.io/<repository>/", "actionlint"):
        assert words in publishing, words
