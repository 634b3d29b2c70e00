"""LAMB: Adam's direction, rescaled layer by layer so that each layer moves in proportion to its norm."""

from __future__ import annotations

import torch

from lrcourse.optim.base import Optimizer, check_betas, check_lr, check_nonnegative, zeros_like


class LAMB(Optimizer):
    r"""Layer-wise Adaptive Moments for Batch training (You et al., 2020), their Algorithm 2.

    For each parameter tensor :math:`x` (one layer), step :math:`t = 1, 2, \dots` does:

    .. math::

        m_t &= \beta_1\, m_{t-1} + (1 - \beta_1)\, g_t \\
        v_t &= \beta_2\, v_{t-1} + (1 - \beta_2)\, g_t^2 \\
        \hat m_t &= m_t / (1 - \beta_1^t), \qquad \hat v_t = v_t / (1 - \beta_2^t) \\
        r_t &= \frac{\hat m_t}{\sqrt{\hat v_t} + \epsilon} \\
        u_t &= r_t + \lambda\, x_{t-1} \\
        x_t &= x_{t-1} - \eta\, \frac{\lVert x_{t-1} \rVert}{\lVert u_t \rVert}\, u_t

    :math:`r_t` is Adam's step and :math:`\lambda x` decoupled weight decay (AdamW's);
    the *trust ratio* :math:`\lVert x \rVert / \lVert u \rVert` then makes the layer
    move by :math:`\eta \lVert x \rVert` per step, a fraction of its own norm (the
    paper's scaling function :math:`\phi` is the identity here). Where
    :math:`\lVert x \rVert = 0` or :math:`\lVert u \rVert = 0` the ratio is 1, as in
    common implementations. The state of a parameter is ``t``, ``m`` and ``v``.

    >>> import torch
    >>> x = torch.tensor([3.0, 4.0], requires_grad=True)         # ||x|| = 5
    >>> opt = LAMB([x], lr=0.1)
    >>> opt.zero_grad(); (x ** 2).sum().backward(); opt.step()   # r_1 = sign(g) = (1, 1)
    >>> x.detach()   # moves by 0.1 * 5 / sqrt(2) = 0.354 per entry
    tensor([2.6464, 3.6464])
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-6,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        check_lr(lr)
        check_betas(betas)
        check_nonnegative(eps=eps, weight_decay=weight_decay)
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def update(self, theta, g, state, group):
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if not state:
            state["t"] = 0
            state["m"] = zeros_like(theta)
            state["v"] = zeros_like(theta)
        state["t"] += 1
        t, m, v = state["t"], state["m"], state["v"]
        m.lerp_(g, 1 - beta1)  # m_t = beta1 m_{t-1} + (1 - beta1) g_t
        v.mul_(beta2).addcmul_(g, g, value=1 - beta2)  # v_t = beta2 v_{t-1} + (1 - beta2) g_t^2
        m_hat = m / (1 - beta1**t)  # m_hat = m_t / (1 - beta1^t)
        v_hat = v / (1 - beta2**t)  # v_hat = v_t / (1 - beta2^t)
        r = m_hat / (v_hat.sqrt_() + eps)  # r_t = m_hat / (sqrt(v_hat) + eps)
        u = r.add_(theta, alpha=wd)  # u_t = r_t + lambda x_{t-1}
        x_norm, u_norm = torch.linalg.vector_norm(theta), torch.linalg.vector_norm(u)
        trust = torch.where((x_norm > 0) & (u_norm > 0), x_norm / u_norm, 1.0)  # ||x|| / ||u||, else 1
        theta.add_(u * trust, alpha=-lr)  # x_t = x_{t-1} - lr (||x|| / ||u||) u_t
