r"""Drive any torch optimizer with schedules: :func:`~lrcourse.schedules.attach`, the thin adapter.

The adapter follows PyTorch's scheduler protocol (``step()`` after ``optimizer.step()``,
``get_last_lr()``, ``state_dict()`` / ``load_state_dict()``), so a training loop written for
``torch.optim.lr_scheduler`` takes it unchanged. Its whole state is one number, the step:
after ``k`` calls of :meth:`Scheduler.step <lrcourse.schedules.Scheduler.step>`, each group's
rate is its schedule at step ``k``,

.. math::
    \text{group}_g[\text{lr}] = f_g(k),

written afresh every time, never derived from the rate before. So a resumed run gets the
same rates whichever order the optimizer and the scheduler are built and loaded in, and
the adapter never wraps or patches ``optimizer.step``.

>>> import torch
>>> from lrcourse.schedules import attach, cosine
>>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=1.0)
>>> sched = attach(opt, cosine(0.1, total_steps=10))
>>> for _ in range(5):
...     opt.step()
...     sched.step()
>>> sched.get_last_lr(), sched.state_dict()
([0.05...], {'step': 5})
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from lrcourse.schedules._base import check_callable, check_steps, rate_at


def _per_group(name: str, schedule, n_groups: int) -> tuple[Callable, ...]:
    """One schedule for every group, or one per group (a list or tuple of ``n_groups``)."""
    if isinstance(schedule, list | tuple):
        if len(schedule) != n_groups:
            raise ValueError(
                f"{name} must be one schedule or one per parameter group ({n_groups}), got {len(schedule)}"
            )
        return tuple(check_callable(name, s) for s in schedule)
    return (check_callable(name, schedule),) * n_groups


class Scheduler:
    """What :func:`attach` returns: sets each group's ``lr`` (and momentum) from its schedule at the current step.

    ``momentum`` schedules set ``group["betas"][0]`` in groups that have ``betas`` (Adam and
    its kin) and ``group["momentum"]`` in groups that have ``momentum`` (SGD, RMSprop). A value
    the optimizer holds as a tensor is filled in place, as PyTorch's schedulers do.

    A group added with ``optimizer.add_param_group`` after attaching (a backbone unfrozen
    mid-run) follows the one schedule given for all groups from the next :meth:`step`;
    when one schedule per group was given, a group added later has none and keeps the rate
    (and momentum) it was added with.

    >>> import torch
    >>> from lrcourse.schedules import constant, exponential
    >>> opt = torch.optim.SGD([{"params": [torch.zeros(1, requires_grad=True)]},
    ...                        {"params": [torch.zeros(1, requires_grad=True)]}], lr=1.0)
    >>> sched = Scheduler(opt, [constant(0.1), exponential(0.1, gamma=0.5)])
    >>> opt.step(); sched.step(); sched.get_last_lr()
    [0.1, 0.05]
    """

    def __init__(self, optimizer, schedule: Callable | Sequence[Callable], momentum=None):
        self.optimizer = optimizer
        n = len(optimizer.param_groups)
        self.schedules = _per_group("schedule", schedule, n)
        self.momenta = None if momentum is None else _per_group("momentum", momentum, n)
        self._shared = {  # what a group added later follows, if anything
            "schedule": None if isinstance(schedule, list | tuple) else self.schedules[0],
            "momentum": None if momentum is None or isinstance(momentum, list | tuple) else momentum,
        }
        self._check_momentum_groups()
        self.step_count = 0
        self._apply(0)

    def _current(self, name: str) -> list:
        """One schedule (or ``None``: left alone) per parameter group the optimizer has now."""
        given = self.schedules if name == "schedule" else self.momenta or ()
        n = len(self.optimizer.param_groups)
        return [given[g] if g < len(given) else self._shared[name] for g in range(n)]

    def _check_momentum_groups(self) -> None:
        for g, (group, mu) in enumerate(zip(self.optimizer.param_groups, self._current("momentum"))):
            if mu is not None and "betas" not in group and "momentum" not in group:
                raise ValueError(
                    f"momentum needs an optimizer whose groups have 'momentum' or 'betas' (group {g} has neither)"
                )

    def _apply(self, k: int) -> None:
        """Go to step ``k``: write every group's rate (and momentum) there, once all are checked."""
        self._check_momentum_groups()
        # a bad value is an error before anything is written
        rates = [None if s is None else rate_at(s, k) for s in self._current("schedule")]
        momenta = [None if s is None else rate_at(s, k, name="momentum") for s in self._current("momentum")]
        for group, lr, mu in zip(self.optimizer.param_groups, rates, momenta):
            if lr is not None:
                assign(group, "lr", lr)
            if mu is not None and "betas" in group:
                beta1 = group["betas"][0]
                if hasattr(beta1, "fill_"):  # a tensor (this module does not import torch)
                    beta1.fill_(mu)
                else:
                    group["betas"] = (mu, *group["betas"][1:])
            elif mu is not None:
                assign(group, "momentum", mu)
        self._last_lr = [group["lr"] if lr is None else lr for group, lr in zip(self.optimizer.param_groups, rates)]
        self.step_count = k

    def step(self) -> None:
        """Advance one step; call it after ``optimizer.step()``."""
        self._apply(self.step_count + 1)

    def get_last_lr(self) -> list[float]:
        """The rates this scheduler last set, one per parameter group."""
        return list(self._last_lr)

    def get_last_momentum(self) -> list[float]:
        """The momentum (or :math:`\\beta_1`) of each parameter group now."""
        return [g["betas"][0] if "betas" in g else g.get("momentum") for g in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        """``{"step": k}``: the schedules are code, so the step is all there is to save.

        A :class:`~lrcourse.schedules.ReduceOnPlateau` under a schedule is fed metrics, not
        steps: save its own ``state_dict()`` beside this one.
        """
        return {"step": self.step_count}

    def load_state_dict(self, state: dict) -> None:
        """Go to the saved step and set the rates for it at once."""
        self._apply(check_steps("step", state["step"], minimum=0))


def assign(group: dict, key: str, value: float) -> None:
    """Set ``group[key] = value``; a tensor there is filled in place instead, as PyTorch's schedulers do.

    >>> import torch
    >>> lr = torch.tensor(1.0); group = {"lr": lr}
    >>> assign(group, "lr", 0.5); group["lr"] is lr, lr.item()
    (True, 0.5)
    """
    if hasattr(group.get(key), "fill_"):  # a tensor (this module does not import torch)
        group[key].fill_(value)
    else:
        group[key] = value


def attach(optimizer, schedule: Callable | Sequence[Callable], momentum=None) -> Scheduler:
    """Drive ``optimizer``'s rates (and optionally momentum or beta1) with schedules (see :class:`Scheduler`).

    ``schedule`` is one schedule for all parameter groups or a list with one per group; so is
    ``momentum``. The rates at step 0 are set at once, replacing those the optimizer was built with.

    >>> import torch
    >>> from lrcourse.schedules import one_cycle
    >>> opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(2))])
    >>> s = one_cycle(0.01, total_steps=100)
    >>> sched = attach(opt, s, momentum=s.momentum)
    >>> round(opt.param_groups[0]["lr"], 6), opt.param_groups[0]["betas"]
    (0.0004, (0.95, 0.999))
    """
    return Scheduler(optimizer, schedule, momentum)
