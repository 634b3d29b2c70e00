"""Live figures: a chapter places one in a markdown cell with one directive.

.. code-block:: markdown

    ```{live-figure} playground
    :optimizer: momentum
    :lr: 1.0
    ```

The argument names the widget (:data:`WIDGETS`); each option is a starting setting, passed to
the widget as JSON. The page then loads the engine (``book/_static/live``: the update rules and
schedules of :mod:`lrcourse` in plain JavaScript, checked against the package by
``tests/test_live_figures.py``) and the widget's script; other pages load nothing. Inside the
figure sits a static image of the same starting state, drawn at build time by
``live_fallbacks`` with the package itself: what a reader without JavaScript sees, and what prints.
Loaded from _config.yml (``sphinx: local_extensions``).
"""

from __future__ import annotations

import hashlib
import html
import json
from pathlib import Path
from typing import ClassVar

import live_fallbacks
from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

STATIC = Path(__file__).resolve().parents[1] / "_static"  # book/_static: its live/ lands in _static/live/
ENGINE = ("problems.js", "optim.js", "schedules.js", "theory.js", "plot.js", "controls.js")
WIDGETS = {  # widget -> its script, after the engine; boot.js starts them all
    "playground": "playground.js",
    "stability-map": "stability_map.js",
    "schedule-explorer": "schedule_explorer.js",
    "adam-bias": "adam_bias.js",
}


class live_figure(nodes.General, nodes.Element):  # docutils names its nodes in lower case
    """A live figure: its widget, its starting settings and its static image."""


def _setting(text: str):
    """An option's value: a number, a boolean, a list (comma-separated), a JSON object or a string."""
    text = text.strip()
    if text in ("true", "false"):
        return text == "true"
    try:
        return json.loads(f"[{text}]" if "," in text and text[0] not in "[{" else text)
    except json.JSONDecodeError:
        return text


class LiveFigure(SphinxDirective):
    """``{live-figure} <widget>`` with its starting settings as options (any name the widget reads)."""

    required_arguments = 1
    has_content = False
    option_spec: ClassVar = {name: directives.unchanged for name in {"alt"}.union(*live_fallbacks.DEFAULTS.values())}

    def run(self) -> list[nodes.Node]:
        widget = self.arguments[0]
        if widget not in WIDGETS:
            raise self.error(f"unknown live figure {widget!r}: one of {', '.join(WIDGETS)}")
        alt = self.options.get("alt", f"live figure: {widget}")
        options = {k: _setting(v) for k, v in self.options.items() if k != "alt"}
        unknown = set(options) - set(live_fallbacks.DEFAULTS[widget])
        if unknown:
            raise self.error(f"{widget} takes no setting {', '.join(sorted(unknown))}")
        node = live_figure(widget=widget, config=live_fallbacks.settings(widget, options), alt=alt)
        self.set_source_info(node)
        _pages(self.env).add(self.env.docname)
        return [node]


def figure_html(widget: str, config: dict, alt: str) -> str:
    """The figure's HTML: its settings for the script, and the static image of its starting state."""
    image, summary = live_fallbacks.render(widget, config)
    return (
        f'<div class="lr-live" data-widget="{widget}" data-config="{html.escape(json.dumps(config, sort_keys=True))}">'
        f'<figure class="lr-live-static"><img src="{image}" alt="{html.escape(alt)}">'
        f"<figcaption>{html.escape(summary)}: the starting state, computed with lrcourse. With JavaScript on, "
        "this figure is live: move the sliders.</figcaption></figure></div>"
    )


def visit_html(self, node: live_figure) -> None:
    self.body.append(figure_html(node["widget"], node["config"], node["alt"]))
    raise nodes.SkipNode


def skip(self, node: live_figure) -> None:
    raise nodes.SkipNode  # other builders (LaTeX, text) show nothing: the chapter's figures stand


# --- which pages hold a live figure: rebuilt when the engine or the figures' code changes ----------


def _pages(env) -> set[str]:
    if not hasattr(env, "live_figure_pages"):
        env.live_figure_pages = set()
    return env.live_figure_pages


def _code_hash() -> str:
    """The engine, the widgets and this extension: a page's figure is stale when any of them changed."""
    digest = hashlib.sha256()
    for path in sorted([*STATIC.joinpath("live").iterdir(), *Path(__file__).parent.glob("live_*.py")]):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def outdated_pages(app: Sphinx, env, added, changed, removed) -> list[str]:
    """Pages with a live figure, when its code changed since the last build (Sphinx only sees the sources)."""
    code = _code_hash()
    if getattr(env, "live_figure_code", None) == code:
        return []
    env.live_figure_code = code
    return sorted(_pages(env) - set(removed))


def purge_page(app: Sphinx, env, docname: str) -> None:
    _pages(env).discard(docname)


def merge_pages(app: Sphinx, env, docnames, other) -> None:
    _pages(env).update(_pages(other) & set(docnames))


def add_static_path(app: Sphinx, config) -> None:
    config.html_static_path.append(str(STATIC))


def add_assets(app: Sphinx, pagename: str, templatename: str, context: dict, doctree) -> None:
    """Only pages with a live figure load the engine and their widgets' scripts."""
    if doctree is None:
        return
    used = {node["widget"] for node in doctree.findall(live_figure)}
    if not used:
        return
    app.add_css_file("live/live.css")
    for script in ENGINE + tuple(WIDGETS[w] for w in sorted(used)) + ("boot.js",):
        app.add_js_file(f"live/{script}")


def setup(app: Sphinx) -> dict:
    """Register the directive, its node and the page hook."""
    app.add_node(live_figure, html=(visit_html, None), latex=(skip, None), text=(skip, None), man=(skip, None))
    app.add_directive("live-figure", LiveFigure)
    app.connect("config-inited", add_static_path)
    app.connect("html-page-context", add_assets)
    app.connect("env-get-outdated", outdated_pages)
    app.connect("env-purge-doc", purge_page)
    app.connect("env-merge-info", merge_pages)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
