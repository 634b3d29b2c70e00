r"""Schedule-free SGD and AdamW: no decay schedule, an average of the iterates instead.

Defazio et al. (2024), "The Road Less Scheduled". Three sequences share one parameter
tensor: the gradient is taken at :math:`y`, a point between the SGD (or Adam) iterate
:math:`z` and the running average :math:`x` of all the :math:`z` so far; :math:`x` is what
one evaluates. With averaging weights :math:`c_{t+1}`, step :math:`t` does:

.. math::

    y_t &= (1 - \beta)\, z_t + \beta\, x_t \\
    z_{t+1} &= z_t - \gamma_t\, g(y_t) \\
    x_{t+1} &= (1 - c_{t+1})\, x_t + c_{t+1}\, z_{t+1}

The optimizer stores only :math:`z`; the parameter holds :math:`y` in ``train()`` mode and
:math:`x` in ``eval()`` mode, and the two calls move it from one to the other:

.. math::

    x = \frac{y - (1 - \beta)\, z}{\beta}, \qquad y = \beta\, x + (1 - \beta)\, z

Call ``optimizer.train()`` before training and ``optimizer.eval()`` before evaluating
or saving a checkpoint, as the model's own ``train()`` and ``eval()``.

**BatchNorm.** Its running statistics are gathered during training, at :math:`y`, but the
model is evaluated at :math:`x`: recompute them there with :func:`recompute_batchnorm`
before evaluating (as for weight averaging, ``torch.optim.swa_utils.update_bn``).

>>> import torch
>>> theta = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
>>> opt = SGDScheduleFree([theta], lr=0.1)
>>> opt.train()
>>> for _ in range(3):
...     opt.zero_grad(); (theta ** 2).sum().backward(); opt.step()
>>> y = theta.detach().clone()
>>> opt.eval()                       # the parameter now holds the average x
>>> theta.detach(), y                # x lags y: it averages every z so far
(tensor([ 0.6459, -1.2917]), tensor([ 0.6310, -1.2621]))
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch

from lrcourse.optim.base import Optimizer, check_betas, check_lr, check_nonnegative, zeros_like


class ScheduleFree(Optimizer):
    r"""What the two schedule-free optimizers share: the averaging weights, ``train()`` and ``eval()``.

    The rate :math:`\gamma_t` warms up linearly over ``warmup_steps`` to ``lr``; step
    :math:`t = 1, 2, \dots` of a parameter group weights its new :math:`z` by

    .. math::

        w_t = t^{r}\, \left(\max_{s \le t} \gamma_s\right)^{p}, \qquad
        c_{t} = \frac{w_t}{\sum_{s \le t} w_s}

    with :math:`r` = ``r`` and :math:`p` = ``weight_lr_power``: with :math:`r = 0` and no
    warmup, :math:`c_t = 1/t` and :math:`x` is the plain average of the :math:`z`; the power of
    the rate gives the small steps of the warmup less say. These numbers belong to the group,
    which keeps them as ``schedulefree`` does: the step count ``k``, ``weight_sum``,
    ``lr_max``, ``scheduled_lr`` (:math:`\gamma_t`, for logging) and ``train_mode``. Every group
    counts a step, with or without gradients. The step reads no tensor on the host, unless ``lr``
    is a tensor: that works, as in ``schedulefree``, but the weights are then tensors that the
    running maximum compares on the host, once per group and step.

    A subclass writes ``update(theta, g, state, group)``, where ``group`` also holds the
    step's ``gamma``, ``c`` and ``t``, and ``beta(group)``, the :math:`\beta` of the
    interpolation.

    >>> import torch
    >>> opt = SGDScheduleFree([torch.nn.Parameter(torch.ones(2))])
    >>> opt.param_groups[0]["train_mode"]   # a new optimizer is in eval mode: call train() first
    False
    """

    def beta(self, group: dict) -> float:
        """The interpolation weight :math:`\\beta` of ``group`` (its momentum)."""
        raise NotImplementedError

    @torch.no_grad()
    def eval(self) -> None:
        """Put the average :math:`x = (y - (1 - \\beta) z)/\\beta` in the parameters, for evaluation."""
        for group in self.param_groups:
            if group["train_mode"]:
                for param in group["params"]:
                    if "z" in self.state.get(param, {}):
                        z, b = self.state[param]["z"], self.beta(group)
                        _real(param).lerp_(z, 1 - 1 / b)  # x = (y - (1 - b) z) / b
                group["train_mode"] = False

    @torch.no_grad()
    def train(self) -> None:
        """Put the gradient point :math:`y = \\beta x + (1 - \\beta) z` in the parameters, for training."""
        for group in self.param_groups:
            if not group["train_mode"]:
                for param in group["params"]:
                    if "z" in self.state.get(param, {}):
                        z, b = self.state[param]["z"], self.beta(group)
                        _real(param).lerp_(z, 1 - b)  # y = b x + (1 - b) z
                group["train_mode"] = True

    @torch.no_grad()
    def step(self, closure: Callable[[], torch.Tensor] | None = None) -> torch.Tensor | None:  # type: ignore[override]
        """One step of every group (each counts it, with or without gradients); return ``closure()``'s loss."""
        if not self.param_groups[0]["train_mode"]:
            raise RuntimeError(
                f"{type(self).__name__}.step() was called in eval mode: call optimizer.train() before training "
                "(and optimizer.eval() before evaluating), as for the model"
            )
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            hyper = advance_average(group)
            for param in group["params"]:
                if param.grad is None:
                    continue
                if param.grad.is_sparse:
                    raise RuntimeError(f"{type(self).__name__} does not support sparse gradients")
                self.update(_real(param), _real(param.grad), self.state[param], hyper)
            group["k"] += 1
        return loss


def advance_average(group: dict) -> dict:
    r"""Count one step of ``group``: its rate :math:`\gamma_t` and averaging weight :math:`c_t`.

    Updates ``lr_max``, ``weight_sum`` and ``scheduled_lr`` in ``group`` (``k``, the count,
    moves after the parameters) and returns the group with ``gamma``, ``c`` and ``t`` added.

    >>> group = dict(lr=1.0, k=0, warmup_steps=0, r=0.0, weight_lr_power=2.0, lr_max=-1.0, weight_sum=0.0)
    >>> [advance_average({**group, "k": k, "weight_sum": float(k)})["c"] for k in range(3)]   # 1/t
    [1.0, 0.5, 0.3333333333333333]
    """
    k = group["k"]
    warm = (k + 1) / group["warmup_steps"] if k < group["warmup_steps"] else 1.0
    gamma = group["scheduled_lr"] = group["lr"] * warm  # gamma_t = lr min(1, t / warmup_steps)
    lr_max = group["lr_max"] = max(gamma, group["lr_max"])
    weight = ((k + 1) ** group["r"]) * (lr_max ** group["weight_lr_power"])  # w_t = t^r lr_max^p
    weight_sum = group["weight_sum"] = group["weight_sum"] + weight
    c = weight / weight_sum if weight_sum != 0 else 0.0  # c_t = w_t / sum w  (0 before any weight)
    return {**group, "gamma": gamma, "c": c, "t": k + 1}


def _real(tensor: torch.Tensor) -> torch.Tensor:
    """A complex tensor as the pair of its real and imaginary parts (as ``torch.optim`` updates it)."""
    return torch.view_as_real(tensor) if torch.is_complex(tensor) else tensor


def _defaults(lr, weight_decay, warmup_steps, r, weight_lr_power) -> dict:
    """The arguments both classes share, checked, and the group's averaging state at its start."""
    check_lr(lr)
    check_nonnegative(weight_decay=weight_decay, r=r, weight_lr_power=weight_lr_power)
    if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int) or warmup_steps < 0:
        raise ValueError(f"warmup_steps must be an integer >= 0, got {warmup_steps!r}")
    return dict(
        lr=lr,
        r=r,
        k=0,
        warmup_steps=warmup_steps,
        train_mode=False,
        weight_sum=0.0,
        lr_max=-1.0,
        scheduled_lr=0.0,
        weight_lr_power=weight_lr_power,
        weight_decay=weight_decay,
    )


class SGDScheduleFree(ScheduleFree):
    r"""Schedule-free SGD, as ``schedulefree.SGDScheduleFree``.

    With weight decay :math:`\lambda` (an L2 penalty, taken at :math:`y`) and :math:`\beta` =
    ``momentum``, each step does, with :math:`\gamma_t` and :math:`c_{t+1}` as in
    :class:`ScheduleFree`:

    .. math::

        g_t &\leftarrow g_t + \lambda\, y_t \\
        y_{t+1} &= (1 - c_{t+1})\, y_t + c_{t+1}\, z_t
                   + \gamma_t \left(\beta (1 - c_{t+1}) - 1\right) g_t \\
        z_{t+1} &= z_t - \gamma_t\, g_t

    The :math:`y` line is the module's three equations with :math:`x` eliminated:
    :math:`y_{t+1} = (1-\beta) z_{t+1} + \beta x_{t+1}`, written in :math:`y_t` and :math:`z_t`.
    :math:`\beta` plays momentum's part and must be in (0, 1) (``eval()`` divides by it).
    The state of a parameter is ``z``, a copy of the parameter at its first step. A
    non-finite gradient is used as it is: checking is left to the caller.

    >>> import torch
    >>> theta = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    >>> opt = SGDScheduleFree([theta], lr=0.1); opt.train()
    >>> opt.zero_grad(); (theta ** 2).sum().backward(); opt.step()
    >>> theta.detach()   # c_1 = 1: x_1 = z_1 = theta - lr g, and y_1 = x_1 as well
    tensor([ 0.8000, -1.6000])
    """

    def __init__(
        self,
        params,
        lr: float = 1.0,
        momentum: float = 0.9,
        weight_decay: float = 0,
        warmup_steps: int = 0,
        r: float = 0.0,
        weight_lr_power: float = 2,
    ) -> None:
        check_nonnegative(momentum=momentum)
        if not 0 < momentum < 1:
            raise ValueError(f"momentum must be in (0, 1) (eval() divides by it), got {momentum!r}")
        defaults = _defaults(lr, weight_decay, warmup_steps, r, weight_lr_power)
        super().__init__(params, {**defaults, "momentum": momentum})

    def beta(self, group):
        return group["momentum"]

    def update(self, theta, g, state, group):
        gamma, c, beta, wd = group["gamma"], group["c"], group["momentum"], group["weight_decay"]
        if "z" not in state:
            state["z"] = theta.clone(memory_format=torch.preserve_format)  # z_1 = x_1 = y_1 = theta
        z = state["z"]
        if wd != 0:
            g = g.add(theta, alpha=wd)  # g <- g + lambda y
        theta.lerp_(z, c)  # y <- (1 - c) y + c z
        theta.add_(g, alpha=gamma * (beta * (1 - c) - 1))  #   + gamma (beta (1 - c) - 1) g
        z.sub_(g, alpha=gamma)  # z_{t+1} = z_t - gamma g


class AdamWScheduleFree(ScheduleFree):
    r"""Schedule-free AdamW, as ``schedulefree.AdamWScheduleFree``.

    :class:`SGDScheduleFree` with the gradient divided by Adam's root mean square, and
    decoupled weight decay taken at :math:`y`. With :math:`\beta_1` the interpolation's
    :math:`\beta` (in (0, 1)) and :math:`t` the group's step count:

    .. math::

        v_t &= \beta_2\, v_{t-1} + (1 - \beta_2)\, g_t^2 \\
        \hat g_t &= \frac{g_t}{\sqrt{v_t / (1 - \beta_2^t)} + \epsilon} + \lambda\, y_t \\
        y_{t+1} &= (1 - c_{t+1})\, y_t + c_{t+1}\, z_t
                   + \gamma_t \left(\beta_1 (1 - c_{t+1}) - 1\right) \hat g_t \\
        z_{t+1} &= z_t - \gamma_t\, \hat g_t

    There is no first moment :math:`m`: the interpolation does its work. The bias
    correction counts the group's steps (a parameter that joins late is corrected as if it
    had been there from the start), as ``schedulefree`` does. The state of a parameter is
    ``z`` and ``v``. A non-finite gradient is used as it is: checking is left to the caller.

    >>> import torch
    >>> theta = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    >>> opt = AdamWScheduleFree([theta], lr=0.1); opt.train()
    >>> opt.zero_grad(); (theta ** 2).sum().backward(); opt.step()
    >>> theta.detach()   # first step: g_hat = sign(g), so each coordinate moves by lr
    tensor([ 0.9000, -1.9000])
    """

    def __init__(
        self,
        params,
        lr: float = 0.0025,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        warmup_steps: int = 0,
        r: float = 0.0,
        weight_lr_power: float = 2.0,
    ) -> None:
        check_betas(betas)
        if not betas[0] > 0:
            raise ValueError(f"betas[0] must be in (0, 1) (eval() divides by it), got {betas[0]!r}")
        check_nonnegative(eps=eps)
        defaults = _defaults(lr, weight_decay, warmup_steps, r, weight_lr_power)
        super().__init__(params, {**defaults, "betas": tuple(betas), "eps": eps})

    def beta(self, group):
        return group["betas"][0]

    def update(self, theta, g, state, group):
        gamma, c, t, (beta1, beta2) = group["gamma"], group["c"], group["t"], group["betas"]
        if "z" not in state:
            state["z"] = theta.clone(memory_format=torch.preserve_format)
            state["v"] = zeros_like(theta)
        z, v = state["z"], state["v"]
        v.mul_(beta2).addcmul_(g, g, value=1 - beta2)  # v_t = beta2 v_{t-1} + (1 - beta2) g_t^2
        g_hat = g / v.div(1 - beta2**t).sqrt_().add_(group["eps"])  # g / (sqrt(v / (1 - beta2^t)) + eps)
        if group["weight_decay"] != 0:
            g_hat.add_(theta, alpha=group["weight_decay"])  # + lambda y
        theta.lerp_(z, c)  # y <- (1 - c) y + c z
        theta.add_(g_hat, alpha=gamma * (beta1 * (1 - c) - 1))  #   + gamma (beta1 (1 - c) - 1) g_hat
        z.sub_(g_hat, alpha=gamma)  # z_{t+1} = z_t - gamma g_hat


def recompute_batchnorm(model: torch.nn.Module, optimizer: ScheduleFree, batches: Iterable) -> None:
    """Move ``model`` to the average :math:`x` (``optimizer.eval()``) and recompute BatchNorm's statistics there.

    The running means and variances were gathered at :math:`y`, where the gradients are taken;
    evaluated at :math:`x` they are the statistics of another network. This resets them and
    runs ``batches`` (the inputs, or ``(inputs, targets)`` pairs: a few dozen training batches are
    enough) through the model at :math:`x`, in train mode and without gradients
    (``torch.optim.swa_utils.update_bn``, which averages over all the batches), then leaves
    the model in the mode it was in. Call ``optimizer.train()`` before training again.

    >>> import torch
    >>> net = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3))
    >>> opt = SGDScheduleFree(net.parameters(), lr=0.1); opt.train()
    >>> net(torch.randn(8, 2)).sum().backward(); opt.step()
    >>> x_batch = torch.randn(8, 2)
    >>> recompute_batchnorm(net, opt, [x_batch])
    >>> torch.allclose(net[1].running_mean, net[0](x_batch).mean(0).detach())
    True
    """
    optimizer.eval()
    torch.optim.swa_utils.update_bn(batches, model)
