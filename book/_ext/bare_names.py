"""Resolve a bare class or function name in a docstring when the book documents exactly one object of that name.

Sphinx looks a name like ``:class:`ArticleCNN``` up in the current module and class only, so a
docstring in ``lrcourse.recipes`` that names ``ArticleCNN`` (defined in ``lrcourse.models``)
finds no target, and the nitpicky build fails. When the name is unambiguous across the API
reference, this links it, as Sphinx itself does for ``:class:`.ArticleCNN```; an ambiguous or
unknown name is left to fail as before. Loaded from _config.yml (``sphinx: local_extensions``).
"""

from docutils import nodes
from sphinx.addnodes import pending_xref
from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment


def resolve_bare_name(app: Sphinx, env: BuildEnvironment, node: pending_xref, contnode: nodes.Element):
    """The one py object whose name ends with ``.<target>``, if there is exactly one."""
    if node.get("refdomain") != "py" or "." in node["reftarget"]:
        return None
    domain = env.get_domain("py")
    matches = domain.find_obj(env, "", "", node["reftarget"], node["reftype"], 1)
    matches = [(name, obj) for name, obj in matches if not obj.aliased]
    if len(matches) != 1:
        return None
    name, obj = matches[0]
    return domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"], name, node, contnode)


def setup(app: Sphinx) -> dict:
    """Register the fallback for references Sphinx could not resolve."""
    app.connect("missing-reference", resolve_bare_name)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
