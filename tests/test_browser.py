"""The rendered site in a real browser (headless Chromium from Debian, driven by Selenium).

The site is built from the committed notebooks with execution off (their saved
outputs are what nbval checks in the same CI run), so this test is about
rendering: every chapter page has its title, at least one figure, typeset
math, and no JavaScript errors, with no network. Screenshots go to
``_build/screenshots/``.
"""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SCREENSHOTS = ROOT / "_build" / "screenshots"

pytestmark = pytest.mark.browser


def _chapter_title(path: Path) -> str:
    for cell in json.loads(path.read_text())["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    raise AssertionError(f"{path.name} has no '# Title' line in a markdown cell.")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """Build the book (execution off) into a temporary folder and serve it on localhost."""
    if not (ROOT / "_offline" / "static" / "mathjax" / "tex-chtml.js").exists():
        pytest.fail("Offline JavaScript is missing: run `python scripts/vendor_js.py` (make setup does).")
    out = tmp_path_factory.mktemp("site")
    config = (ROOT / "_config.yml").read_text().replace("execute_notebooks: cache", "execute_notebooks: 'off'")
    config = config.replace("offline_fixes: book/_ext", f"offline_fixes: {ROOT / 'book' / '_ext'}")  # relative to the config
    assert "execute_notebooks: 'off'" in config
    (out / "_config.yml").write_text(config)
    build = subprocess.run(
        [str(Path(sys.executable).with_name("jupyter-book")), "build", str(ROOT), "--config", str(out / "_config.yml"),
         "--path-output", str(out), "-W", "-n", "--keep-going"],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert build.returncode == 0, f"jupyter-book build failed:\n{build.stdout[-4000:]}\n{build.stderr[-4000:]}"
    html = out / "_build" / "html"
    handler = functools.partial(QuietHandler, directory=str(html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def browser():
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if not chromium or not driver_path:
        pytest.fail("Chromium is not installed: `apt-get install -y chromium chromium-driver` (make test does this).")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1280,1600"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _wait_for(driver, script: str, timeout: float = 20.0):
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.25).until(lambda d: d.execute_script(script))
    except Exception:
        return driver.execute_script(script)


def test_every_chapter_is_in_the_toc():
    toc = (ROOT / "_toc.yml").read_text()
    missing = [p.stem for p in CHAPTERS if f"notebooks/{p.stem}" not in toc]
    assert len(CHAPTERS) >= 9 and not missing, f"chapters missing from _toc.yml: {missing}"


@pytest.mark.parametrize("notebook", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_page_renders(site, browser, notebook):
    browser.get_log("browser")  # drop messages from the previous page
    browser.get(f"{site}/notebooks/{notebook.stem}.html")
    title = _chapter_title(notebook)
    assert title in browser.title, f"page title {browser.title!r} lacks the chapter title {title!r}"

    math = _wait_for(browser, "return document.querySelectorAll('mjx-container').length")
    assert math and math > 0, "no typeset math: MathJax did not run (is _offline/static/mathjax served?)"
    figures = _wait_for(browser, """
        return Array.from(document.querySelectorAll('article img, main img'))
            .filter(i => i.complete && i.naturalWidth > 50 && !i.src.includes('colab-badge')).length""")
    assert figures and figures > 0, "no rendered figure on the page"

    solutions = sum("solution" in c.get("metadata", {}).get("tags", []) for c in json.loads(notebook.read_text())["cells"])
    folded = browser.execute_script("""
        return Array.from(document.querySelectorAll('.tag_solution details'))
            .filter(d => !d.open && d.querySelector('summary')).length""")
    assert folded == solutions, f"{folded} of {solutions} solutions are folded behind a toggle"

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / f"{notebook.stem}.png"))
    errors = [entry["message"] for entry in browser.get_log("browser")
              if entry["level"] == "SEVERE" and "favicon.ico" not in entry["message"]]
    assert not errors, "JavaScript errors:\n" + "\n".join(errors)
