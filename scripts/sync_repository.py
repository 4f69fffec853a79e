"""Write the repository's address, from ``repository.url`` in ``_config.yml``, wherever a reader needs it.

``_config.yml`` is the one place the address is written by hand (set it when you publish: see the
README). This script writes it into every chapter's Colab install cell and "Open in Colab" badge
(which opens the chapter's Colab copy, ``notebooks/colab/``, written again here by ``colab_copies.py``),
into the notebook metadata that makes Colab open the chapter on a GPU runtime,
into ``book/setup.md`` and ``CONTRIBUTING.md``; ``tests/test_repository.py`` fails when any of them
differs from what it would write.

Usage: python scripts/sync_repository.py           # rewrite
       python scripts/sync_repository.py --check   # list what differs; exit 1 if anything does
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
INSTALL_CELL = '''# On Colab: install the book's package (sbert_teach). Anywhere else this cell does nothing.
import sys

if "google.colab" in sys.modules:
    import subprocess

    REPOSITORY = "{url}"  # from _config.yml (scripts/sync_repository.py)
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "-q", f"sbert-teach[colab] @ git+{{REPOSITORY}}"])
    if pip.returncode != 0:
        raise RuntimeError(f"Installing sbert-teach from {{REPOSITORY}} failed (pip says why above). Check that the "
                           "runtime is connected to the internet and that this repository exists and is public.")'''
SNIPPET = re.compile(r"```python\n[^`]*google\.colab[^`]*```")
COLAB_METADATA = {"accelerator": "GPU", "colab": {"gpuType": "T4", "provenance": []}}
BADGE = re.compile(r"\[!\[Open In Colab\]\(([^)]*)\)\]\(https://colab\.research\.google\.com/github/[^)]*\)")
COLAB_IN_TEXT = re.compile(r"https://colab\.research\.google\.com/github/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/blob/[A-Za-z0-9_.-]+")


def repository() -> tuple[str, str]:
    config = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    return config["url"].rstrip("/"), config.get("branch", "main")


def colab_base(url: str, branch: str) -> str:
    return f"https://colab.research.google.com/github/{url.removeprefix('https://github.com/')}/blob/{branch}"


def chapter_expected(path: Path, url: str, branch: str) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    nb.cells[0].source = INSTALL_CELL.format(url=url)
    link = f"{colab_base(url, branch)}/notebooks/colab/{path.name}"  # the copy Colab renders (colab_copies.py)
    nb.cells[1].source = BADGE.sub(lambda m: f"[![Open In Colab]({m.group(1)})]({link})", nb.cells[1].source)
    nb.metadata.update(COLAB_METADATA)  # Colab opens the chapter on a GPU runtime, not a CPU one
    return nb


def text_expected(text: str, url: str, branch: str) -> str:
    return COLAB_IN_TEXT.sub(colab_base(url, branch), text)  # other GitHub links are left alone


def differences(write: bool = False) -> list[str]:
    url, branch = repository()
    found = []
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        expected = chapter_expected(path, url, branch)
        if ([c.source for c in nb.cells[:2]] != [c.source for c in expected.cells[:2]]
                or any(nb.metadata.get(k) != v for k, v in COLAB_METADATA.items())):
            found.append(str(path.relative_to(ROOT)))
            if write:
                nbformat.write(expected, path)
    for name in ("book/setup.md", "CONTRIBUTING.md"):
        path = ROOT / name
        text = path.read_text()
        expected = text_expected(text, url, branch)
        if name == "book/setup.md":  # the page shows the chapters' install cell, word for word
            expected = SNIPPET.sub(lambda m: f"```python\n{INSTALL_CELL.format(url=url)}\n```", expected)
        if expected != text:
            found.append(name)
            if write:
                path.write_text(expected)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    found = differences(write=not args.check)
    if not args.check:  # the Colab copies carry the install cell: write them again from the chapters
        sys.path.insert(0, str(ROOT / "scripts"))
        import colab_copies

        colab_copies.differences(write=True)
    url, _ = repository()
    verb = "differ from" if args.check else "rewritten for"
    print(f"{len(found)} file(s) {verb} repository.url = {url}" + "".join(f"\n  {f}" for f in found))
    return 1 if (args.check and found) else 0


if __name__ == "__main__":
    sys.exit(main())
