"""Warmup-stable-decay (lrcourse.schedules.wsd) against the issue's formula, and its branched cooldowns.

The oracle is the formula written out once more, step by step in plain Python (``math``, no
NumPy): linear warmup, the stable rate, then min_lr + (peak_lr - min_lr) k(f) with
f = (t - warmup_steps - stable_steps) / decay_steps and k = 1 - f, (1 + cos pi f) / 2 or
1 - sqrt f, then min_lr. The branching helper is checked against separate runs from scratch.
"""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from lrcourse import schedules as S

SHAPES = {
    "linear": lambda f: 1 - f,
    "cosine": lambda f: (1 + math.cos(math.pi * f)) / 2,
    "1-sqrt": lambda f: 1 - math.sqrt(f),
}


def formula(t, peak_lr, warmup_steps, stable_steps, decay_steps, decay="linear", min_lr=0.0):
    """The issue's definition, one step at a time."""
    if t < warmup_steps:
        return peak_lr * t / warmup_steps
    if t < warmup_steps + stable_steps:
        return peak_lr
    f = min((t - warmup_steps - stable_steps) / decay_steps, 1.0)
    return min_lr + (peak_lr - min_lr) * SHAPES[decay](f)


CONFIGS = [
    (1.0, 10, 50, 20, "linear", 0.0),
    (3e-4, 100, 700, 200, "cosine", 3e-5),
    (0.1, 5, 30, 17, "1-sqrt", 0.0),
    (0.1, 0, 30, 10, "1-sqrt", 0.01),  # no warmup
    (0.5, 8, 0, 8, "cosine", 0.0),  # no stable phase: straight from the warmup into the cooldown
    (2.0, 3, 4, 1, "linear", 0.5),  # a one-step cooldown
    (0.01, 2, 3, 9, "linear", 0.02),  # min_lr above peak_lr: the "cooldown" rises, as the formula says
]
IDS = [f"{decay}-w{w}-s{s}-d{d}-min{m}" for _, w, s, d, decay, m in CONFIGS]


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_equals_the_formula_at_every_step(config):
    peak_lr, w, s, d, decay, min_lr = config
    schedule = S.wsd(peak_lr, w, s, d, decay=decay, min_lr=min_lr)
    steps = np.arange(w + s + d + 25)
    expected = [formula(int(t), peak_lr, w, s, d, decay, min_lr) for t in steps]
    np.testing.assert_allclose(schedule(steps), expected, rtol=1e-14, atol=1e-15 * peak_lr)
    for t in steps:
        assert schedule(int(t)) == pytest.approx(expected[t], rel=1e-14, abs=1e-15 * peak_lr)


@pytest.mark.parametrize("config", CONFIGS, ids=IDS)
def test_phases_meet_exactly(config):
    peak_lr, w, s, d, decay, min_lr = config
    schedule = S.wsd(peak_lr, w, s, d, decay=decay, min_lr=min_lr)
    assert schedule(0) == (peak_lr if w == 0 else 0.0)
    assert schedule(w) == peak_lr and schedule(w + s) == peak_lr  # the warmup's end, the cooldown's start
    assert schedule(w + s + d) == min_lr and schedule(10**9) == min_lr and schedule.total_steps == w + s + d


def test_warmup_and_stable_phases_are_the_packages_warmup():
    """The same convention as lrcourse.schedules.warmup: 0 at step 0, peak_lr at step warmup_steps."""
    schedule, steps = S.wsd(0.3, 7, 20, 10), np.arange(27)
    assert schedule(steps).tolist() == S.warmup(S.constant(0.3), 7)(steps).tolist()


def test_equals_the_book_s_joined_schedule():
    """book/dynamic/custom_schedules builds warmup-stable-decay by joining warmup, constant and linear."""
    total, peak = 1000, 0.1
    warm, decay = total // 20, total // 5
    joined = S.warmup(S.join([S.constant(peak), S.linear(peak, 0.0, decay)], [total - warm - decay]), warm)
    steps = np.arange(total + 50)
    np.testing.assert_allclose(S.wsd(peak, warm, total - warm - decay, decay)(steps), joined(steps), rtol=1e-15, atol=0)


def test_the_three_shapes_at_half_way():
    half = {decay: S.wsd(1.0, 0, 0, 100, decay=decay)(50) for decay in SHAPES}
    assert half == pytest.approx({"linear": 0.5, "cosine": 0.5, "1-sqrt": 1 - math.sqrt(0.5)}, rel=1e-15)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    peak_lr=st.floats(1e-6, 10.0),
    fraction=st.floats(0.0, 1.0),
    phases=st.tuples(st.integers(0, 500), st.integers(0, 500), st.integers(1, 500)),
    decay=st.sampled_from(sorted(SHAPES)),
)
def test_rises_then_never_increases_and_stays_within_its_bounds(peak_lr, fraction, phases, decay):
    w, s, d = phases
    min_lr = fraction * peak_lr
    rates = S.wsd(peak_lr, w, s, d, decay=decay, min_lr=min_lr)(np.arange(w + s + d + 5))
    assert np.all(np.diff(rates[: w + 1]) >= 0) and np.all(np.diff(rates[w:]) <= 0)
    assert np.all((rates >= 0) & (rates <= peak_lr)) and np.all(rates[w:] >= min_lr)


def test_pickles_and_is_frozen():
    schedule = S.wsd(0.1, 10, 80, 10, decay="1-sqrt", min_lr=0.001)
    again = pickle.loads(pickle.dumps(schedule))
    assert again == schedule and again(np.arange(120)).tolist() == schedule(np.arange(120)).tolist()
    with pytest.raises(AttributeError):
        schedule.peak_lr = 1.0


BAD = [
    (dict(peak_lr=-0.1), "peak_lr"),
    (dict(peak_lr=float("nan")), "peak_lr"),
    (dict(warmup_steps=-1), "warmup_steps"),
    (dict(warmup_steps=2.5), "warmup_steps"),
    (dict(stable_steps=-1), "stable_steps"),
    (dict(decay_steps=0), "decay_steps"),
    (dict(decay="sqrt"), "decay"),
    (dict(min_lr=-1e-3), "min_lr"),
]


@pytest.mark.parametrize(("bad", "name"), BAD, ids=[name for _, name in BAD])
def test_bad_input_raises_value_error_naming_the_argument(bad, name):
    kwargs = dict(peak_lr=0.1, warmup_steps=10, stable_steps=80, decay_steps=10)
    with pytest.raises(ValueError, match=rf"^{name} must"):
        S.wsd(**{**kwargs, **bad})


def test_attach_drives_a_torch_optimizer_with_it():
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
    schedule = S.wsd(0.1, 2, 3, 4, decay="cosine")
    scheduler = S.attach(opt, schedule)
    seen = []
    for _ in range(12):
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    assert seen == schedule(np.arange(12)).tolist()


# --- branched cooldowns ------------------------------------------------------------------------


def test_the_plan_branches_each_horizon_at_its_last_fraction():
    plan = S.cooldown_branches(0.1, warmup_steps=10, horizons=[1000, 250, 500], decay_fraction=0.2, decay="1-sqrt")
    assert [(b.branch_step, b.total_steps) for b in plan.branches] == [(200, 250), (400, 500), (800, 1000)]
    assert plan.checkpoints == (200, 400, 800)
    for branch in plan.branches:
        cooldown = branch.total_steps - branch.branch_step
        assert branch.schedule == S.wsd(0.1, 10, branch.branch_step - 10, cooldown, "1-sqrt")
        before = np.arange(branch.branch_step + 1)  # up to and including the branch step: the main run's rates
        assert branch.schedule(before).tolist() == plan.main(before).tolist()
        assert branch.schedule(branch.total_steps) == 0.0


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(horizons=[]), "horizons"),
        (dict(horizons=[0]), "horizons"),
        (dict(horizons=[11]), "horizons"),  # its cooldown (2 steps) would start inside the warmup of 10
        (dict(horizons=[100], decay_fraction=0.0), "decay_fraction"),
        (dict(horizons=[100], decay_fraction=1.5), "decay_fraction"),
        (dict(horizons=[100], decay="step"), "decay"),
    ],
)
def test_bad_plans_raise_value_error_naming_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=rf"^{name}"):
        S.cooldown_branches(0.1, warmup_steps=10, **kwargs)


def batch(step):
    """The data of update ``step``: the same in every run that makes that update."""
    generator = torch.Generator().manual_seed(1000 + step)
    x = torch.randn(16, 3, generator=generator, dtype=torch.float64)
    return x, x.sum(1, keepdim=True).sin()


def train_step(model, opt, step):
    x, y = batch(step)
    opt.zero_grad()
    ((model(x) - y) ** 2).mean().backward()
    opt.step()


def fresh(optimizer):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1)).double()
    return model, optimizer(model.parameters())


OPTIMIZERS = {
    "SGD-momentum": lambda params: torch.optim.SGD(params, lr=1.0, momentum=0.9),
    "AdamW": lambda params: torch.optim.AdamW(params, lr=1.0, weight_decay=0.1),
}


def loss(model):
    x, y = batch(-1)
    with torch.no_grad():
        return float(((model(x) - y) ** 2).mean())


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
def test_each_branch_is_the_run_from_scratch_bit_for_bit(optimizer):
    peak_lr = 0.05 if optimizer == "SGD-momentum" else 0.01
    plan = S.cooldown_branches(peak_lr, warmup_steps=5, horizons=[20, 40, 60], decay="1-sqrt")
    model, opt = fresh(OPTIMIZERS[optimizer])
    results = S.run_cooldowns(plan, model, opt, train_step, loss)
    assert sorted(results) == [20, 40, 60]
    for branch in plan.branches:  # a separate run under the branch's whole schedule
        alone, opt_alone = fresh(OPTIMIZERS[optimizer])
        scheduler = S.attach(opt_alone, branch.schedule)
        for step in range(branch.total_steps):
            train_step(alone, opt_alone, step)
            scheduler.step()
        assert results[branch.total_steps] == loss(alone)
    main, opt_main = fresh(OPTIMIZERS[optimizer])  # the main run stops at the last checkpoint, at peak_lr
    scheduler = S.attach(opt_main, plan.main)
    for step in range(plan.checkpoints[-1]):
        train_step(main, opt_main, step)
        scheduler.step()
    assert all(torch.equal(p, q) for p, q in zip(model.parameters(), main.parameters()))


def test_branches_sharing_a_checkpoint_each_get_their_own_copy():
    plan = S.CooldownPlan(
        S.warmup(S.constant(0.05), 2),
        tuple(S.Branch(10, 10 + d, S.wsd(0.05, 2, 8, d)) for d in (3, 6)),
    )
    model, opt = fresh(OPTIMIZERS["SGD-momentum"])
    results = S.run_cooldowns(plan, model, opt, train_step, loss)
    assert plan.checkpoints == (10,) and set(results) == {13, 16} and results[13] != results[16]
