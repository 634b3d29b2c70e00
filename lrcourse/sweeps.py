"""Learning-rate sweeps: label the regimes of a sweep and plot it.

A sweep trains the same model from the same start at rates on a logarithmic grid
and records one number per rate (the final training loss, say). Its shape is a
lopsided U: a gentle left side where the rate is too small, a bottom, and a cliff
where the rate is too large. These helpers are pure functions of the arrays, so
any training loop can produce them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

REGIME_COLORS = {"too small": "C0", "good": "C2", "too large": "C3"}


def regimes(lrs: Sequence[float], losses: Sequence[float], *, within: float = 3.0) -> list[str]:
    """Label each rate ``"too small"``, ``"good"`` or ``"too large"``.

    A rate is good when its loss is at most ``within`` times the best loss of the
    sweep; the others are too small or too large by their side of the best rate.
    Non-finite losses (a run that overflowed) count as infinitely bad.

    >>> regimes([0.01, 0.1, 1.0, 10.0], [2.0, 0.5, 0.3, float("nan")])
    ['too small', 'good', 'good', 'too large']
    """
    rates, values = np.asarray(lrs, dtype=float), np.asarray(losses, dtype=float)
    if rates.shape != values.shape or rates.ndim != 1 or len(rates) == 0:
        raise ValueError(f"lrs and losses must be 1-D and of the same length, not {rates.shape} and {values.shape}")
    if np.any(np.diff(rates) <= 0):
        raise ValueError("lrs must be increasing")
    values = np.where(np.isfinite(values), values, np.inf)
    best = int(np.argmin(values))
    if not np.isfinite(values[best]):
        return ["too large"] * len(rates)
    labels = []
    for i, loss in enumerate(values):
        if loss <= within * values[best]:
            labels.append("good")
        else:
            labels.append("too small" if i < best else "too large")
    return labels


def plot(
    lrs: Sequence[float], losses: Sequence[float], labels: Sequence[str] | None = None, ax=None, cap: float = 10.0
):
    """The sweep on log-log axes, each point colored by its regime; losses above ``cap`` are drawn at ``cap``."""
    import matplotlib.pyplot as plt

    ax = ax if ax is not None else plt.gca()
    rates = np.asarray(lrs, dtype=float)
    shown = np.minimum(np.nan_to_num(np.asarray(losses, dtype=float), nan=cap, posinf=cap), cap)
    labels = list(labels) if labels is not None else regimes(lrs, losses)
    ax.plot(rates, shown, "-", color="0.7", zorder=1)
    for name, color in REGIME_COLORS.items():
        keep = np.array([label == name for label in labels], dtype=bool)
        ax.scatter(rates[keep], shown[keep], color=color, label=name, zorder=2)
    ax.set(xscale="log", yscale="log", xlabel=r"learning rate $\eta$", ylabel="loss")
    return ax
