"""book/_ext/lean_doctrees.py: an API page's pickled doctree holds no copy of the build environment.

A one-page Sphinx project, built the way the book builds its API pages (MyST, an ``eval-rst`` block
around ``automodule``), with and without the extension.
"""

import pickle
import sys
from pathlib import Path

import pytest

sphinx_application = pytest.importorskip("sphinx.application")
pytest.importorskip("myst_nb")

ROOT = Path(__file__).resolve().parents[1]
PAGE = """# Devices

```{eval-rst}
.. automodule:: lrcourse.devices
```
"""


def build_page(tmp_path: Path, extensions: list[str]) -> Path:
    """Build the one-page project and return its pickled doctree."""
    source = tmp_path / "source"
    source.mkdir()
    conf = f"extensions = {extensions!r}\nautodoc_default_options = {{'members': True}}\n"
    (source / "conf.py").write_text(conf)
    (source / "index.md").write_text(PAGE)
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    try:
        app = sphinx_application.Sphinx(
            str(source), str(source), str(tmp_path / "html"), str(tmp_path / "doctrees"), "html", status=None
        )
        app.build()
    finally:
        sys.path.remove(str(ROOT / "book" / "_ext"))
    return tmp_path / "doctrees" / "index.doctree"


def nodes_of_other_documents(doctree_path: Path) -> int:
    """How many nodes of the unpickled page belong to another document (and pickle its settings:
    in the book, the environment with every page's parsed code, 5 MB a page)."""
    doctree = pickle.loads(doctree_path.read_bytes())
    return sum(node.document is not doctree for node in doctree.findall(include_self=False))


def test_eval_rst_nodes_carry_a_second_document_without_the_extension(tmp_path):
    # The leak the extension exists for; if MyST or Sphinx fixes it, the extension can go.
    doctree = build_page(tmp_path, ["myst_nb", "sphinx.ext.autodoc"])
    assert nodes_of_other_documents(doctree) > 0


def test_with_the_extension_every_node_belongs_to_its_page(tmp_path):
    doctree = build_page(tmp_path, ["myst_nb", "sphinx.ext.autodoc", "lean_doctrees"])
    assert nodes_of_other_documents(doctree) == 0
