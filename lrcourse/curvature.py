"""The sharpness of a loss: its largest Hessian eigenvalue, by power iteration.

Gradient descent on a quadratic is stable exactly when ``lr < 2 / sharpness``
(first chapter); near any point, a loss is close to its quadratic model there.
The Hessian of a network is far too large to form, but a Hessian-vector product
``H v`` costs about two backward passes (``torch.autograd.grad`` of ``g . v``),
and power iteration needs nothing else:

.. math::

    v_{k+1} = \\frac{H v_k}{\\lVert H v_k \\rVert}, \\qquad
    \\lambda_k = v_k^\\top H v_k \\to \\lambda_{\\max} .

Power iteration converges to the eigenvalue of largest *modulus*; near a minimum
the Hessian's large eigenvalues are positive, which is the case this module is for.

>>> A = torch.diag(torch.tensor([5.0, 2.0, -1.0]))
>>> round(top_eigenvalue(lambda v: A @ v, dim=3, iters=100), 4)
5.0
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from lrcourse import seeding

Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def top_eigenvalue(
    matvec: Callable[[torch.Tensor], torch.Tensor],
    dim: int,
    *,
    iters: int = 50,
    tol: float = 1e-4,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device | None = None,
) -> float:
    """The eigenvalue of largest modulus of a symmetric operator given by ``matvec``.

    Starts from a seeded random vector and stops after ``iters`` products, or
    earlier once the Rayleigh quotient changes by less than ``tol`` (relative).

    >>> M = torch.tensor([[2.0, 1.0], [1.0, 2.0]])  # eigenvalues 3 and 1
    >>> round(top_eigenvalue(lambda v: M @ v, dim=2), 3)
    3.0
    """
    generator = seeding.generator(seed, "power iteration")
    v = torch.randn(dim, generator=generator, dtype=dtype).to(device)
    v /= v.norm()
    estimate = 0.0
    for _ in range(iters):
        w = matvec(v)
        new = torch.dot(v, w).item()  # Rayleigh quotient v^T H v, with ||v|| = 1
        norm = w.norm()
        if norm == 0:
            return 0.0
        v = w / norm
        if abs(new - estimate) <= tol * abs(new):
            return new
        estimate = new
    return estimate


def hvp_function(
    model: nn.Module, loss_fn: Loss, X: torch.Tensor, y: torch.Tensor
) -> tuple[Callable[[torch.Tensor], torch.Tensor], int]:
    """``(matvec, dim)``: the Hessian-vector product of the loss on ``(X, y)`` at the current parameters.

    The gradient graph is built once; each product is one backward pass through it.
    """
    params = [p for p in model.parameters() if p.requires_grad]
    grads = torch.autograd.grad(loss_fn(model(X), y), params, create_graph=True)
    flat_grad = torch.cat([g.reshape(-1) for g in grads])

    def matvec(v: torch.Tensor) -> torch.Tensor:
        products = torch.autograd.grad(flat_grad, params, grad_outputs=v, retain_graph=True)
        return torch.cat([h.reshape(-1) for h in products]).detach()

    return matvec, flat_grad.numel()


def sharpness(
    model: nn.Module,
    loss_fn: Loss,
    X: torch.Tensor,
    y: torch.Tensor,
    *,
    iters: int = 50,
    tol: float = 1e-4,
    seed: int = 0,
) -> float:
    """The largest eigenvalue of the Hessian of ``loss_fn(model(X), y)`` in the parameters.

    For ``nn.MSELoss`` on a linear model ``y = X w`` the Hessian is ``2 X^T X / n``:

    >>> X = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    >>> model = torch.nn.Linear(2, 1, bias=False)
    >>> round(sharpness(model, torch.nn.MSELoss(), X, torch.zeros(2, 1)), 4)  # 2 * 4 / 2
    4.0
    """
    matvec, dim = hvp_function(model, loss_fn, X, y)
    param = next(model.parameters())
    return top_eigenvalue(matvec, dim, iters=iters, tol=tol, seed=seed, dtype=param.dtype, device=param.device)
