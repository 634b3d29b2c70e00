import numpy as np
import pytest

from lrcourse import problems


def test_quadratic_values_by_hand():
    f = problems.Quadratic((1.0, 10.0))
    assert f(np.array([2.0, 1.0])) == pytest.approx(0.5 * (4 + 10))
    assert f.grad(np.array([2.0, 1.0])).tolist() == [2.0, 10.0]
    assert (f.L, f.mu, f.condition) == (10.0, 1.0, 10.0)
    assert f.max_stable_lr == pytest.approx(0.2)
    assert f.best_lr == pytest.approx(2 / 11)
    assert f.best_contraction == pytest.approx(9 / 11)


def test_quadratic_evaluates_many_points_at_once():
    f = problems.Quadratic((1.0, 4.0))
    grid = np.array([[[0.0, 0.0], [1.0, 0.0]], [[0.0, 1.0], [1.0, 1.0]]])
    assert f(grid).tolist() == [[0.0, 0.5], [2.0, 2.5]]


def test_quadratic_factory_spreads_curvatures():
    q = problems.quadratic(condition=100, L=2.0, dim=3)
    assert q.curvatures == pytest.approx((0.02, 0.2, 2.0))
    assert q.condition == pytest.approx(100)
    assert problems.quadratic(dim=1).curvatures == (1.0,)


@pytest.mark.parametrize("kwargs", [dict(condition=0.5), dict(L=0.0), dict(dim=0)])
def test_quadratic_factory_rejects_bad_input(kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        problems.quadratic(**kwargs)


def test_nonpositive_curvature_is_an_error():
    with pytest.raises(ValueError, match="curvatures"):
        problems.Quadratic((1.0, 0.0))


@pytest.mark.parametrize("lr", [0.1, 0.25, 0.45, 0.55])
def test_gradient_descent_follows_the_closed_form(lr):
    path = problems.gradient_descent(problems.Quadratic((4.0,)), lr, x0=[1.0], steps=30)
    np.testing.assert_allclose(path[:, 0], (1 - 4 * lr) ** np.arange(31), rtol=1e-12)


def test_contraction_is_the_slowest_ratio_and_is_smallest_at_the_best_rate():
    f = problems.quadratic(condition=10)
    assert f.contraction(0.5) == pytest.approx(max(abs(1 - 0.5 * 0.1), abs(1 - 0.5)))
    grid = np.linspace(0.01, 2.5, 2001)
    best = grid[np.argmin([f.contraction(lr) for lr in grid])]
    assert best == pytest.approx(f.best_lr, abs=grid[1] - grid[0])
    assert f.contraction(f.best_lr) == pytest.approx(f.best_contraction)


def test_divergence_is_kept_in_the_path():
    path = problems.gradient_descent(problems.Quadratic((1.0,)), lr=1e3, x0=[1.0], steps=200)
    assert not np.isfinite(path[-1, 0])


@pytest.mark.parametrize("lr,steps", [(0.0, 1), (-1.0, 1), (0.1, -1)])
def test_gradient_descent_rejects_bad_input(lr, steps):
    with pytest.raises(ValueError):
        problems.gradient_descent(problems.Quadratic((1.0,)), lr, x0=[1.0], steps=steps)


def test_logistic_regression_gradient_and_hessian_match_finite_differences():
    f = problems.logistic_regression(n=50, dim=3, seed=1)
    w = np.array([0.3, -0.2, 0.5])
    eps = 1e-6
    unit = np.eye(3)
    numeric_grad = [(f(w + eps * e) - f(w - eps * e)) / (2 * eps) for e in unit]
    np.testing.assert_allclose(f.grad(w), numeric_grad, rtol=1e-6, atol=1e-9)
    numeric_hessian = np.array([(f.grad(w + eps * e) - f.grad(w - eps * e)) / (2 * eps) for e in unit])
    np.testing.assert_allclose(f.hessian(w), numeric_hessian, rtol=1e-5, atol=1e-8)


def test_logistic_regression_smoothness_bounds_the_sharpness():
    f = problems.logistic_regression(seed=2)
    rng = np.random.default_rng(0)
    assert all(f.sharpness(w) <= f.L + 1e-12 for w in rng.normal(size=(20, 2)))
    assert f.sharpness(np.zeros(2)) == pytest.approx(f.L)  # p = 1/2 everywhere at w = 0


TWO_D = [
    problems.Rosenbrock(),
    problems.Rosenbrock(a=0.5, b=10.0),
    problems.Saddle(),
    problems.Saddle(h=4.0),
    problems.Beale(),
]


def numeric_gradient(f, x, eps=1e-6):
    return np.array([(f(x + eps * e) - f(x - eps * e)) / (2 * eps) for e in np.eye(len(x))])


@pytest.mark.parametrize("f", TWO_D, ids=repr)
def test_two_d_gradients_match_finite_differences(f):
    rng = np.random.default_rng(0)
    for x in rng.uniform(-1.5, 1.5, size=(10, 2)):
        np.testing.assert_allclose(f.grad(x), numeric_gradient(f, x), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("f", TWO_D, ids=repr)
def test_two_d_minimizers_have_the_minimum_value_and_zero_gradient(f):
    for point in f.minimizers:
        assert float(f(np.array(point))) == pytest.approx(f.minimum, abs=1e-15)
        np.testing.assert_allclose(f.grad(np.array(point)), 0.0, atol=1e-12)


@pytest.mark.parametrize("f", TWO_D, ids=repr)
def test_two_d_minimum_is_the_lowest_value_on_a_grid(f):
    axis = np.linspace(-4.5, 4.5, 301)
    grid = np.stack(np.meshgrid(axis, axis), axis=-1)
    assert f(grid).min() >= f.minimum - 1e-12


@pytest.mark.parametrize("f", TWO_D, ids=repr)
def test_two_d_problems_are_vectorized_over_leading_axes(f):
    points = np.random.default_rng(1).normal(size=(3, 4, 2))
    values, grads = f(points), f.grad(points)
    assert values.shape == (3, 4) and grads.shape == (3, 4, 2)
    np.testing.assert_allclose(values[2, 1], f(points[2, 1]))
    np.testing.assert_allclose(grads[2, 1], f.grad(points[2, 1]))


def test_rosenbrock_values_by_hand():
    f = problems.Rosenbrock(a=1.0, b=100.0)
    assert float(f(np.array([-1.0, 1.0]))) == 4.0  # (1 + 1)^2 + 100 (1 - 1)^2
    assert float(f(np.array([0.0, 1.0]))) == 101.0
    assert f.minimizers == ((1.0, 1.0),)
    hessian = np.array([numeric_gradient(lambda x: f.grad(x)[i], np.array([1.0, 1.0])) for i in range(2)])
    assert np.linalg.eigvalsh(hessian) == pytest.approx([0.3994, 1001.6], rel=1e-3)


def test_saddle_is_a_saddle_at_the_origin():
    f = problems.Saddle(h=2.0)
    np.testing.assert_array_equal(f.grad(np.zeros(2)), 0.0)
    assert float(f(np.array([0.1, 0.0]))) > 0 > float(f(np.array([0.0, 0.1])))
    hessian = np.array([numeric_gradient(lambda x: f.grad(x)[i], np.zeros(2)) for i in range(2)])
    np.testing.assert_allclose(hessian, np.diag([2.0, -1.0]), atol=1e-6)
    with pytest.raises(ValueError, match="h"):
        problems.Saddle(h=0.0)


def test_beale_values_by_hand():
    f = problems.Beale()
    assert float(f(np.zeros(2))) == pytest.approx(1.5**2 + 2.25**2 + 2.625**2)
    assert float(f(np.array([1.0, 1.0]))) == pytest.approx(1.5**2 + 2.25**2 + 2.625**2)


@pytest.mark.parametrize("f", TWO_D[:3], ids=repr)
def test_two_d_problems_run_with_a_torch_optimizer(f):
    from lrcourse.optim import Adam

    path = problems.run(f, Adam, x0=[-0.5, 0.2], steps=3000, lr=0.02)
    assert float(f(path[-1])) < float(f(path[0]))
    assert min(np.linalg.norm(path[-1] - np.array(m)) for m in f.minimizers) < 0.05


def test_measured_contraction_is_the_geometric_mean_ratio():
    path = np.array([[8.0, 0.0], [0.0, 4.0], [2.0, 0.0], [0.0, 1.0]])  # norms halve each step
    assert problems.measured_contraction(path, 0, 3) == pytest.approx(0.5)
    assert problems.measured_contraction(path, 1, 2) == pytest.approx(0.5)
    uneven = np.array([[8.0, 0.0], [1.0, 0.0]])
    assert problems.measured_contraction(uneven, 0, 1) == pytest.approx(0.125)


@pytest.mark.parametrize("start,end", [(2, 2), (3, 1), (-1, 2), (0, 4)])
def test_measured_contraction_rejects_bad_windows(start, end):
    with pytest.raises(ValueError, match="start"):
        problems.measured_contraction(np.ones((4, 2)), start, end)
