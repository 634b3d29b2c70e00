r"""Warmup-stable-decay: a constant rate with a short cooldown, and many horizons from one run.

Hägele et al. (2024) showed that a constant rate followed by a cooldown over the last
10-20% of the steps matches a cosine tuned to the same length, and that the cooldown can be
*branched*: one long run at the constant rate, checkpointed, and from each checkpoint a
short cooldown to its own horizon, so one run gives a whole set of finished models. The
"river valley" picture of Wen et al. (2024) says why: at a high constant rate the iterate
bounces between the walls of a valley while still moving down along it; the cooldown drops
it to the valley floor, so the loss falls sharply at the end whenever it comes.

:func:`wsd` is the schedule; :func:`cooldown_branches` plans the branches of one run and
:func:`run_cooldowns` trains them.

>>> from lrcourse.schedules import wsd   # the function (this module is schedules.cooldown)
>>> s = wsd(1.0, warmup_steps=2, stable_steps=4, decay_steps=4)
>>> s(np.arange(12)).tolist()
[0.0, 0.5, 1.0, 1.0, 1.0, 1.0, 1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
"""

from __future__ import annotations

import copy
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from lrcourse.schedules._base import Schedule, check_choice, check_rate, check_steps
from lrcourse.schedules.adapter import attach
from lrcourse.schedules.combinators import Warmup
from lrcourse.schedules.decay import Constant

#: The cooldown shapes k(f), f the fraction of the cooldown done: each falls from 1 to 0.
COOLDOWNS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "linear": lambda f: 1 - f,
    "cosine": lambda f: (1 + np.cos(np.pi * f)) / 2,
    "1-sqrt": lambda f: 1 - np.sqrt(f),
}


@dataclass(frozen=True)
class WSD(Schedule):
    r"""Linear warmup to ``peak_lr``, constant for ``stable_steps``, then a cooldown to ``min_lr``.

    With :math:`w, S, D` the warmup, stable and decay steps, :math:`\eta` = ``peak_lr`` and
    :math:`\eta_{\min}` = ``min_lr``:

    .. math::

        \eta_t = \begin{cases}
            \eta\, t / w & t < w \\
            \eta & w \le t < w + S \\
            \eta_{\min} + (\eta - \eta_{\min})\, k(f), \quad f = \min\!\left(\frac{t - w - S}{D}, 1\right)
                & t \ge w + S
        \end{cases}

    with the cooldown's shape :math:`k(f) = 1 - f` (``"linear"``), :math:`(1 + \cos \pi f)/2`
    (``"cosine"``) or :math:`1 - \sqrt f` (``"1-sqrt"``, the best of the three in Hägele et al.:
    it drops fast and then lingers near the floor). The rate is :math:`\eta` at :math:`t = w` and
    at the cooldown's start, :math:`\eta_{\min}` from :math:`t = w + S + D` on.

    >>> s = WSD(1.0, warmup_steps=0, stable_steps=2, decay_steps=4, decay="1-sqrt")
    >>> s(np.arange(7)).tolist()
    [1.0, 1.0, 1.0, 0.5, 0.2928932188134524, 0.1339745962155614, 0.0]
    """

    peak_lr: float
    warmup_steps: int
    stable_steps: int
    decay_steps: int
    decay: str = "linear"
    min_lr: float = 0.0

    def __post_init__(self):
        check_rate("peak_lr", self.peak_lr)
        check_steps("warmup_steps", self.warmup_steps, minimum=0)
        check_steps("stable_steps", self.stable_steps, minimum=0)
        check_steps("decay_steps", self.decay_steps)
        check_choice("decay", self.decay, list(COOLDOWNS))
        check_rate("min_lr", self.min_lr)

    @property
    def total_steps(self) -> int:
        """Where the cooldown ends: ``warmup_steps + stable_steps + decay_steps``."""
        return self.warmup_steps + self.stable_steps + self.decay_steps

    def at(self, step):
        w, cooldown_start = self.warmup_steps, self.warmup_steps + self.stable_steps
        ramp = self.peak_lr * (np.minimum(step, w) / max(w, 1))  # 1) warmup, as schedules.warmup (unused if w = 0)
        f = np.clip((step - cooldown_start) / self.decay_steps, 0.0, 1.0)  # fraction of the cooldown done
        cool = self.min_lr + (self.peak_lr - self.min_lr) * COOLDOWNS[self.decay](f)  # 3) cooldown, then the floor
        return np.where(step < w, ramp, np.where(step < cooldown_start, self.peak_lr, cool))  # 2) stable


def wsd(
    peak_lr: float,
    warmup_steps: int,
    stable_steps: int,
    decay_steps: int,
    decay: str = "linear",
    min_lr: float = 0.0,
) -> WSD:
    """Warmup-stable-decay: warm up, hold ``peak_lr``, cool down to ``min_lr`` (see :class:`WSD`).

    >>> s = wsd(0.1, warmup_steps=10, stable_steps=80, decay_steps=10, decay="cosine")
    >>> s(5), s(50), s(95), s(100)
    (0.05, 0.1, 0.05, 0.0)
    """
    return WSD(peak_lr, warmup_steps, stable_steps, decay_steps, decay, min_lr)


@dataclass(frozen=True)
class Branch:
    """One cooldown of a branched run: it leaves the main run at ``branch_step`` and ends at ``total_steps``.

    ``schedule`` is the whole :class:`WSD` of a run to that horizon; before ``branch_step`` it
    equals the main run's rate, so resuming the main run's checkpoint at ``branch_step`` under
    ``schedule`` is training that schedule from scratch.

    >>> b = cooldown_branches(1.0, warmup_steps=10, horizons=[100]).branches[0]
    >>> b.branch_step, b.total_steps, b.schedule.decay_steps
    (80, 100, 20)
    """

    branch_step: int
    total_steps: int
    schedule: WSD


@dataclass(frozen=True)
class CooldownPlan:
    """The main run's schedule (warmup, then ``peak_lr`` for good) and the :class:`Branch` es that leave it.

    >>> plan = cooldown_branches(1.0, warmup_steps=10, horizons=[100, 200])
    >>> plan.main(5), plan.main(10**6), plan.checkpoints
    (0.5, 1.0, (80, 160))
    """

    main: Schedule
    branches: tuple[Branch, ...]

    @property
    def checkpoints(self) -> tuple[int, ...]:
        """The steps of the main run where a branch leaves it, sorted (one per distinct step)."""
        return tuple(sorted({b.branch_step for b in self.branches}))


def cooldown_branches(
    peak_lr: float,
    warmup_steps: int,
    horizons: Sequence[int],
    decay_fraction: float = 0.2,
    decay: str = "linear",
    min_lr: float = 0.0,
) -> CooldownPlan:
    r"""Plan one run with a cooldown to each of ``horizons``: the last ``decay_fraction`` of each.

    Horizon :math:`T` gets :math:`D = \max(1, \operatorname{round}(\text{decay\_fraction}\cdot T))`
    cooldown steps, branching at :math:`T - D`, which must not fall in the warmup. The cost
    is the longest branch point plus the sum of the cooldowns, against the sum of the
    horizons for separate runs.

    >>> plan = cooldown_branches(0.1, warmup_steps=5, horizons=[50, 100], decay="1-sqrt")
    >>> [(b.branch_step, b.total_steps) for b in plan.branches]
    [(40, 50), (80, 100)]
    """
    if isinstance(decay_fraction, bool) or not isinstance(decay_fraction, numbers.Real) or not 0 < decay_fraction <= 1:
        raise ValueError(f"decay_fraction must be in (0, 1], got {decay_fraction!r}")
    branches = []
    for total in sorted(check_steps("horizons", h) for h in horizons):
        decay_steps = max(1, round(decay_fraction * total))
        stable = total - decay_steps - warmup_steps
        if stable < 0:
            raise ValueError(
                f"horizons: {total} steps with a cooldown of {decay_steps} would start it inside the "
                f"warmup of {warmup_steps}; use longer horizons or a smaller decay_fraction"
            )
        schedule = wsd(peak_lr, warmup_steps, stable, decay_steps, decay, min_lr)
        branches.append(Branch(total - decay_steps, total, schedule))
    if not branches:
        raise ValueError("horizons must hold at least one horizon")
    return CooldownPlan(Warmup(Constant(peak_lr), warmup_steps), tuple(branches))


def run_cooldowns(
    plan: CooldownPlan,
    model: Any,
    optimizer: Any,
    train_step: Callable[[Any, Any, int], None],
    evaluate: Callable[[Any], Any],
) -> dict[int, Any]:
    """Train ``plan``'s main run and each of its branches; ``{horizon: evaluate(model at the horizon)}``.

    ``train_step(model, optimizer, step)`` makes update ``step`` (its batch chosen by the step,
    so a branch sees the batches a separate run would); the rates are set by
    :func:`~lrcourse.schedules.attach`, one schedule for every group. At each checkpoint a
    copy of the model and optimizer (``copy.deepcopy``, one at a time) runs the cooldown to
    its horizon; the main run goes on from the state it had. ``model`` is left at the last
    checkpoint.

    >>> import torch
    >>> theta = torch.nn.Parameter(torch.tensor([4.0]))
    >>> def train_step(model, opt, step):
    ...     opt.zero_grad(); (model ** 2).sum().backward(); opt.step()
    >>> plan = cooldown_branches(0.1, warmup_steps=2, horizons=[10, 20])
    >>> results = run_cooldowns(plan, theta, torch.optim.SGD([theta]), train_step, lambda m: round(m.item(), 4))
    >>> results
    {10: 0.6795, 20: 0.0921}
    """
    results: dict[int, Any] = {}
    schedule = attach(optimizer, plan.main)
    last = plan.checkpoints[-1]
    for step in range(last + 1):
        for branch in (b for b in plan.branches if b.branch_step == step):
            results[branch.total_steps] = _cool_down(branch, model, optimizer, train_step, evaluate)
        if step < last:
            train_step(model, optimizer, step)
            schedule.step()
    return results


def _cool_down(branch: Branch, model, optimizer, train_step, evaluate) -> Any:
    """A copy of the run at ``branch.branch_step``, trained to the branch's horizon and evaluated."""
    model, optimizer = copy.deepcopy((model, optimizer))  # one copy: the optimizer keeps pointing at the model
    schedule = attach(optimizer, branch.schedule)
    schedule.load_state_dict({"step": branch.branch_step})
    for step in range(branch.branch_step, branch.total_steps):
        train_step(model, optimizer, step)
        schedule.step()
    return evaluate(model)
