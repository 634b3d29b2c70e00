"""The built book, as a reader's browser shows it with no network.

`make test` builds the book in quick mode and points ``LRCOURSE_BOOK_HTML`` at it;
headless Chromium then loads every chapter page offline and we check that each
formula was typeset by MathJax and each figure is present.
"""

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
HTML = os.environ.get("LRCOURSE_BOOK_HTML")
pytestmark = pytest.mark.skipif(
    not HTML, reason="LRCOURSE_BOOK_HTML is not set: `make test` builds the book and sets it"
)

MATH_IN_SOURCE = re.compile(r'class="math notranslate nohighlight"')
EXTERNAL_ASSET = re.compile(r'<(?:script|link|img)[^>]+(?:src|href)="(?:https?:)?//[^"]+"[^>]*>')


def toc_files(entries):
    for entry in entries:
        if "file" in entry:
            yield entry["file"]
        yield from toc_files(entry.get("chapters", []) + entry.get("sections", []) + entry.get("parts", []))


def chapter_pages():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    return [toc["root"], *toc_files(toc.get("parts", []) + toc.get("chapters", []))]


def render(page: Path) -> str:
    """The page's DOM after its scripts ran, loaded by headless Chromium with every host unreachable."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.fail("chromium is not installed: `make test` installs it (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as profile:
        result = subprocess.run(
            [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--host-resolver-rules=MAP * ~NOTFOUND",
                f"--user-data-dir={profile}",
                "--virtual-time-budget=15000",
                "--dump-dom",
                page.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.fixture(scope="module")
def html_root():
    root = (ROOT / HTML).resolve()
    assert (root / "index.html").is_file(), f"no built book at {root}: run `make test`"
    return root


@pytest.mark.parametrize("source", chapter_pages())
def test_page_renders_math_and_figures_offline(html_root, source):
    page = html_root / f"{source}.html"
    static = page.read_text()
    assert not EXTERNAL_ASSET.findall(static), "a page must load nothing from the network"

    dom = render(page)
    formulas = len(MATH_IN_SOURCE.findall(static))
    typeset = dom.count("<mjx-container")
    assert typeset >= formulas, f"{typeset} of {formulas} formulas were typeset"
    assert "<mjx-merror" not in dom, "MathJax reported a TeX error"

    images = re.findall(r'<img[^>]+src="([^"]+)"', dom)
    for src in images:
        if src.startswith("data:image/"):  # embedded, as in an animation's frames
            continue
        assert (page.parent / src).resolve().is_file(), f"missing figure {src[:200]}"
    if (ROOT / f"{source}.ipynb").is_file() and "plt.show()" in (ROOT / f"{source}.ipynb").read_text():
        assert images, "a chapter that plots shows its figures"


def test_chapters_have_math(html_root):
    """Guards the test above: the first chapter is full of formulas, so a count of zero means breakage."""
    dom = render(html_root / "book/foundations/gradient_descent.html")
    assert dom.count("<mjx-container") > 50
