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

from collections.abc import Callable, Mapping, Sequence

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

    def __init__(
        self,
        optimizer,
        schedule: Callable | Sequence[Callable],
        momentum=None,
        extra: Mapping[str, Callable | Sequence[Callable]] | None = None,
    ):
        self.optimizer = optimizer
        n = len(optimizer.param_groups)
        self.schedules = _per_group("schedule", schedule, n)
        self.momenta = None if momentum is None else _per_group("momentum", momentum, n)
        self.extra = {key: _per_group(f"extra[{key!r}]", s, n) for key, s in _check_extra(optimizer, extra).items()}
        given = {"lr": (schedule, self.schedules), "momentum": (momentum, self.momenta or ())}
        given.update({key: (raw, self.extra[key]) for key, raw in (extra or {}).items()})
        # per key: one schedule per group known now, and what a group added later follows (or None)
        self._given = {key: (per_group, _shared(raw, per_group)) for key, (raw, per_group) in given.items()}
        self.step_count = 0
        self._apply(0)

    def _current(self, key: str) -> list:
        """One schedule for ``key`` (or ``None``: left alone) per parameter group the optimizer has now."""
        per_group, shared = self._given[key]
        return [per_group[g] if g < len(per_group) else shared for g in range(len(self.optimizer.param_groups))]

    def _values(self, k: int) -> dict[str, list]:
        """Every scheduled value at step ``k``, per key and group, checked before any is written."""
        values = {}
        for key in self._given:
            name = "schedule" if key == "lr" else key
            values[key] = [None if s is None else rate_at(s, k, name=name) for s in self._current(key)]
        for g, (group, mu) in enumerate(zip(self.optimizer.param_groups, values["momentum"])):
            if mu is not None and "betas" not in group and "momentum" not in group:
                raise ValueError(
                    f"momentum needs an optimizer whose groups have 'momentum' or 'betas' (group {g} has neither)"
                )
        return values

    def _apply(self, k: int) -> None:
        """Go to step ``k``: write every group's rate (momentum, extra keys) there, once all are checked."""
        values = self._values(k)
        for g, group in enumerate(self.optimizer.param_groups):
            for key, per_group in values.items():
                if per_group[g] is not None:
                    _write(group, key, per_group[g])
        rates = values["lr"]
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


def _shared(raw, per_group: tuple) -> Callable | None:
    """The schedule a group added later follows: the one given for all groups, if one was."""
    return None if raw is None or isinstance(raw, list | tuple) else per_group[0]


def _check_extra(optimizer, extra: Mapping | None) -> Mapping:
    """``extra`` names hyperparameters that every group has, other than those with their own argument."""
    for key in extra or {}:
        if key in ("lr", "momentum", "betas", "params"):
            raise ValueError(f"extra: schedule {key!r} with its own argument (schedule= or momentum=), not extra")
        for g, group in enumerate(optimizer.param_groups):
            if key not in group:
                known = sorted(k for k in group if k != "params")
                raise ValueError(f"extra: {key!r} is not a hyperparameter of group {g}; it has {known}")
    return extra or {}


def _write(group: dict, key: str, value: float) -> None:
    """Set one scheduled value; momentum goes to ``betas[0]`` in groups that have ``betas``."""
    if key != "momentum" or "betas" not in group:
        assign(group, key, value)
    elif hasattr(group["betas"][0], "fill_"):  # a tensor (this module does not import torch)
        group["betas"][0].fill_(value)
    else:
        group["betas"] = (value, *group["betas"][1:])


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


def attach(
    optimizer,
    schedule: Callable | Sequence[Callable],
    momentum=None,
    extra: Mapping[str, Callable | Sequence[Callable]] | None = None,
) -> Scheduler:
    """Drive ``optimizer``'s rates (and optionally momentum or beta1) with schedules (see :class:`Scheduler`).

    ``schedule`` is one schedule for all parameter groups or a list with one per group; so is
    ``momentum``, and so is each value of ``extra``, which schedules any other hyperparameter
    the groups have by name (``extra={"weight_decay": ...}``). The values at step 0 are set at
    once, replacing those the optimizer was built with. :func:`lrcourse.train.fit` takes the
    result as its ``schedule`` and checkpoints its step.

    >>> import torch
    >>> from lrcourse.schedules import one_cycle
    >>> opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(2))])
    >>> s = one_cycle(0.01, total_steps=100)
    >>> sched = attach(opt, s, momentum=s.momentum)
    >>> round(opt.param_groups[0]["lr"], 6), opt.param_groups[0]["betas"]
    (0.0004, (0.95, 0.999))

    Weight decay (or any other hyperparameter) on a schedule of its own:

    >>> from lrcourse.schedules import constant, linear
    >>> opt = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(2))])
    >>> sched = attach(opt, constant(1e-3), extra={"weight_decay": linear(0.0, 0.1, 10)})
    >>> opt.step(); sched.step(); round(opt.param_groups[0]["weight_decay"], 6)
    0.01
    """
    return Scheduler(optimizer, schedule, momentum, extra)
