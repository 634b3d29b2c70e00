"""lrcourse.schedules against its oracle, torch.optim.lr_scheduler: one table of configurations through both.

Each configuration builds our schedule and PyTorch's scheduler on an SGD optimizer, steps
PyTorch's the usual way (``optimizer.step()`` then ``scheduler.step()``) and compares the
rate at every step, to a relative 1e-9, over thousands of steps. Where we differ on purpose,
after the horizon, a test below shows how.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as tls

from lrcourse import schedules as S

STEPS = 3000
RTOL = 1e-9


def torch_rates(make, steps, lr=0.1, optimizer="sgd", momentum=False):
    """Rates (and momenta) PyTorch's scheduler sets at steps 0 .. steps - 1."""
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.Adam([param], lr=lr) if optimizer == "adam" else torch.optim.SGD([param], lr=lr, momentum=0.9)
    sched = make(opt)
    group, rates, momenta = opt.param_groups[0], [], []
    for _ in range(steps):
        rates.append(group["lr"])
        momenta.append(group["betas"][0] if optimizer == "adam" else group["momentum"])
        opt.step()
        sched.step()
    return (np.array(rates), np.array(momenta)) if momentum else np.array(rates)


# (ours, torch's scheduler given the optimizer, optimizer lr, steps compared)
CONFIGS = {
    "step 30 x0.1": (S.step_decay(0.1, step_size=30), lambda o: tls.StepLR(o, 30), 0.1, STEPS),
    "step 7 x0.5": (S.step_decay(1.0, step_size=7, gamma=0.5), lambda o: tls.StepLR(o, 7, gamma=0.5), 1.0, 600),
    "step 1 x0.999": (S.step_decay(0.3, 1, gamma=0.999), lambda o: tls.StepLR(o, 1, gamma=0.999), 0.3, STEPS),
    "multistep": (S.multistep(0.1, [30, 80]), lambda o: tls.MultiStepLR(o, [30, 80]), 0.1, STEPS),
    "multistep repeated": (
        S.multistep(1.0, [5, 5, 100, 1500], gamma=0.5),
        lambda o: tls.MultiStepLR(o, [5, 5, 100, 1500], gamma=0.5),
        1.0,
        STEPS,
    ),
    "multistep at 1": (S.multistep(0.2, [1], gamma=0.9), lambda o: tls.MultiStepLR(o, [1], gamma=0.9), 0.2, 100),
    "exponential 0.999": (S.exponential(0.1, 0.999), lambda o: tls.ExponentialLR(o, 0.999), 0.1, STEPS),
    "exponential 0.99": (S.exponential(1.0, 0.99), lambda o: tls.ExponentialLR(o, 0.99), 1.0, STEPS),
    "exponential 1": (S.exponential(0.05, 1.0), lambda o: tls.ExponentialLR(o, 1.0), 0.05, 500),
    "cosine": (S.cosine(0.1, 2999), lambda o: tls.CosineAnnealingLR(o, 2999), 0.1, 3000),
    "cosine floor": (S.cosine(0.1, 2000, min_lr=1e-4), lambda o: tls.CosineAnnealingLR(o, 2000, 1e-4), 0.1, 2001),
    "cosine short": (S.cosine(1.0, 7, min_lr=0.01), lambda o: tls.CosineAnnealingLR(o, 7, 0.01), 1.0, 8),
    "polynomial": (S.polynomial(0.1, 1000), lambda o: tls.PolynomialLR(o, 1000), 0.1, STEPS),
    "polynomial 0.5": (S.polynomial(0.1, 2500, power=0.5), lambda o: tls.PolynomialLR(o, 2500, 0.5), 0.1, STEPS),
    "polynomial 2": (S.polynomial(1.0, 10, power=2.0), lambda o: tls.PolynomialLR(o, 10, 2.0), 1.0, 50),
    "linear up": (S.linear(0.01, 0.1, 100), lambda o: tls.LinearLR(o, 0.1, 1.0, 100), 0.1, 500),
    "linear down": (S.linear(0.5, 0.1, 2000), lambda o: tls.LinearLR(o, 1.0, 0.2, 2000), 0.5, STEPS),
    "restarts": (S.cosine_restarts(0.1, 10), lambda o: tls.CosineAnnealingWarmRestarts(o, 10), 0.1, STEPS),
    "restarts x2": (
        S.cosine_restarts(0.1, 50, cycle_mult=2, min_lr=1e-3),
        lambda o: tls.CosineAnnealingWarmRestarts(o, 50, 2, 1e-3),
        0.1,
        STEPS,
    ),
    "restarts x3": (
        S.cosine_restarts(1.0, 7, cycle_mult=3),
        lambda o: tls.CosineAnnealingWarmRestarts(o, 7, 3),
        1.0,
        STEPS,
    ),
    "one cycle": (S.one_cycle(0.1, 3000), lambda o: tls.OneCycleLR(o, 0.1, 3000), 0.1, 3000),
    "one cycle linear": (
        S.one_cycle(1.0, 2000, pct_start=0.25, anneal_strategy="linear", div_factor=10.0),
        lambda o: tls.OneCycleLR(o, 1.0, 2000, pct_start=0.25, anneal_strategy="linear", div_factor=10.0),
        1.0,
        2000,
    ),
    "one cycle three": (
        S.one_cycle(0.5, 2500, pct_start=0.4, three_phase=True, final_div_factor=100.0),
        lambda o: tls.OneCycleLR(o, 0.5, 2500, pct_start=0.4, three_phase=True, final_div_factor=100.0),
        0.5,
        2500,
    ),
    "one cycle tiny": (S.one_cycle(0.1, 7, pct_start=0.5), lambda o: tls.OneCycleLR(o, 0.1, 7, pct_start=0.5), 0.1, 7),
    "cyclic": (S.cyclic(0.01, 0.1, 100), lambda o: tls.CyclicLR(o, 0.01, 0.1, 100), 0.1, STEPS),
    "cyclic uneven": (
        S.cyclic(0.001, 0.1, 30, step_size_down=170),
        lambda o: tls.CyclicLR(o, 0.001, 0.1, 30, step_size_down=170),
        0.1,
        STEPS,
    ),
    "cyclic triangular2": (
        S.cyclic(0.01, 0.1, 150, mode="triangular2"),
        lambda o: tls.CyclicLR(o, 0.01, 0.1, 150, mode="triangular2"),
        0.1,
        STEPS,
    ),
    "cyclic exp_range": (
        S.cyclic(0.01, 0.1, 200, mode="exp_range", gamma=0.999),
        lambda o: tls.CyclicLR(o, 0.01, 0.1, 200, mode="exp_range", gamma=0.999),
        0.1,
        STEPS,
    ),
    # a warmup is LinearLR then the schedule, what PyTorch users assemble with SequentialLR
    "warmup constant": (
        S.warmup(S.constant(0.1), 100, start_lr=0.001),
        lambda o: tls.LinearLR(o, 0.01, 1.0, 100),
        0.1,
        500,
    ),
    "warmup cosine": (
        S.warmup(S.cosine(0.1, 2000), 500, start_lr=0.01),
        lambda o: tls.SequentialLR(
            o, [tls.LinearLR(o, 0.1, 1.0, 500), tls.CosineAnnealingLR(o, 2000)], milestones=[500]
        ),
        0.1,
        2501,
    ),
}


@pytest.mark.parametrize("name", CONFIGS)
def test_matches_torch(name):
    ours, make, lr, steps = CONFIGS[name]
    theirs = torch_rates(make, steps, lr=lr)
    np.testing.assert_allclose(ours(np.arange(steps)), theirs, rtol=RTOL, atol=0)


@pytest.mark.parametrize("name", ["step 7 x0.5", "cosine short", "restarts x3", "one cycle tiny", "cyclic"])
def test_one_step_equals_many(name):
    ours = CONFIGS[name][0]
    steps = CONFIGS[name][3]
    assert [ours(k) for k in range(steps)] == ours(np.arange(steps)).tolist()
    assert all(isinstance(ours(k), float) for k in (0, np.int64(3)))


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("three_phase", [False, True])
def test_one_cycle_momentum_matches_torch(optimizer, three_phase):
    ours = S.one_cycle(0.1, 1000, pct_start=0.3, three_phase=three_phase, base_momentum=0.8, max_momentum=0.9)
    rates, momenta = torch_rates(
        lambda o: tls.OneCycleLR(o, 0.1, 1000, three_phase=three_phase, base_momentum=0.8, max_momentum=0.9),
        1000,
        optimizer=optimizer,
        momentum=True,
    )
    steps = np.arange(1000)
    np.testing.assert_allclose(ours(steps), rates, rtol=RTOL, atol=0)
    np.testing.assert_allclose(ours.momentum(steps), momenta, rtol=RTOL, atol=0)


@pytest.mark.parametrize("mode", ["triangular", "triangular2", "exp_range"])
def test_cyclic_momentum_matches_torch(mode):
    ours = S.cyclic(0.01, 0.1, 40, step_size_down=60, mode=mode, gamma=0.99)
    rates, momenta = torch_rates(
        lambda o: tls.CyclicLR(o, 0.01, 0.1, 40, 60, mode=mode, gamma=0.99), 1000, momentum=True
    )
    np.testing.assert_allclose(ours(np.arange(1000)), rates, rtol=RTOL, atol=0)
    np.testing.assert_allclose(ours.momentum(np.arange(1000)), momenta, rtol=RTOL, atol=0)


def test_cosine_holds_the_floor_where_torch_climbs_back():
    """On purpose: after total_steps our cosine stays at min_lr; PyTorch's is periodic."""
    ours = S.cosine(0.1, 100, min_lr=0.001)
    theirs = torch_rates(lambda o: tls.CosineAnnealingLR(o, 100, 0.001), 300)
    np.testing.assert_allclose(ours(np.arange(101)), theirs[:101], rtol=RTOL)
    assert np.all(ours(np.arange(100, 300)) == 0.001)
    assert theirs[200] == pytest.approx(0.1)  # PyTorch's is back at the peak after 2 T_max


def test_one_cycle_holds_the_floor_where_torch_extrapolates_then_raises():
    """On purpose: our one cycle holds its final rate after step total_steps - 1."""
    ours = S.one_cycle(0.1, 100)
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=0.1, momentum=0.9)
    sched = tls.OneCycleLR(opt, 0.1, 100)
    for _ in range(100):
        opt.step()
        sched.step()  # now at step 100, one past the last
    assert opt.param_groups[0]["lr"] > ours(99)  # PyTorch extrapolates the cosine
    with pytest.raises(ValueError, match="Tried to step"):
        opt.step()
        sched.step()
    floor = 0.1 / 25 / 1e4
    assert ours(99) == pytest.approx(floor, rel=1e-12)
    assert np.all(ours(np.array([100, 101, 10**9])) == ours(99))


def test_polynomial_with_end_lr_is_shifted_torch():
    """end_lr is our addition: the same curve, squeezed into [end_lr, lr]."""
    ours = S.polynomial(0.1, 1000, power=2.0, end_lr=0.01)
    theirs = torch_rates(lambda o: tls.PolynomialLR(o, 1000, 2.0), 1500, lr=0.09)
    np.testing.assert_allclose(ours(np.arange(1500)), 0.01 + theirs, rtol=RTOL)


def test_real_cycle_mult_and_decay():
    """Beyond PyTorch: cycles of length 10 * 1.5**i, peaks 0.1 * 0.5**i."""
    s = S.cosine_restarts(0.1, 10, cycle_mult=1.5, decay=0.5)
    starts = [0.0, 10.0, 25.0, 47.5, 81.25]
    for i, start in enumerate(starts):
        assert s(start) == pytest.approx(0.1 * 0.5**i, rel=1e-12)  # a restart, at its peak
        if i:
            assert s(start - 1e-6) < 1e-9  # just before it, at the floor
    assert s(47) < 1e-4 < s(48) == pytest.approx(0.1 * 0.5**3, rel=1e-2)  # the restart falls between steps
    # integer multiples land restarts on whole steps, as in PyTorch
    assert S.cosine_restarts(0.1, 10, cycle_mult=2.0)(np.array([10, 30, 70])).tolist() == [0.1, 0.1, 0.1]


def test_inverse_sqrt_is_the_transformer_schedule():
    """No PyTorch oracle here: the paper's d^-1/2 min(t^-1/2, t w^-3/2), rescaled to peak at lr."""
    d_model, w = 512, 4000
    t = np.arange(1, 100_000)
    paper = d_model**-0.5 * np.minimum(t**-0.5, t * w**-1.5)
    ours = S.inverse_sqrt(paper.max(), w)
    np.testing.assert_allclose(ours(t), paper, rtol=1e-12)
    assert ours(0) == 0.0 and ours(w) == paper.max()
