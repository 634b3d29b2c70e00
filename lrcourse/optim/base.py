"""What every optimizer of the course shares: the step loop and the argument checks.

A subclass of :class:`Optimizer` writes only ``update``: the rule for one parameter,
one statement per equation. The loop around it (the closure, the parameter groups,
skipping parameters without a gradient, ``maximize``) is written once, here.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import torch

from lrcourse import interop


class Optimizer(torch.optim.Optimizer):
    """A ``torch.optim.Optimizer`` whose ``step`` calls ``update`` once per parameter.

    ``update(theta, g, state, group)`` receives the parameter ``theta`` (to change in
    place), its gradient ``g`` (negated when the group has ``maximize=True``, so every
    rule minimises), the parameter's ``state`` dict (empty on its first update) and its
    parameter ``group`` (the hyperparameters, read afresh at every step so that
    schedulers can change ``lr``). ``g`` may be the caller's ``.grad`` itself: an
    update never changes it in place.

    A parameter whose ``.grad`` is ``None`` is skipped and its state left as it was, as
    in ``torch.optim``. A complex parameter is updated as the pair of its real and
    imaginary parts, again as in ``torch.optim``. Gradients that hold ``inf`` or ``nan``
    are used as they are: checking them would cost a host sync per step, so that is
    left to the caller (see ``torch.nn.utils.clip_grad_norm_(..., error_if_nonfinite=True)``
    or ``torch.amp.GradScaler``).

    As in ``torch.optim``: ``lr`` may be a one-element tensor (a scheduler then moves it in
    place), used as a number by the update with no host sync added; a parameter whose rule
    keeps no state (plain SGD) gets no entry in ``state``; and a ``state_dict`` whose groups
    lack a hyperparameter (saved before it existed) loads with the optimizer's default for it,
    and comes back out of ``state_dict()`` as it went in (so does a ``deepcopy``).
    A ``state_dict`` of the ``torch.optim`` namesake is refused with a pointer to
    :mod:`lrcourse.interop`, which converts it.
    """

    supports_sparse_grads = False

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor | None:  # type: ignore[override]
        """Update every parameter that has a gradient; return ``closure()``'s loss if given."""
        loss = None
        if closure is not None:
            with torch.enable_grad():  # the closure recomputes the loss and its gradients
                loss = closure()
        for group in self.param_groups:
            hyper = _scalar_lr(group)
            for param in group["params"]:
                if param.grad is None:  # frozen, or not used by this loss
                    continue
                theta, g = param, param.grad
                if g.is_sparse and not self.supports_sparse_grads:
                    raise RuntimeError(f"{type(self).__name__} does not support sparse gradients")
                if torch.is_complex(theta):
                    theta, g = torch.view_as_real(theta), torch.view_as_real(g)
                if hyper.get("maximize"):  # Muon, as torch's, has no maximize
                    g = -g
                state = self.state.get(param, {})  # get: a defaultdict would add an entry
                self.update(theta, g, state, hyper)
                if state and param not in self.state:  # a rule that keeps nothing leaves no entry
                    self.state[param] = state
        return loss

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """``torch.optim.Optimizer.load_state_dict``, refusing the state of the ``torch.optim`` namesake."""
        interop.check_state_dict(self, state_dict)
        super().load_state_dict(state_dict)

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        # torch's __setstate__ adds differentiable=False to the defaults: an option these optimizers
        # do not take, which must not reach the groups (a loaded state_dict would gain a key)
        self.defaults.pop("differentiable", None)
        for group in self.param_groups:  # a state_dict from before a hyperparameter existed
            for key, value in self.defaults.items():
                group.setdefault(key, value)

    def update(self, theta: torch.Tensor, g: torch.Tensor, state: dict, group: dict) -> None:
        """The rule for one parameter: change ``theta`` in place from its gradient ``g``.

        ``state`` is the parameter's state (empty on its first update: the rule fills it);
        ``group`` holds the hyperparameters. Each optimizer of :mod:`lrcourse.optim` writes
        this method, one statement per equation of its docstring.
        """
        raise NotImplementedError


def zeros_like(theta: torch.Tensor) -> torch.Tensor:
    """A state tensor for ``theta``: same shape, device, dtype and memory layout."""
    return torch.zeros_like(theta, memory_format=torch.preserve_format)


def _scalar_lr(group: dict) -> dict:
    """``group``, with a one-element tensor ``lr`` of any shape as a 0-d tensor (torch's ``_to_scalar``)."""
    lr = group["lr"]
    if isinstance(lr, torch.Tensor) and lr.dim() != 0:
        return {**group, "lr": lr.squeeze()}
    return group


def check_lr(lr: float | torch.Tensor) -> None:
    """The rate: a number >= 0, or a one-element tensor holding one (as ``torch.optim`` allows).

    >>> check_lr(torch.tensor(0.1))
    >>> check_lr("0.1")
    Traceback (most recent call last):
    ...
    TypeError: lr must be a number (or a one-element tensor), not '0.1' (a str); pass a number such as lr=0.01
    """
    if isinstance(lr, torch.Tensor) and lr.numel() != 1:
        raise ValueError(f"lr must hold one number, not a tensor of shape {list(lr.shape)}; pass e.g. lr=0.01")
    check_nonnegative(lr=lr)


def _check_number(name: str, value: Any) -> None:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        return
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        also = " (or a one-element tensor)" if name == "lr" else ""
        kind = type(value).__name__
        raise TypeError(f"{name} must be a number{also}, not {value!r} (a {kind}); pass a number such as {name}=0.01")


def check_nonnegative(**values: float | torch.Tensor) -> None:
    """Raise ``TypeError`` naming the first argument that is not a number, ``ValueError`` if it is negative (or nan)."""
    for name, value in values.items():
        _check_number(name, value)
        if not value >= 0.0:  # written this way round so that nan fails too
            raise ValueError(f"{name} must be >= 0, got {value!r}")


def check_decay_rate(**values: float) -> None:
    """Raise ``ValueError`` naming the first averaging rate outside [0, 1).

    A rate of 1 would never let a running average move from its start.
    """
    for name, value in values.items():
        _check_number(name, value)
        if not 0.0 <= value < 1.0:
            raise ValueError(f"{name} must be in [0, 1), got {value!r}")


def check_betas(betas: tuple[float, float]) -> None:
    """``betas`` is a pair of averaging rates, each in [0, 1) (a number or a one-element tensor)."""
    if len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    check_decay_rate(**{"betas[0]": betas[0], "betas[1]": betas[1]})


def check_same_kind_betas(betas: tuple[float, float]) -> tuple:
    """Both numbers or both tensors, as ``torch.optim.Adam`` requires; tensors come back 0-d.

    >>> check_same_kind_betas((torch.tensor(0.9), 0.999))
    Traceback (most recent call last):
    ...
    ValueError: betas must be both floats or both tensors, not (Tensor, float); pass e.g. betas=(0.9, 0.999)
    """
    kinds = [isinstance(beta, torch.Tensor) for beta in betas]
    if any(kinds) and not all(kinds):
        names = ", ".join(type(beta).__name__ for beta in betas)
        raise ValueError(f"betas must be both floats or both tensors, not ({names}); pass e.g. betas=(0.9, 0.999)")
    return tuple(beta.squeeze() if isinstance(beta, torch.Tensor) else beta for beta in betas)
