"""LARS: SGD with momentum whose step is rescaled layer by layer by the ratio of weight to gradient norm."""

from __future__ import annotations

import torch

from lrcourse.optim.base import Optimizer, check_lr, check_nonnegative, zeros_like


class LARS(Optimizer):
    r"""Layer-wise Adaptive Rate Scaling (You, Gitman and Ginsburg, 2017), their Algorithm 1.

    Each parameter tensor :math:`w` (one layer's weight or bias) gets its own local
    rate, the *trust ratio* :math:`\rho`, from the norms of its weight and gradient
    (in the book's notation; the paper writes :math:`\gamma` for the global rate,
    :math:`\eta` for the trust coefficient and :math:`\beta` for the weight decay):

    .. math::

        \rho_t &= \eta_{\text{trust}} \|w_t\| / (\|g_t\| + \lambda_{\text{wd}} \|w_t\|) \\
        v_{t+1} &= \beta\, v_t + \eta_t\, \rho_t\, (g_t + \lambda_{\text{wd}}\, w_t) \\
        w_{t+1} &= w_t - v_{t+1}

    with :math:`\eta_t` the global rate ``lr``, :math:`\eta_{\text{trust}}` the
    ``trust_coefficient``, :math:`\lambda_{\text{wd}}` the ``weight_decay`` and :math:`\beta` the
    ``momentum``; :math:`v_0 = 0`. The step of a layer is then about
    :math:`\eta\, \eta_{\text{trust}} \lVert w \rVert`: a fixed fraction of the layer's own size,
    whatever the scale of its gradient. Where :math:`\lVert w_t \rVert = 0` (a bias
    initialised to zero) or the denominator is 0, the ratio would freeze the
    parameter or be undefined; :math:`\rho_t = 1` is used instead, the convention
    of common implementations (NVIDIA's LARC, timm). The ratio stays a tensor on
    the parameter's device: no host sync. The state of a parameter is ``v``.

    >>> import torch
    >>> w = torch.tensor([3.0, 4.0], requires_grad=True)        # ||w|| = 5
    >>> opt = LARS([w], lr=1.0, momentum=0.0, trust_coefficient=0.1)
    >>> opt.zero_grad(); (10 * w.sum()).backward(); opt.step()  # g = (10, 10), ||g|| = 14.14
    >>> w.detach()   # rho = 0.1 * 5 / 14.14 = 0.0354: each entry moves by 0.354
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
        lr, beta, wd, eta_trust = group["lr"], group["momentum"], group["weight_decay"], group["trust_coefficient"]
        if not state:
            state["v"] = zeros_like(theta)
        v = state["v"]
        w_norm, g_norm = torch.linalg.vector_norm(theta), torch.linalg.vector_norm(g)
        denominator = g_norm + wd * w_norm
        usable = (w_norm > 0) & (denominator > 0)
        rho = torch.where(usable, eta_trust * w_norm / denominator, 1.0)  # eta_trust ||w|| / (||g|| + wd ||w||)
        d = g.add(theta, alpha=wd)  # g + wd w
        v.mul_(beta).add_(d * rho, alpha=lr)  # v_{t+1} = beta v_t + eta rho (g + wd w)
        theta.sub_(v)  # w_{t+1} = w_t - v_{t+1}
