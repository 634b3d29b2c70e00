"""The fast path of Adam, AdamW and SGD (``fused=True``): one compiled loop over all parameters.

The readable optimizers update one parameter at a time with one whole-tensor operation per
equation, so Adam's step reads and writes each of its tensors several times. ``fused=True``
computes the same equations with each element of ``theta``, ``g``, ``m`` and ``v`` read once
and written once, in three moves:

1. **Flatten.** The parameters of a group (on one device, of one dtype) are copied into one
   contiguous buffer and become views of it, as do their gradients and every state tensor.
   A step is then one pass over a few long vectors, whatever the number of parameters.
2. **Compile.** :func:`adam_update` and :func:`sgd_update` write the step with whole-tensor
   operations; ``torch.compile`` (inductor) turns each into a single loop over the elements
   (C++ with OpenMP and SIMD on CPU, Triton on CUDA). It is compiled once per process, with a
   symbolic length, so every model size runs the same code.
3. **Pass what changes as data.** The rate, the betas and the bias corrections
   :math:`1 - \\beta^t` change from step to step; they reach the kernel as the values of one
   small tensor, ``hyper``, computed on the host from the step count ``t`` (a Python int, as
   in the readable path: no host sync). The compiled code depends on none of them, so it never
   recompiles as ``t`` grows or a schedule moves ``lr``.

No private kernel of PyTorch is called. The equations are the readable rule's, with Adam's two
bias corrections folded into scalars computed once per step (two divisions fewer per element), so
the two paths agree to float32 rounding (``tests/test_optim_compiled.py``). What
differs: parameters become views of a flat buffer (non-contiguous ones become contiguous),
and a gradient that is not already a view of the flat gradient buffer is first copied into it,
one extra pass. ``zero_grad(set_to_none=False)`` keeps the gradients in the buffer, so that
``backward`` accumulates into it in place and the step moves only what it must.

>>> import torch
>>> from lrcourse.optim import Adam
>>> theta = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
>>> opt = Adam([theta], lr=0.1, fused=True)
>>> (theta ** 2).sum().backward(); opt.step()
>>> theta.detach()   # the first step is lr * sign(g), as in the readable path
tensor([ 0.9000, -1.9000])
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable

import torch

PAD = 64  # flat buffers are a multiple of this many elements: never a length of 0 or 1 to specialise on


def adam_update(
    theta: torch.Tensor,
    g: torch.Tensor,
    m: torch.Tensor,
    v: torch.Tensor,
    v_max: torch.Tensor | None,
    hyper: torch.Tensor,
) -> None:
    r"""One Adam step on flat tensors, in place: the readable ``Adam.update``, fused.

    ``hyper`` holds, in this order: the step size :math:`\eta / (1 - \beta_1^t)`,
    :math:`1 - \beta_1`, :math:`\beta_2`, :math:`1 - \beta_2`, :math:`\epsilon`, the sign
    of the gradient (-1 to maximise), the decoupled shrink factor :math:`1 - \eta\lambda`
    (1 for Adam), the L2 coefficient :math:`\lambda` (0 for AdamW) and
    :math:`1 / \sqrt{1 - \beta_2^t}`. The two bias corrections are folded into the first and
    the last, computed once per step on the host, which saves two divisions per element:
    :math:`\eta\, \hat m / (\sqrt{\hat v} + \epsilon)
    = \frac{\eta}{1 - \beta_1^t}\, m / (\sqrt{v} / \sqrt{1 - \beta_2^t} + \epsilon)`.
    ``v_max`` is AMSGrad's running maximum, or ``None``.

    >>> theta, g = torch.tensor([1.0, -2.0]), torch.tensor([2.0, -4.0])
    >>> m, v = torch.zeros(2), torch.zeros(2)
    >>> hyper = torch.tensor([1.0, 0.1, 0.999, 0.001, 1e-8, 1.0, 1.0, 0.0, 0.001 ** -0.5])
    >>> adam_update(theta, g, m, v, None, hyper); theta
    tensor([ 0.9000, -1.9000])
    """
    step, one_minus_beta1, beta2, one_minus_beta2, eps = hyper[:5].unbind()
    sign, shrink, l2, inv_sqrt_bc2 = hyper[5:].unbind()
    g = sign * g + l2 * theta  # -g to maximise; g <- g + lambda theta (L2)
    theta_new = shrink * theta  # theta <- (1 - lr lambda) theta (AdamW)
    m_new = m + one_minus_beta1 * (g - m)  # m_t = b1 m_{t-1} + (1 - b1) g_t
    v_new = v * beta2 + one_minus_beta2 * g * g  # v_t = b2 v + (1 - b2) g^2
    v_used = v_new
    if v_max is not None:  # AMSGrad: v_max_t = max(v_max_{t-1}, v_t)
        v_used = torch.maximum(v_max, v_new)
        v_max.copy_(v_used)
    # sqrt(v_hat) + eps, with v_hat = v_t / (1 - beta2^t)
    denom = v_used.sqrt() * inv_sqrt_bc2 + eps
    # theta_t = theta_{t-1} - lr m_hat / denom, with m_hat = m_t / (1 - beta1^t)
    theta.copy_(theta_new - step * m_new / denom)
    m.copy_(m_new)
    v.copy_(v_new)


def sgd_update(theta: torch.Tensor, g: torch.Tensor, b: torch.Tensor | None, hyper: torch.Tensor) -> None:
    r"""One SGD step on flat tensors, in place: the readable ``SGD.update``, as one expression.

    ``hyper`` holds ``lr``, the sign of the gradient (-1 to maximise), :math:`\lambda`, then
    the momentum coefficients: ``keep`` and ``mix`` in :math:`b_t = \text{keep}\, b_{t-1} +
    \text{mix}\, g_t` (0 and 1 on the first step, when :math:`b_1 = g_1`; :math:`\beta` and
    :math:`1 - \tau` after), and ``a``, ``c`` in the step direction :math:`a\, g_t + c\, b_t`
    (1 and :math:`\beta` for Nesterov, 0 and 1 for heavy ball). ``b`` is ``None`` without momentum.

    >>> theta, g, b = torch.tensor([1.0, -2.0]), torch.tensor([2.0, -4.0]), torch.zeros(2)
    >>> sgd_update(theta, g, b, torch.tensor([0.1, 1.0, 0.0, 0.0, 1.0, 0.0, 1.0])); theta
    tensor([ 0.8000, -1.6000])
    """
    lr, sign, wd, keep, mix, a, c = hyper.unbind()
    g = sign * g + wd * theta  # -g to maximise; g <- g + lambda theta
    if b is not None:
        b_new = keep * b + mix * g  # b_t = beta b_{t-1} + (1 - tau) g_t;  b_1 = g_1
        g = a * g + c * b_new  # Nesterov: g_t + beta b_t;  heavy ball: b_t
        b.copy_(b_new)
    theta.copy_(theta - lr * g)  # theta_t = theta_{t-1} - lr g_t


@functools.cache
def compiled(update: Callable) -> Callable:
    """``update`` compiled by inductor for any length (made on first use, not on import).

    In a process that chooses PyTorch's CPU kernels with ``ATEN_CPU_CAPABILITY`` (the second
    pass of ``make test`` runs AVX2 kernels on an AVX-512 machine), inductor's on-disk graph
    cache is left alone: on torch 2.14 it hands such a process the kernel built for the other
    vector width, which then updates 8 elements of every 16 (measured, and checked in
    ``tests/test_optim_compiled.py``).

    >>> compiled(sgd_update) is compiled(sgd_update)
    True
    """
    options: dict[str, str | int | bool | Callable] | None = None
    if os.environ.get("ATEN_CPU_CAPABILITY"):
        options = {"fx_graph_cache": False}
    return torch.compile(update, dynamic=True, fullgraph=True, options=options)


class Flat:
    """Parameters of one group on one device and dtype, their gradients and state, flattened.

    After construction each parameter's ``.data`` and ``.grad`` and each named state tensor is
    a view of ``self.theta``, ``self.grad`` and ``self.state[name]``; the values are kept.
    ``t`` counts the steps the parameters share (Adam's ``t``; for SGD, 0 until the momentum
    buffer holds a first gradient).

    >>> p, q = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.zeros(3))
    >>> p.grad, q.grad = torch.ones(2), torch.ones(3)
    >>> flat = Flat([p, q], {p: {}, q: {}}, ("m",), t=0)
    >>> flat.theta[:5], p.data_ptr() == flat.theta.data_ptr(), flat.theta.numel()
    (tensor([1., 1., 0., 0., 0.]), True, 64)
    """

    @torch.no_grad()
    def __init__(self, params: list[torch.Tensor], state: dict, names: tuple[str, ...], t: int) -> None:
        first = params[0]
        total = -(-sum(p.numel() for p in params) // PAD) * PAD or PAD
        zeros = functools.partial(torch.zeros, total, dtype=first.dtype, device=first.device)
        self.params, self.t, self.names = params, t, names
        self.states = [state[p] for p in params]
        self.theta, self.grad, self.state = zeros(), zeros(), {name: zeros() for name in names}
        self.theta_ptrs, self.grad_views, self.grad_ptrs = [], [], []
        start = 0
        for p, p_state in zip(params, self.states):
            end = start + p.numel()
            view = self.theta[start:end].view(p.shape)
            view.copy_(p)
            p.data = view
            self.theta_ptrs.append(p.data_ptr())
            self.grad_views.append(self.grad[start:end].view(p.shape))
            self.grad_ptrs.append(self.grad_views[-1].data_ptr())
            for name in names:
                buffer = self.state[name][start:end].view(p.shape)
                if name in p_state:
                    buffer.copy_(p_state[name])
                p_state[name] = buffer
            start = end
        self.refresh()

    def refresh(self) -> bool:
        """Before a step: copy into the flat buffer each gradient that is not a view of it yet.

        That costs one extra pass over the gradient, and happens after
        ``zero_grad(set_to_none=True)``; the gradient then becomes the view. Returns
        ``False``, having done nothing, if a parameter is no longer its view (``model.to``
        or an assignment to ``.data`` replaced it): the caller then flattens again.
        """
        if not all(p.data_ptr() == ptr for p, ptr in zip(self.params, self.theta_ptrs)):
            return False
        for p, view, ptr in zip(self.params, self.grad_views, self.grad_ptrs):
            g = p.grad
            if g is not None and g.data_ptr() != ptr:
                view.copy_(g)
                p.grad = view
        return True

    def hyper(self, values: list[float]) -> torch.Tensor:
        """``values`` as a tensor on the parameters' device, copied there without a host sync."""
        if self.theta.device.type == "cpu":
            return torch.tensor(values, dtype=self.theta.dtype)
        pinned = torch.tensor(values, dtype=self.theta.dtype, pin_memory=True)
        return pinned.to(self.theta.device, non_blocking=True)


def check(params: list[torch.Tensor]) -> None:
    """The fast path takes real floating-point parameters that hold data, with dense gradients.

    >>> check([torch.zeros(2, dtype=torch.complex64)])
    Traceback (most recent call last):
    ...
    RuntimeError: fused=True needs real floating-point parameters, got torch.complex64
    >>> check([torch.zeros(2, device="meta")])
    Traceback (most recent call last):
    ...
    RuntimeError: `fused=True` requires all the params to be floating point Tensors that hold data, ...
    """
    for p in params:
        if p.is_meta:  # as torch's fused optimizers (whose words begin the message): nothing to compute on
            raise RuntimeError(
                "`fused=True` requires all the params to be floating point Tensors that hold data, "
                "not on the meta device: materialise the model first (e.g. model.to_empty(device=...))"
            )
        if not p.is_floating_point():
            raise RuntimeError(f"fused=True needs real floating-point parameters, got {p.dtype}")
        if p.grad is not None and p.grad.is_sparse:
            raise RuntimeError("fused=True does not support sparse gradients")


def flats(
    optimizer: torch.optim.Optimizer,
    index: int,
    params: list[torch.Tensor],
    names: tuple[str, ...],
    key: Callable[[dict], int],
) -> list[Flat]:
    """The flat buckets of group ``index`` for the parameters that have a gradient now.

    Built on the first step, kept while the same parameters have gradients and are still
    views; rebuilt (a copy, no change of values) when that set changes, a parameter is
    moved, or ``load_state_dict`` replaces the state. Parameters are bucketed by device,
    dtype and ``key(state)`` (Adam's ``t``, which differs after some parameters skipped steps).
    """
    if "_flats" not in optimizer.__dict__:  # first use: forget the buckets when the state is replaced
        optimizer.__dict__["_flats"] = {}
        optimizer.register_load_state_dict_post_hook(lambda opt: opt.__dict__["_flats"].clear())
    cache = optimizer.__dict__["_flats"]
    signature = ([id(p) for p in params], names)
    found = cache.get(index)
    if found is not None and found[0] == signature and all(flat.refresh() for flat in found[1]):
        return found[1]
    check(params)
    buckets: dict[tuple, list[torch.Tensor]] = {}
    for p in params:
        buckets.setdefault((p.device, p.dtype, key(optimizer.state[p])), []).append(p)
    built = [Flat(ps, optimizer.state, names, t) for (_, _, t), ps in buckets.items()]
    cache[index] = (signature, built)
    return built


def _with_grad(group: dict) -> list[torch.Tensor]:
    return [p for p in group["params"] if p.grad is not None]


def _loss(closure: Callable[[], torch.Tensor] | None) -> torch.Tensor | None:
    if closure is None:
        return None
    with torch.enable_grad():  # the closure recomputes the loss and its gradients
        return closure()


@torch.no_grad()
def adam_step(
    optimizer: torch.optim.Optimizer, closure: Callable[[], torch.Tensor] | None = None
) -> torch.Tensor | None:
    """``Adam.step`` with ``fused=True``: one compiled kernel per bucket (see the module doc).

    >>> from lrcourse.optim import AdamW
    >>> theta = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    >>> opt = AdamW([theta], lr=0.1, weight_decay=0.5, fused=True)
    >>> theta.grad = 2 * theta.detach(); adam_step(opt); theta.detach()
    tensor([ 0.8500, -1.8000])
    """
    loss = _loss(closure)
    kernel = compiled(adam_update)
    for index, group in enumerate(optimizer.param_groups):
        params = _with_grad(group)
        if not params:
            continue
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        decoupled = group["decoupled_weight_decay"]
        names = ("m", "v", "v_max") if group["amsgrad"] else ("m", "v")
        for flat in flats(optimizer, index, params, names, key=lambda state: state.get("t", 0)):
            flat.t += 1
            hyper = flat.hyper(
                [
                    lr / (1 - beta1**flat.t),
                    1 - beta1,
                    beta2,
                    1 - beta2,
                    eps,
                    -1.0 if group["maximize"] else 1.0,
                    1 - lr * wd if decoupled else 1.0,
                    0.0 if decoupled else wd,
                    (1 - beta2**flat.t) ** -0.5,
                ]
            )
            kernel(flat.theta, flat.grad, flat.state["m"], flat.state["v"], flat.state.get("v_max"), hyper)
            for state in flat.states:
                state["t"] = flat.t
    return loss


@torch.no_grad()
def sgd_step(
    optimizer: torch.optim.Optimizer, closure: Callable[[], torch.Tensor] | None = None
) -> torch.Tensor | None:
    """``SGD.step`` with ``fused=True``: one compiled kernel per bucket (see the module doc).

    >>> from lrcourse.optim import SGD
    >>> theta = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
    >>> opt = SGD([theta], lr=0.1, momentum=0.9, fused=True)
    >>> for _ in range(2):
    ...     theta.grad = 2 * theta.detach(); sgd_step(opt)
    >>> theta.detach()
    tensor([ 0.4600, -0.9200])
    """
    loss = _loss(closure)
    kernel = compiled(sgd_update)
    for index, group in enumerate(optimizer.param_groups):
        params = _with_grad(group)
        if not params:
            continue
        lr, beta, tau, wd = group["lr"], group["momentum"], group["dampening"], group["weight_decay"]
        names = ("b",) if beta != 0 else ()
        for flat in flats(optimizer, index, params, names, key=lambda state: int("b" in state)):
            keep, mix = (beta, 1 - tau) if flat.t > 0 else (0.0, 1.0)  # b_1 = g_1
            a, c = (1.0, beta) if group["nesterov"] else (0.0, 1.0)
            hyper = flat.hyper([lr, -1.0 if group["maximize"] else 1.0, wd, keep, mix, a, c])
            kernel(flat.theta, flat.grad, flat.state.get("b"), hyper)
            flat.t += 1
    return loss
