"""lrcourse.curvature against Hessians computed exactly."""

import numpy as np
import pytest
import torch
from torch import nn

from lrcourse.curvature import hvp_function, sharpness, top_eigenpair, top_eigenvalue
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


class Counted:
    """A matrix as an operator that counts its products."""

    def __init__(self, M):
        self.M, self.products = M, 0

    def __call__(self, v):
        self.products += 1
        return self.M @ v


def rotated(eigenvalues, seed=0):
    """A symmetric matrix with the given eigenvalues in a random orthonormal basis."""
    generator = torch.Generator().manual_seed(seed)
    Q, _ = torch.linalg.qr(torch.randn(len(eigenvalues), len(eigenvalues), generator=generator, dtype=torch.float64))
    return Q @ torch.diag(torch.tensor(eigenvalues, dtype=torch.float64)) @ Q.T, Q


def test_top_eigenvalue_of_a_hand_computed_matrix():
    M = torch.tensor([[2.0, 1.0, 0.0], [1.0, 2.0, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64)  # 3, 1, 1
    assert top_eigenvalue(lambda v: M @ v, dim=3, iters=200, tol=1e-12, dtype=torch.float64) == pytest.approx(3.0)


def test_warm_start_converges_in_fewer_products():
    eigenvalues = [10.0, 9.0] + list(np.linspace(1.0, 8.0, 48))
    M, Q = rotated(eigenvalues)
    cold, warm = Counted(M), Counted(M)
    v0 = Q[:, 0] + 0.01 * Q[:, 1]  # near the top eigenvector, as at the previous point of a run
    a = top_eigenvalue(cold, 50, iters=1000, tol=1e-8, dtype=torch.float64)
    b = top_eigenvalue(warm, 50, iters=1000, tol=1e-8, dtype=torch.float64, v0=v0)
    assert a == pytest.approx(10.0, rel=1e-6) and b == pytest.approx(10.0, rel=1e-6)
    assert warm.products < cold.products / 2


def test_preconditioned_value_by_hand():
    H = torch.diag(torch.tensor([4.0, 8.0], dtype=torch.float64))
    P = torch.tensor([1.0, 4.0], dtype=torch.float64)  # P^(-1/2) H P^(-1/2) = diag(4, 2)
    found = top_eigenvalue(lambda v: H @ v, 2, iters=200, tol=1e-12, dtype=torch.float64, preconditioner=P)
    assert found == pytest.approx(4.0)


@pytest.mark.parametrize("method", ["power", "lanczos"])
def test_preconditioned_value_is_the_eigenvalue_of_the_scaled_hessian(method):
    generator = torch.Generator().manual_seed(1)
    A = torch.randn(8, 8, generator=generator, dtype=torch.float64)
    H = A @ A.T
    P = torch.rand(8, generator=generator, dtype=torch.float64) + 0.1
    D = torch.diag(P.rsqrt())
    exact = torch.linalg.eigvalsh(D @ H @ D).max().item()
    kwargs = dict(iters=5000, tol=1e-12, dtype=torch.float64, preconditioner=P)
    if method == "power":
        found = top_eigenvalue(lambda v: H @ v, 8, **kwargs)
    else:
        found, vector = top_eigenpair(lambda v: H @ v, 8, **kwargs)
        torch.testing.assert_close(D @ H @ D @ vector, found * vector)
    assert found == pytest.approx(exact, rel=1e-8)


def test_lanczos_finds_a_crowded_top_in_far_fewer_products_than_power_iteration():
    eigenvalues = [10.0, 9.95, 9.9] + list(np.linspace(-3.0, 9.5, 197))  # gaps of half a percent
    M, _ = rotated(eigenvalues)
    lanczos, power = Counted(M), Counted(M)
    found, vector = top_eigenpair(lanczos, 200, iters=200, tol=1e-6, dtype=torch.float64)
    assert found == pytest.approx(10.0, rel=1e-5)
    torch.testing.assert_close(vector.norm().item(), 1.0)
    slow = top_eigenvalue(power, 200, iters=lanczos.products, tol=0.0, dtype=torch.float64)
    assert slow < found - 0.01  # power iteration, with as many products, is still well below


def test_lanczos_is_the_largest_eigenvalue_not_the_largest_in_modulus():
    M = torch.diag(torch.tensor([3.0, 1.0, -5.0], dtype=torch.float64))
    found, vector = top_eigenpair(lambda v: M @ v, 3, tol=1e-10, dtype=torch.float64)
    assert found == pytest.approx(3.0)
    torch.testing.assert_close(vector.abs(), torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64))


def test_lanczos_warm_start_from_its_own_vector_stops_at_once():
    M, _ = rotated([5.0, 4.9, 4.8, 1.0, 0.5, 0.0])
    value, vector = top_eigenpair(lambda v: M @ v, 6, tol=1e-10, dtype=torch.float64)
    again = Counted(M)
    value2, vector2 = top_eigenpair(again, 6, tol=1e-6, dtype=torch.float64, v0=vector)
    assert again.products <= 2 and value2 == pytest.approx(value)
    assert torch.dot(vector2, vector) > 0.99  # oriented like the start


def test_lanczos_min_iters_escapes_a_warm_start_on_a_lower_eigenvector():
    M, Q = rotated([10.0, 8.0] + [1.0] * 48)
    v0 = Q[:, 1] + 1e-4 * Q[:, 0]  # the top eigenvector of an earlier point, now second
    trapped, _ = top_eigenpair(lambda v: M @ v, 50, tol=1e-2, dtype=torch.float64, v0=v0)
    escaped, _ = top_eigenpair(lambda v: M @ v, 50, tol=1e-2, min_iters=10, dtype=torch.float64, v0=v0)
    assert trapped == pytest.approx(8.0, rel=1e-3)  # a small residual, at the wrong eigenvalue
    assert escaped == pytest.approx(10.0, rel=1e-3)


def test_lanczos_zero_operator():
    value, _ = top_eigenpair(lambda v: 0 * v, dim=3)
    assert value == 0.0
