"""What every optimizer of the course shares: the step loop and the argument checks.

A subclass of :class:`Optimizer` writes only ``update``: the rule for one parameter,
one statement per equation. The loop around it (the closure, the parameter groups,
skipping parameters without a gradient, ``maximize``) is written once, here.
"""

from __future__ import annotations

from collections.abc import Callable

import torch


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
            for param in group["params"]:
                if param.grad is None:  # frozen, or not used by this loss
                    continue
                theta, g = param, param.grad
                if g.is_sparse and not self.supports_sparse_grads:
                    raise RuntimeError(f"{type(self).__name__} does not support sparse gradients")
                if torch.is_complex(theta):
                    theta, g = torch.view_as_real(theta), torch.view_as_real(g)
                if group["maximize"]:
                    g = -g
                self.update(theta, g, self.state[param], group)
        return loss

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


def check_lr(lr: float) -> None:
    """The rate must be a non-negative number (a float, so ``step`` needs no host sync)."""
    if isinstance(lr, torch.Tensor):
        raise TypeError("lr must be a Python float, not a tensor")
    check_nonnegative(lr=lr)


def check_nonnegative(**values: float) -> None:
    """Raise ``ValueError`` naming the first argument that is negative (or nan)."""
    for name, value in values.items():
        if not value >= 0.0:  # written this way round so that nan fails too
            raise ValueError(f"{name} must be >= 0, got {value!r}")


def check_decay_rate(**values: float) -> None:
    """Raise ``ValueError`` naming the first averaging rate outside [0, 1).

    A rate of 1 would never let a running average move from its start.
    """
    for name, value in values.items():
        if not 0.0 <= value < 1.0:
            raise ValueError(f"{name} must be in [0, 1), got {value!r}")


def check_betas(betas: tuple[float, float]) -> None:
    """``betas`` is a pair of averaging rates, each in [0, 1)."""
    if len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    check_decay_rate(**{"betas[0]": betas[0], "betas[1]": betas[1]})
