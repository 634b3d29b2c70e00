"""NAdam: Adam with Nesterov momentum, which looks one step ahead along m."""

from __future__ import annotations

from lrcourse.optim.base import Optimizer, check_betas, check_lr, check_nonnegative, zeros_like


class NAdam(Optimizer):
    r"""NAdam (Dozat, 2016), as ``torch.optim.NAdam``.

    The momentum coefficient warms up over time: with ``momentum_decay`` :math:`\psi`,
    :math:`\mu_t = \beta_1 \bigl(1 - \tfrac12\, 0.96^{t \psi}\bigr)`. With weight decay
    :math:`\lambda`, step :math:`t = 1, 2, \dots` does, elementwise:

    .. math::

        g_t &\leftarrow g_t + \lambda\, \theta_{t-1}
            \quad\text{or, decoupled:}\quad
            \theta_{t-1} \leftarrow (1 - \eta \lambda)\, \theta_{t-1} \\
        m_t &= \beta_1\, m_{t-1} + (1 - \beta_1)\, g_t \\
        v_t &= \beta_2\, v_{t-1} + (1 - \beta_2)\, g_t^2 \\
        \hat v_t &= v_t / (1 - \beta_2^t) \\
        \theta_t &= \theta_{t-1} - \eta \left(
            \frac{(1 - \mu_t)\, g_t}{1 - \prod_{i=1}^{t} \mu_i}
            + \frac{\mu_{t+1}\, m_t}{1 - \prod_{i=1}^{t+1} \mu_i}
            \right) \Big/ \bigl(\sqrt{\hat v_t} + \epsilon\bigr)

    The bracket is the Nesterov look-ahead: the current gradient's share of the next
    momentum plus the momentum one step ahead, each with its own bias correction.
    The state of a parameter is ``t``, ``m``, ``v`` and ``mu_product``
    (:math:`\prod_{i \le t} \mu_i`, kept as a Python float so the step needs no host
    sync). A non-finite gradient is used as it is: checking is left to the caller.

    >>> import torch
    >>> theta = torch.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = NAdam([theta], lr=0.1)
    >>> opt.zero_grad(); (theta ** 2).sum().backward(); opt.step()
    >>> theta.detach()   # a first step a little longer than lr * sign(g)
    tensor([ 0.8944, -1.8944])
    """

    def __init__(
        self,
        params,
        lr: float = 2e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum_decay: float = 4e-3,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        check_lr(lr)
        check_betas(betas)
        check_nonnegative(eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay)
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            momentum_decay=momentum_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def update(self, theta, g, state, group):
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        psi = group["momentum_decay"]
        if not state:
            state["t"] = 0
            state["m"] = zeros_like(theta)
            state["v"] = zeros_like(theta)
            state["mu_product"] = 1.0
        state["t"] += 1
        t, m, v = state["t"], state["m"], state["v"]
        if wd != 0 and group["decoupled_weight_decay"]:
            theta.mul_(1 - lr * wd)  # theta <- (1 - lr lambda) theta
        elif wd != 0:
            g = g.add(theta, alpha=wd)  # g <- g + lambda theta
        mu = beta1 * (1 - 0.5 * 0.96 ** (t * psi))  # mu_t = beta1 (1 - 0.96^(t psi) / 2)
        mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * psi))  # mu_{t+1}
        state["mu_product"] *= mu  # prod_{i <= t} mu_i
        mu_product = state["mu_product"]
        m.lerp_(g, 1 - beta1)  # m_t = beta1 m_{t-1} + (1 - beta1) g_t
        v.mul_(beta2).addcmul_(g, g, value=1 - beta2)  # v_t = beta2 v_{t-1} + (1 - beta2) g_t^2
        v_hat = v / (1 - beta2**t)  # v_hat = v_t / (1 - beta2^t)
        denom = v_hat.sqrt_().add_(eps)  # sqrt(v_hat) + eps
        # theta_t = theta_{t-1} - lr [(1 - mu_t) g_t / (1 - prod_{i<=t} mu_i)
        #                             + mu_{t+1} m_t / (1 - prod_{i<=t+1} mu_i)] / (sqrt(v_hat) + eps)
        theta.addcdiv_(g, denom, value=-lr * (1 - mu) / (1 - mu_product))
        theta.addcdiv_(m, denom, value=-lr * mu_next / (1 - mu_product * mu_next))
