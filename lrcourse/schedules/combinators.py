r"""Compound schedules, built by joining simple ones: :func:`~lrcourse.schedules.join` and
:func:`~lrcourse.schedules.warmup`.

Each part of a join runs on its own clock, starting from its own step 0 at its boundary,
so a compound schedule is never a recursive formula: its value at any step is one lookup
and one closed form. Parts may be our schedules or plain callables ``step -> lr``.

>>> from lrcourse.schedules import constant, cosine, join
>>> s = join([constant(0.1), cosine(0.1, total_steps=10)], boundaries=[5])
>>> s(4), s(5), s(15)
(0.1, 0.1, 0.0)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from lrcourse.schedules._base import Schedule, check_callable, check_increasing, check_rate, check_steps, values


@dataclass(frozen=True)
class Join(Schedule):
    r"""``schedules[i]`` from ``boundaries[i-1]`` on, each started at its own step 0.

    With boundaries :math:`0 = b_0 < b_1 < \dots < b_{n-1}` and schedules
    :math:`f_0, \dots, f_{n-1}`:

    .. math::
        \eta_t = f_i(t - b_i), \qquad b_i \le t < b_{i+1}

    The join is continuous at :math:`b_i` exactly when :math:`f_{i-1}(b_i - b_{i-1}) = f_i(0)`,
    that is when each part, run to its boundary, ends where the next begins (a warmup
    reaching the peak at which a cosine starts, say); nothing forces that.

    >>> from lrcourse.schedules import constant
    >>> s = Join((constant(1.0), constant(0.5)), (3,))
    >>> s(np.arange(5)).tolist()
    [1.0, 1.0, 1.0, 0.5, 0.5]
    """

    schedules: tuple[Callable, ...]
    boundaries: tuple[int, ...]

    def __post_init__(self):
        object.__setattr__(self, "schedules", tuple(self.schedules))
        for s in self.schedules:
            check_callable("schedules", s)
        if len(self.schedules) < 2:
            raise ValueError(f"schedules must hold at least two schedules to join, got {len(self.schedules)}")
        bounds = check_increasing("boundaries", self.boundaries, True, 1)
        if len(bounds) != len(self.schedules) - 1:
            raise ValueError(
                f"boundaries must hold one step per join, len(schedules) - 1 = {len(self.schedules) - 1}, "
                f"got {len(bounds)}"
            )
        object.__setattr__(self, "boundaries", bounds)

    def at(self, step):
        starts = np.asarray((0,) + self.boundaries, dtype=np.float64)
        part = np.searchsorted(starts, step, side="right") - 1  # 1) which part
        out = np.empty_like(step)
        for i, schedule in enumerate(self.schedules):  # 2) each on its own clock
            here = part == i
            if np.any(here):
                out[here] = values(schedule, step[here] - starts[i])
        return out


@dataclass(frozen=True)
class Warmup(Schedule):
    r"""A straight line from ``start_lr`` up to where ``schedule`` starts, then ``schedule``.

    With :math:`w` = ``warmup_steps`` and :math:`f` the schedule:

    .. math::
        \eta_t = \begin{cases}
        \text{start\_lr} + (f(0) - \text{start\_lr})\, t / w & t < w \\
        f(t - w) & t \ge w \end{cases}

    so the rate reaches exactly :math:`f(0)` at step :math:`w` and the join is continuous.
    This is ``LinearLR`` followed by ``schedule``, what PyTorch users assemble with
    ``SequentialLR``. ``warmup_steps = 0`` leaves the schedule as it is.

    >>> from lrcourse.schedules import constant
    >>> s = Warmup(constant(1.0), warmup_steps=4)
    >>> s(np.arange(6)).tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
    """

    schedule: Callable
    warmup_steps: int
    start_lr: float = 0.0

    def __post_init__(self):
        check_callable("schedule", self.schedule)
        check_steps("warmup_steps", self.warmup_steps, minimum=0)
        check_rate("start_lr", self.start_lr)

    def at(self, step):
        w = self.warmup_steps
        later = values(self.schedule, np.maximum(step - w, 0.0))  # 2) the schedule, on its own clock
        if w == 0:
            return later
        target = values(self.schedule, 0.0)
        ramp = self.start_lr + (target - self.start_lr) * (np.minimum(step, w) / w)  # 1) linear warmup
        return np.where(step < w, ramp, later)


def join(schedules: Sequence[Callable], boundaries: Sequence[int]) -> Join:
    """One schedule after another: ``schedules[i]`` runs from ``boundaries[i-1]`` (see :class:`Join`).

    >>> from lrcourse.schedules import linear, cosine
    >>> s = join([linear(0.0, 0.1, total_steps=10), cosine(0.1, total_steps=90)], boundaries=[10])
    >>> s(5), s(10), s(100)
    (0.05, 0.1, 0.0)
    """
    return Join(tuple(schedules), tuple(boundaries))


def warmup(schedule: Callable, warmup_steps: int, start_lr: float = 0.0) -> Warmup:
    """Linear warmup from ``start_lr`` in front of any schedule (see :class:`Warmup`).

    >>> from lrcourse.schedules import cosine
    >>> s = warmup(cosine(0.1, total_steps=90), warmup_steps=10)
    >>> s(0), s(5), s(10)
    (0.0, 0.05, 0.1)
    """
    return Warmup(schedule, warmup_steps, start_lr)
