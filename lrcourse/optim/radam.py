"""RAdam: Adam whose adaptive step is switched on only once v can be trusted."""

from __future__ import annotations

import math

from lrcourse.optim.base import Optimizer, check_betas, check_lr, check_nonnegative, zeros_like


class RAdam(Optimizer):
    r"""Rectified Adam (Liu et al., 2020), as ``torch.optim.RAdam``.

    In the first steps :math:`v_t` averages too few gradients for
    :math:`1/\sqrt{\hat v_t}` to be reliable. RAdam measures this by the length
    :math:`\rho_t` of the simple moving average that :math:`v_t` approximates, and
    takes a plain momentum step until :math:`\rho_t > 5`. Step :math:`t = 1, 2, \dots`
    does, elementwise:

    .. math::

        g_t &\leftarrow g_t + \lambda\, \theta_{t-1}
            \quad\text{or, decoupled:}\quad
            \theta_{t-1} \leftarrow (1 - \eta \lambda)\, \theta_{t-1} \\
        m_t &= \beta_1\, m_{t-1} + (1 - \beta_1)\, g_t \\
        v_t &= \beta_2\, v_{t-1} + (1 - \beta_2)\, g_t^2 \\
        \hat m_t &= m_t / (1 - \beta_1^t) \\
        \rho_\infty &= 2 / (1 - \beta_2) - 1, \qquad
        \rho_t = \rho_\infty - 2 t \beta_2^t / (1 - \beta_2^t) \\
        r_t &= \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\, \rho_\infty}
                          {(\rho_\infty - 4)(\rho_\infty - 2)\, \rho_t}}, \qquad
        l_t = \frac{\sqrt{1 - \beta_2^t}}{\sqrt{v_t} + \epsilon} \\
        \theta_t &= \begin{cases}
            \theta_{t-1} - \eta\, r_t\, \hat m_t\, l_t & \rho_t > 5 \\
            \theta_{t-1} - \eta\, \hat m_t & \text{otherwise}
        \end{cases}

    (:math:`l_t` is :math:`1/\sqrt{\hat v_t}` with :math:`\epsilon` added to
    :math:`\sqrt{v_t}`, as ``torch.optim`` does.) :math:`\rho_t` depends on :math:`t`
    only, so the branch is taken on the host with no sync. The state of a parameter
    is ``t``, ``m`` and ``v``. A non-finite gradient is used as it is: checking is
    left to the caller.

    >>> import torch
    >>> theta = torch.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = RAdam([theta], lr=0.1)
    >>> opt.zero_grad(); (theta ** 2).sum().backward(); opt.step()
    >>> theta.detach()   # rho_1 = 1 <= 5: a plain step of lr * m_hat = lr * g
    tensor([ 0.8000, -1.6000])
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        check_lr(lr)
        check_betas(betas)
        check_nonnegative(eps=eps, weight_decay=weight_decay)
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def update(self, theta, g, state, group):
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if not state:
            state["t"] = 0
            state["m"] = zeros_like(theta)
            state["v"] = zeros_like(theta)
        state["t"] += 1
        t, m, v = state["t"], state["m"], state["v"]
        if wd != 0 and group["decoupled_weight_decay"]:
            theta.mul_(1 - lr * wd)  # theta <- (1 - lr lambda) theta
        elif wd != 0:
            g = g.add(theta, alpha=wd)  # g <- g + lambda theta
        m.lerp_(g, 1 - beta1)  # m_t = beta1 m_{t-1} + (1 - beta1) g_t
        v.mul_(beta2).addcmul_(g, g, value=1 - beta2)  # v_t = beta2 v_{t-1} + (1 - beta2) g_t^2
        m_hat = m / (1 - beta1**t)  # m_hat = m_t / (1 - beta1^t)
        rho_inf = 2 / (1 - beta2) - 1  # how many gradients v averages, in the limit t -> infinity
        rho_t = rho_inf - 2 * t * beta2**t / (1 - beta2**t)  # ... and at step t
        if rho_t > 5:  # v_t averages enough gradients: rectified adaptive step
            # r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
            r = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            # l_t = sqrt(1 - beta2^t) / (sqrt(v_t) + eps)
            l = math.sqrt(1 - beta2**t) / v.sqrt().add_(eps)  # noqa: E741 (the paper's symbol)
            theta.add_(m_hat.mul_(l), alpha=-lr * r)  # theta_t = theta_{t-1} - lr r_t m_hat l_t
        else:
            theta.add_(m_hat, alpha=-lr)  # theta_t = theta_{t-1} - lr m_hat
