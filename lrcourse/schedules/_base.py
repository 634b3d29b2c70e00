r"""What every schedule shares: a call on one step or on an array of steps, and argument checks.

A schedule is a small frozen dataclass whose :meth:`Schedule.at` maps a NumPy array of
0-based steps to the learning rates at those steps, from a closed form. :meth:`Schedule.__call__`
wraps it, so that ``schedule(7)`` is a Python ``float`` and ``schedule(np.arange(10**6))``
is an array computed at once. Any plain callable ``step -> lr`` can stand in for a schedule;
:func:`values` evaluates either kind on many steps.

>>> import numpy as np
>>> values(lambda step: 0.1 / (1 + step), np.arange(3))
array([0.1 , 0.05 , 0.03333333])
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence

import numpy as np


class Schedule:
    """Base of the schedules: subclasses are frozen dataclasses that implement :meth:`at`.

    >>> from lrcourse.schedules import constant
    >>> s = constant(0.1)
    >>> s(3), s(np.arange(2))
    (0.1, array([0.1, 0.1]))
    """

    def at(self, step: np.ndarray) -> np.ndarray:
        """The rates at an array of steps (float64, all >= 0); same shape out."""
        raise NotImplementedError

    def __call__(self, step):
        """The rate at ``step``: a ``float`` for one step, an array for an array of them."""
        steps = np.asarray(step, dtype=np.float64)
        if steps.size and not np.all(steps >= 0):  # also rejects NaN
            raise ValueError(f"step must be >= 0, got {step!r}")
        out = np.asarray(self.at(steps), dtype=np.float64)
        out = np.broadcast_to(out, steps.shape)
        return float(out) if out.ndim == 0 else out.copy()


def values(schedule: Callable, step) -> np.ndarray:
    """``schedule`` at each of ``step`` (an array), for ours and for any plain callable alike.

    A plain callable is called once per step with a Python ``int`` (or ``float`` for a
    step that is not whole), so it needs no NumPy support.

    >>> values(lambda step: 2.0 * step, [0, 1, 2])
    array([0., 2., 4.])
    """
    steps = np.asarray(step, dtype=np.float64)
    if isinstance(schedule, Schedule):
        return np.asarray(schedule(steps), dtype=np.float64)
    flat = [float(schedule(int(s) if s.is_integer() else float(s))) for s in steps.ravel()]
    return np.asarray(flat, dtype=np.float64).reshape(steps.shape)


def value(schedule: Callable, step) -> float:
    """``schedule`` at one step, as a ``float``, for ours and for any plain callable alike."""
    return float(schedule(step))


def rate_at(schedule: Callable, step: int, name: str = "schedule") -> float:
    """``schedule`` at ``step``, checked: a ``ValueError`` naming the schedule and the step
    unless it is a finite number >= 0 (a rate or a momentum about to be written into an optimizer).

    >>> rate_at(lambda step: 0.1, 3)
    0.1
    >>> rate_at(lambda step: -0.1, 3, name="momentum")
    Traceback (most recent call last):
    ...
    ValueError: momentum <function <lambda> at 0x...> gave -0.1 at step 3: it must be a finite number >= 0; ...
    """
    raw = schedule(step)
    try:
        x = float(raw)
    except (TypeError, ValueError):
        x = math.nan
    if not (math.isfinite(x) and x >= 0):
        raise ValueError(
            f"{name} {schedule!r} gave {raw!r} at step {step}: it must be a finite number >= 0; "
            "fix the schedule (or stop training before that step)"
        )
    return x


# --- argument checks: each raises ValueError naming the argument -------------------------------


def check_callable(name: str, schedule) -> Callable:
    """Return ``schedule`` if it can be called with a step; raise ``TypeError`` naming ``name`` if not."""
    if not callable(schedule):
        raise TypeError(f"{name} must be a schedule or a callable step -> lr, got {schedule!r}")
    return schedule


def check_rate(name: str, x) -> float:
    """A learning rate (or momentum): a finite number >= 0."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not math.isfinite(x) or x < 0:
        raise ValueError(f"{name} must be a finite number >= 0, got {x!r}")
    return float(x)


def check_positive(name: str, x) -> float:
    """Return ``x`` as a float if it is a finite number above 0; raise ``ValueError`` naming ``name`` if not."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not math.isfinite(x) or x <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {x!r}")
    return float(x)


def check_fraction(name: str, x) -> float:
    """A number strictly between 0 and 1."""
    if isinstance(x, bool) or not isinstance(x, numbers.Real) or not 0 < float(x) < 1:
        raise ValueError(f"{name} must be in (0, 1), got {x!r}")
    return float(x)


def check_steps(name: str, x, minimum: int = 1) -> int:
    """A whole number of steps, at least ``minimum``."""
    if isinstance(x, bool) or not isinstance(x, numbers.Integral) or x < minimum:
        kind = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ValueError(f"{name} must be {kind}, got {x!r}")
    return int(x)


def check_increasing(name: str, xs: Sequence, strict: bool, minimum: int) -> tuple[int, ...]:
    """Whole numbers >= ``minimum``, sorted (strictly if ``strict``)."""
    xs = tuple(check_steps(name, x, minimum) for x in xs)
    pairs = zip(xs, xs[1:])
    if not all(a < b if strict else a <= b for a, b in pairs):
        raise ValueError(f"{name} must be sorted{' and distinct' if strict else ''}, got {list(xs)}")
    return xs


def check_choice(name: str, x, choices: Sequence[str]) -> str:
    """Return ``x`` if it is one of ``choices``; raise ``ValueError`` naming ``name`` if not."""
    if x not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}, got {x!r}")
    return x
