"""tune widens the grid until the best rate is interior, scoring each rate once."""

import math

import pytest

from lrcourse.tuning import GridEdgeError, log_grid, tune, tune_around


def bowl(best):
    """A score with its minimum at ``best`` on a log scale, counting its calls."""
    calls = []

    def score(lr):
        calls.append(lr)
        return (math.log10(lr) - math.log10(best)) ** 2

    return score, calls


def test_interior_best_needs_no_widening():
    score, calls = bowl(0.01)
    tuned = tune(score, [0.001, 0.01, 0.1])
    assert tuned.best == 0.01 and tuned.neighbours == (0.001, 0.1)
    assert calls == [0.001, 0.01, 0.1]


@pytest.mark.parametrize(("best", "rates"), [(1e-4, [1e-4, 1e-3, 1e-2, 0.1]), (10.0, [1e-3, 1e-2, 0.1, 1.0, 10.0])])
def test_the_grid_widens_towards_the_best_rate(best, rates):
    score, calls = bowl(best)
    tuned = tune(score, [0.001, 0.01, 0.1])
    assert tuned.best == best
    assert tuned.rates == sorted(set(rates) | {best / 10, best * 10})
    assert len(calls) == len(set(calls)), "each rate is scored once"


def test_higher_is_better_and_per_seed_scores_are_averaged():
    tuned = tune(lambda lr: [-((lr - 1.0) ** 2) + s for s in (0.0, 1.0)], [0.25, 0.5, 1.0, 2.0], better="higher")
    assert tuned.best == 1.0 and tuned.scores[1.0] == 0.5


def test_a_diverged_run_counts_as_the_worst():
    # the large rates diverge: the best finite rate must still be interior
    tuned = tune(lambda lr: math.inf if lr > 0.1 else 1.0 / lr, [0.01, 0.1, 1.0])
    assert tuned.best == 0.1 and tuned.scores[1.0] == math.inf
    tuned = tune(lambda lr: [1.0, math.nan] if lr > 0.1 else [1.0 / lr, 1.0], [0.01, 0.1, 1.0])
    assert tuned.best == 0.1


def test_it_raises_when_the_best_stays_on_the_edge():
    with pytest.raises(GridEdgeError, match=r"lower edge of 0\.001 to 10 after 2"):
        tune(lambda lr: lr, [0.1, 1.0, 10.0], max_widen=2)
    with pytest.raises(GridEdgeError, match="diverged"):
        tune(lambda lr: math.inf, [0.1, 1.0, 10.0])


@pytest.mark.parametrize("rates", [[0.1, 1.0], [1.0, 0.1, 0.01], [0.1, 1.0, 3.0], [0.0, 1.0, 2.0]])
def test_a_bad_grid_is_refused(rates):
    with pytest.raises(ValueError, match="rates"):
        tune(lambda lr: lr, rates)


def test_log_grid_has_round_points():
    assert log_grid(0.01, 1.0, per_decade=1) == [0.01, 0.1, 1.0]
    assert log_grid(1e-3, 1e-2, per_decade=3) == [0.001, 0.00215, 0.00464, 0.01]
    with pytest.raises(ValueError):
        log_grid(1.0, 0.1)


def test_tune_around_starts_with_three_rates_centred_on_the_start():
    tried = []
    tuned = tune_around(lambda lr: tried.append(lr) or abs(math.log(lr / 0.0316)), 0.0316)
    assert tried == [0.0237, 0.0316, 0.0421]  # 0.0316 / 10**(1/8) and 0.0316 * 10**(1/8), 3 digits
    assert tuned.best == 0.0316 and tuned.neighbours == (0.0237, 0.0421)


def test_tune_around_walks_to_a_distant_best_one_rate_at_a_time():
    tuned = tune_around(lambda lr: abs(math.log(lr / 0.1)), 0.01, per_decade=2)
    assert tuned.best == 0.1
    assert tuned.rates == [0.00316, 0.01, 0.0316, 0.1, 0.316]


@pytest.mark.parametrize("start, per_decade", [(0.0, 8), (-1.0, 8), (0.01, 0), (0.01, 2.5)])
def test_tune_around_refuses_bad_input(start, per_decade):
    with pytest.raises(ValueError):
        tune_around(lambda lr: lr, start, per_decade=per_decade)
