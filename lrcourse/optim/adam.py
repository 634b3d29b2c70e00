"""Adam and AdamW: momentum on the gradient, RMSprop's scaling, both bias-corrected."""

from __future__ import annotations

import torch

from lrcourse.optim import compiled
from lrcourse.optim.base import Optimizer, check_betas, check_lr, check_nonnegative, check_same_kind_betas, zeros_like


class Adam(Optimizer):
    r"""Adam (Kingma and Ba, 2015), as ``torch.optim.Adam``.

    With weight decay :math:`\lambda`, step :math:`t = 1, 2, \dots` does, elementwise:

    .. math::

        g_t &\leftarrow g_t + \lambda\, \theta_{t-1}
            \quad\text{or, decoupled (AdamW):}\quad
            \theta_{t-1} \leftarrow (1 - \eta \lambda)\, \theta_{t-1} \\
        m_t &= \beta_1\, m_{t-1} + (1 - \beta_1)\, g_t \\
        v_t &= \beta_2\, v_{t-1} + (1 - \beta_2)\, g_t^2 \\
        \hat m_t &= m_t / (1 - \beta_1^t) \\
        \hat v_t &= v_t / (1 - \beta_2^t)
            \quad\text{or, AMSGrad:}\quad
            \hat v_t = v^{\max}_t / (1 - \beta_2^t),\ v^{\max}_t = \max(v^{\max}_{t-1}, v_t) \\
        \theta_t &= \theta_{t-1} - \eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}

    The update uses the bias-corrected first moment :math:`\hat m_t`, not the raw
    gradient, divided by the root of the second. ``weight_decay`` adds
    :math:`\lambda \theta` to the gradient (L2 regularisation), unless
    ``decoupled_weight_decay=True``, which shrinks :math:`\theta` directly and is AdamW.
    The state of a parameter is ``t``, ``m``, ``v`` and, with ``amsgrad=True``,
    ``v_max``, the elementwise maximum of all :math:`v_t` so far. A non-finite
    gradient is used as it is: checking is left to the caller.

    ``fused=True`` runs the same rule as one loop over all parameters, compiled by
    ``torch.compile``, several times faster (:mod:`lrcourse.optim.compiled`; it makes the
    parameters views of one flat buffer). The default ``None``, as in torch, is this readable loop.

    >>> import torch
    >>> theta = torch.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = Adam([theta], lr=0.1)
    >>> opt.zero_grad(); (theta ** 2).sum().backward(); opt.step()
    >>> theta.detach()   # the first step is lr * sign(g): m_hat / sqrt(v_hat) = g / |g|
    tensor([ 0.9000, -1.9000])
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        check_lr(lr)
        check_betas(betas)
        betas = check_same_kind_betas(betas)
        check_nonnegative(eps=eps, weight_decay=weight_decay)
        defaults = dict(
            lr=lr,
            betas=betas,
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
            decoupled_weight_decay=decoupled_weight_decay,
            fused=bool(fused),
        )
        super().__init__(params, defaults)

    @torch.no_grad()
    def step(self, closure=None):
        """The readable loop of :class:`Optimizer`, or with ``fused=True`` the compiled one."""
        if self.defaults["fused"]:
            return compiled.adam_step(self, closure)
        return super().step(closure)

    def update(self, theta, g, state, group):
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if not state:
            state["t"] = 0
            state["m"] = zeros_like(theta)
            state["v"] = zeros_like(theta)
            if group["amsgrad"]:
                state["v_max"] = zeros_like(theta)
        state["t"] += 1
        t, m, v = state["t"], state["m"], state["v"]
        if wd != 0 and group["decoupled_weight_decay"]:
            theta.mul_(1 - lr * wd)  # theta <- (1 - lr lambda) theta   (AdamW)
        elif wd != 0:
            g = g.add(theta, alpha=wd)  # g <- g + lambda theta   (L2)
        m.lerp_(g, 1 - beta1)  # m_t = beta1 m_{t-1} + (1 - beta1) g_t
        v.mul_(beta2).addcmul_(g, g, value=1 - beta2)  # v_t = beta2 v_{t-1} + (1 - beta2) g_t^2
        if group["amsgrad"]:
            # v_max_t = max(v_max_{t-1}, v_t), used in place of v_t from here on
            v = torch.maximum(state["v_max"], v, out=state["v_max"])
        m_hat = m / (1 - beta1**t)  # m_hat = m_t / (1 - beta1^t)
        v_hat = v / (1 - beta2**t)  # v_hat = v_t / (1 - beta2^t)
        # theta_t = theta_{t-1} - lr m_hat / (sqrt(v_hat) + eps)
        theta.addcdiv_(m_hat, v_hat.sqrt_().add_(eps), value=-lr)


class AdamW(Adam):
    r"""AdamW (Loshchilov and Hutter, 2019), as ``torch.optim.AdamW``: Adam with decoupled
    weight decay, on by default.

    .. math::

        \theta_{t-1} &\leftarrow (1 - \eta \lambda)\, \theta_{t-1} \\
        \theta_t &= \theta_{t-1} - \eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon}

    with :math:`m_t, v_t, \hat m_t, \hat v_t` as in :class:`Adam`, computed from the
    gradient alone: the decay shrinks :math:`\theta` at a rate that the scaling by
    :math:`\sqrt{\hat v_t}` does not distort, unlike L2 regularisation in Adam. The
    state is Adam's; a ``state_dict`` saved by :class:`Adam` loads with the decay still
    decoupled, as in ``torch.optim.AdamW``. A non-finite gradient is used as it is: checking
    is left to the caller.

    >>> import torch
    >>> theta = torch.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = AdamW([theta], lr=0.1, weight_decay=0.5)
    >>> opt.zero_grad(); (theta ** 2).sum().backward(); opt.step()
    >>> theta.detach()   # shrink by 1 - lr * weight_decay = 0.95, then Adam's step
    tensor([ 0.8500, -1.8000])
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(
            params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, fused=fused, decoupled_weight_decay=True
        )

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        for group in self.param_groups:  # as torch.optim.AdamW: even loading Adam's state_dict, decay is decoupled
            group["decoupled_weight_decay"] = True
