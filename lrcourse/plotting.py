"""Plotting helpers that chapters call, so their cells stay short.

Each function draws on a Matplotlib ``Axes`` (a new one if none is given) and
returns it, so a chapter can add labels or combine panels.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np


def _axes(ax=None):
    return ax if ax is not None else plt.figure(figsize=(5, 4)).add_subplot()


def contour(problem, extent: Sequence[float] = (-1.5, 1.5, -1.5, 1.5), ax=None, levels: int | Sequence[float] = 15):
    """Level sets of a 2-D ``problem`` (a callable on arrays of points) over ``extent``.

    ``levels`` is a number of levels, spaced geometrically from the smallest value
    up (which suits a minimum of 0), or the level values themselves, for surfaces
    with negative values or a wide range. The minimizers are starred: those in
    ``problem.minimizers`` if it has them, else the origin.

    >>> from lrcourse.problems import Quadratic, Saddle
    >>> contour(Quadratic((1.0, 4.0))).get_xlabel()
    '$x_1$'
    >>> ax = contour(Saddle(), levels=[-0.2, 0.0, 0.5])
    >>> [float(v) for v in ax.collections[0].levels]
    [-0.2, 0.0, 0.5]
    """
    ax = _axes(ax)
    x_lo, x_hi, y_lo, y_hi = extent
    x1, x2 = np.meshgrid(np.linspace(x_lo, x_hi, 200), np.linspace(y_lo, y_hi, 200))
    values = problem(np.stack([x1, x2], axis=-1))
    if isinstance(levels, (int, np.integer)):
        finite = values[np.isfinite(values)]
        levels = list(np.geomspace(max(finite.min(), 1e-3 * finite.max()), finite.max(), levels))
    ax.contour(x1, x2, values, levels=levels, colors="0.75", linewidths=0.8)
    stars = np.array(getattr(problem, "minimizers", [(0.0, 0.0)]), dtype=float)
    ax.plot(*stars.T, marker="*", color="black", markersize=10, linestyle="none")
    ax.set(xlim=extent[:2], ylim=extent[2:], xlabel="$x_1$", ylabel="$x_2$", aspect="equal")
    return ax


def paths(
    problem,
    iterates: Mapping[str, np.ndarray],
    extent: Sequence[float] = (-1.5, 1.5, -1.5, 1.5),
    ax=None,
    levels: int | Sequence[float] = 15,
):
    """Iterates of 2-D runs (``label -> array of shape (steps + 1, 2)``) over the problem's contours.

    ``levels`` goes to :func:`contour`.
    """
    ax = contour(problem, extent, ax=ax, levels=levels)
    for label, path in iterates.items():
        inside = np.all(np.abs(path) < 1e3 * max(np.abs(extent)), axis=1)
        ax.plot(*path[inside].T, marker="o", markersize=3, linewidth=1.2, label=label)
    ax.legend(loc="lower right", fontsize="small")
    return ax


def curves(
    values: Mapping[str, np.ndarray],
    ax=None,
    log: bool = True,
    xlabel: str = "step",
    ylabel: str = "loss",
):
    """One line per ``label -> values``, against their index, on a log scale by default.

    >>> ax = curves({"a": np.array([1.0, 0.5, 0.25])})
    >>> ax.get_yscale(), ax.get_xlabel()
    ('log', 'step')
    """
    ax = _axes(ax)
    for label, series in values.items():
        ax.plot(np.asarray(series, dtype=float), label=label)
    if log:
        ax.set_yscale("log")
    ax.set(xlabel=xlabel, ylabel=ylabel)
    ax.legend(fontsize="small")
    return ax


def animate(
    problem,
    iterates: Mapping[str, np.ndarray],
    extent: Sequence[float] = (-1.5, 1.5, -1.5, 1.5),
    frames: int | None = None,
    interval: int = 150,
    levels: int | Sequence[float] = 15,
) -> str:
    """A JavaScript animation (HTML) of several runs moving over the problem's contours.

    Returns the HTML of Matplotlib's ``to_jshtml``: frames are embedded in the page,
    so it plays offline in a notebook (``IPython.display.HTML``) and in the book. Every frame
    (at 100 dpi) adds to the page's weight: where the reader should vary a setting rather than
    watch steps, the book's live figures (``{live-figure}``, book/_ext/live_figures.py) are lighter.
    ``levels`` goes to :func:`contour`.

    >>> from lrcourse.problems import Quadratic
    >>> html = animate(Quadratic((1.0, 4.0)), {"a": np.array([[1.0, 1.0], [0.5, 0.2]])})
    >>> "<script" in html and "anim" in html
    True
    >>> "https://" in html  # nothing is fetched from the network
    False
    """
    from matplotlib.animation import FuncAnimation

    longest = max(len(path) for path in iterates.values())
    frames = longest if frames is None else min(frames, longest)
    fig, ax = plt.subplots(figsize=(5.5, 4.5), dpi=100)  # below 100 dpi the labels blur on a screen
    contour(problem, extent, ax=ax, levels=levels)
    lines = {label: ax.plot([], [], marker="o", markersize=3, linewidth=1.2, label=label)[0] for label in iterates}
    ax.legend(loc="lower right", fontsize="small")

    def draw(frame):
        for label, path in iterates.items():
            lines[label].set_data(*path[: frame + 1].T)
        ax.set_title(f"step {frame}")
        return list(lines.values())

    animation = FuncAnimation(fig, draw, frames=frames, interval=interval, blit=True)
    html = animation.to_jshtml(default_mode="once")
    plt.close(fig)
    # Matplotlib links Font Awesome from a CDN for its button icons; the book's theme and
    # Jupyter already ship the font, and a page of the course loads nothing from the network.
    return re.sub(r"<link[^>]*font-awesome[^>]*>\s*", "", html)
