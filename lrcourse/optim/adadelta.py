"""Adadelta: RMSprop whose step carries its own units, from a running average of past steps."""

from __future__ import annotations

from lrcourse.optim.base import Optimizer, check_decay_rate, check_lr, check_nonnegative, zeros_like


class Adadelta(Optimizer):
    r"""Adadelta (Zeiler, 2012), as ``torch.optim.Adadelta``.

    With decay rate :math:`\rho` and weight decay :math:`\lambda`, each step does,
    elementwise:

    .. math::

        g_t &\leftarrow g_t + \lambda\, \theta_{t-1} \\
        v_t &= \rho\, v_{t-1} + (1 - \rho)\, g_t^2 \\
        \Delta_t &= \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\, g_t \\
        u_t &= \rho\, u_{t-1} + (1 - \rho)\, \Delta_t^2 \\
        \theta_t &= \theta_{t-1} - \eta\, \Delta_t

    The ratio of the two root mean squares gives :math:`\Delta_t` the units of
    :math:`\theta`, which is why the paper needs no rate (``lr`` = :math:`\eta`
    defaults to 1 and only rescales). The state of a parameter is ``t``, ``v`` and
    ``u``. ``rho`` must lie in [0, 1) (``torch.optim`` also accepts 1). A non-finite
    gradient is used as it is: checking is left to the caller.

    >>> import torch
    >>> theta = torch.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = Adadelta([theta])
    >>> opt.zero_grad(); (theta ** 2).sum().backward(); opt.step()
    >>> theta.detach()   # early steps are about sqrt(eps / (1 - rho)): small
    tensor([ 0.9968, -1.9968])
    """

    def __init__(
        self,
        params,
        lr: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        check_lr(lr)
        check_decay_rate(rho=rho)
        check_nonnegative(eps=eps, weight_decay=weight_decay)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def update(self, theta, g, state, group):
        lr, rho, eps, wd = group["lr"], group["rho"], group["eps"], group["weight_decay"]
        if not state:
            state["t"] = 0
            state["v"] = zeros_like(theta)
            state["u"] = zeros_like(theta)
        state["t"] += 1
        v, u = state["v"], state["u"]
        if wd != 0:
            g = g.add(theta, alpha=wd)  # g <- g + lambda theta
        v.mul_(rho).addcmul_(g, g, value=1 - rho)  # v_t = rho v_{t-1} + (1 - rho) g_t^2
        # Delta_t = sqrt(u_{t-1} + eps) / sqrt(v_t + eps) * g_t
        delta = u.add(eps).sqrt_().div_(v.add(eps).sqrt_()).mul_(g)
        u.mul_(rho).addcmul_(delta, delta, value=1 - rho)  # u_t = rho u_{t-1} + (1 - rho) Delta_t^2
        theta.add_(delta, alpha=-lr)  # theta_t = theta_{t-1} - lr Delta_t
