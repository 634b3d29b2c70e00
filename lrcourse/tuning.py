"""Tuning a rate on a logarithmic grid, widened until the best rate is inside it.

A comparison of two methods means something only when each runs at its own best
rate. A best rate found on the edge of the grid is not a best rate: the next point
out might be better still. :func:`tune` scores every rate of a geometric grid and,
while the best score sits on an edge, adds the next rate beyond that edge; it stops
when the best rate has a tried neighbour on each side, and raises
:class:`GridEdgeError` if that takes more than ``max_widen`` extra points.

>>> tuned = tune(lambda lr: (math.log10(lr) + 2.2) ** 2, log_grid(1e-1, 1, per_decade=2))
>>> tuned.best, tuned.neighbours
(0.01, (0.00316, 0.0316))
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

Score = Callable[[float], "float | Sequence[float]"]


class GridEdgeError(RuntimeError):
    """The best rate stayed on the edge of the grid after every allowed widening."""


@dataclass(frozen=True)
class Tuned:
    """The outcome of :func:`tune`: the best rate, its neighbours and every score tried.

    ``scores`` maps each rate, in increasing order, to its score (the mean when the
    score function returned one value per seed; non-finite when a run diverged);
    ``runs`` keeps what the score function returned.
    """

    best: float
    neighbours: tuple[float, float]
    scores: dict[float, float]
    runs: dict[float, object]
    better: str

    @property
    def rates(self) -> list[float]:
        """Every rate tried, increasing."""
        return list(self.scores)


def log_grid(low: float, high: float, per_decade: int = 2) -> list[float]:
    """Rates from ``low`` to ``high`` with ``per_decade`` points a decade, rounded to 3 significant digits.

    >>> log_grid(1e-3, 1e-1, per_decade=2)
    [0.001, 0.00316, 0.01, 0.0316, 0.1]
    """
    if not (0 < low < high) or not isinstance(per_decade, int) or per_decade < 1:
        raise ValueError(f"need 0 < low < high and a positive int per_decade, not {low!r}, {high!r}, {per_decade!r}")
    count = round(math.log10(high / low) * per_decade) + 1
    return [_round(x) for x in np.geomspace(low, high, max(count, 2))]


def tune(score: Score, rates: Sequence[float], *, better: str = "lower", max_widen: int = 4) -> Tuned:
    """Score each rate, widening the geometric grid until the best rate is interior.

    ``score(lr)`` returns a number, or one number per seed (their mean is the score).
    A non-finite score (a diverged run) counts as the worst. ``rates`` is an increasing
    geometric grid of at least three rates; each widening adds one rate beyond the edge
    that holds the best score, at the grid's ratio.

    >>> tune(lambda lr: lr, [0.1, 1.0, 10.0], max_widen=2)
    Traceback (most recent call last):
    ...
    lrcourse.tuning.GridEdgeError: the best rate stayed at the lower edge of 0.001 to 10 after 2 widenings
    """
    if better not in ("higher", "lower"):
        raise ValueError(f"better must be 'higher' or 'lower', not {better!r}")
    grid = _checked_grid(rates)
    ratio = grid[1] / grid[0]
    runs: dict[float, object] = {}
    for widenings in range(max_widen + 1):
        for lr in grid:
            if lr not in runs:
                runs[lr] = score(lr)
        values = [_badness(runs[lr], better) for lr in grid]
        best = int(np.argmin(values))
        if not math.isfinite(values[best]):
            raise GridEdgeError(f"every rate from {grid[0]:g} to {grid[-1]:g} diverged")
        if 0 < best < len(grid) - 1:
            scores = {lr: _mean(runs[lr]) for lr in grid}
            return Tuned(grid[best], (grid[best - 1], grid[best + 1]), scores, {lr: runs[lr] for lr in grid}, better)
        if widenings < max_widen:
            grid = [_round(grid[0] / ratio), *grid] if best == 0 else [*grid, _round(grid[-1] * ratio)]
    edge = "lower" if best == 0 else "upper"
    raise GridEdgeError(
        f"the best rate stayed at the {edge} edge of {grid[0]:g} to {grid[-1]:g} after {max_widen} widenings"
    )


def tune_around(
    score: Score, start: float, *, per_decade: int = 8, better: str = "lower", max_widen: int = 10
) -> Tuned:
    """Tune on three rates centred on ``start``, ``per_decade`` to a decade, widened until the best is interior.

    A fine grid that costs three runs when ``start`` is already near the best rate
    (a rate tuned for a similar schedule, say) and grows one rate at a time otherwise.

    >>> t = tune_around(lambda lr: (math.log10(lr) + 1.5) ** 2, 0.01, per_decade=4)
    >>> t.best, t.rates
    (0.0317, [0.00562, 0.01, 0.0178, 0.0317, 0.0564])
    """
    if not (start > 0) or not isinstance(per_decade, int) or per_decade < 1:
        raise ValueError(f"need start > 0 and a positive int per_decade, not {start!r}, {per_decade!r}")
    step = 10 ** (1 / per_decade)
    return tune(score, [_round(start * step**k) for k in (-1, 0, 1)], better=better, max_widen=max_widen)


def _checked_grid(rates: Sequence[float]) -> list[float]:
    grid = [float(r) for r in rates]
    if len(grid) < 3 or any(r <= 0 for r in grid) or any(b <= a for a, b in zip(grid, grid[1:])):
        raise ValueError(f"rates must be at least 3 increasing positive numbers, not {list(rates)!r}")
    ratios = np.diff(np.log(grid))
    if not np.allclose(ratios, ratios[0], rtol=0.05):
        raise ValueError(f"rates must form a geometric grid (a constant ratio), not {grid!r}")
    return grid


def _mean(run: object) -> float:
    values = np.asarray(run, dtype=float)
    return float(values.mean()) if np.all(np.isfinite(values)) else math.inf


def _badness(run: object, better: str) -> float:
    mean = _mean(run)
    if not math.isfinite(mean):
        return math.inf
    return mean if better == "lower" else -mean


def _round(x: float) -> float:
    return float(f"{x:.3g}")
