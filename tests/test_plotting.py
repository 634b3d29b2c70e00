import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from lrcourse import plotting, problems


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def drawn_levels(ax):
    return [float(v) for v in ax.collections[0].levels]


def test_default_levels_are_geometric_from_the_smallest_value():
    ax = plotting.contour(problems.Quadratic((1.0, 4.0)), levels=5)
    levels = drawn_levels(ax)
    assert len(levels) == 5
    ratios = np.array(levels[1:]) / np.array(levels[:-1])
    np.testing.assert_allclose(ratios, ratios[0])
    assert levels[-1] == pytest.approx(0.5 * (1.5**2 + 4 * 1.5**2))  # the corner of the default extent


def test_explicit_levels_are_drawn_as_given_even_below_zero():
    levels = [-0.2, -0.1, 0.0, 0.5, 1.0]
    ax = plotting.contour(problems.Saddle(), levels=levels)
    assert drawn_levels(ax) == levels


def test_minimizers_are_starred_and_the_origin_without_them():
    star = plotting.contour(problems.Saddle()).lines[-1]
    assert star.get_marker() == "*"
    np.testing.assert_array_equal(np.c_[star.get_xdata(), star.get_ydata()], [[0.0, 1.0], [0.0, -1.0]])
    star = plotting.contour(problems.Quadratic((1.0, 2.0))).lines[-1]
    np.testing.assert_array_equal(np.c_[star.get_xdata(), star.get_ydata()], [[0.0, 0.0]])


def test_paths_and_animate_pass_levels_on(monkeypatch):
    f = problems.Rosenbrock()
    iterates = {"a": np.array([[-1.0, 1.0], [0.0, 0.5], [1.0, 1.0]])}
    ax = plotting.paths(f, iterates, extent=(-2, 2, -1, 3), levels=[1.0, 10.0, 100.0])
    assert drawn_levels(ax) == [1.0, 10.0, 100.0]
    seen = []
    contour = plotting.contour
    monkeypatch.setattr(plotting, "contour", lambda *a, **k: seen.append(k["levels"]) or contour(*a, **k))
    html = plotting.animate(f, iterates, extent=(-2, 2, -1, 3), levels=[1.0, 10.0])
    assert seen == [[1.0, 10.0]]
    assert "frames[2]" in html and "frames[3]" not in html  # one frame per iterate
