"""Three fixes that let sphinx-codeautolink link the book's code cells to the API reference.

1. sphinx-codeautolink keeps a stack of section titles: it pushes at each title and pops when
   it leaves each section. sphinx-exercise puts the body of an exercise or a solution in a
   ``section`` node that has no title, so leaving it popped a title that was never pushed
   (IndexError: pop from empty list, and the page failed to build). Here a section pops only
   what it pushed.
2. sphinx-codeautolink adds its links to the pages that Sphinx called outdated when the build
   started; a page rewritten for another reason (a new configuration, a changed docstring) lost
   its links. Here every page written in the build gets them.
3. The chapters show the package's real code with ``literalinclude :pyobject:``, which gives
   an indented method: as Python, that is a syntax error. :func:`dedent_python` reads such a
   block as its dedented text. (It is registered here rather than in the
   ``codeautolink_custom_blocks`` setting, which codeautolink rewrites into a function that
   Sphinx then cannot pickle.)

Loaded from _config.yml (``sphinx: local_extensions``).
"""

import textwrap

from docutils import nodes
from sphinx.application import Sphinx
from sphinx_codeautolink.extension import SphinxCodeAutoLink
from sphinx_codeautolink.extension.block import BUILTIN_BLOCKS, CodeBlockAnalyser


def depart_section(self: CodeBlockAnalyser, node: nodes.section) -> None:
    """Pop the section's title only if it had one."""
    has_title = bool(node.children) and isinstance(node.children[0], nodes.title)
    if has_title and self.title_stack:
        self.title_stack.pop()


def dedent_python(source: str) -> tuple[str, str]:
    """The block as shown, and the Python that codeautolink parses: the same, dedented."""
    return source, textwrap.dedent(source)


def setup(app: Sphinx) -> dict:
    """Patch the analyser and mark each written page for linking."""
    CodeBlockAnalyser.depart_section = depart_section
    BUILTIN_BLOCKS["python"] = dedent_python

    def mark_written(app: Sphinx, pagename: str, *args) -> None:
        for listener in app.events.listeners["build-finished"]:
            state = getattr(listener.handler, "__self__", None)
            if isinstance(state, SphinxCodeAutoLink):
                state.outdated_docs.add(pagename)

    app.connect("html-page-context", mark_written)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
