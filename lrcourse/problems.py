"""Toy problems whose answers are known: chapters and tests share them.

A :class:`Quadratic` is ``f(x) = 1/2 * sum_i h_i x_i**2``: its Hessian is
``diag(h)``, its minimum is at 0, and gradient descent on it decouples into one
scalar recursion per coordinate, which is why every statement about learning
rates can be checked on it exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lrcourse import seeding


@dataclass(frozen=True)
class Quadratic:
    """``f(x) = 1/2 * sum_i h_i x_i**2`` with curvatures ``h`` (the Hessian's eigenvalues).

    >>> f = Quadratic((1.0, 10.0))
    >>> f.L, f.mu, f.condition
    (10.0, 1.0, 10.0)
    >>> float(f(np.array([1.0, 1.0]))), f.grad(np.array([1.0, 1.0])).tolist()
    (5.5, [1.0, 10.0])
    """

    curvatures: tuple[float, ...]

    def __post_init__(self):
        if len(self.curvatures) == 0 or min(self.curvatures) <= 0:
            raise ValueError(f"curvatures must be positive and non-empty, not {self.curvatures!r}")

    @property
    def dim(self) -> int:
        """The number of coordinates."""
        return len(self.curvatures)

    @property
    def L(self) -> float:
        """The largest curvature: the smoothness constant that bounds stable rates."""
        return max(self.curvatures)

    @property
    def mu(self) -> float:
        """The smallest curvature: it sets how slowly the flattest direction converges."""
        return min(self.curvatures)

    @property
    def condition(self) -> float:
        """The condition number ``kappa = L / mu``."""
        return self.L / self.mu

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The loss at ``x``; ``x`` may hold many points along its leading axes (last axis: coordinates)."""
        x = np.asarray(x, dtype=float)
        return 0.5 * np.sum(np.asarray(self.curvatures) * x**2, axis=-1)

    def grad(self, x: np.ndarray) -> np.ndarray:
        r"""The gradient :math:`\nabla f(x) = \operatorname{diag}(a)\, x`, for one point or a stack of points."""
        return np.asarray(self.curvatures) * np.asarray(x, dtype=float)

    def contraction(self, lr: float) -> float:
        """How much one gradient step with rate ``lr`` shrinks the slowest coordinate: ``max_i |1 - lr h_i|``.

        Below 1 the iterates converge at that rate; above 1 they diverge.

        >>> round(Quadratic((1.0, 10.0)).contraction(2 / 11), 6)  # the best rate: 9 / 11
        0.818182
        """
        return max(abs(1 - lr * h) for h in self.curvatures)

    @property
    def max_stable_lr(self) -> float:
        """``2 / L``: any smaller positive rate converges, any larger one diverges."""
        return 2 / self.L

    @property
    def best_lr(self) -> float:
        """``2 / (L + mu)``: the fixed rate with the smallest contraction."""
        return 2 / (self.L + self.mu)

    @property
    def best_contraction(self) -> float:
        """``(kappa - 1) / (kappa + 1)``: the contraction at :attr:`best_lr`."""
        return (self.condition - 1) / (self.condition + 1)


def quadratic(condition: float = 10.0, L: float = 1.0, dim: int = 2) -> Quadratic:
    """A quadratic with largest curvature ``L`` and condition number ``condition``.

    The curvatures are spread geometrically from ``L / condition`` up to ``L``.

    >>> quadratic(condition=100, L=2.0, dim=3).curvatures
    (0.02, 0.2, 2.0)
    """
    if condition < 1:
        raise ValueError(f"condition must be at least 1, not {condition!r}")
    if L <= 0:
        raise ValueError(f"L must be positive, not {L!r}")
    if dim < 1:
        raise ValueError(f"dim must be at least 1, not {dim!r}")
    if dim == 1:
        return Quadratic((float(L),))
    curvatures = L * np.geomspace(1 / condition, 1, dim)
    return Quadratic(tuple(float(np.round(h, 15)) for h in curvatures))


def gradient_descent(problem, lr: float, x0, steps: int) -> np.ndarray:
    """Run ``x <- x - lr * grad(x)`` for ``steps`` steps; return all ``steps + 1`` iterates.

    ``problem`` is anything with a ``grad(x)`` method. Iterates that overflow
    are kept as ``inf``/``nan`` so that divergence shows in the result.

    >>> gradient_descent(Quadratic((2.0,)), lr=0.25, x0=[1.0], steps=3)[:, 0].tolist()
    [1.0, 0.5, 0.25, 0.125]
    """
    if lr <= 0:
        raise ValueError(f"lr must be positive, not {lr!r}")
    if steps < 0:
        raise ValueError(f"steps must be non-negative, not {steps!r}")
    path = np.empty((steps + 1, np.size(x0)))
    path[0] = x0
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(steps):
            path[k + 1] = path[k] - lr * problem.grad(path[k])
    return path


@dataclass(frozen=True, eq=False)
class LogisticRegression:
    """Mean logistic loss with an L2 penalty: a smooth, non-quadratic, convex problem.

    ``f(w) = mean_i log(1 + exp(-y_i x_i . w)) + l2/2 * |w|^2`` with labels ``y`` in {-1, +1}.
    Its Hessian is ``X^T D X / n + l2 I`` with ``D = diag(p_i (1 - p_i)) <= 1/4``, which gives
    the global smoothness bound :attr:`L` and the local curvature :meth:`sharpness`.
    """

    X: np.ndarray
    y: np.ndarray
    l2: float = 0.0

    def __call__(self, w: np.ndarray) -> float:
        margins = self.y * (self.X @ w)
        return float(np.mean(np.logaddexp(0.0, -margins)) + 0.5 * self.l2 * w @ w)

    def grad(self, w: np.ndarray) -> np.ndarray:
        r"""The gradient :math:`-\frac1n \sum_i y_i \sigma(-y_i x_i^\top w)\, x_i + \lambda w`."""
        margins = self.y * (self.X @ w)
        weights = -self.y * _sigmoid(-margins)  # d/dm log(1 + e^-m) = -sigmoid(-m)
        return self.X.T @ weights / len(self.y) + self.l2 * w

    def hessian(self, w: np.ndarray) -> np.ndarray:
        r"""The Hessian :math:`\frac1n X^\top \operatorname{diag}(p (1 - p)) X + \lambda I`, :math:`p = \sigma(Xw)`."""
        p = _sigmoid(self.X @ w)
        return (self.X.T * (p * (1 - p))) @ self.X / len(self.y) + self.l2 * np.eye(self.X.shape[1])

    def sharpness(self, w: np.ndarray) -> float:
        """The largest eigenvalue of the Hessian at ``w``: the local curvature."""
        return float(np.linalg.eigvalsh(self.hessian(w))[-1])

    @property
    def L(self) -> float:
        """A global smoothness bound: ``lambda_max(X^T X) / (4 n) + l2``."""
        return float(np.linalg.eigvalsh(self.X.T @ self.X)[-1] / (4 * len(self.y)) + self.l2)


def logistic_regression(n: int = 400, dim: int = 2, l2: float = 1e-2, seed: int = 0) -> LogisticRegression:
    """Two overlapping Gaussian classes in ``dim`` dimensions, labels in {-1, +1}.

    >>> problem = logistic_regression(n=100, seed=0)
    >>> problem.X.shape, sorted(set(problem.y.tolist()))
    ((100, 2), [-1.0, 1.0])
    """
    rng = np.random.default_rng(seeding.derive(seed, "logistic regression"))
    y = rng.choice([-1.0, 1.0], size=n)
    centers = np.outer(y, np.linspace(1.0, 0.5, dim))
    X = centers + rng.normal(scale=1.5, size=(n, dim)) * np.linspace(1.0, 3.0, dim)
    return LogisticRegression(X, y, l2)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 0.5 * (1 + np.tanh(0.5 * z))  # stable for large |z|


def run(problem, optimizer_class, x0, steps: int, **hyperparameters) -> np.ndarray:
    """Iterates of a torch optimizer on a toy problem: ``steps + 1`` rows, float64.

    ``optimizer_class`` is any ``torch.optim.Optimizer`` (ours or torch's) and
    ``hyperparameters`` go to its constructor, which checks them. The gradient
    comes from ``problem.grad``, so no autograd graph is built.

    >>> from lrcourse.optim import SGD
    >>> run(Quadratic((2.0,)), SGD, x0=[1.0], steps=3, lr=0.25)[:, 0].tolist()
    [1.0, 0.5, 0.25, 0.125]
    """
    import torch  # the quadratics themselves need only NumPy

    if steps < 0:
        raise ValueError(f"steps must be non-negative, not {steps!r}")
    theta = torch.tensor(np.asarray(x0, dtype=float).reshape(-1), requires_grad=True)
    optimizer = optimizer_class([theta], **hyperparameters)
    path = np.empty((steps + 1, theta.numel()))
    path[0] = theta.detach().numpy()
    for k in range(steps):
        theta.grad = torch.as_tensor(problem.grad(theta.detach().numpy()))
        optimizer.step()
        path[k + 1] = theta.detach().numpy()
    return path


@dataclass(frozen=True)
class Rosenbrock:
    """Rosenbrock's banana valley ``f(x) = (a - x1)**2 + b * (x2 - x1**2)**2``.

    The minimum is ``0`` at ``(a, a**2)``, at the end of a curved, flat-bottomed
    valley: following the valley needs small steps across it and long ones
    along it (at the minimum the Hessian's eigenvalues are about 1001.6 and 0.4
    for the default ``a`` and ``b``: a condition number of about 2,500).

    >>> f = Rosenbrock()
    >>> float(f(np.array([1.0, 1.0]))), f.grad(np.array([1.0, 1.0])).tolist()
    (0.0, [0.0, 0.0])
    >>> float(f(np.array([0.0, 0.0]))), f.grad(np.array([0.0, 0.0])).tolist()
    (1.0, [-2.0, 0.0])
    """

    a: float = 1.0
    b: float = 100.0

    @property
    def minimizers(self) -> tuple[tuple[float, float], ...]:
        """The one minimizer, :math:`(a, a^2)`, at the end of the curved valley."""
        return ((self.a, self.a**2),)

    minimum = 0.0

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The loss at ``x``; ``x`` may hold many points along its leading axes (last axis: coordinates)."""
        x1, x2 = np.moveaxis(np.asarray(x, dtype=float), -1, 0)
        return (self.a - x1) ** 2 + self.b * (x2 - x1**2) ** 2

    def grad(self, x: np.ndarray) -> np.ndarray:
        """The gradient, for one point or a stack of points (the last axis holds the coordinates)."""
        x1, x2 = np.moveaxis(np.asarray(x, dtype=float), -1, 0)
        ridge = x2 - x1**2
        return np.stack([2 * (x1 - self.a) - 4 * self.b * x1 * ridge, 2 * self.b * ridge], axis=-1)


@dataclass(frozen=True)
class Saddle:
    """A saddle point between two minima: ``f(x) = h/2 * x1**2 + x2**4/4 - x2**2/2``.

    The origin is a saddle point (Hessian ``diag(h, -1)``): it attracts along
    ``x1`` and repels along ``x2``. The minima are ``-1/4`` at ``(0, +1)`` and
    ``(0, -1)``. A run started near ``x2 = 0`` shows how long a method lingers
    on the saddle before it escapes.

    >>> f = Saddle()
    >>> float(f(np.array([0.0, 1.0]))), f.grad(np.array([0.0, 1.0])).tolist()
    (-0.25, [0.0, 0.0])
    >>> f.grad(np.array([1.0, 0.5])).tolist()   # (h x1, x2**3 - x2)
    [1.0, -0.375]
    """

    h: float = 1.0

    def __post_init__(self):
        if self.h <= 0:
            raise ValueError(f"h must be positive, not {self.h!r}")

    minimizers = ((0.0, 1.0), (0.0, -1.0))
    minimum = -0.25

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The loss at ``x``; ``x`` may hold many points along its leading axes (last axis: coordinates)."""
        x1, x2 = np.moveaxis(np.asarray(x, dtype=float), -1, 0)
        return 0.5 * self.h * x1**2 + 0.25 * x2**4 - 0.5 * x2**2

    def grad(self, x: np.ndarray) -> np.ndarray:
        """The gradient, for one point or a stack of points (the last axis holds the coordinates)."""
        x1, x2 = np.moveaxis(np.asarray(x, dtype=float), -1, 0)
        return np.stack([self.h * x1, x2**3 - x2], axis=-1)


@dataclass(frozen=True)
class Beale:
    """Beale's function: ``sum_i (c_i - x1 + x1 * x2**i)**2`` for ``c = (1.5, 2.25, 2.625)``, i = 1, 2, 3.

    The minimum is ``0`` at ``(3, 1/2)``; the surface has flat plateaus and steep
    walls, so gradient scales differ by orders of magnitude from place to place.

    >>> f = Beale()
    >>> float(f(np.array([3.0, 0.5]))), f.grad(np.array([3.0, 0.5])).tolist()
    (0.0, [0.0, 0.0])
    """

    minimizers = ((3.0, 0.5),)
    minimum = 0.0
    c = (1.5, 2.25, 2.625)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """The loss at ``x``; ``x`` may hold many points along its leading axes (last axis: coordinates)."""
        x1, x2 = np.moveaxis(np.asarray(x, dtype=float), -1, 0)
        return sum((c - x1 + x1 * x2**i) ** 2 for i, c in enumerate(self.c, start=1))

    def grad(self, x: np.ndarray) -> np.ndarray:
        """The gradient, for one point or a stack of points (the last axis holds the coordinates)."""
        x1, x2 = np.moveaxis(np.asarray(x, dtype=float), -1, 0)
        residuals = [(i, c - x1 + x1 * x2**i) for i, c in enumerate(self.c, start=1)]
        d1 = sum(2 * r * (x2**i - 1) for i, r in residuals)
        d2 = sum(2 * r * i * x1 * x2 ** (i - 1) for i, r in residuals)
        return np.stack([d1, d2], axis=-1)


def measured_contraction(path: np.ndarray, start: int, end: int) -> float:
    """The mean factor by which the distance to the minimum (at 0) shrank per step from ``start`` to ``end``.

    The geometric mean of ``|x_{k+1}| / |x_k|`` over those steps, to compare with a
    predicted contraction such as :meth:`Quadratic.contraction`.

    >>> path = gradient_descent(Quadratic((1.0, 10.0)), lr=2 / 11, x0=[1.0, 1.0], steps=30)
    >>> round(measured_contraction(path, 10, 30), 6)  # (kappa - 1) / (kappa + 1) = 9 / 11
    0.818182
    """
    if not 0 <= start < end < len(path):
        raise ValueError(f"need 0 <= start < end < {len(path)}, got start={start}, end={end}")
    norms = np.linalg.norm(path, axis=1)
    return float((norms[end] / norms[start]) ** (1 / (end - start)))
