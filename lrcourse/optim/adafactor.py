"""Adafactor: RMSprop's scaling from a factored second moment, a row and a column average per matrix."""

from __future__ import annotations

import torch

from lrcourse.optim.base import Optimizer, _check_number, check_lr, check_nonnegative, zeros_like
from lrcourse.optim.muon import _take_back_unless


class Adafactor(Optimizer):
    r"""Adafactor (Shazeer and Stern, 2018), as ``torch.optim.Adafactor``.

    With :math:`\tau` = ``beta2_decay``, :math:`(\epsilon_1, \epsilon_2)` = ``eps``, clipping
    threshold :math:`d`, weight decay :math:`\lambda` and rate :math:`\eta`, step
    :math:`t = 1, 2, \dots` does, for a parameter :math:`\theta` with gradient :math:`G_t`:

    .. math::

        \hat\beta_{2,t} &= 1 - t^{\tau} \\
        \rho_t &= \min(\eta,\ 1 / \sqrt t) \\
        \alpha_t &= \max(\epsilon_2,\ \mathrm{RMS}(\theta_{t-1}))\, \rho_t \\
        \theta_{t-1} &\leftarrow (1 - \eta \lambda)\, \theta_{t-1} \\
        R_t &= \hat\beta_{2,t} R_{t-1} + (1 - \hat\beta_{2,t})\, \mathrm{mean}_{\text{cols}}(G_t^2),
            \quad
        C_t = \hat\beta_{2,t} C_{t-1} + (1 - \hat\beta_{2,t})\, \mathrm{mean}_{\text{rows}}(G_t^2) \\
        \hat V_t &= \frac{R_t C_t}{\max(\mathrm{mean}(R_t), \epsilon_1)}
            \quad\text{(a matrix; a vector keeps }
            v_t = \hat\beta_{2,t} v_{t-1} + (1 - \hat\beta_{2,t})\, G_t^2 = \hat V_t) \\
        U_t &= G_t / \max(\sqrt{\hat V_t}, \epsilon_1) \\
        \theta_t &= \theta_{t-1} - \frac{\alpha_t}{\max(1,\ \mathrm{RMS}(U_t) / d)}\, U_t

    :math:`R_t C_t` is the outer product of the row and column averages of :math:`G^2` over
    their mean: a rank-one estimate of the matrix of second moments (exact when it is rank one)
    from :math:`A + B` numbers instead of :math:`A B`. A tensor of more than two dimensions is
    factored over its last two. :math:`\hat\beta_{2,t}` grows towards 1, so early steps
    average over few gradients and late ones over many, with no bias correction needed. The
    step is *relative*: at most :math:`\rho_t` times the parameter's own RMS (but at least
    :math:`\epsilon_2 \rho_t`), and :math:`U_t` is clipped to RMS :math:`d`. There is no
    momentum. :math:`\epsilon_1` = ``None`` means the machine epsilon of the parameter's dtype.
    As in torch, and not as in the paper, ``lr`` caps the relative step (the paper's 0.01) and
    scales the weight decay; :math:`\epsilon_1` bounds :math:`\hat V` and :math:`U` rather than
    being added to :math:`G^2`.

    The state of a parameter is ``t`` and either ``R`` and ``C`` (a matrix: shapes
    :math:`A \times 1` and :math:`1 \times B`) or ``v`` (a vector or a scalar). All of it is
    computed on the parameter's device: where torch reads the two RMS values on the host (a
    sync per parameter) and works on in Python floats, ours keeps them as float64 tensors on the
    device and does the same arithmetic there, which gives torch's numbers (to the bit on CPU,
    in float32 as in float64) with no sync. A zero-size parameter is left as it is (torch divides by its size).
    Complex parameters are refused at construction (torch refuses them at the first step),
    sparse gradients at the step.

    >>> import torch
    >>> theta = torch.nn.Parameter(torch.tensor([[3.0, -4.0], [0.0, 0.0]]))   # RMS 2.5
    >>> opt = Adafactor([theta], lr=0.01)
    >>> theta.grad = torch.tensor([[1.0, 1.0], [1.0, 1.0]])
    >>> opt.step()
    >>> theta.detach()   # at t = 1 the update U is sign(G); the step is 0.01 * 2.5 per entry
    tensor([[ 2.9750, -4.0250],
            [-0.0250, -0.0250]])
    """

    def __init__(
        self,
        params,
        lr: float = 1e-2,
        beta2_decay: float = -0.8,
        eps: tuple[float | None, float] = (None, 1e-3),
        d: float = 1.0,
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        check_lr(lr)
        _check_number("beta2_decay", beta2_decay)
        if not beta2_decay <= 0:
            raise ValueError(f"beta2_decay must be <= 0 (beta2_t = 1 - t^beta2_decay), got {beta2_decay!r}; e.g. -0.8")
        if len(eps) != 2:
            raise ValueError(f"eps must be a pair (eps1 or None, eps2), got {eps!r}")
        if eps[0] is not None:
            check_nonnegative(**{"eps[0]": eps[0]})
        check_nonnegative(**{"eps[1]": eps[1]})
        _check_number("d", d)
        if not d >= 1:
            raise ValueError(f"d must be >= 1 (the RMS the update is clipped to), got {d!r}")
        check_nonnegative(weight_decay=weight_decay)
        defaults = dict(
            lr=lr, beta2_decay=beta2_decay, eps=tuple(eps), d=d, weight_decay=weight_decay, maximize=maximize
        )
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict) -> None:
        """``torch.optim.Optimizer.add_param_group``, refusing (and not adding) complex parameters."""
        super().add_param_group(param_group)
        _take_back_unless(self, _check_real)

    def update(self, theta, g, state, group):
        lr, tau, d, wd = group["lr"], group["beta2_decay"], group["d"], group["weight_decay"]
        eps1, eps2 = group["eps"]
        eps1 = torch.finfo(theta.dtype).eps if eps1 is None else eps1
        factored = g.dim() > 1
        if not state:
            state["t"] = 0
            if factored:
                state["R"] = g.new_zeros((*g.shape[:-1], 1))  # one number per row
                state["C"] = g.new_zeros((*g.shape[:-2], 1, g.shape[-1]))  # one number per column
            else:
                state["v"] = zeros_like(theta)
        state["t"] += 1
        t = state["t"]
        one_minus_beta2 = t**tau  # 1 - beta2_t = t^tau
        scale = torch.fmax(_rms(theta), _like(theta, eps2))  # max(eps2, RMS(theta_{t-1})); alpha_t = scale rho_t
        if wd != 0:
            theta.mul_(1 - lr * wd)  # theta <- (1 - lr lambda) theta
        if factored:
            R, C = state["R"], state["C"]
            # the row and column means of G^2, as squared norms: no temporary the size of G
            R.lerp_(torch.linalg.vector_norm(g, dim=-1, keepdim=True).square_().div_(g.size(-1)), one_minus_beta2)
            C.lerp_(torch.linalg.vector_norm(g, dim=-2, keepdim=True).square_().div_(g.size(-2)), one_minus_beta2)
            V = (R @ C).div_(R.mean(dim=-2, keepdim=True).clamp_(min=eps1))  # V_t = R_t C_t / max(mean(R_t), eps1)
        else:
            v = state["v"].lerp_(g * g, one_minus_beta2)  # v_t = beta2_t v_{t-1} + (1 - beta2_t) G_t^2
            V = v.clone()
        U = V.clamp_(min=eps1 * eps1).rsqrt_().mul_(g)  # U_t = G_t / max(sqrt(V_t), eps1)
        clip = torch.fmax(_rms(U) / d, _like(theta, 1.0))  # max(1, RMS(U_t) / d)
        step = _step_size(scale, lr, t, clip)  # alpha_t / clip, with rho_t = min(lr, 1 / sqrt(t))
        theta.addcmul_(U, -step.to(theta.dtype))  # theta_t = theta_{t-1} - alpha_t / clip U_t


def _step_size(scale: torch.Tensor, lr, t: int, clip: torch.Tensor) -> torch.Tensor:
    """``scale * min(lr, 1 / sqrt(t)) / clip``, rounded as torch rounds it, with no host sync.

    torch computes this in Python floats, except where ``lr`` is a tensor and the smaller of the
    two: then ``min`` returns that tensor and the product and quotient are taken in its dtype
    (float32 for ``torch.tensor(0.01)``). Ours computes both and keeps the one ``min`` picks,
    by a 0-1 weight rather than a branch, so that nothing is read on the host.
    """
    x = 1 / t**0.5
    if not isinstance(lr, torch.Tensor):
        return scale * min(lr, x) / clip
    by_lr = (scale.to(lr.dtype) * lr / clip.to(lr.dtype)).to(scale.dtype)  # rho_t = lr, in lr's dtype
    lr_is_smaller = (lr <= x).to(scale.dtype)  # torch's min(lr, x) is lr unless x < lr
    return scale * x / clip * (1 - lr_is_smaller) + by_lr * lr_is_smaller


def _check_real(params) -> None:
    for p in params:
        if torch.is_complex(p):
            raise ValueError(
                f"params: Adafactor takes real parameters only, got a complex one of shape {list(p.shape)}"
            )


def _rms(x: torch.Tensor) -> torch.Tensor:
    """RMS(x), a 0-d tensor on x's device, in float64 as torch's Python arithmetic on the value it reads."""
    return x.norm().to(_scalar_dtype(x)) / x.numel() ** 0.5


def _scalar_dtype(x: torch.Tensor) -> torch.dtype:
    return torch.float32 if x.device.type == "mps" else torch.float64  # MPS has no float64


def _like(theta: torch.Tensor, value: float) -> torch.Tensor:
    """A 0-d float64 tensor on ``theta``'s device, filled there (no copy from the host).

    ``fmax`` takes no Python number; it is ``max`` that ignores a nan, as Python's
    ``max(1.0, nan)`` in torch's code does, where ``clamp`` would spread the nan.
    """
    return theta.new_full((), value, dtype=_scalar_dtype(theta))
