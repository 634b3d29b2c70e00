"""Adagrad: each coordinate's rate shrinks with the sum of its squared past gradients."""

from __future__ import annotations

import torch

from lrcourse.optim.base import Optimizer, check_lr, check_nonnegative


class Adagrad(Optimizer):
    r"""Adagrad (Duchi, Hazan and Singer, 2011), as ``torch.optim.Adagrad``.

    With weight decay :math:`\lambda`, rate decay :math:`\delta` (``lr_decay``) and
    :math:`G_0` = ``initial_accumulator_value``, step :math:`t = 1, 2, \dots` does,
    elementwise:

    .. math::

        g_t &\leftarrow g_t + \lambda\, \theta_{t-1} \\
        \eta_t &= \frac{\eta}{1 + (t - 1)\, \delta} \\
        G_t &= G_{t-1} + g_t^2 \\
        \theta_t &= \theta_{t-1} - \eta_t\, \frac{g_t}{\sqrt{G_t} + \epsilon}

    :math:`G_t` sums the squared gradients of the *same* coordinate, so a coordinate
    that has seen large gradients takes small steps. The state of a parameter is
    ``t`` and ``G``. Sparse gradients (``nn.Embedding(sparse=True)``) update only the
    rows they touch; they cannot be combined with weight decay. A non-finite gradient
    is used as it is: checking is left to the caller.

    >>> import torch
    >>> theta = torch.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = Adagrad([theta], lr=0.5)
    >>> opt.zero_grad(); (theta ** 2).sum().backward(); opt.step()
    >>> theta.detach()   # the first step is lr * sign(g), whatever the scale of g
    tensor([ 0.5000, -1.5000])
    """

    supports_sparse_grads = True

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        lr_decay: float = 0.0,
        weight_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        eps: float = 1e-10,
        *,
        maximize: bool = False,
    ) -> None:
        check_lr(lr)
        check_nonnegative(
            lr_decay=lr_decay, weight_decay=weight_decay, initial_accumulator_value=initial_accumulator_value, eps=eps
        )
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            initial_accumulator_value=initial_accumulator_value,
            eps=eps,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def update(self, theta, g, state, group):
        lr, eps, wd = group["lr"], group["eps"], group["weight_decay"]
        if not state:
            state["t"] = 0
            state["G"] = torch.full_like(theta, group["initial_accumulator_value"], memory_format=torch.preserve_format)
        state["t"] += 1
        t, G = state["t"], state["G"]
        if wd != 0:
            if g.is_sparse:
                raise RuntimeError("Adagrad: weight_decay is not compatible with sparse gradients")
            g = g.add(theta, alpha=wd)  # g <- g + lambda theta
        lr_t = lr / (1 + (t - 1) * group["lr_decay"])  # eta_t = eta / (1 + (t - 1) delta)
        if g.is_sparse:
            _sparse_update(theta, g, G, lr_t, eps)
            return
        G.addcmul_(g, g)  # G_t = G_{t-1} + g_t^2
        # theta_t = theta_{t-1} - eta_t g_t / (sqrt(G_t) + eps)
        theta.addcdiv_(g, G.sqrt().add_(eps), value=-lr_t)


def _sparse_update(theta, g, G, lr_t, eps):
    """The same two equations, on the rows a sparse gradient touches."""
    g = g.coalesce()  # the update is not linear in g, so each index must appear once
    g_rows = g.values()
    G.add_(_same_rows(g, g_rows**2))  # G_t = G_{t-1} + g_t^2
    std_rows = G.sparse_mask(g).values().sqrt_().add_(eps)  # sqrt(G_t) + eps, on those rows
    # theta_t = theta_{t-1} - eta_t g_t / (sqrt(G_t) + eps), on those rows
    theta.add_(_same_rows(g, g_rows / std_rows), alpha=-lr_t)


def _same_rows(g, values):
    """A sparse tensor with ``g``'s (valid, coalesced) indices and new values."""
    return torch.sparse_coo_tensor(g.indices(), values, g.shape, check_invariants=False, is_coalesced=True)
