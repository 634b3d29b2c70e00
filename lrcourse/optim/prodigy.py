r"""Prodigy: Adam whose step size :math:`d` is estimated from the distance travelled so far."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from lrcourse.optim.base import Optimizer, check_betas, check_decay_rate, check_nonnegative, zeros_like


class Prodigy(Optimizer):
    r"""Prodigy (Mishchenko and Defazio, 2024), as ``prodigyopt.Prodigy`` (PyPI ``prodigyopt``).

    Adam at the rate :math:`d\,\eta`, where :math:`d` estimates the distance
    :math:`D = \lVert x_0 - x_* \rVert` from the start to a solution and :math:`\eta` = ``lr``
    is a factor, 1 unless the run is unstable. With :math:`x_0` each parameter at its first
    step, :math:`\hat\eta_k = d_k\, \eta\, b_k` (:math:`b_k = \sqrt{1 - \beta_2^{k+1}} / (1 - \beta_1^{k+1})`
    with ``use_bias_correction=True``, else 1) and sums over every parameter of every group,
    step :math:`k = 0, 1, \dots` does:

    .. math::

        r_{k+1} &= \beta_3\, r_k + \frac{d_k}{d_0}\, \hat\eta_k\, \langle g_k, x_0 - x_k \rangle \\
        s_{k+1} &= \beta_3\, s_k + \frac{d_k}{d_0}\, \hat\eta_k\, g_k \\
        m_{k+1} &= \beta_1\, m_k + (1 - \beta_1)\, d_k\, g_k \\
        v_{k+1} &= \beta_2\, v_k + (1 - \beta_2)\, d_k^2\, g_k^2 \\
        \hat d_{k+1} &= c_d\, \frac{r_{k+1}}{\lVert s_{k+1} \rVert_1} \\
        d_{k+1} &= \min\!\left(\max(d_0, \hat d_1, \dots, \hat d_{k+1}),\ \rho\, d_k\right) \\
        x_{k+1} &= x_k - \hat\eta_k\, \frac{m_{k+1}}{\sqrt{v_{k+1}} + d_{k+1}\, \epsilon}

    :math:`\beta_3` = ``beta3`` (:math:`\sqrt{\beta_2}` if None), :math:`c_d` = ``d_coef``,
    :math:`\rho` = ``growth_rate``. The numerator :math:`r` measures how far the gradients have
    pointed back towards the start; the estimate only grows. While :math:`d_k = d_0`, the cap is
    :math:`\rho \max(d_0, \hat d_{k+1})` instead (the first move away from :math:`d_0` is not held
    back), as in ``prodigyopt``. With
    ``safeguard_warmup=True`` the :math:`s` line uses :math:`d_k` in place of :math:`\hat\eta_k`
    (no rate in it, so a warmup of ``lr`` cannot inflate :math:`\hat d`). ``weight_decay``
    :math:`\lambda` is decoupled (``decouple=True``: :math:`x \leftarrow x - \hat\eta_k \lambda x`
    before the step) or added to the gradient. With :math:`\beta_1 = 0` there is no
    :math:`m` and the step is :math:`\hat\eta_k d_{k+1} g_k / (\sqrt{v} + d_{k+1}\epsilon)`. ``slice_p``
    > 1 computes :math:`r` and :math:`s` on every ``slice_p``-th entry only (less memory, an
    approximation; keyword-only here, where ``prodigyopt`` has ``fsdp_in_use`` before it, not offered).

    As in ``prodigyopt``: one :math:`d` for all groups, read with every setting that shapes it
    (``betas``, ``beta3``, ``d_coef``, ``growth_rate``, ``use_bias_correction``, ``decouple``)
    from the first group; a group's ``lr`` is either the largest or 0 (a frozen group,
    still moved by its momentum and decay); a step where every :math:`\lVert s \rVert_1` is 0
    (no gradients, or all zero) changes no parameter and counts no step. The estimate is the
    group's ``d`` (also ``d_max``, ``d_hat``, ``d_numerator`` :math:`= r`, ``d_denom``
    :math:`= \lVert s \rVert_1`, the step count ``k``), so it is in the ``state_dict`` and
    :attr:`d` reads it. The state of a parameter is ``t``, ``s``, ``x0`` (a 0-d zero if the
    parameter starts at zero), ``m`` and ``v``. The step brings its sums to the host once
    (not once per parameter); a parameter's first step also reads whether it is zero.

    >>> import torch
    >>> theta = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    >>> opt = Prodigy([theta])
    >>> for _ in range(30):
    ...     opt.zero_grad(); ((theta - 3) ** 2).sum().backward(); opt.step()
    >>> round(opt.d, 2)   # from d0 = 1e-6 to the scale of the distance to (3, 3), about a million times larger
    1.11
    """

    def __init__(
        self,
        params,
        lr: float = 1.0,
        betas: tuple[float, float] = (0.9, 0.999),
        beta3: float | None = None,
        eps: float = 1e-8,
        weight_decay: float = 0,
        decouple: bool = True,
        use_bias_correction: bool = False,
        safeguard_warmup: bool = False,
        d0: float = 1e-6,
        d_coef: float = 1.0,
        growth_rate: float = float("inf"),
        *,
        slice_p: int = 1,
    ) -> None:
        _check_positive(lr=lr, eps=eps, d0=d0, d_coef=d_coef)
        check_betas(betas)
        if beta3 is not None:
            check_decay_rate(beta3=beta3)
        check_nonnegative(weight_decay=weight_decay)
        if not growth_rate >= 1:
            raise ValueError(f"growth_rate must be >= 1 (d would shrink every step), got {growth_rate!r}")
        if isinstance(slice_p, bool) or not isinstance(slice_p, int) or slice_p < 1:
            raise ValueError(f"slice_p must be an integer >= 1, got {slice_p!r}")
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            beta3=beta3,
            eps=eps,
            weight_decay=weight_decay,
            d=d0,
            d0=d0,
            d_max=d0,
            d_numerator=0.0,
            d_coef=d_coef,
            k=0,
            growth_rate=growth_rate,
            use_bias_correction=use_bias_correction,
            decouple=decouple,
            safeguard_warmup=safeguard_warmup,
            slice_p=slice_p,
        )
        super().__init__(params, defaults)
        rates = {group["lr"] for group in self.param_groups} - {0.0}
        if len(rates) > 1:
            raise ValueError(f"lr must be the same in every group, or 0 (one d serves them all), got {sorted(rates)}")

    @property
    def d(self) -> float:
        """The current step-size estimate :math:`d` (the first group's ``d``; all groups hold the same)."""
        return self.param_groups[0]["d"]

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor | None:  # type: ignore[override]
        """Estimate :math:`d` from every parameter's statistics, then move them all; return ``closure()``'s loss."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        first = self.param_groups[0]
        (beta1, beta2), d = first["betas"], first["d"]
        beta3 = first["beta3"] if first["beta3"] is not None else math.sqrt(beta2)
        lr = max(group["lr"] for group in self.param_groups)
        k = first["k"]
        b = (1 - beta2 ** (k + 1)) ** 0.5 / (1 - beta1 ** (k + 1)) if first["use_bias_correction"] else 1
        dlr = d * lr * b  # eta_hat_k = d_k eta b_k
        shared = dict(d=d, dlr=dlr, beta1=beta1, beta2=beta2, beta3=beta3, decouple=first["decouple"])

        # per parameter: (d / d0) eta_hat, and its <g, x0 - x> and ||s||_1
        factors: list[float] = []
        sums: list[torch.Tensor] = []
        for group in self.param_groups:
            if group["lr"] not in (lr, 0.0):
                raise ValueError(f"lr must be the same in every group, or 0 (one d serves them all), got {group['lr']}")
            for param in _with_grad(group, type(self).__name__):
                found = self.gather(param, param.grad, self.state[param], {**group, **shared})
                if found is not None:
                    factors.append(d / group["d0"] * dlr)
                    sums.extend(found)
        values = _to_host(sums)  # one copy to the host per device, not one per parameter
        numerator_step = 0.0
        for factor, dot in zip(factors, values[0::2]):
            numerator_step += factor * dot
        d_denom = sum(values[1::2], 0.0)
        if d_denom == 0:  # no progress to measure: nothing moves, no step is counted
            return loss

        d_numerator = first["d_numerator"] * beta3 + numerator_step  # r_{k+1}
        d_hat = first["d_coef"] * d_numerator / d_denom  # d_hat = c_d r / ||s||_1
        d_max = max(first["d_max"], d_hat)
        if d == self.param_groups[-1]["d0"]:  # still at d0 (the last group's, as prodigyopt reads it)
            d = max(d, d_hat)  # the first move is capped at rho max(d0, d_hat), not rho d0
        d = min(d_max, d * first["growth_rate"])  # d_{k+1} = min(max(d0, d_hat so far), rho d_k)
        for group in self.param_groups:
            group.update(d_numerator=d_numerator, d_denom=d_denom, d=d, d_max=d_max, d_hat=d_hat)
            for param in _with_grad(group, type(self).__name__):
                self.move(param, param.grad, self.state[param], {**group, **shared, "d": d})
            group["k"] += 1
        return loss

    def gather(self, theta, g, state, group) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Update ``m``, ``v`` and ``s`` of one parameter; return :math:`\\langle g, x_0 - x \\rangle` and
        :math:`\\lVert s \\rVert_1` as 0-d tensors (None in a group whose ``lr`` is 0)."""
        d, d0, beta1, beta2, beta3 = group["d"], group["d0"], group["beta1"], group["beta2"], group["beta3"]
        g = _decayed(theta, g, group)
        if not state:
            state["t"] = 0
            state["s"] = zeros_like(theta.flatten()[:: group["slice_p"]])
            zero = torch.tensor(0, device=theta.device, dtype=theta.dtype)  # saves memory, as prodigyopt
            state["x0"] = theta.flatten()[:: group["slice_p"]].clone() if theta.any() else zero
            if beta1 > 0:
                state["m"] = zeros_like(theta)
            state["v"] = zeros_like(theta)
        if group["lr"] == 0:
            return None
        g_slice = g.flatten()[:: group["slice_p"]]
        dot = torch.dot(g_slice, state["x0"] - theta.flatten()[:: group["slice_p"]])  # <g, x0 - x>
        if beta1 > 0:
            state["m"].mul_(beta1).add_(g, alpha=d * (1 - beta1))  # m = beta1 m + (1 - beta1) d g
        state["v"].mul_(beta2).addcmul_(g, g, value=d * d * (1 - beta2))  # v = beta2 v + (1 - beta2) d^2 g^2
        s_scale = d if group["safeguard_warmup"] else group["dlr"]
        state["s"].mul_(beta3).add_(g_slice, alpha=d / d0 * s_scale)  # s = beta3 s + (d / d0) eta_hat g
        return dot, state["s"].abs().sum()

    def move(self, theta, g, state, group) -> None:
        """Take one parameter's step at the new :math:`d` (the rule's last line, and decoupled decay)."""
        d, dlr, wd = group["d"], group["dlr"], group["weight_decay"]
        state["t"] += 1
        denom = state["v"].sqrt().add_(d * group["eps"])  # sqrt(v) + d_{k+1} eps
        if wd != 0 and group["decouple"]:
            theta.add_(theta, alpha=-wd * dlr)  # x <- x - eta_hat lambda x
        if group["beta1"] > 0:
            theta.addcdiv_(state["m"], denom, value=-dlr)  # x <- x - eta_hat m / (sqrt(v) + d eps)
        else:
            theta.addcdiv_(_decayed(theta, g, group), denom, value=-dlr * d)  # no m: eta_hat d g / (...)


def _decayed(theta: torch.Tensor, g: torch.Tensor, group: dict) -> torch.Tensor:
    """The gradient, plus :math:`\\lambda x` when the decay is coupled (an L2 penalty)."""
    wd = group["weight_decay"]
    return g.add(theta, alpha=wd) if wd != 0 and not group["decouple"] else g


def _with_grad(group: dict, name: str):
    """The parameters of ``group`` that have a (dense) gradient."""
    for param in group["params"]:
        if param.grad is None:
            continue
        if param.grad.is_sparse:
            raise RuntimeError(f"{name} does not support sparse gradients")
        yield param


def _to_host(scalars: list[torch.Tensor]) -> list[float]:
    """The values of 0-d tensors as Python floats, with one copy per device (exact: float64, or float32 on MPS)."""
    out: list[float] = [0.0] * len(scalars)
    by_device: dict[torch.device, list[int]] = {}
    for i, scalar in enumerate(scalars):
        by_device.setdefault(scalar.device, []).append(i)
    for device, indices in by_device.items():
        wide = torch.float32 if device.type == "mps" else torch.float64
        for i, value in zip(indices, torch.stack([scalars[i].to(wide) for i in indices]).tolist()):
            out[i] = value
    return out


def _check_positive(**values: float) -> None:
    """Raise ``ValueError`` naming the first argument that is not a number > 0 (or ``TypeError`` if no number).

    >>> _check_positive(lr=1.0, d0=0.0)
    Traceback (most recent call last):
    ...
    ValueError: d0 must be > 0, got 0.0
    """
    for name, value in values.items():
        check_nonnegative(**{name: value})
        if not value > 0:
            raise ValueError(f"{name} must be > 0, got {value!r}")
