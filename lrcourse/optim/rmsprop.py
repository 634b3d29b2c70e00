"""RMSprop: divide by a running average of squared gradients instead of their sum."""

from __future__ import annotations

from lrcourse.optim.base import Optimizer, check_decay_rate, check_lr, check_nonnegative, zeros_like


class RMSprop(Optimizer):
    r"""RMSprop (Tieleman and Hinton, 2012), as ``torch.optim.RMSprop``.

    With smoothing constant :math:`\alpha`, weight decay :math:`\lambda` and momentum
    :math:`\beta`, each step does, elementwise:

    .. math::

        g_t &\leftarrow g_t + \lambda\, \theta_{t-1} \\
        v_t &= \alpha\, v_{t-1} + (1 - \alpha)\, g_t^2 \\
        \bar g_t &= \alpha\, \bar g_{t-1} + (1 - \alpha)\, g_t
            \quad \text{(centered only)} \\
        d_t &= \sqrt{v_t - \bar g_t^2} + \epsilon \ \text{(centered)}
            \quad\text{or}\quad \sqrt{v_t} + \epsilon \\
        b_t &= \beta\, b_{t-1} + g_t / d_t \\
        \theta_t &= \theta_{t-1} - \eta\, b_t
            \quad\text{or, when } \beta = 0,\quad \theta_{t-1} - \eta\, g_t / d_t

    Unlike Adagrad's sum, the average :math:`v_t` forgets old gradients, so the rate
    does not decay to zero. ``centered=True`` divides by an estimate of the gradient's
    standard deviation rather than its root mean square. The state of a parameter is
    ``t``, ``v``, ``g_avg`` (:math:`\bar g`, centered only) and ``b`` (momentum only).
    ``alpha`` must lie in [0, 1) (``torch.optim`` also accepts 1 and above). A
    non-finite gradient is used as it is: checking is left to the caller.

    >>> import torch
    >>> theta = torch.tensor([1.0, -2.0], requires_grad=True)
    >>> opt = RMSprop([theta], lr=0.01, alpha=0.99)
    >>> opt.zero_grad(); (theta ** 2).sum().backward(); opt.step()
    >>> theta.detach()   # first step: lr * g / sqrt(0.01 g^2) = 10 lr * sign(g)
    tensor([ 0.9000, -1.9000])
    """

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        check_lr(lr)
        check_decay_rate(alpha=alpha)
        check_nonnegative(eps=eps, weight_decay=weight_decay, momentum=momentum)
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def update(self, theta, g, state, group):
        lr, alpha, eps, wd, beta = (group[k] for k in ("lr", "alpha", "eps", "weight_decay", "momentum"))
        if not state:
            state["t"] = 0
            state["v"] = zeros_like(theta)
            if group["centered"]:
                state["g_avg"] = zeros_like(theta)
            if beta > 0:
                state["b"] = zeros_like(theta)
        state["t"] += 1
        v = state["v"]
        if wd != 0:
            g = g.add(theta, alpha=wd)  # g <- g + lambda theta
        v.mul_(alpha).addcmul_(g, g, value=1 - alpha)  # v_t = alpha v_{t-1} + (1 - alpha) g_t^2
        if group["centered"]:
            g_avg = state["g_avg"].lerp_(g, 1 - alpha)  # g_avg_t = alpha g_avg_{t-1} + (1 - alpha) g_t
            d = v.addcmul(g_avg, g_avg, value=-1).sqrt_().add_(eps)  # d_t = sqrt(v_t - g_avg_t^2) + eps
        else:
            d = v.sqrt().add_(eps)  # d_t = sqrt(v_t) + eps
        if beta > 0:
            b = state["b"].mul_(beta).addcdiv_(g, d)  # b_t = beta b_{t-1} + g_t / d_t
            theta.add_(b, alpha=-lr)  # theta_t = theta_{t-1} - lr b_t
        else:
            theta.addcdiv_(g, d, value=-lr)  # theta_t = theta_{t-1} - lr g_t / d_t
