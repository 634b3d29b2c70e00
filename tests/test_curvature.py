"""lrcourse.curvature against Hessians computed exactly."""

import numpy as np
import pytest
import torch
from torch import nn

from lrcourse.curvature import hvp_function, sharpness, top_eigenvalue
from lrcourse.problems import quadratic


class QuadraticModel(nn.Module):
    """A 'model' whose loss is the quadratic 0.5 theta^T A theta, whatever the data."""

    def __init__(self, A):
        super().__init__()
        self.A = A
        self.theta = nn.Parameter(torch.ones(len(A), dtype=A.dtype))

    def forward(self, X):
        return 0.5 * self.theta @ self.A @ self.theta


def quadratic_loss(output, target):
    return output


@pytest.mark.parametrize("condition", [2.0, 10.0, 100.0])
def test_sharpness_of_a_quadratic_is_L(condition):
    problem = quadratic(condition=condition, L=3.0, dim=2)
    A = torch.diag(torch.tensor(problem.curvatures, dtype=torch.float64))
    model = QuadraticModel(A)
    found = sharpness(model, quadratic_loss, torch.zeros(1), torch.zeros(1), iters=2000, tol=1e-12)
    assert found == pytest.approx(3.0, rel=1e-6)


def test_sharpness_of_least_squares_matches_eigvalsh():
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(50, 4, generator=generator, dtype=torch.float64)
    y = torch.randn(50, 1, generator=generator, dtype=torch.float64)
    model = nn.Linear(4, 1).double()
    Xb = torch.cat([X, torch.ones(50, 1, dtype=torch.float64)], dim=1)  # the bias is a weight on 1
    exact = np.linalg.eigvalsh((2 * Xb.T @ Xb / 50).numpy()).max()
    assert sharpness(model, nn.MSELoss(), X, y, iters=1000, tol=1e-12) == pytest.approx(exact, rel=1e-6)


def test_hvp_matches_the_hessian_of_a_small_network():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).double()
    X, y = torch.randn(10, 3, dtype=torch.float64), torch.randint(0, 2, (10,))
    loss_fn = nn.CrossEntropyLoss()
    matvec, dim = hvp_function(model, loss_fn, X, y)
    params = list(model.parameters())
    shapes = [p.shape for p in params]

    def loss_of(flat):
        pieces, start = [], 0
        for shape in shapes:
            pieces.append(flat[start : start + shape.numel()].reshape(shape))
            start += shape.numel()
        out = torch.func.functional_call(model, dict(zip([n for n, _ in model.named_parameters()], pieces)), (X,))
        return loss_fn(out, y)

    flat = torch.cat([p.detach().reshape(-1) for p in params])
    H = torch.autograd.functional.hessian(loss_of, flat)
    v = torch.randn(dim, dtype=torch.float64)
    torch.testing.assert_close(matvec(v), H @ v)
    top = torch.linalg.eigvalsh(H)
    biggest = top[top.abs().argmax()].item()
    assert top_eigenvalue(matvec, dim, iters=5000, tol=1e-12, dtype=torch.float64) == pytest.approx(biggest, rel=1e-5)


def test_zero_operator():
    assert top_eigenvalue(lambda v: 0 * v, dim=3) == 0.0
