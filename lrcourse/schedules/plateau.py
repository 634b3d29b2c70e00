r"""The one stateful piece: a controller that cuts the rate when a metric stops improving.

:class:`ReduceOnPlateau` is fed a metric (a validation loss, say) with :meth:`~ReduceOnPlateau.update`
and keeps one number that matters, ``scale`` :math:`= \text{factor}^k` after :math:`k` cuts.
:meth:`~ReduceOnPlateau.scaled` multiplies any base schedule by it, so a plateau controller can
sit on top of a warmup, a cosine, or a constant rate; with a constant base its rates are those
of ``torch.optim.lr_scheduler.ReduceLROnPlateau`` on the same metrics.

>>> from lrcourse.schedules import ReduceOnPlateau, constant
>>> plateau = ReduceOnPlateau(factor=0.5, patience=1)
>>> lr = plateau.scaled(constant(0.1))
>>> [plateau.update(loss) for loss in (1.0, 0.9, 0.95, 0.97)]
[False, False, False, True]
>>> lr(0)
0.05
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from lrcourse.schedules._base import Schedule, check_callable, check_choice, check_rate, check_steps, values


class ReduceOnPlateau:
    r"""Cut the rate by ``factor`` after more than ``patience`` checks without improvement.

    A metric :math:`x` improves on the best so far, :math:`x^*`, when (``mode="min"``)

    .. math::
        x < x^* (1 - \text{threshold}) \ \ (\text{rel}) \qquad\text{or}\qquad
        x < x^* - \text{threshold} \ \ (\text{abs}),

    mirrored for ``mode="max"``. Each check without improvement adds one to ``num_bad``; when
    ``num_bad > patience`` the scale is multiplied by ``factor`` and no check counts as bad for
    the next ``cooldown`` checks. These are ``ReduceLROnPlateau``'s decisions, one for one.
    The rate it gives a base schedule :math:`f` is

    .. math::
        \eta_t = \max\bigl(\text{scale}\cdot f(t),\ \min(f(t), \eta_{\min})\bigr)

    so a cut never takes the rate below ``min_lr`` (nor lifts a base that is below it).
    PyTorch also skips a cut that would change the rate by less than ``eps = 1e-8``; we do not,
    so the rates part only once they are that small.

    >>> plateau = ReduceOnPlateau(mode="max", patience=0, cooldown=1)
    >>> [plateau.update(acc) for acc in (0.5, 0.4, 0.3, 0.3)], plateau.scale
    ([False, True, False, True], 0.01...)
    """

    def __init__(self, mode: str = "min", factor: float = 0.1, patience: int = 10, threshold: float = 1e-4,
                 threshold_mode: str = "rel", cooldown: int = 0, min_lr: float = 0.0):
        self.mode = check_choice("mode", mode, ("min", "max"))
        if not (isinstance(factor, float | int) and 0 < factor < 1):
            raise ValueError(f"factor must be in (0, 1), got {factor!r}")
        self.factor = float(factor)
        self.patience = check_steps("patience", patience, minimum=0)
        self.threshold = check_rate("threshold", threshold)
        self.threshold_mode = check_choice("threshold_mode", threshold_mode, ("rel", "abs"))
        self.cooldown = check_steps("cooldown", cooldown, minimum=0)
        self.min_lr = check_rate("min_lr", min_lr)
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad = 0
        self.cooldown_counter = 0
        self.num_reductions = 0

    @property
    def scale(self) -> float:
        """:math:`\\text{factor}^k` after :math:`k` cuts."""
        return self.factor**self.num_reductions

    def is_better(self, metric: float) -> bool:
        """Whether ``metric`` improves on the best so far, by more than the threshold."""
        if self.mode == "min":
            edge = self.best * (1 - self.threshold) if self.threshold_mode == "rel" else self.best - self.threshold
            return metric < edge
        edge = self.best * (1 + self.threshold) if self.threshold_mode == "rel" else self.best + self.threshold
        return metric > edge

    def update(self, metric) -> bool:
        """Feed one value of the metric; return whether the rate was cut."""
        metric = float(metric)
        if self.is_better(metric):  # 1) a new best resets the count
            self.best, self.num_bad = metric, 0
        else:
            self.num_bad += 1
        if self.cooldown_counter > 0:  # 2) during cooldown nothing counts as bad
            self.cooldown_counter -= 1
            self.num_bad = 0
        if self.num_bad > self.patience:  # 3) out of patience: cut, then cool down
            self.num_reductions += 1
            self.cooldown_counter, self.num_bad = self.cooldown, 0
            return True
        return False

    def scaled(self, schedule: Callable) -> PlateauScaled:
        """``schedule`` multiplied by this controller's current scale (see the class formula)."""
        return PlateauScaled(check_callable("schedule", schedule), self)

    def state_dict(self) -> dict:
        """The controller's state, for a checkpoint (its settings are in the code that builds it)."""
        keys = ("best", "num_bad", "cooldown_counter", "num_reductions")
        return {k: getattr(self, k) for k in keys}

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned."""
        self.best = float(state["best"])
        self.num_bad = int(state["num_bad"])
        self.cooldown_counter = int(state["cooldown_counter"])
        self.num_reductions = int(state["num_reductions"])

    def __repr__(self) -> str:
        return (f"ReduceOnPlateau(mode={self.mode!r}, factor={self.factor}, patience={self.patience}, "
                f"threshold={self.threshold}, threshold_mode={self.threshold_mode!r}, cooldown={self.cooldown}, "
                f"min_lr={self.min_lr}; scale={self.scale})")


@dataclass(frozen=True)
class PlateauScaled(Schedule):
    r"""A base schedule under a :class:`ReduceOnPlateau`: :math:`\max(\text{scale}\, f(t), \min(f(t), \eta_{\min}))`.

    It reads the controller's scale when called, so it is the one schedule whose value at a
    step can change: after a cut.

    >>> from lrcourse.schedules import constant
    >>> plateau = ReduceOnPlateau(patience=0, min_lr=0.02)
    >>> lr = PlateauScaled(constant(0.1), plateau)
    >>> plateau.update(1.0), plateau.update(2.0), lr(0)
    (False, True, 0.02)
    """

    schedule: Callable
    plateau: ReduceOnPlateau

    def at(self, step):
        base = values(self.schedule, step)
        return np.maximum(self.plateau.scale * base, np.minimum(base, self.plateau.min_lr))
