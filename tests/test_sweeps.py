"""lrcourse.sweeps: regimes of hand-made sweeps, and the plot."""

import math

import matplotlib

matplotlib.use("Agg")
import pytest

from lrcourse.sweeps import plot, regimes


def test_a_u_shaped_sweep():
    lrs = [2.0**k for k in range(-4, 4)]
    losses = [4.0, 2.0, 1.0, 0.5, 0.3, 0.2, 5.0, math.inf]
    assert regimes(lrs, losses) == ["too small"] * 3 + ["good"] * 3 + ["too large"] * 2


def test_within_sets_the_width_of_the_good_range():
    lrs, losses = [0.1, 1.0, 10.0], [1.5, 1.0, 1.9]
    assert regimes(lrs, losses, within=2.0) == ["good"] * 3
    assert regimes(lrs, losses, within=1.2) == ["too small", "good", "too large"]


def test_all_diverged_and_bad_input():
    assert regimes([1.0, 2.0], [math.nan, math.inf]) == ["too large", "too large"]
    with pytest.raises(ValueError):
        regimes([1.0, 0.5], [1.0, 2.0])
    with pytest.raises(ValueError):
        regimes([1.0], [1.0, 2.0])


def test_plot_caps_and_colors():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    plot([0.1, 1.0, 10.0], [1.0, 0.5, math.nan], ax=ax)
    assert [t.get_text() for t in ax.legend().get_texts()] == ["too small", "good", "too large"]
    assert ax.lines[0].get_ydata()[-1] == 10.0
    plt.close(fig)
