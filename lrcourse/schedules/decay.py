r"""Schedules that start at ``lr`` and go one way: constant, linear, step, exponential, cosine, polynomial.

Each is a closed form in the 0-based step :math:`t`; each that PyTorch also has gives
PyTorch's rates (the tests compare over thousands of steps). Where a schedule has a
horizon ``total_steps``, it holds its final value after it: PyTorch's ``CosineAnnealingLR``
instead climbs back up, which is rarely what anyone wants from "cosine decay".

>>> from lrcourse.schedules import cosine
>>> s = cosine(0.1, total_steps=100)
>>> round(s(50), 6), s(100), s(10**6)
(0.05, 0.0, 0.0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from lrcourse.schedules._base import Schedule, check_increasing, check_positive, check_rate, check_steps


@dataclass(frozen=True)
class Constant(Schedule):
    r"""The same rate at every step: :math:`\eta_t = \text{lr}`.

    >>> Constant(0.01)(12345)
    0.01
    """

    lr: float

    def __post_init__(self):
        check_rate("lr", self.lr)

    def at(self, step):
        return np.full_like(step, self.lr)


@dataclass(frozen=True)
class Linear(Schedule):
    r"""A straight line from ``start_lr`` at step 0 to ``end_lr`` at ``total_steps``, then ``end_lr``.

    .. math::
        \eta_t = \text{start\_lr} + (\text{end\_lr} - \text{start\_lr})
                 \,\frac{\min(t, T)}{T}, \qquad T = \text{total\_steps}

    It equals ``torch.optim.lr_scheduler.LinearLR`` with ``start_factor = start_lr / lr``
    and ``end_factor = end_lr / lr``.

    >>> s = Linear(0.0, 1.0, total_steps=4)
    >>> s(np.arange(6)).tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
    """

    start_lr: float
    end_lr: float
    total_steps: int

    def __post_init__(self):
        check_rate("start_lr", self.start_lr)
        check_rate("end_lr", self.end_lr)
        check_steps("total_steps", self.total_steps)

    def at(self, step):
        done = np.minimum(step, self.total_steps) / self.total_steps  # fraction done, 1 past the horizon
        return self.start_lr + (self.end_lr - self.start_lr) * done


@dataclass(frozen=True)
class StepDecay(Schedule):
    r"""Multiply by ``gamma`` every ``step_size`` steps; equals ``StepLR``.

    .. math::
        \eta_t = \text{lr}\,\gamma^{\lfloor t / \text{step\_size} \rfloor}

    >>> StepDecay(1.0, step_size=10, gamma=0.5)(np.array([0, 9, 10, 25])).tolist()
    [1.0, 1.0, 0.5, 0.25]
    """

    lr: float
    step_size: int
    gamma: float = 0.1

    def __post_init__(self):
        check_rate("lr", self.lr)
        check_steps("step_size", self.step_size)
        check_positive("gamma", self.gamma)

    def at(self, step):
        return self.lr * self.gamma ** np.floor(step / self.step_size)


@dataclass(frozen=True)
class MultiStep(Schedule):
    r"""Multiply by ``gamma`` at each milestone; equals ``MultiStepLR``.

    .. math::
        \eta_t = \text{lr}\,\gamma^{\#\{i \,:\, m_i \le t\}}

    A milestone given twice multiplies by ``gamma`` twice there, as in PyTorch.

    >>> MultiStep(1.0, milestones=(2, 5), gamma=0.1)(np.arange(7)).round(4).tolist()
    [1.0, 1.0, 0.1, 0.1, 0.1, 0.01, 0.01]
    """

    lr: float
    milestones: tuple[int, ...]
    gamma: float = 0.1

    def __post_init__(self):
        check_rate("lr", self.lr)
        object.__setattr__(self, "milestones", check_increasing("milestones", self.milestones, False, 1))
        check_positive("gamma", self.gamma)

    def at(self, step):
        passed = np.searchsorted(np.asarray(self.milestones, dtype=np.float64), step, side="right")
        return self.lr * self.gamma**passed


@dataclass(frozen=True)
class Exponential(Schedule):
    r"""Multiply by ``gamma`` every step; equals ``ExponentialLR``.

    .. math::
        \eta_t = \text{lr}\,\gamma^{t}

    >>> Exponential(1.0, gamma=0.5)(3)
    0.125
    """

    lr: float
    gamma: float

    def __post_init__(self):
        check_rate("lr", self.lr)
        check_positive("gamma", self.gamma)

    def at(self, step):
        return self.lr * self.gamma**step


@dataclass(frozen=True)
class Cosine(Schedule):
    r"""Half a cosine from ``lr`` down to ``min_lr`` over ``total_steps``, then ``min_lr``.

    .. math::
        \eta_t = \eta_{\min} + \tfrac12(\text{lr} - \eta_{\min})
                 \left(1 + \cos\frac{\pi \min(t, T)}{T}\right), \qquad T = \text{total\_steps}

    Up to ``total_steps`` this equals ``CosineAnnealingLR(T_max=total_steps, eta_min=min_lr)``.
    After it we differ on purpose: PyTorch's rate climbs back towards ``lr`` (its cosine
    is periodic), ours holds ``min_lr``.

    >>> s = Cosine(1.0, total_steps=4)
    >>> s(np.arange(6)).round(4).tolist()
    [1.0, 0.8536, 0.5, 0.1464, 0.0, 0.0]
    """

    lr: float
    total_steps: int
    min_lr: float = 0.0

    def __post_init__(self):
        check_rate("lr", self.lr)
        check_steps("total_steps", self.total_steps)
        check_rate("min_lr", self.min_lr)

    def at(self, step):
        t = np.minimum(step, self.total_steps)  # 1) past the horizon, stay at its end: min_lr
        return self.min_lr + (self.lr - self.min_lr) * (1 + np.cos(np.pi * t / self.total_steps)) / 2  # 2) cosine


@dataclass(frozen=True)
class Polynomial(Schedule):
    r"""From ``lr`` to ``end_lr`` along a power of the remaining fraction, then ``end_lr``.

    .. math::
        \eta_t = \text{end\_lr} + (\text{lr} - \text{end\_lr})
                 \left(1 - \frac{\min(t, T)}{T}\right)^{p}, \qquad T = \text{total\_steps}

    With ``end_lr = 0`` it equals ``PolynomialLR(total_iters=total_steps, power=power)``,
    which also holds its final value after the horizon.

    >>> Polynomial(1.0, total_steps=4, power=2.0)(np.arange(6)).tolist()
    [1.0, 0.5625, 0.25, 0.0625, 0.0, 0.0]
    """

    lr: float
    total_steps: int
    power: float = 1.0
    end_lr: float = 0.0

    def __post_init__(self):
        check_rate("lr", self.lr)
        check_steps("total_steps", self.total_steps)
        check_positive("power", self.power)
        check_rate("end_lr", self.end_lr)

    def at(self, step):
        left = 1.0 - np.minimum(step, self.total_steps) / self.total_steps  # fraction left, 0 past the horizon
        return self.end_lr + (self.lr - self.end_lr) * left**self.power


@dataclass(frozen=True)
class InverseSqrt(Schedule):
    r"""The Transformer schedule: linear warmup to ``lr`` at ``warmup_steps``, then :math:`\propto 1/\sqrt{t}`.

    .. math::
        \eta_t = \text{lr}\,\min\!\left(\frac{t}{w}, \sqrt{\frac{w}{t}}\right),
        \qquad w = \text{warmup\_steps}

    This is Vaswani et al.'s :math:`d^{-1/2}\min(t^{-1/2}, t\,w^{-3/2})` rescaled so that its
    peak, reached at :math:`t = w`, is ``lr``.

    >>> s = InverseSqrt(1.0, warmup_steps=4)
    >>> s(np.array([0, 2, 4, 16])).tolist()
    [0.0, 0.5, 1.0, 0.5]
    """

    lr: float
    warmup_steps: int

    def __post_init__(self):
        check_rate("lr", self.lr)
        check_steps("warmup_steps", self.warmup_steps)  # w = 0 would make every rate 0

    def at(self, step):
        w = self.warmup_steps
        ramp = step / w  # 1) warmup
        decay = np.sqrt(w / np.maximum(step, w))  # 2) inverse square root (1 until t = w)
        return self.lr * np.minimum(ramp, decay)


def constant(lr: float) -> Constant:
    """The rate ``lr`` at every step (see :class:`Constant`).

    >>> constant(0.1)(0)
    0.1
    """
    return Constant(lr)


def linear(start_lr: float, end_lr: float, total_steps: int) -> Linear:
    """A straight line from ``start_lr`` to ``end_lr`` over ``total_steps``, then ``end_lr`` (see :class:`Linear`).

    >>> linear(0.0, 0.1, total_steps=10)(5)
    0.05
    """
    return Linear(start_lr, end_lr, total_steps)


def step_decay(lr: float, step_size: int, gamma: float = 0.1) -> StepDecay:
    """``lr`` times ``gamma`` every ``step_size`` steps, like ``StepLR`` (see :class:`StepDecay`).

    >>> step_decay(1.0, step_size=30, gamma=0.5)(60)
    0.25
    """
    return StepDecay(lr, step_size, gamma)


def multistep(lr: float, milestones: Sequence[int], gamma: float = 0.1) -> MultiStep:
    """``lr`` times ``gamma`` at each of the sorted ``milestones``, like ``MultiStepLR`` (see :class:`MultiStep`).

    >>> multistep(1.0, [30, 80], gamma=0.5)(80)
    0.25
    """
    return MultiStep(lr, tuple(milestones), gamma)


def exponential(lr: float, gamma: float) -> Exponential:
    """``lr`` times ``gamma`` every step, like ``ExponentialLR`` (see :class:`Exponential`).

    >>> exponential(1.0, gamma=0.9)(2)
    0.81
    """
    return Exponential(lr, gamma)


def cosine(lr: float, total_steps: int, min_lr: float = 0.0) -> Cosine:
    """Cosine decay from ``lr`` to ``min_lr`` over ``total_steps``, then ``min_lr`` (see :class:`Cosine`).

    >>> cosine(0.1, total_steps=100, min_lr=0.01)(100)
    0.01
    """
    return Cosine(lr, total_steps, min_lr)


def polynomial(lr: float, total_steps: int, power: float = 1.0, end_lr: float = 0.0) -> Polynomial:
    """Polynomial decay from ``lr`` to ``end_lr`` over ``total_steps``, like ``PolynomialLR`` (see :class:`Polynomial`).

    >>> polynomial(1.0, total_steps=10)(5)
    0.5
    """
    return Polynomial(lr, total_steps, power, end_lr)


def inverse_sqrt(lr: float, warmup_steps: int) -> InverseSqrt:
    """The Transformer schedule, peaking at ``lr`` at step ``warmup_steps`` (see :class:`InverseSqrt`).

    >>> inverse_sqrt(1.0, warmup_steps=100)(400)
    0.5
    """
    return InverseSqrt(lr, warmup_steps)
