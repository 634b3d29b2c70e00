"""Stochastic gradient descent, with momentum (heavy ball or Nesterov) and weight decay."""

from __future__ import annotations

import torch

from lrcourse.optim import compiled
from lrcourse.optim.base import Optimizer, check_lr, check_nonnegative


class SGD(Optimizer):
    r"""Stochastic gradient descent, as ``torch.optim.SGD``.

    With weight decay :math:`\lambda`, momentum :math:`\beta` and dampening :math:`\tau`,
    each step does, for every parameter :math:`\theta` with gradient :math:`g_t`:

    .. math::

        g_t &\leftarrow g_t + \lambda\, \theta_{t-1}  \\
        b_t &= \begin{cases} g_t & t = 1 \\
                             \beta\, b_{t-1} + (1 - \tau)\, g_t & t > 1 \end{cases} \\
        g_t &\leftarrow \begin{cases} g_t + \beta\, b_t & \text{Nesterov} \\
                                      b_t & \text{otherwise} \end{cases} \\
        \theta_t &= \theta_{t-1} - \eta\, g_t

    where :math:`\eta` is ``lr``; the momentum lines are skipped when :math:`\beta = 0`.
    ``maximize=True`` uses :math:`-g_t`. The state of a parameter is its momentum
    buffer ``b`` (only when ``momentum > 0``). Sparse gradients are supported. A
    non-finite gradient is used as it is: checking is left to the caller.

    ``fused=True`` runs the same rule as one loop over all parameters, compiled by
    ``torch.compile`` (:mod:`lrcourse.optim.compiled`; dense gradients only). The default
    ``None``, as in torch, is this readable loop.

    >>> import torch
    >>> theta = torch.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = SGD([theta], lr=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.zero_grad()
    ...     (theta ** 2).sum().backward()   # g = 2 theta
    ...     opt.step()
    >>> theta.detach()
    tensor([ 0.4600, -0.9200])
    """

    supports_sparse_grads = True

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        fused: bool | None = None,
    ) -> None:
        check_lr(lr)
        check_nonnegative(momentum=momentum, weight_decay=weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("nesterov=True requires momentum > 0 and dampening = 0")
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
            fused=bool(fused),
        )
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        """The readable loop of :class:`Optimizer`, or with ``fused=True`` the compiled one."""
        if self.defaults["fused"]:
            return compiled.sgd_step(self, closure)
        return super().step(closure)

    def update(self, theta, g, state, group):
        lr, beta, tau, wd = group["lr"], group["momentum"], group["dampening"], group["weight_decay"]
        if wd != 0:
            g = g.add(theta, alpha=wd)  # g <- g + lambda theta
        if beta != 0:
            if "b" not in state:
                b = state["b"] = g.clone()  # b_1 = g_1: no dampening on the first step
            else:
                b = state["b"].mul_(beta).add_(g, alpha=1 - tau)  # b_t = beta b_{t-1} + (1 - tau) g_t
            g = g.add(b, alpha=beta) if group["nesterov"] else b  # Nesterov looks one step ahead
        theta.add_(g, alpha=-lr)  # theta_t = theta_{t-1} - lr g_t
