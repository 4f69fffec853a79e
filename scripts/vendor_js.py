"""Vendor the JavaScript the rendered book needs, from the npm registry, into _offline/static.

MathJax 3 (math), the Jupyter widget manager and RequireJS (widgets), and reveal.js
(course slides) are served by the site itself, so pages render with no network.
Versions and SHA-512 integrity come from _offline/package-lock.json; each package is
fetched with `npm pack` (the prebuilt files only: none of their build dependencies)
and checked against the lock file before it is unpacked. Idempotent.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

OFFLINE = Path(__file__).resolve().parents[1] / "_offline"
FONT_DIR = "../extra/notebooks/@jupyter-widgets/html-manager/dist"  # served from the site root (html_extra_path)
STATIC = OFFLINE / "static"
# package -> [(path inside the package, destination under static/)]
WANTED = {
    "mathjax": [("es5", "mathjax")],
    "@jupyter-widgets/html-manager": [("dist/embed-amd.js", "widgets/embed-amd.js")]
    # the widget styles ask for their icon fonts relative to the page: chapters live in notebooks/
    + [(f"dist/*.{ext}", FONT_DIR) for ext in ("woff2", "woff", "ttf", "eot", "svg")],
    "requirejs": [("require.js", "widgets/require.js")],
    "reveal.js": [("dist", "reveal.js/dist"), ("plugin", "reveal.js/plugin")],
}


def complete() -> bool:
    return all((STATIC / dest).exists() for items in WANTED.values() for _, dest in items)


def main() -> int:
    if complete():
        return 0
    if shutil.which("npm") is None:
        print("npm is needed once to vendor MathJax and the widget JavaScript "
              "(apt-get install npm, or install Node.js).", file=sys.stderr)
        return 1
    lock = json.loads((OFFLINE / "package-lock.json").read_text())["packages"]
    partial = STATIC.with_name("static.partial")
    shutil.rmtree(partial, ignore_errors=True)
    shutil.rmtree(OFFLINE / "extra", ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, items in WANTED.items():
            entry = lock[f"node_modules/{name}"]
            subprocess.run(["npm", "pack", f"{name}@{entry['version']}", "--pack-destination", tmp,
                            "--loglevel=error"], check=True, stdout=subprocess.DEVNULL)
            tgz = next(Path(tmp).glob(name.replace("@", "").replace("/", "-") + "-*.tgz"))
            algo, expected = entry["integrity"].split("-", 1)
            digest = base64.b64encode(hashlib.new(algo, tgz.read_bytes()).digest()).decode()
            if digest != expected:
                print(f"{tgz.name}: integrity mismatch with package-lock.json; refusing to use it.", file=sys.stderr)
                return 1
            unpacked = Path(tmp) / name.replace("/", "_")
            with tarfile.open(tgz) as tar:
                tar.extractall(unpacked, filter="data")
            for source, dest in items:
                if "*" in source:  # a pattern: copy every match into the folder dest
                    (partial / dest).mkdir(parents=True, exist_ok=True)
                    for src in (unpacked / "package").glob(source):
                        shutil.copy2(src, partial / dest / src.name)
                    continue
                src, dst = unpacked / "package" / source, partial / dest
                dst.parent.mkdir(parents=True, exist_ok=True)
                (shutil.copytree if src.is_dir() else shutil.copy2)(src, dst)
    shutil.rmtree(STATIC, ignore_errors=True)
    partial.rename(STATIC)  # only a complete folder is ever used
    size = sum(p.stat().st_size for p in STATIC.rglob("*") if p.is_file()) / 1e6
    print(f"vendored offline JavaScript into {STATIC} ({size:.0f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
