"""Properties every schedule keeps, for arguments drawn at random (hypothesis).

Values stay within the schedule's own bounds; a warmup reaches exactly its target at
``warmup_steps``; joins are continuous where they claim to be; decaying schedules never
increase; one step and an array of steps give the same numbers.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from lrcourse import schedules as S

SETTINGS = settings(max_examples=40, deadline=None, derandomize=True)
rates = st.floats(0.0, 10.0)
positive_rates = st.floats(1e-6, 10.0)
horizons = st.integers(1, 5000)
gammas = st.floats(0.01, 1.0)
steps_arrays = st.lists(st.integers(0, 10**6), min_size=1, max_size=50).map(np.array)


def ordered(*xs):
    return (min(xs), max(xs))


@st.composite
def bounded(draw):
    """A schedule and the interval its rates must stay in."""
    kind = draw(
        st.sampled_from(
            [
                "constant",
                "linear",
                "step",
                "multistep",
                "exponential",
                "cosine",
                "polynomial",
                "inverse_sqrt",
                "restarts",
                "cyclic",
                "one_cycle",
                "warmup",
                "join",
            ]
        )
    )
    lr, other, n = draw(rates), draw(rates), draw(horizons)
    if kind == "constant":
        return S.constant(lr), (lr, lr)
    if kind == "linear":
        return S.linear(lr, other, n), ordered(lr, other)
    if kind == "step":
        return S.step_decay(lr, n, draw(gammas)), (0.0, lr)
    if kind == "multistep":
        milestones = sorted(draw(st.lists(st.integers(1, 10**4), max_size=5)))
        return S.multistep(lr, milestones, draw(gammas)), (0.0, lr)
    if kind == "exponential":
        return S.exponential(lr, draw(gammas)), (0.0, lr)
    if kind == "cosine":
        return S.cosine(lr, n, other), ordered(lr, other)
    if kind == "polynomial":
        return S.polynomial(lr, n, draw(st.floats(0.1, 5.0)), other), ordered(lr, other)
    if kind == "inverse_sqrt":
        return S.inverse_sqrt(lr, n), (0.0, lr)
    if kind == "restarts":
        s = S.cosine_restarts(lr, n, draw(st.floats(1.0, 3.0)), other, draw(st.floats(0.1, 1.0)))
        return s, ordered(lr, other)
    if kind == "cyclic":
        s = S.cyclic(
            lr,
            other,
            n,
            draw(st.none() | horizons),
            draw(st.sampled_from(["triangular", "triangular2", "exp_range"])),
            draw(gammas),
        )
        return s, ordered(lr, other)
    if kind == "one_cycle":
        three_phase = draw(st.booleans())
        s = S.one_cycle(
            lr,
            n,
            draw(st.floats(0.01, 0.5 if three_phase else 0.99)),
            draw(st.floats(1.0, 100.0)),
            draw(st.floats(1.0, 1e4)),
            draw(st.sampled_from(["cos", "linear"])),
            three_phase,
        )
        return s, (0.0, lr)
    if kind == "warmup":
        start = draw(rates)
        return S.warmup(S.cosine(lr, n, other), draw(st.integers(0, 1000)), start), ordered(lr, other, start)
    return S.join([S.constant(lr), S.cosine(other, n)], [draw(horizons)]), (0.0, max(lr, other))


@SETTINGS
@given(bounded(), steps_arrays)
def test_rates_stay_within_bounds(case, steps):
    schedule, (low, high) = case
    lr = schedule(steps)
    tol = 1e-12 * max(1.0, high)
    assert np.all(lr >= low - tol) and np.all(lr <= high + tol), (schedule, steps[np.argmax((lr < low) | (lr > high))])


@SETTINGS
@given(bounded(), steps_arrays)
def test_one_step_and_an_array_agree(case, steps):
    schedule, _ = case
    # NumPy's array power and Python's float power may round the last bit differently
    # (Polynomial with power 1/3 gave 0.13142460766371922 against 0.1314246076637191)
    np.testing.assert_allclose(schedule(steps), [schedule(int(k)) for k in steps], rtol=4 * np.finfo(float).eps, atol=0)


base_schedules = st.one_of(
    st.builds(S.cosine, rates, horizons, rates),
    st.builds(S.constant, rates),
    st.builds(S.exponential, rates, gammas),
    st.builds(S.inverse_sqrt, rates, horizons),
)


@SETTINGS
@given(base_schedules, st.integers(0, 10**4), rates)
def test_warmup_reaches_its_target_exactly(schedule, warmup_steps, start_lr):
    s = S.warmup(schedule, warmup_steps, start_lr)
    assert s(warmup_steps) == schedule(0)  # exactly, not approximately
    assert s(0) == (start_lr if warmup_steps else schedule(0))
    ramp = s(np.arange(warmup_steps + 1))  # a straight line in between
    np.testing.assert_allclose(ramp, np.linspace(start_lr, schedule(0), warmup_steps + 1), rtol=1e-12, atol=1e-15)
    assert s(warmup_steps + 17) == schedule(17)


@SETTINGS
@given(
    st.lists(base_schedules, min_size=2, max_size=4),
    st.lists(st.integers(1, 1000), min_size=3, max_size=3),
    st.integers(0, 500),
)
def test_each_part_of_a_join_runs_on_its_own_clock(parts, gaps, k):
    boundaries = np.cumsum(gaps[: len(parts) - 1]).tolist()
    s = S.join(parts, boundaries)
    starts = [0] + boundaries
    for part, start, end in zip(parts, starts, boundaries + [None]):
        if end is None or start + k < end:
            assert s(start + k) == part(k)


@SETTINGS
@given(positive_rates, positive_rates, st.integers(1, 2000), st.integers(1, 5000), rates)
def test_warmup_then_cosine_is_continuous(start_lr, peak_lr, warmup_steps, total_steps, min_lr):
    """Where a join claims continuity (each part ends where the next begins), no step jumps further than its slope."""
    s = S.join([S.linear(start_lr, peak_lr, warmup_steps), S.cosine(peak_lr, total_steps, min_lr)], [warmup_steps])
    lr = s(np.arange(warmup_steps + total_steps + 2))
    ramp = abs(peak_lr - start_lr) / warmup_steps
    cosine = abs(peak_lr - min_lr) * np.pi / (2 * total_steps)
    assert np.max(np.abs(np.diff(lr))) <= max(ramp, cosine) * (1 + 1e-9) + 1e-15
    # the cosine starts where the ramp ends, to the rounding of min_lr + (peak_lr - min_lr) * 1
    assert abs(s(warmup_steps) - peak_lr) <= 4 * np.finfo(float).eps * max(peak_lr, abs(min_lr))


@st.composite
def decaying(draw):
    """A schedule that must never increase (over all steps, or from the step returned on)."""
    kind = draw(
        st.sampled_from(
            ["step", "multistep", "exponential", "cosine", "polynomial", "linear", "inverse_sqrt", "one_cycle"]
        )
    )
    lr, n = draw(positive_rates), draw(horizons)
    low = draw(st.floats(0.0, 1.0)) * lr
    if kind == "step":
        return S.step_decay(lr, n, draw(gammas)), 0
    if kind == "multistep":
        return S.multistep(lr, sorted(draw(st.lists(st.integers(1, 5000), max_size=5))), draw(gammas)), 0
    if kind == "exponential":
        return S.exponential(lr, draw(gammas)), 0
    if kind == "cosine":
        return S.cosine(lr, n, low), 0
    if kind == "polynomial":
        return S.polynomial(lr, n, draw(st.floats(0.1, 5.0)), low), 0
    if kind == "linear":
        return S.linear(lr, low, n), 0
    if kind == "inverse_sqrt":
        return S.inverse_sqrt(lr, n), n
    s = S.one_cycle(lr, n, draw(st.floats(0.01, 0.99)), anneal_strategy=draw(st.sampled_from(["cos", "linear"])))
    return s, int(np.ceil(s.pct_start * n - 1))


@SETTINGS
@given(decaying())
def test_decaying_schedules_never_increase(case):
    schedule, start = case
    lr = schedule(np.arange(start, start + 6000))
    assert np.all(np.diff(lr) <= 0), schedule


@SETTINGS
@given(positive_rates, st.integers(1, 200), st.sampled_from([1, 2, 3, 1.5]), rates, st.floats(0.1, 1.0))
def test_restarts_decay_within_a_cycle_and_restart_at_the_decayed_peak(lr, cycle_steps, cycle_mult, min_lr, decay):
    s = S.cosine_restarts(lr, cycle_steps, cycle_mult, min(min_lr, lr), decay)
    for i in range(4):
        start = s.cycle_start(i)
        expected = s.min_lr + (lr - s.min_lr) * decay**i
        assert np.isclose(s(start), expected, rtol=1e-12)
        inside = np.arange(np.ceil(start), np.floor(s.cycle_start(i + 1) - 1e-9) + 1)
        assert np.all(np.diff(s(inside)) <= 0)
