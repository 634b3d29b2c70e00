r"""Schedules that go up and down: cosine with warm restarts (SGDR), cyclical rates, and one cycle.

The cyclical ones also come with the momentum (or Adam's :math:`\beta_1`) that moves the other
way, as Smith proposed: ``schedule.momentum`` is a schedule too, for :func:`~lrcourse.schedules.attach`'s
``momentum=`` argument.

>>> from lrcourse.schedules import one_cycle
>>> s = one_cycle(0.1, total_steps=100)
>>> round(s(0), 6), round(s(29), 6), round(s.momentum(29), 6)
(0.004, 0.1, 0.85)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from lrcourse.schedules._base import Schedule, check_choice, check_fraction, check_positive, check_rate, check_steps


@dataclass(frozen=True)
class CosineRestarts(Schedule):
    r"""SGDR: cosine decay from a peak to ``min_lr``, restarted at the peak after each cycle.

    Cycle :math:`i = 0, 1, \dots` lasts :math:`T_i = T_0 m^i` steps (:math:`T_0` =
    ``cycle_steps``, :math:`m` = ``cycle_mult``) and starts at :math:`S_i = T_0 (m^i - 1)/(m - 1)`
    (:math:`i T_0` when :math:`m = 1`); its peak is ``lr`` shrunk by ``decay`` per cycle:

    .. math::
        \eta_t = \eta_{\min} + \tfrac12 (\text{lr} - \eta_{\min})\, d^{\,i}
                 \left(1 + \cos\frac{\pi (t - S_i)}{T_i}\right), \qquad S_i \le t < S_{i+1}

    With a whole ``cycle_mult`` and ``decay = 1`` this equals ``CosineAnnealingWarmRestarts(T_0,
    T_mult, eta_min)``. A real ``cycle_mult`` (1.5, say) gives cycles of real length, so a
    restart can fall between two steps. ``decay`` shrinks the distance from the floor, so every
    rate stays within ``[min_lr, lr]``.

    >>> s = CosineRestarts(1.0, cycle_steps=2, cycle_mult=2, decay=0.5)
    >>> s(np.arange(8)).round(4).tolist()
    [1.0, 0.5, 0.5, 0.4268, 0.25, 0.0732, 0.25, 0.2405]
    """

    lr: float
    cycle_steps: int
    cycle_mult: float = 1.0
    min_lr: float = 0.0
    decay: float = 1.0

    def __post_init__(self):
        check_rate("lr", self.lr)
        check_steps("cycle_steps", self.cycle_steps)
        if check_positive("cycle_mult", self.cycle_mult) < 1:
            raise ValueError(f"cycle_mult must be >= 1, got {self.cycle_mult!r}")
        check_rate("min_lr", self.min_lr)
        if not 0 < check_positive("decay", self.decay) <= 1:
            raise ValueError(f"decay must be in (0, 1], got {self.decay!r}")

    def cycle_start(self, i: np.ndarray) -> np.ndarray:
        """:math:`S_i`, the step at which cycle ``i`` starts."""
        m, t0 = self.cycle_mult, self.cycle_steps
        return i * t0 if m == 1 else t0 * (m**i - 1) / (m - 1)

    def at(self, step):
        m, t0 = self.cycle_mult, self.cycle_steps
        # 1) which cycle: invert S_i <= t, then correct the float log by one either way
        if m == 1:
            i = np.floor(step / t0)
        else:
            i = np.floor(np.log1p(step / t0 * (m - 1)) / math.log(m))
            i = np.where(self.cycle_start(i + 1) <= step, i + 1, i)
            i = np.where(self.cycle_start(i) > step, i - 1, i)
        # 2) where in it, and how long it is
        t_cur, t_i = step - self.cycle_start(i), t0 * m**i
        # 3) cosine from this cycle's peak down to the floor
        return self.min_lr + (self.lr - self.min_lr) * self.decay**i * (1 + np.cos(np.pi * t_cur / t_i)) / 2


@dataclass(frozen=True)
class Cyclic(Schedule):
    r"""Smith's cyclical rates: up from ``base_lr`` towards ``max_lr`` and back, again and again.

    A cycle lasts :math:`u + d` steps (``step_size_up``, ``step_size_down``). With
    :math:`c = \lfloor 1 + t/(u+d) \rfloor` the cycle number (from 1) and
    :math:`x = 1 + t/(u+d) - c` the fraction of it done, the height is
    :math:`h = x / r` going up and :math:`h = (1 - x)/(1 - r)` coming down, :math:`r = u/(u+d)`:

    .. math::
        \eta_t = \text{base\_lr} + (\text{max\_lr} - \text{base\_lr})\, h \, s, \qquad
        s = \begin{cases} 1 & \text{triangular} \\ 2^{1-c} & \text{triangular2} \\
        \gamma^{t} & \text{exp\_range} \end{cases}

    This equals ``CyclicLR`` in all three modes. ``.momentum`` cycles the other way,
    :math:`\mu_t = \text{max\_momentum} - (\text{max\_momentum} - \text{base\_momentum})\,h\,s`,
    as ``CyclicLR(cycle_momentum=True)`` does.

    >>> Cyclic(0.0, 1.0, step_size_up=2)(np.arange(6)).tolist()
    [0.0, 0.5, 1.0, 0.5, 0.0, 0.5]
    """

    base_lr: float
    max_lr: float
    step_size_up: int = 2000
    step_size_down: int | None = None
    mode: str = "triangular"
    gamma: float = 1.0
    base_momentum: float = 0.8
    max_momentum: float = 0.9

    def __post_init__(self):
        check_rate("base_lr", self.base_lr)
        check_rate("max_lr", self.max_lr)
        check_steps("step_size_up", self.step_size_up)
        if self.step_size_down is not None:
            check_steps("step_size_down", self.step_size_down)
        check_choice("mode", self.mode, ("triangular", "triangular2", "exp_range"))
        check_positive("gamma", self.gamma)
        check_rate("base_momentum", self.base_momentum)
        check_rate("max_momentum", self.max_momentum)

    def height(self, step):
        """:math:`h \\cdot s`, from 0 at the cycle's start to at most 1 at its top."""
        up = float(self.step_size_up)
        size = up + float(self.step_size_down if self.step_size_down is not None else self.step_size_up)
        ratio = up / size
        cycle = np.floor(1 + step / size)  # 1) cycle number, from 1
        x = 1.0 + step / size - cycle  # 2) fraction of this cycle done
        h = np.where(x <= ratio, x / ratio, (x - 1) / (ratio - 1))  # 3) up, then down
        if self.mode == "triangular2":  # 4) amplitude scaling
            return h * (1 / 2.0 ** (cycle - 1))
        if self.mode == "exp_range":
            return h * self.gamma**step
        return h

    def at(self, step):
        return self.base_lr + (self.max_lr - self.base_lr) * self.height(step)

    @property
    def momentum(self) -> CyclicMomentum:
        """The momentum (or :math:`\\beta_1`) schedule that moves against this one."""
        return CyclicMomentum(self)


@dataclass(frozen=True)
class CyclicMomentum(Schedule):
    r"""The momentum of a :class:`Cyclic`, high where the rate is low.

    .. math::
        \mu_t = \text{max\_momentum} - (\text{max\_momentum} - \text{base\_momentum})\,h_t s_t

    >>> Cyclic(0.0, 1.0, step_size_up=2).momentum(np.arange(3)).round(3).tolist()
    [0.9, 0.85, 0.8]
    """

    cyclic: Cyclic

    def at(self, step):
        c = self.cyclic
        return c.max_momentum - (c.max_momentum - c.base_momentum) * c.height(step)


@dataclass(frozen=True)
class OneCycle(Schedule):
    r"""Smith's one cycle: up from ``max_lr / div_factor`` to ``max_lr``, then far down; equals ``OneCycleLR``.

    Phases (numbered as in the code) run between the breakpoints :math:`b_1 = p T - 1` and
    :math:`b_2 = T - 1` (:math:`p` = ``pct_start``, :math:`T` = ``total_steps``); each anneals from
    its start value :math:`a` to its end value :math:`z` as :math:`\tau` goes from 0 to 1:

    .. math::
        \eta = z + \tfrac12 (a - z)(1 + \cos \pi\tau) \ \ (\text{cos}), \qquad
        \eta = a + (z - a)\,\tau \ \ (\text{linear})

    1) :math:`\eta_0 = \text{max\_lr}/\text{div\_factor}` up to ``max_lr`` over :math:`[0, b_1]`;
    2) down to :math:`\eta_0 / \text{final\_div\_factor}` over :math:`[b_1, b_2]`.

    With ``three_phase``, phase 2 comes back to :math:`\eta_0` at :math:`2pT - 2` and a third phase
    takes it to the floor. ``.momentum`` moves the other way between ``max_momentum`` and
    ``base_momentum``.

    We differ from PyTorch after the last step, ``total_steps - 1``, on purpose: we hold the
    final rate, where PyTorch extrapolates the curve one step and then raises an error.

    >>> s = OneCycle(1.0, total_steps=10, pct_start=0.5, div_factor=10.0, final_div_factor=10.0)
    >>> s(np.array([0, 4, 9, 20])).round(4).tolist()
    [0.1, 1.0, 0.01, 0.01]
    """

    max_lr: float
    total_steps: int
    pct_start: float = 0.3
    div_factor: float = 25.0
    final_div_factor: float = 1e4
    anneal_strategy: str = "cos"
    three_phase: bool = False
    base_momentum: float = 0.85
    max_momentum: float = 0.95

    def __post_init__(self):
        check_rate("max_lr", self.max_lr)
        check_steps("total_steps", self.total_steps)
        if check_fraction("pct_start", self.pct_start) > 0.5 and self.three_phase:
            raise ValueError(f"pct_start must be at most 0.5 with three_phase, got {self.pct_start!r}")
        check_positive("div_factor", self.div_factor)
        check_positive("final_div_factor", self.final_div_factor)
        check_choice("anneal_strategy", self.anneal_strategy, ("cos", "linear"))
        check_rate("base_momentum", self.base_momentum)
        check_rate("max_momentum", self.max_momentum)

    def phases(self, lr: bool = True) -> list[tuple[float, float, float]]:
        """``(end_step, start_value, end_value)`` of each phase, for the rate or the momentum."""
        initial = self.max_lr / self.div_factor
        if lr:
            low, top, floor = initial, self.max_lr, initial / self.final_div_factor
        else:  # the momentum moves the other way, and ends where it began
            low, top, floor = self.max_momentum, self.base_momentum, self.max_momentum
        peak = float(self.pct_start * self.total_steps) - 1
        last = self.total_steps - 1
        if not self.three_phase:
            return [(peak, low, top), (last, top, floor)]  # 1) up, 2) down to the floor
        back = float(2 * self.pct_start * self.total_steps) - 2
        return [(peak, low, top), (back, top, low), (last, low, floor)]  # 1) up, 2) back, 3) to the floor

    def anneal(self, step, lr: bool = True):
        """The value at ``step``: find its phase, then anneal across it."""
        phases = self.phases(lr)
        out, start, todo = np.empty_like(step), 0.0, np.ones(step.shape, dtype=bool)
        for k, (end, a, z) in enumerate(phases):
            here = todo if k == len(phases) - 1 else todo & (step <= end)  # the first phase not over yet
            tau = np.clip((step[here] - start) / (end - start), 0.0, 1.0) if end > start else 1.0  # past the end: hold
            if self.anneal_strategy == "cos":
                out[here] = z + (a - z) / 2.0 * (np.cos(np.pi * tau) + 1)
            else:
                out[here] = (z - a) * tau + a
            todo, start = todo & ~here, end
        return out

    def at(self, step):
        return self.anneal(step, lr=True)

    @property
    def momentum(self) -> OneCycleMomentum:
        """The momentum (or :math:`\\beta_1`) schedule that moves against this one."""
        return OneCycleMomentum(self)


@dataclass(frozen=True)
class OneCycleMomentum(Schedule):
    r"""The momentum of a :class:`OneCycle`: ``max_momentum`` down to ``base_momentum`` at the peak, then back.

    >>> OneCycle(1.0, total_steps=10, pct_start=0.5).momentum(np.array([0, 4, 9])).round(4).tolist()
    [0.95, 0.85, 0.95]
    """

    one_cycle: OneCycle

    def at(self, step):
        return self.one_cycle.anneal(step, lr=False)


def cosine_restarts(
    lr: float, cycle_steps: int, cycle_mult: float = 1.0, min_lr: float = 0.0, decay: float = 1.0
) -> CosineRestarts:
    """SGDR, like ``CosineAnnealingWarmRestarts``, plus a real ``cycle_mult`` and a peak ``decay``.

    See :class:`CosineRestarts` for the formula.


    >>> s = cosine_restarts(0.1, cycle_steps=100, cycle_mult=2)
    >>> s(0), s(100), s(300)
    (0.1, 0.1, 0.1)
    """
    return CosineRestarts(lr, cycle_steps, cycle_mult, min_lr, decay)


def cyclic(
    base_lr: float,
    max_lr: float,
    step_size_up: int = 2000,
    step_size_down: int | None = None,
    mode: str = "triangular",
    gamma: float = 1.0,
    base_momentum: float = 0.8,
    max_momentum: float = 0.9,
) -> Cyclic:
    """Cyclical rates between ``base_lr`` and ``max_lr``, like ``CyclicLR`` (see :class:`Cyclic`).

    >>> s = cyclic(0.01, 0.1, step_size_up=10, mode="triangular2")
    >>> round(s(10), 6), round(s(30), 6)
    (0.1, 0.055)
    """
    return Cyclic(base_lr, max_lr, step_size_up, step_size_down, mode, gamma, base_momentum, max_momentum)


def one_cycle(
    max_lr: float,
    total_steps: int,
    pct_start: float = 0.3,
    div_factor: float = 25.0,
    final_div_factor: float = 1e4,
    anneal_strategy: str = "cos",
    three_phase: bool = False,
    base_momentum: float = 0.85,
    max_momentum: float = 0.95,
) -> OneCycle:
    """Smith's one cycle, like ``OneCycleLR``, with ``.momentum`` its companion (see :class:`OneCycle`).

    >>> s = one_cycle(0.1, total_steps=1000)
    >>> round(s(299), 6), round(s.momentum(299), 6)
    (0.1, 0.85)
    """
    return OneCycle(
        max_lr,
        total_steps,
        pct_start,
        div_factor,
        final_div_factor,
        anneal_strategy,
        three_phase,
        base_momentum,
        max_momentum,
    )
