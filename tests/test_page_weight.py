"""No page of the built book weighs more than 2 MB: its HTML plus its own images and scripts.

A page's own files are those it loads that at most half the pages load: its figures, and scripts
such as the live figures' engine. The theme's files and MathJax, which most pages load, reach a
reader once and come from the cache after that.
Frame animations embed every frame in the HTML, which is how one page reached 7.9 MB; a live
figure teaches the same in a few tens of kB. ``make test`` builds the book and points
``LRCOURSE_BOOK_HTML`` at it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = os.environ.get("LRCOURSE_BOOK_HTML")
LIMIT = 2_000_000  # bytes
LOADED = re.compile(r'<(?:img|script|source|video|audio|embed|link)\b[^>]*?\b(?:src|href)="([^"#]+)"', re.I)


def loaded_files(page: Path) -> set[Path]:
    """The local files a page loads (images, scripts, styles, media), resolved; data: URIs are in the HTML."""
    files = set()
    for ref in LOADED.findall(page.read_text(errors="ignore")):
        if ref.startswith(("data:", "http:", "https:", "//", "mailto:")):
            continue
        target = (page.parent / unquote(urlsplit(ref).path)).resolve()
        if target.is_file() and target.suffix != ".html":  # <link rel="next"> and friends point at pages
            files.add(target)
    return files


def weights(root: Path) -> dict[Path, int]:
    pages = sorted(root.rglob("*.html"))
    loads = {page: loaded_files(page) for page in pages}
    count: dict[Path, int] = {}
    for files in loads.values():
        for f in files:
            count[f] = count.get(f, 0) + 1
    shared = {f for f, n in count.items() if 2 * n > len(pages)}  # most pages load it: cached after the first
    return {page: page.stat().st_size + sum(f.stat().st_size for f in loads[page] - shared) for page in pages}


@pytest.fixture(scope="module")
def book():
    root = (ROOT / HTML).resolve()
    assert (root / "index.html").is_file(), f"no built book at {root}: run `make test`"
    return root


@pytest.mark.skipif(not HTML, reason="LRCOURSE_BOOK_HTML is not set: `make test` builds the book and sets it")
def test_no_page_is_over_2_mb(book):
    heavy = {str(p.relative_to(book)): f"{w / 1e6:.2f} MB" for p, w in weights(book).items() if w > LIMIT}
    assert not heavy, f"pages over {LIMIT / 1e6:g} MB (HTML plus its own images and scripts): {heavy}"


def test_a_page_counts_its_own_images_and_scripts(tmp_path):
    """Guards the measure: a figure one page shows counts for it, a script most pages load does not."""
    (tmp_path / "_static").mkdir()
    (tmp_path / "_static" / "theme.js").write_bytes(b"x" * 1000)
    (tmp_path / "big.png").write_bytes(b"x" * 3000)
    common = '<script src="_static/theme.js"></script>'
    (tmp_path / "a.html").write_text(f'{common}<img src="big.png">')
    (tmp_path / "b.html").write_text(common)
    w = weights(tmp_path)
    assert w[tmp_path / "a.html"] == len(f'{common}<img src="big.png">') + 3000
    assert w[tmp_path / "b.html"] == len(common)
