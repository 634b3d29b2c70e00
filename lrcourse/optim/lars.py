"""LARS: SGD with momentum whose step is rescaled layer by layer by the ratio of weight to gradient norm."""

from __future__ import annotations

import torch

from lrcourse.optim.base import Optimizer, check_lr, check_nonnegative, zeros_like


class LARS(Optimizer):
    r"""Layer-wise Adaptive Rate Scaling (You, Gitman and Ginsburg, 2017), their Algorithm 1.

    Each parameter tensor :math:`w` (one layer's weight or bias) gets its own local
    rate, the *trust ratio* :math:`\lambda`, from the norms of its weight and gradient:

    .. math::

        \lambda_t &= \eta\, \frac{\lVert w_t \rVert}{\lVert g_t \rVert + \beta\, \lVert w_t \rVert} \\
        v_{t+1} &= \mu\, v_t + \gamma_t\, \lambda_t\, (g_t + \beta\, w_t) \\
        w_{t+1} &= w_t - v_{t+1}

    with :math:`\gamma_t` the global rate ``lr``, :math:`\eta` the
    ``trust_coefficient``, :math:`\beta` the ``weight_decay`` and :math:`\mu` the
    ``momentum``; :math:`v_0 = 0`. The step of a layer is then about
    :math:`\gamma \eta \lVert w \rVert`: a fixed fraction of the layer's own size,
    whatever the scale of its gradient. Where :math:`\lVert w_t \rVert = 0` (a bias
    initialised to zero) or the denominator is 0, the ratio would freeze the
    parameter or be undefined; :math:`\lambda_t = 1` is used instead, the convention
    of common implementations (NVIDIA's LARC, timm). The ratio stays a tensor on
    the parameter's device: no host sync. The state of a parameter is ``v``.

    >>> import torch
    >>> w = torch.tensor([3.0, 4.0], requires_grad=True)        # ||w|| = 5
    >>> opt = LARS([w], lr=1.0, momentum=0.0, trust_coefficient=0.1)
    >>> opt.zero_grad(); (10 * w.sum()).backward(); opt.step()  # g = (10, 10), ||g|| = 14.14
    >>> w.detach()   # lambda = 0.1 * 5 / 14.14 = 0.0354: each entry moves by 0.354
    tensor([2.6464, 3.6464])
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        momentum: float = 0.9,
        weight_decay: float = 0.0,
        trust_coefficient: float = 1e-3,
        *,
        maximize: bool = False,
    ) -> None:
        check_lr(lr)
        check_nonnegative(momentum=momentum, weight_decay=weight_decay, trust_coefficient=trust_coefficient)
        defaults = dict(
            lr=lr, momentum=momentum, weight_decay=weight_decay, trust_coefficient=trust_coefficient, maximize=maximize
        )
        super().__init__(params, defaults)

    def update(self, theta, g, state, group):
        lr, mu, beta, eta = group["lr"], group["momentum"], group["weight_decay"], group["trust_coefficient"]
        if not state:
            state["v"] = zeros_like(theta)
        v = state["v"]
        w_norm, g_norm = torch.linalg.vector_norm(theta), torch.linalg.vector_norm(g)
        denominator = g_norm + beta * w_norm
        usable = (w_norm > 0) & (denominator > 0)
        trust = torch.where(usable, eta * w_norm / denominator, 1.0)  # lambda = eta ||w|| / (||g|| + beta ||w||)
        d = g.add(theta, alpha=beta)  # g + beta w
        v.mul_(mu).add_(d * trust, alpha=lr)  # v_{t+1} = mu v_t + gamma lambda (g + beta w)
        theta.sub_(v)  # w_{t+1} = w_t - v_{t+1}
