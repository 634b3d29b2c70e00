"""Setting the rate each step: from a closed-form schedule ``step -> lr`` or a torch LRScheduler."""

from __future__ import annotations

import math
from typing import Any

import torch

from lrcourse.schedules._base import rate_at
from lrcourse.schedules.adapter import Scheduler, assign


class RateDriver:
    """Apply ``schedule`` to ``optimizer`` around each update.

    - A callable ``step -> lr`` (the schedules of :mod:`lrcourse.schedules`, or
      any function) sets ``lr`` in every parameter group *before* update
      ``step``; it holds no state, so resuming needs only the step count.
    - An object with the LRScheduler protocol (``step()``, ``state_dict()``,
      ``load_state_dict()``), such as ``torch.optim.lr_scheduler.OneCycleLR``,
      is stepped *after* each update, as PyTorch prescribes; its state is
      checkpointed.
    - ``None`` leaves the optimizer's rate alone.

    Either way, a rate that is not a finite number >= 0 is a ``ValueError`` naming
    the schedule and the step, raised before the update that would use it; the rate
    returned is a ``float`` even when the optimizer holds a tensor.

    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    >>> driver = RateDriver(lambda step: 0.1 / (step + 1), opt)
    >>> driver.before_update(step=1)
    0.05
    >>> opt.param_groups[0]["lr"]
    0.05

    An LRScheduler moves after the update, and its state is saved:

    >>> driver = RateDriver(torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5), opt)
    >>> driver.before_update(step=0); opt.step(); driver.after_update(); driver.before_update(step=1)
    0.05
    0.025
    >>> driver.state_dict()["last_epoch"]
    1
    """

    def __init__(self, schedule, optimizer: torch.optim.Optimizer):
        if isinstance(schedule, torch.optim.lr_scheduler.ReduceLROnPlateau):
            raise ValueError(
                "schedule: ReduceLROnPlateau needs a metric each epoch; fit supports step-driven schedules"
            )
        self.is_scheduler = all(hasattr(schedule, name) for name in ("step", "state_dict", "load_state_dict"))
        if schedule is not None and not self.is_scheduler and not callable(schedule):
            raise ValueError(f"schedule must be a callable step -> lr, an LRScheduler or None, not {schedule!r}")
        self.schedule: Any = schedule  # a callable step -> lr, an LRScheduler or None
        self.optimizer = optimizer

    def before_update(self, step: int) -> float:
        """Set the rate of update ``step`` (for a closed-form schedule); return the rate used."""
        if self.schedule is not None and not self.is_scheduler:
            lr = rate_at(self.schedule, step)
            for group in self.optimizer.param_groups:
                assign(group, "lr", lr)  # a tensor rate is filled in place, as torch's schedulers do
            return lr
        rates = [float(group["lr"]) for group in self.optimizer.param_groups]  # a tensor's value, not itself
        for g, lr in enumerate(rates):
            if not (math.isfinite(lr) and lr >= 0):
                source = "the optimizer" if self.schedule is None else repr(self.schedule)
                raise ValueError(
                    f"lr={lr!r} in param group {g} at step {step}, set by {source}: a rate must be a finite "
                    "number >= 0; fix the schedule (or stop training before that step)"
                )
        return rates[0]

    def momentum(self) -> float | None:
        """The momentum (or beta1) of the first group when the schedule sets it, else ``None``.

        It sets it when it is :func:`~lrcourse.schedules.attach`'s scheduler with a
        ``momentum`` schedule, or a torch scheduler that cycles momentum (``OneCycleLR``).

        >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0, momentum=0.9)
        >>> RateDriver(lambda step: 0.1, opt).momentum() is None
        True
        >>> RateDriver(torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.1, total_steps=10), opt).momentum()
        0.95
        """
        schedule = self.schedule
        sets = isinstance(schedule, Scheduler) and schedule.momenta is not None
        if not (sets or getattr(schedule, "cycle_momentum", False)):
            return None
        group = self.optimizer.param_groups[0]
        value = group["betas"][0] if "betas" in group else group.get("momentum")
        return None if value is None else float(value)

    def after_update(self) -> None:
        """Advance an LRScheduler by one update."""
        if self.is_scheduler:
            self.schedule.step()

    def state_dict(self) -> dict:
        """The LRScheduler's state; empty for a closed form, whose state is the step alone."""
        return self.schedule.state_dict() if self.is_scheduler else {}

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned."""
        if self.is_scheduler:
            self.schedule.load_state_dict(state)
