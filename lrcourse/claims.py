r"""Claims over seeds: paired differences with confidence intervals, and checks that read like the prose.

A chapter that says "Adam beats SGD" has measured both on the same seeds. The
per-seed differences :math:`d_i = a_i - b_i` remove what the two runs of a seed
share (the data, the initial weights), and their mean comes with a Student-t
interval :math:`\bar d \pm t_{n-1}\, s_d / \sqrt{n}`. The claim helpers turn the
sentence of the text into a test on that interval:

- :func:`beats_on_every_seed`: every paired run goes the stated way;
- :func:`beats_by`: the one-sided lower confidence bound of the gain is at least ``margin``;
- :func:`equivalent`: two one-sided tests, the interval lies inside ``(-margin, margin)``
  (an equivalence needs a stated margin and at least five seeds: "the difference was
  smaller than its noise" is not evidence of no difference);
- :func:`at_least` and :func:`at_most`: the mean of one method, bounded with confidence.

Each returns a :class:`Claim`: true or false, and printable, so ``assert claim, claim``
fails with the numbers in its message. For ratios ("within a factor of 2") compare the
logarithms.

>>> adam, sgd = [0.20, 0.22, 0.19, 0.21, 0.20], [0.30, 0.31, 0.33, 0.29, 0.30]
>>> claim = beats_by(adam, sgd, 0.05, better="lower")
>>> bool(claim)
True
>>> print(claim)
holds: better by 0.102 (one-sided 95% bound 0.0803) over 5 seeds, at least 0.05
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import stats

Better = Literal["higher", "lower"]
Values = Sequence[float] | np.ndarray  # one number per seed
MIN_SEEDS_FOR_EQUIVALENCE = 5


@dataclass(frozen=True)
class Estimate:
    """A mean over seeds with its two-sided Student-t confidence interval.

    >>> e = interval([1.0, 2.0, 3.0])
    >>> e.mean, round(e.low, 3), round(e.high, 3), e.n
    (2.0, -0.484, 4.484, 3)
    """

    mean: float
    low: float
    high: float
    n: int
    confidence: float

    def __str__(self) -> str:
        return f"{self.mean:.4g} ({self.confidence:.0%} CI {self.low:.4g} to {self.high:.4g}, n={self.n})"


@dataclass(frozen=True)
class Claim:
    """The outcome of a claim helper: ``bool(claim)`` says whether it holds, ``str`` says why."""

    holds: bool
    statement: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "holds", bool(self.holds))  # a NumPy bool would break `assert claim`

    def __bool__(self) -> bool:
        return self.holds

    def __str__(self) -> str:
        return ("holds: " if self.holds else "fails: ") + self.statement


def interval(values: Values, confidence: float = 0.95) -> Estimate:
    """The mean of ``values`` and its two-sided ``confidence`` t-interval (at least two values)."""
    x = _sample(values, "values")
    half = _t(confidence, len(x), sided=2) * _standard_error(x)
    mean = float(x.mean())
    return Estimate(mean, mean - half, mean + half, len(x), confidence)


def paired(a: Values, b: Values, confidence: float = 0.95) -> Estimate:
    """The mean of the per-seed differences ``a[i] - b[i]`` with its t-interval.

    >>> d = paired([1.0, 2.0, 3.0], [0.5, 1.4, 2.6])
    >>> round(d.mean, 3), d.n
    (0.5, 3)
    """
    return interval(_differences(a, b), confidence)


def beats_on_every_seed(a: Values, b: Values, *, better: Better) -> Claim:
    """``a`` is better than ``b`` on every seed (strictly), seeds paired by position.

    >>> bool(beats_on_every_seed([1, 2, 3], [0, 1, 3], better="higher"))
    False
    """
    gain = _gain(a, b, better)
    wins = int(np.sum(gain > 0))
    return Claim(wins == len(gain), f"better on {wins} of {len(gain)} seeds (smallest gain {gain.min():.3g})")


def beats_by(a: Values, b: Values, margin: float = 0.0, *, better: Better, confidence: float = 0.95) -> Claim:
    """``a`` beats ``b`` by at least ``margin``: the one-sided lower confidence bound of the mean gain.

    ``margin=0`` claims only that ``a`` is better. The gain is ``a - b`` when higher is
    better and ``b - a`` when lower is.

    >>> bool(beats_by([0.9, 0.91, 0.92], [0.8, 0.85, 0.9], 0.05, better="higher"))
    False
    """
    _check_margin(margin, allow_zero=True)
    gain = _gain(a, b, better)
    mean = float(gain.mean())
    bound = mean - _t(confidence, len(gain), sided=1) * _standard_error(gain)
    statement = f"better by {mean:.3g} (one-sided {confidence:.0%} bound {bound:.3g}) over {len(gain)} seeds"
    return Claim(bound >= margin, statement + f", at least {margin:g}")


def equivalent(a: Values, b: Values, margin: float, *, confidence: float = 0.95) -> Claim:
    """``a`` and ``b`` differ by less than ``margin`` (two one-sided tests at ``confidence`` each).

    Needs at least five paired seeds; with fewer, any margin wide enough to pass says nothing.

    >>> a, b = [0.50, 0.52, 0.49, 0.51, 0.50], [0.51, 0.51, 0.50, 0.50, 0.51]
    >>> bool(equivalent(a, b, margin=0.02)), bool(equivalent(a, b, margin=0.005))
    (True, False)
    """
    _check_margin(margin, allow_zero=False)
    d = _differences(a, b)
    if len(d) < MIN_SEEDS_FOR_EQUIVALENCE:
        raise ValueError(f"an equivalence claim needs at least {MIN_SEEDS_FOR_EQUIVALENCE} seeds, not {len(d)}")
    half = _t(confidence, len(d), sided=1) * _standard_error(d)
    mean = float(d.mean())
    low, high = mean - half, mean + half
    statement = f"difference {mean:.3g}, one-sided {confidence:.0%} bounds {low:.3g} to {high:.3g}, within ±{margin:g}"
    return Claim(-margin < low and high < margin, statement + f" over {len(d)} seeds")


def at_least(values: Values, threshold: float, confidence: float = 0.95) -> Claim:
    """The mean of ``values`` is at least ``threshold``: its one-sided lower confidence bound.

    >>> bool(at_least([0.991, 0.992, 0.990, 0.993, 0.991], 0.99))
    True
    """
    mean, bound = _mean_and_bound(values, confidence, side=-1)
    return Claim(bound >= threshold, f"mean {mean:.4g}, one-sided {confidence:.0%} bound {bound:.4g} >= {threshold:g}")


def at_most(values: Values, threshold: float, confidence: float = 0.95) -> Claim:
    """The mean of ``values`` is at most ``threshold``: its one-sided upper confidence bound.

    >>> bool(at_most([1.0, 1.1, 0.9], 1.05))
    False
    """
    mean, bound = _mean_and_bound(values, confidence, side=+1)
    return Claim(bound <= threshold, f"mean {mean:.4g}, one-sided {confidence:.0%} bound {bound:.4g} <= {threshold:g}")


def _sample(values: Values, name: str) -> np.ndarray:
    x = np.asarray(values, dtype=float)
    if x.ndim != 1 or len(x) < 2:
        raise ValueError(f"{name} must be a 1-D sequence of at least 2 numbers, one per seed, not shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} holds a non-finite value ({x.tolist()}): count diverged runs separately")
    return x


def _differences(a: Values, b: Values) -> np.ndarray:
    x, y = _sample(a, "a"), _sample(b, "b")
    if len(x) != len(y):
        raise ValueError(f"a and b must be paired by seed, but have {len(x)} and {len(y)} values")
    return x - y


def _gain(a: Values, b: Values, better: Better) -> np.ndarray:
    if better not in ("higher", "lower"):
        raise ValueError(f"better must be 'higher' or 'lower', not {better!r}")
    d = _differences(a, b)
    return d if better == "higher" else -d


def _standard_error(x: np.ndarray) -> float:
    return float(x.std(ddof=1)) / math.sqrt(len(x))


def _t(confidence: float, n: int, sided: int) -> float:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie in (0, 1), not {confidence!r}")
    tail = (1 - confidence) / sided
    return float(stats.t.ppf(1 - tail, df=n - 1))


def _mean_and_bound(values: Values, confidence: float, side: int) -> tuple[float, float]:
    """The mean and its one-sided bound: below it for ``side=-1``, above it for ``side=+1``."""
    x = _sample(values, "values")
    mean = float(x.mean())
    return mean, mean + side * _t(confidence, len(x), sided=1) * _standard_error(x)


def _check_margin(margin: float, allow_zero: bool) -> None:
    if not math.isfinite(margin) or margin < 0 or (margin == 0 and not allow_zero):
        raise ValueError(f"margin must be a {'non-negative' if allow_zero else 'positive'} number, not {margin!r}")
