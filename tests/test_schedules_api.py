"""The schedules' contract beyond their values: they pickle, reject bad input by name, take plain
callables wherever a schedule goes, and plot."""

from __future__ import annotations

import pickle

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from lrcourse import schedules as S


def halve_every_ten(step):
    """A plain function: the custom case, picklable because it lives in a module."""
    return 0.1 * 0.5 ** (step // 10)


ALL = [
    S.constant(0.1),
    S.linear(0.0, 0.1, 50),
    S.step_decay(0.1, 30),
    S.multistep(0.1, [10, 20]),
    S.exponential(0.1, 0.99),
    S.cosine(0.1, 100, 0.001),
    S.polynomial(0.1, 100, 2.0, 0.01),
    S.inverse_sqrt(0.1, 20),
    S.cosine_restarts(0.1, 10, 1.5, 0.0, 0.7),
    S.cyclic(0.01, 0.1, 20, 30, "exp_range", 0.99),
    S.cyclic(0.01, 0.1, 20).momentum,
    S.one_cycle(0.1, 100, three_phase=True),
    S.one_cycle(0.1, 100).momentum,
    S.warmup(S.cosine(0.1, 100), 10, 0.01),
    S.join([S.linear(0.0, 0.1, 10), halve_every_ten, S.constant(0.001)], [10, 60]),
]


@pytest.mark.parametrize("schedule", ALL, ids=lambda s: type(s).__name__)
def test_pickle_round_trip(schedule):
    again = pickle.loads(pickle.dumps(schedule))
    assert again == schedule
    steps = np.arange(200)
    assert again(steps).tolist() == schedule(steps).tolist()


def test_plateau_scaled_pickles_with_its_controller():
    plateau = S.ReduceOnPlateau(patience=0)
    lr = plateau.scaled(S.cosine(0.1, 100))
    plateau.update(1.0)
    plateau.update(1.0)
    again = pickle.loads(pickle.dumps(lr))
    assert (
        again.plateau.state_dict() == plateau.state_dict()
        and again(np.arange(100)).tolist() == lr(np.arange(100)).tolist()
    )


def test_plain_callables_wherever_a_schedule_goes():
    s = S.warmup(halve_every_ten, 5)
    assert s(5) == 0.1 and s(15) == 0.05 and s(np.array([0, 25])).tolist() == [0.0, 0.025]
    j = S.join([lambda step: 1.0 + step, halve_every_ten], [3])
    assert j(np.arange(5)).tolist() == [1.0, 2.0, 3.0, 0.1, 0.1]
    assert S.values(halve_every_ten, [0, 10]).tolist() == [0.1, 0.05]
    ax = S.plot(lambda step: 1 / (1 + step), 10)
    assert ax.lines[0].get_ydata()[-1] == 0.1
    plt.close("all")


def test_steps_must_be_non_negative():
    for bad in (-1, np.array([0, -3]), float("nan")):
        with pytest.raises(ValueError, match="step"):
            S.cosine(0.1, 10)(bad)


BAD = [
    (S.cosine, (0.1, 0), "total_steps"),
    (S.cosine, (0.1, -5), "total_steps"),
    (S.cosine, (0.1, 10.5), "total_steps"),
    (S.polynomial, (0.1, 0), "total_steps"),
    (S.linear, (0.0, 0.1, 0), "total_steps"),
    (S.one_cycle, (0.1, 0), "total_steps"),
    (S.step_decay, (0.1, 0), "step_size"),
    (S.cyclic, (0.01, 0.1, 0), "step_size_up"),
    (S.cyclic, (0.01, 0.1, 10, 0), "step_size_down"),
    (S.cosine_restarts, (0.1, 0), "cycle_steps"),
    (S.constant, (-0.1,), "lr"),
    (S.cosine, (-0.1, 10), "lr"),
    (S.cosine, (0.1, 10, -0.01), "min_lr"),
    (S.polynomial, (0.1, 10, 1.0, -1.0), "end_lr"),
    (S.cyclic, (-0.01, 0.1), "base_lr"),
    (S.cyclic, (0.01, float("inf")), "max_lr"),
    (S.one_cycle, (-0.1, 100), "max_lr"),
    (S.warmup, (S.constant(0.1), 10, -0.1), "start_lr"),
    (S.exponential, (float("nan"), 0.9), "lr"),
    (S.multistep, (0.1, [30, 10]), "milestones"),
    (S.multistep, (0.1, [0, 10]), "milestones"),
    (S.one_cycle, (0.1, 100, 0.0), "pct_start"),
    (S.one_cycle, (0.1, 100, 1.0), "pct_start"),
    (S.one_cycle, (0.1, 100, 1.5), "pct_start"),
    (S.one_cycle, (0.1, 100, 0.6, 25.0, 1e4, "cos", True), "pct_start"),
    (S.one_cycle, (0.1, 100, 0.3, 25.0, 1e4, "cosine"), "anneal_strategy"),
    (S.ReduceOnPlateau, ("min", 1.0), "factor"),
    (S.ReduceOnPlateau, ("min", 0.0), "factor"),
    (S.ReduceOnPlateau, ("min", 1.5), "factor"),
    (S.ReduceOnPlateau, ("min", 0.1, -1), "patience"),
    (S.ReduceOnPlateau, ("minimum",), "mode"),
    (S.ReduceOnPlateau, ("min", 0.1, 10, 1e-4, "relative"), "threshold_mode"),
    (S.ReduceOnPlateau, ("min", 0.1, 10, 1e-4, "rel", -1), "cooldown"),
    (S.join, ([S.constant(0.1), S.constant(0.01)], []), "boundaries"),
    (S.join, ([S.constant(0.1), S.constant(0.01)], [5, 10]), "boundaries"),
    (S.join, ([S.constant(0.1), S.constant(0.01), S.constant(0.001)], [10, 5]), "boundaries"),
    (S.join, ([S.constant(0.1), S.constant(0.01)], [0]), "boundaries"),
    (S.join, ([S.constant(0.1)], []), "schedules"),
    (S.warmup, (S.constant(0.1), -1), "warmup_steps"),
    (S.inverse_sqrt, (0.1, -1), "warmup_steps"),
    (S.inverse_sqrt, (0.1, 0), "warmup_steps"),
    (S.step_decay, (0.1, 10, 0.0), "gamma"),
    (S.exponential, (0.1, -0.5), "gamma"),
    (S.cosine_restarts, (0.1, 10, 0.5), "cycle_mult"),
    (S.cosine_restarts, (0.1, 10, 1, 0.0, 1.5), "decay"),
    (S.cyclic, (0.01, 0.1, 10, None, "triangle"), "mode"),
    (S.steps_per_epoch, (0, 32), "num_samples"),
    (S.steps_per_epoch, (100, 0), "batch_size"),
    (S.epochs_to_steps, (-1, 100), "epochs"),
    (S.epochs_to_steps, (1, 0), "steps_per_epoch"),
]


@pytest.mark.parametrize("make,args,name", BAD, ids=[f"{m.__name__}-{n}-{i}" for i, (m, _, n) in enumerate(BAD)])
def test_bad_input_raises_value_error_naming_the_argument(make, args, name):
    with pytest.raises(ValueError, match=rf"\b{name}\b"):
        make(*args)


def test_typos_are_not_swallowed():
    with pytest.raises(TypeError):
        S.cosine(0.1, total_step=100)
    with pytest.raises(TypeError):
        S.one_cycle(0.1, 100, max_momentun=0.9)
    with pytest.raises(TypeError):
        S.warmup(0.1, 10)  # a number is not a schedule: S.constant(0.1) is


def test_plot_returns_the_axes():
    s = S.warmup(S.cosine(0.1, 900), 100)
    ax = S.plot(s, 1000, label="warmup + cosine", log=True)
    assert ax.get_yscale() == "log" and ax.get_legend() is not None
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), s(np.arange(1000)))
    _fig, other = plt.subplots()
    assert S.plot(s, 1000, ax=other, steps_per_epoch=100) is other
    assert other.get_xlabel() == "epoch" and other.lines[0].get_xdata()[-1] == 9.99
    plt.close("all")


def test_epochs_and_steps():
    per_epoch = S.steps_per_epoch(50_000, 64)
    assert per_epoch == 782 and S.steps_per_epoch(50_000, 64, drop_last=True) == 781
    assert S.steps_per_epoch(50_000, 64, accumulation_steps=4) == 196
    assert S.epochs_to_steps(3, per_epoch) == 2346
    with pytest.raises(ValueError, match="batch_size"):
        S.steps_per_epoch(10, 32, drop_last=True)
    s = S.one_cycle(0.1, S.epochs_to_steps(3, per_epoch))
    assert s(2345) == s(10**6)


def test_schedules_are_frozen():
    s = S.cosine(0.1, 100)
    with pytest.raises(AttributeError):
        s.lr = 0.2
    assert hash(s) == hash(S.cosine(0.1, 100))
