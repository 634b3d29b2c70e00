"""Keep the build environment out of the API reference's pickled doctrees.

MyST's ``eval-rst`` block (the API pages wrap ``automodule`` in one) parses its reStructuredText
into a document of its own, and autodoc's nodes remember that document (``node.document``). Its
settings hold the whole build environment, which Sphinx removes from the page's own document
before pickling it, but not from this second one. So each API page's doctree carried a copy of
the environment: 5 MB per page on disk, unpickled again whenever Sphinx reads a doctree (numbering
figures, resolving references, writing), a large share of the render's time.

Here each node forgets a document other than the page's own once the page is read: its
``document`` is then found through its parents, which is the page. Nothing else changes.

Loaded from _config.yml (``sphinx: local_extensions``).
"""

from docutils import nodes
from sphinx.application import Sphinx


def forget_other_documents(app: Sphinx, doctree: nodes.document) -> None:
    """Drop each node's reference to a document that is not ``doctree``."""
    for node in doctree.findall(include_self=False):
        own = node.__dict__.get("_document")
        if own is not None and own is not doctree:
            node.document = None


def setup(app: Sphinx) -> dict:
    """Clean every doctree as soon as it is read, before Sphinx pickles it."""
    app.connect("doctree-read", forget_other_documents)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
