"""Lion: the sign of an interpolated momentum, so every coordinate moves by exactly the rate."""

from __future__ import annotations

from lrcourse.optim.base import Optimizer, check_lr, check_nonnegative, zeros_like


class Lion(Optimizer):
    r"""Lion, EvoLved Sign Momentum (Chen et al., 2023), as ``lion_pytorch.Lion`` (PyPI ``lion-pytorch``).

    With rate :math:`\eta`, weight decay :math:`\lambda` and the two averaging rates
    :math:`\beta_1, \beta_2`, each step does, elementwise:

    .. math::

        c_t &= \beta_1\, m_{t-1} + (1 - \beta_1)\, g_t \\
        \theta_t &= (1 - \eta \lambda)\, \theta_{t-1} - \eta\, \operatorname{sign}(c_t) \\
        m_t &= \beta_2\, m_{t-1} + (1 - \beta_2)\, g_t

    The step is a sign: every coordinate with a nonzero :math:`c_t` moves by exactly
    :math:`\eta`, whatever the size of its gradient, so Lion's rate is an absolute step
    length and is usually 3 to 10 times smaller than AdamW's (and its :math:`\lambda` as many
    times larger, to keep :math:`\eta\lambda` the same). Two averages: :math:`c_t`, which chooses
    the direction, leans on the new gradient (:math:`\beta_1 = 0.9`), while the momentum
    :math:`m_t` that is carried forward forgets slowly (:math:`\beta_2 = 0.99`).

    The decay :math:`\eta\lambda` follows the rate, as AdamW's does. With
    ``decoupled_weight_decay=True`` it is :math:`\eta\lambda/\eta_0` instead, where
    :math:`\eta_0` is the ``lr`` given to the constructor (for every group, as in
    ``lion_pytorch``): :math:`\lambda` is then the fraction taken off per step at the
    starting rate, and a schedule scales it. The state of a parameter is ``m``; there is no
    step count. ``maximize=True`` (not in ``lion_pytorch``) uses :math:`-g_t`. A non-finite
    gradient is used as it is: checking is left to the caller.

    >>> import torch
    >>> theta = torch.tensor([1.0, -2.0, 0.0], requires_grad=True)
    >>> opt = Lion([theta], lr=0.1)
    >>> opt.zero_grad(); (theta ** 2).sum().backward(); opt.step()
    >>> theta.detach()   # each coordinate moves by lr against the sign of its gradient; a zero one stays
    tensor([ 0.9000, -1.9000,  0.0000])
    """

    def __init__(
        self,
        params,
        lr: float = 1e-4,
        betas: tuple[float, float] = (0.9, 0.99),
        weight_decay: float = 0.0,
        decoupled_weight_decay: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        check_lr(lr)
        _check_betas(betas)
        check_nonnegative(weight_decay=weight_decay)
        if decoupled_weight_decay and not lr > 0:
            raise ValueError(
                f"lr must be > 0 with decoupled_weight_decay=True (the decay is divided by it), got {lr!r}"
            )
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            weight_decay=weight_decay,
            decoupled_weight_decay=decoupled_weight_decay,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def update(self, theta, g, state, group):
        lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
        if group["decoupled_weight_decay"]:
            wd = wd / self.defaults["lr"]  # lambda / eta_0, eta_0 the constructor's rate (as lion_pytorch)
        if not state:
            state["m"] = zeros_like(theta)
        m = state["m"]
        c = m.mul(beta1).add_(g, alpha=1 - beta1)  # c_t = beta1 m_{t-1} + (1 - beta1) g_t
        theta.mul_(1 - lr * wd)  # theta <- (1 - lr lambda) theta
        theta.add_(c.sign_(), alpha=-lr)  # theta_t = theta - lr sign(c_t)
        m.mul_(beta2).add_(g, alpha=1 - beta2)  # m_t = beta2 m_{t-1} + (1 - beta2) g_t


def _check_betas(betas: tuple[float, float]) -> None:
    """``betas``: a pair, each in [0, 1] (Lion has no bias correction, so 1 is allowed, as in ``lion_pytorch``).

    >>> _check_betas((0.9, 1.5))
    Traceback (most recent call last):
    ...
    ValueError: betas[1] must be in [0, 1], got 1.5
    """
    if len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    for i, beta in enumerate(betas):
        check_nonnegative(**{f"betas[{i}]": beta})
        if not beta <= 1:
            raise ValueError(f"betas[{i}] must be in [0, 1], got {beta!r}")
