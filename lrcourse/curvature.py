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
    v0: torch.Tensor | None = None,
    preconditioner: torch.Tensor | None = None,
) -> float:
    """The eigenvalue of largest modulus of a symmetric operator given by ``matvec``.

    Starts from ``v0`` (a warm start, such as the eigenvector of a nearby point)
    or else from a seeded random vector, and stops after ``iters`` products, or
    earlier once the Rayleigh quotient changes by less than ``tol`` (relative).
    With a ``preconditioner`` (the diagonal of a positive matrix ``P``), the
    operator is ``P^(-1/2) H P^(-1/2)``: the curvature an optimizer that steps by
    ``P^(-1) g`` sees.

    >>> M = torch.tensor([[2.0, 1.0], [1.0, 2.0]])  # eigenvalues 3 and 1
    >>> round(top_eigenvalue(lambda v: M @ v, dim=2), 3)
    3.0
    """
    matvec = _preconditioned(matvec, preconditioner)
    v = _start(dim, v0, seed, dtype, device)
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


def _preconditioned(
    matvec: Callable[[torch.Tensor], torch.Tensor], preconditioner: torch.Tensor | None
) -> Callable[[torch.Tensor], torch.Tensor]:
    """``v -> P^(-1/2) H P^(-1/2) v`` for the diagonal ``P`` given by its entries."""
    if preconditioner is None:
        return matvec
    d = preconditioner.rsqrt()  # P^(-1/2)
    return lambda v: d * matvec(d * v)


def _start(dim: int, v0: torch.Tensor | None, seed: int, dtype: torch.dtype, device) -> torch.Tensor:
    """The unit starting vector: ``v0`` if given, else a seeded random one."""
    if v0 is None:
        generator = seeding.generator(seed, "power iteration")
        v = torch.randn(dim, generator=generator, dtype=dtype).to(device)
    else:
        v = v0.detach().reshape(-1).to(dtype=dtype, device=device).clone()
    return v / v.norm()


def top_eigenpair(
    matvec: Callable[[torch.Tensor], torch.Tensor],
    dim: int,
    *,
    iters: int = 30,
    tol: float = 1e-3,
    min_iters: int = 1,
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
    device: str | torch.device | None = None,
    v0: torch.Tensor | None = None,
    preconditioner: torch.Tensor | None = None,
) -> tuple[float, torch.Tensor]:
    """The largest eigenvalue of a symmetric operator and its unit eigenvector, by Lanczos.

    Power iteration keeps only its last vector, and where the top eigenvalues
    crowd together it needs about ``lambda_1 / (lambda_1 - lambda_2)`` products
    per digit. The Lanczos method keeps them all: it orthonormalises ``v0, H v0,
    H^2 v0, ...`` into a basis ``V`` (the Krylov subspace) and returns the top
    eigenpair ``(theta, V s)`` of the small matrix ``T = V^T H V``, the best unit
    vector in that span, which power iteration's vector is only one of:

    .. math::

        \\theta = \\max_{y \\in \\operatorname{span}(V)} \\frac{y^\\top H y}{y^\\top y},
        \\qquad \\lVert H y - \\theta y \\rVert = \\beta_k \\lvert s_k \\rvert .

    It stops once that residual is at most ``tol * |theta|`` (an eigenvalue of
    ``H`` then lies within ``tol * |theta|`` of ``theta``) or after ``iters``
    products, but not before ``min_iters``: a warm start can sit on the
    eigenvector of an eigenvalue that is no longer the largest, where the
    residual is small too, and a few more products let the top one emerge.
    ``v0`` warm-starts it (the vector it returned at a nearby point); the
    vector returned is oriented like ``v0``. ``preconditioner`` is as in
    :func:`top_eigenvalue`. Unlike power iteration, it finds the largest
    eigenvalue, not the largest in modulus.

    >>> M = torch.diag(torch.tensor([10.0, 9.9, 9.8, 1.0, -20.0]))
    >>> value, vector = top_eigenpair(lambda v: M @ v, dim=5, tol=1e-6)
    >>> round(value, 4)
    10.0
    """
    operator = _preconditioned(matvec, preconditioner)
    start = _start(dim, v0, seed, dtype, device)
    basis = [start]
    alphas: list[float] = []  # the diagonal of the tridiagonal Lanczos matrix
    betas: list[float] = []  # its off-diagonal
    for k in range(min(iters, dim)):
        w = operator(basis[-1])
        alphas.append(torch.dot(basis[-1], w).item())  # alpha_k = q_k^T H q_k
        Q = torch.stack(basis)
        for _ in range(2):  # full reorthogonalisation (twice is enough)
            w = w - Q.T @ (Q @ w)
        beta = w.norm().item()
        T = torch.diag(torch.tensor(alphas, dtype=torch.float64))
        if betas:
            off = torch.tensor(betas, dtype=torch.float64)
            T += torch.diag(off, 1) + torch.diag(off, -1)
        values, vectors = torch.linalg.eigh(T)
        theta, s = values[-1].item(), vectors[:, -1]
        if beta == 0 or (k + 1 >= min_iters and beta * abs(s[-1].item()) <= tol * abs(theta)):
            break  # the Ritz residual ||H y - theta y|| is small enough
        if k + 1 < min(iters, dim):
            betas.append(beta)
            basis.append(w / beta)
    y = torch.stack(basis).T @ s.to(dtype=start.dtype, device=start.device)
    y = y / y.norm()
    if torch.dot(y, start) < 0:
        y = -y  # orient like the start, so that signs compare along a run
    return theta, y


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
