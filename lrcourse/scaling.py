r"""Moving a learning rate tuned at one batch size to another: the linear and square-root rules.

A rate :math:`\eta` tuned with batch :math:`B_0` is moved to batch :math:`B = k B_0` by

.. math::

    \eta_B = k\, \eta \quad\text{(linear rule, SGD; Goyal et al. 2017)}, \qquad
    \eta_B = \sqrt{k}\, \eta \quad\text{(square-root rule, adaptive methods)}.

The linear rule keeps what :math:`k` small SGD steps do in one large step (while the
gradient changes little over them); the square-root rule keeps the variance of the
update per example seen (Adam-type updates are already normalised by the gradient's
scale, so a milder increase is the usual choice). Both hold only up to a
problem-dependent batch size, and a large scaled rate needs **gradual warmup**:
Goyal et al. ramp the rate linearly from :math:`\eta` to :math:`k \eta` over the first
five epochs. :class:`ScaledSchedule` does all of it to any schedule written for
:math:`B_0`, as a closed form of the step.

>>> linear_rule(0.1, base_batch_size=256, batch_size=1024), sqrt_rule(1e-3, base_batch_size=256, batch_size=1024)
(0.4, 0.002)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lrcourse.schedules import Schedule, constant, values
from lrcourse.schedules._base import check_callable, check_choice, check_rate, check_steps

RULES = ("linear", "sqrt")


def batch_ratio(base_batch_size: int, batch_size: int) -> float:
    """``k = batch_size / base_batch_size``, after checking that both are positive ints.

    >>> batch_ratio(128, 512)
    4.0
    """
    check_steps("base_batch_size", base_batch_size)
    check_steps("batch_size", batch_size)
    return batch_size / base_batch_size


def linear_rule(base_lr: float, base_batch_size: int, batch_size: int) -> float:
    r"""The linear scaling rule: :math:`\eta_B = \eta\, B / B_0`.

    >>> linear_rule(0.1, base_batch_size=32, batch_size=256)
    0.8
    """
    return check_rate("base_lr", base_lr) * batch_ratio(base_batch_size, batch_size)


def sqrt_rule(base_lr: float, base_batch_size: int, batch_size: int) -> float:
    r"""The square-root scaling rule: :math:`\eta_B = \eta\, \sqrt{B / B_0}`.

    >>> sqrt_rule(0.001, base_batch_size=64, batch_size=256)
    0.002
    """
    return check_rate("base_lr", base_lr) * math.sqrt(batch_ratio(base_batch_size, batch_size))


@dataclass(frozen=True)
class ScaledSchedule(Schedule):
    r"""A schedule written for batch :math:`B_0`, moved to batch :math:`B = k B_0`, with gradual warmup.

    With :math:`f` the reference schedule, :math:`c = k` (linear rule) or
    :math:`\sqrt{k}` (square-root rule) and :math:`w` = ``warmup_steps``:

    .. math::

        m_t &= \begin{cases} 1 + (c - 1)\, t / w & t < w \\ c & t \ge w \end{cases} \\
        \eta_t &= m_t\, f(k\, t)

    1. the factor :math:`m_t` ramps from 1 (the reference rate) to :math:`c` over
       :math:`w` steps, Goyal et al.'s gradual warmup;
    2. :math:`f` is read at :math:`k t`: step :math:`t` at batch :math:`k B_0` has seen as
       many examples as step :math:`k t` at :math:`B_0`, so decay milestones stay at
       the same epochs.

    >>> from lrcourse.schedules import step_decay
    >>> s = ScaledSchedule(step_decay(0.1, step_size=400), base_batch_size=32, batch_size=128, warmup_steps=10)
    >>> [round(s(t), 4) for t in (0, 5, 10, 99, 100)]   # 0.1 -> 0.4 in 10 steps; decay at 400 / 4
    [0.1, 0.25, 0.4, 0.4, 0.04]
    """

    schedule: Callable
    base_batch_size: int
    batch_size: int
    rule: str = "linear"
    warmup_steps: int = 0

    def __post_init__(self):
        check_callable("schedule", self.schedule)
        batch_ratio(self.base_batch_size, self.batch_size)
        check_choice("rule", self.rule, RULES)
        check_steps("warmup_steps", self.warmup_steps, minimum=0)

    @property
    def factor(self) -> float:
        """The rule's multiplier :math:`c`: :math:`k` (linear) or :math:`\\sqrt{k}` (square root).

        >>> ScaledSchedule(constant(1.0), 100, 400, rule="sqrt").factor
        2.0
        """
        k = batch_ratio(self.base_batch_size, self.batch_size)
        return k if self.rule == "linear" else math.sqrt(k)

    def at(self, step):
        k, c, w = batch_ratio(self.base_batch_size, self.batch_size), self.factor, self.warmup_steps
        m = c if w == 0 else 1 + (c - 1) * np.minimum(step, w) / w  # 1) warmup of the factor
        return m * values(self.schedule, step * k)  # 2) the reference schedule at the same epoch


def linear_scaling(
    schedule: Callable | float, base_batch_size: int, batch_size: int, warmup_steps: int = 0
) -> ScaledSchedule:
    """Goyal et al.'s recipe for SGD: the linear rule with gradual warmup (a rate means a constant).

    >>> s = linear_scaling(0.1, base_batch_size=32, batch_size=256, warmup_steps=4)
    >>> [round(s(t), 3) for t in range(6)]
    [0.1, 0.275, 0.45, 0.625, 0.8, 0.8]
    """
    return _scaled(schedule, base_batch_size, batch_size, "linear", warmup_steps)


def sqrt_scaling(
    schedule: Callable | float, base_batch_size: int, batch_size: int, warmup_steps: int = 0
) -> ScaledSchedule:
    """The square-root rule for adaptive methods (Adam, LAMB), with optional warmup.

    >>> sqrt_scaling(1e-3, base_batch_size=32, batch_size=512)(0)
    0.004
    """
    return _scaled(schedule, base_batch_size, batch_size, "sqrt", warmup_steps)


def _scaled(schedule, base_batch_size, batch_size, rule, warmup_steps) -> ScaledSchedule:
    if isinstance(schedule, (int, float)) and not isinstance(schedule, bool):
        schedule = constant(float(schedule))
    return ScaledSchedule(schedule, base_batch_size, batch_size, rule, warmup_steps)
