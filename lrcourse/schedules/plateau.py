r"""The one stateful piece: a controller that cuts the rate when a metric stops improving.

:class:`ReduceOnPlateau` is fed a metric (a validation loss, say) with
:meth:`~lrcourse.schedules.ReduceOnPlateau.update` and keeps one number that matters,
``num_reductions``, the cuts made so far. :meth:`~lrcourse.schedules.ReduceOnPlateau.scaled`
applies them to any base schedule, so a plateau controller can sit on top of a warmup, a
cosine, or a constant rate; with a constant base its rates are those of
``torch.optim.lr_scheduler.ReduceLROnPlateau`` on the same metrics.

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

from lrcourse.schedules._base import (
    Schedule,
    check_callable,
    check_choice,
    check_fraction,
    check_rate,
    check_steps,
    values,
)


class ReduceOnPlateau:
    r"""Cut the rate by ``factor`` after more than ``patience`` checks without improvement.

    A metric :math:`x` improves on the best so far, :math:`x^*`, when (``mode="min"``)

    .. math::
        x < x^* (1 - \text{threshold}) \ \ (\text{rel}) \qquad\text{or}\qquad
        x < x^* - \text{threshold} \ \ (\text{abs}),

    mirrored for ``mode="max"``. Each check without improvement adds one to ``num_bad``; when
    ``num_bad > patience`` the controller makes a cut (``num_reductions`` grows by one) and no
    check counts as bad for the next ``cooldown`` checks. These are ``ReduceLROnPlateau``'s
    decisions, one for one. After :math:`k` cuts the rate it gives a base schedule :math:`f` is
    :math:`f(t)` put :math:`k` times through PyTorch's cut,

    .. math::
        c(\eta) = \begin{cases} \eta' & \text{if } \eta - \eta' > \epsilon \\
                   \eta & \text{otherwise (and every later cut is skipped too)} \end{cases},
        \qquad \eta' = \max(\text{factor}\cdot\eta,\ \eta_{\min}),

    so the rate is about :math:`\text{factor}^k f(t)`, never goes below ``min_lr`` by a cut (nor
    is lifted to it when the base is lower), and stops once a cut would change it by less than
    ``eps``, exactly as PyTorch's does for a constant base.

    >>> plateau = ReduceOnPlateau(mode="max", patience=0, cooldown=1)
    >>> [plateau.update(acc) for acc in (0.5, 0.4, 0.3, 0.3)], plateau.num_reductions
    ([False, True, False, True], 2)
    """

    def __init__(
        self,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float = 0.0,
        eps: float = 1e-8,
    ):
        self.mode = check_choice("mode", mode, ("min", "max"))
        self.factor = check_fraction("factor", factor)
        self.patience = check_steps("patience", patience, minimum=0)
        self.threshold = check_rate("threshold", threshold)
        self.threshold_mode = check_choice("threshold_mode", threshold_mode, ("rel", "abs"))
        self.cooldown = check_steps("cooldown", cooldown, minimum=0)
        self.min_lr = check_rate("min_lr", min_lr)
        self.eps = check_rate("eps", eps)
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad = 0
        self.cooldown_counter = 0
        self.num_reductions = 0

    def cut(self, lr: np.ndarray) -> np.ndarray:
        """The rates ``lr`` after the cuts made so far (the class formula, applied to an array)."""
        lr = np.array(lr, dtype=np.float64)
        live = np.ones(lr.shape, dtype=bool)
        for _ in range(self.num_reductions):
            new = np.maximum(lr * self.factor, self.min_lr)
            live &= lr - new > self.eps  # a skipped cut stays skipped: the rate no longer moves
            if not live.any():
                break
            lr = np.where(live, new, lr)
        return lr

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
        """``schedule`` under this controller's cuts, as many as it has made when called (see the class formula)."""
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
        return (
            f"ReduceOnPlateau(mode={self.mode!r}, factor={self.factor}, patience={self.patience}, "
            f"threshold={self.threshold}, threshold_mode={self.threshold_mode!r}, cooldown={self.cooldown}, "
            f"min_lr={self.min_lr}, eps={self.eps}; num_reductions={self.num_reductions})"
        )


@dataclass(frozen=True)
class PlateauScaled(Schedule):
    r"""A base schedule :math:`f` under a :class:`ReduceOnPlateau`: :math:`c^{k}(f(t))` after :math:`k` cuts.

    It reads the controller's count of cuts when called, so it is the one schedule whose
    value at a step can change: after a cut.

    >>> from lrcourse.schedules import constant
    >>> plateau = ReduceOnPlateau(patience=0, min_lr=0.02)
    >>> lr = PlateauScaled(constant(0.1), plateau)
    >>> plateau.update(1.0), plateau.update(2.0), lr(0)
    (False, True, 0.02)
    """

    schedule: Callable
    plateau: ReduceOnPlateau

    def at(self, step):
        return self.plateau.cut(values(self.schedule, step))
