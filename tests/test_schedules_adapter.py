"""attach (the torch adapter) and ReduceOnPlateau (the one stateful piece), on real torch optimizers.

The adapter must train exactly as PyTorch's own schedulers do, drive every parameter group
and momentum or beta1, and resume from its step alone whichever order things are built
and loaded in. The plateau controller must make ReduceLROnPlateau's decisions.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from torch.optim import lr_scheduler as tls

from lrcourse import schedules as S

STEPS = 40


def make_model(seed=0):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)).double()


def batch(k):
    g = torch.Generator().manual_seed(1000 + k)
    return torch.randn(8, 3, generator=g, dtype=torch.float64), torch.randn(8, 1, generator=g, dtype=torch.float64)


def train(model, opt, sched, steps, start=0):
    """``steps`` updates from step ``start``; returns the rate (and momentum) each update used."""
    used = []
    for k in range(start, start + steps):
        x, y = batch(k)
        opt.zero_grad()
        torch.nn.functional.mse_loss(model(x), y).backward()
        group = opt.param_groups[0]
        used.append((group["lr"], group["betas"][0] if "betas" in group else group.get("momentum")))
        opt.step()
        sched.step()
    return used


def params(model):
    return [p.detach().clone() for p in model.parameters()]


@pytest.mark.parametrize(
    "optimizer,ours,theirs,steps",
    [
        ("SGD", S.cosine(0.1, 20), lambda o: tls.CosineAnnealingLR(o, 20), 21),
        ("SGD", S.step_decay(0.1, 7, 0.5), lambda o: tls.StepLR(o, 7, 0.5), STEPS),
        ("Adam", S.exponential(0.01, 0.95), lambda o: tls.ExponentialLR(o, 0.95), STEPS),
    ],
)
def test_trains_like_torch_scheduler(optimizer, ours, theirs, steps):
    model_a, model_b = make_model(), make_model()
    opt_a = getattr(torch.optim, optimizer)(model_a.parameters(), lr=1.0)
    opt_b = getattr(torch.optim, optimizer)(model_b.parameters(), lr=ours(0))
    used_a = train(model_a, opt_a, S.attach(opt_a, ours), steps)
    used_b = train(model_b, opt_b, theirs(opt_b), steps)
    np.testing.assert_allclose([u[0] for u in used_a], [u[0] for u in used_b], rtol=1e-9, atol=0)
    for a, b in zip(params(model_a), params(model_b)):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)


@pytest.mark.parametrize("optimizer", ["SGD", "Adam"])
def test_one_cycle_with_momentum_trains_like_torch(optimizer):
    s = S.one_cycle(0.05, STEPS, pct_start=0.25)
    model_a, model_b = make_model(), make_model()
    kw = {"momentum": 0.9} if optimizer == "SGD" else {}
    opt_a = getattr(torch.optim, optimizer)(model_a.parameters(), lr=1.0, **kw)
    opt_b = getattr(torch.optim, optimizer)(model_b.parameters(), lr=0.05, **kw)
    used_a = train(model_a, opt_a, S.attach(opt_a, s, momentum=s.momentum), STEPS)
    used_b = train(model_b, opt_b, tls.OneCycleLR(opt_b, 0.05, STEPS, pct_start=0.25), STEPS)
    np.testing.assert_allclose(np.array(used_a), np.array(used_b), rtol=1e-9, atol=0)
    for a, b in zip(params(model_a), params(model_b)):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)


def two_group_optimizer(cls=torch.optim.SGD, **kw):
    model = make_model()
    return model, cls([{"params": model[0].parameters()}, {"params": model[2].parameters(), "lr": 0.5}], lr=1.0, **kw)


def test_one_schedule_per_group_or_one_for_all():
    _, opt = two_group_optimizer(momentum=0.9)
    sched = S.attach(opt, [S.constant(0.1), S.exponential(0.2, 0.5)], momentum=[S.constant(0.9), S.linear(0.5, 0.9, 2)])
    assert sched.get_last_lr() == [0.1, 0.2] and sched.get_last_momentum() == [0.9, 0.5]
    opt.step()
    sched.step()
    assert sched.get_last_lr() == [0.1, 0.1] and sched.get_last_momentum() == [0.9, 0.7]
    _, opt = two_group_optimizer(torch.optim.Adam)
    sched = S.attach(opt, S.cosine(0.1, 10), momentum=S.constant(0.8))
    assert sched.get_last_lr() == [0.1, 0.1]
    assert [g["betas"] for g in opt.param_groups] == [(0.8, 0.999)] * 2


def test_plain_callables_drive_an_optimizer():
    _, opt = two_group_optimizer()
    sched = S.attach(opt, [lambda step: 0.1 / (1 + step), S.constant(0.3)])
    for _ in range(3):
        opt.step()
        sched.step()
    assert sched.get_last_lr() == [0.025, 0.3]


def test_bad_attachments_name_the_argument():
    _, opt = two_group_optimizer()
    with pytest.raises(ValueError, match="schedule"):
        S.attach(opt, [S.constant(0.1)])
    with pytest.raises(ValueError, match="momentum"):
        S.attach(opt, S.constant(0.1), momentum=[S.constant(0.9)] * 3)
    with pytest.raises(ValueError, match="momentum"):
        S.attach(torch.optim.Adagrad(make_model().parameters()), S.constant(0.1), momentum=S.constant(0.9))
    with pytest.raises(TypeError, match="schedule"):
        S.attach(opt, 0.1)


@pytest.mark.parametrize("order", ["optimizer first", "scheduler first", "built after loading"])
def test_resume_gives_identical_rates_in_any_order(order):
    s = S.warmup(S.cosine(0.05, 30), 10)
    model, opt = two_group_optimizer(torch.optim.Adam)
    sched = S.attach(opt, [s, S.step_decay(0.01, 5, 0.5)], momentum=S.cyclic(0.0, 1.0, 4).momentum)
    whole = train(model, opt, sched, STEPS)
    final = params(model)

    model, opt = two_group_optimizer(torch.optim.Adam)
    sched = S.attach(opt, [s, S.step_decay(0.01, 5, 0.5)], momentum=S.cyclic(0.0, 1.0, 4).momentum)
    first = train(model, opt, sched, 17)
    buffer = io.BytesIO()
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    assert saved["sched"] == {"step": 17}

    model, opt = two_group_optimizer(torch.optim.Adam)
    model.load_state_dict(saved["model"])
    if order == "built after loading":
        opt.load_state_dict(saved["opt"])
    sched = S.attach(opt, [s, S.step_decay(0.01, 5, 0.5)], momentum=S.cyclic(0.0, 1.0, 4).momentum)
    if order == "optimizer first":
        opt.load_state_dict(saved["opt"])
        sched.load_state_dict(saved["sched"])
    else:
        sched.load_state_dict(saved["sched"])
        if order == "scheduler first":
            opt.load_state_dict(saved["opt"])
    rest = train(model, opt, sched, STEPS - 17, start=17)
    assert first + rest == whole
    for a, b in zip(params(model), final):
        assert torch.equal(a, b)


PLATEAU_CONFIGS = [
    {},
    dict(mode="max", factor=0.5, patience=3, threshold=0.01),
    dict(factor=0.5, patience=0, cooldown=2, min_lr=1e-3),
    dict(factor=0.2, patience=2, threshold=0.1, threshold_mode="abs", cooldown=1),
    dict(mode="max", factor=0.9, patience=1, threshold_mode="abs", threshold=0.0, min_lr=0.05),
]


@pytest.mark.parametrize("config", PLATEAU_CONFIGS)
@pytest.mark.parametrize("seed", [0, 1])
def test_plateau_decides_like_torch(config, seed):
    rng = np.random.default_rng(seed)
    metrics = np.exp(-np.linspace(0, 3, 300)) + rng.normal(0, 0.05, 300)  # improves, then plateaus in noise
    metrics = -metrics if config.get("mode") == "max" else metrics
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=0.1)
    theirs = tls.ReduceLROnPlateau(opt, **config)
    plateau = S.ReduceOnPlateau(**config)
    lr = plateau.scaled(S.constant(0.1))
    cuts = 0
    for m in metrics:
        cuts += plateau.update(m)
        theirs.step(m)
        assert lr(0) == pytest.approx(opt.param_groups[0]["lr"], rel=1e-12)
        assert (plateau.best, plateau.num_bad, plateau.cooldown_counter) == (
            theirs.best,
            theirs.num_bad_epochs,
            theirs.cooldown_counter,
        )
    assert cuts == plateau.num_reductions > 0


def test_plateau_scales_any_schedule_and_resumes():
    plateau = S.ReduceOnPlateau(factor=0.5, patience=1, min_lr=1e-3)
    lr = plateau.scaled(S.warmup(S.cosine(0.1, 100), 10))
    for m in (1.0, 1.0, 1.0):
        plateau.update(m)
    assert plateau.num_reductions == 1 and lr(50) == 0.5 * S.warmup(S.cosine(0.1, 100), 10)(50)
    assert lr(0) == 0.0 and lr(200) == 0.0  # a base below min_lr is not lifted to it
    state = plateau.state_dict()
    again = S.ReduceOnPlateau(factor=0.5, patience=1, min_lr=1e-3)
    again.load_state_dict(state)
    rest = [1.0, 0.5, 0.6, 0.7, 0.8]
    assert [plateau.update(m) for m in rest] == [again.update(m) for m in rest]
    assert again.state_dict() == plateau.state_dict()


def test_plateau_stops_where_a_cut_is_below_eps():
    """As in PyTorch: once a cut would change the rate by less than eps, the rate stays."""
    plateau = S.ReduceOnPlateau(patience=0, eps=1e-3)
    for m in (1.0,) + (2.0,) * 5:
        plateau.update(m)
    assert plateau.num_reductions == 5
    assert plateau.scaled(S.constant(0.1))(0) == pytest.approx(1e-3)  # 0.1 -> 0.01 -> 0.001, then cuts < eps
    assert plateau.scaled(S.constant(1e-4))(0) == 1e-4  # a rate this small is never cut


@pytest.mark.parametrize("bad", [-0.1, float("nan"), float("inf")])
def test_a_rate_that_is_not_finite_and_non_negative_is_refused(bad):
    _, opt = two_group_optimizer()
    with pytest.raises(ValueError, match=r"schedule .* step 0"):
        S.attach(opt, lambda step: bad)
    assert [g["lr"] for g in opt.param_groups] == [1.0, 0.5]  # nothing written
    sched = S.attach(opt, lambda step: bad if step == 2 else 0.01)
    opt.step()
    sched.step()
    with pytest.raises(ValueError, match=r"step 2"):
        sched.step()
    assert [g["lr"] for g in opt.param_groups] == [0.01, 0.01] and sched.state_dict() == {"step": 1}


def test_a_tensor_rate_is_moved_in_place_as_torch_schedulers_do():
    theta = torch.nn.Parameter(torch.zeros(2))
    lr = torch.tensor(1.0)
    opt = torch.optim.SGD([theta], lr=lr)
    sched = S.attach(opt, S.exponential(0.1, 0.5))
    opt.step()
    sched.step()
    assert opt.param_groups[0]["lr"] is lr and lr.item() == pytest.approx(0.05)
    assert sched.get_last_lr() == [pytest.approx(0.05)] and isinstance(sched.get_last_lr()[0], float)


def test_a_group_added_later_follows_a_shared_schedule_from_the_next_step():
    model = make_model()
    opt = torch.optim.SGD(model[0].parameters(), lr=1.0, momentum=0.5)
    sched = S.attach(opt, S.exponential(0.1, 0.5), momentum=S.constant(0.9))
    opt.step()
    sched.step()
    opt.add_param_group({"params": model[2].parameters(), "lr": 0.3})  # a backbone unfrozen mid-run
    assert opt.param_groups[1]["lr"] == 0.3  # its own rate until the scheduler next steps
    opt.step()
    sched.step()
    assert sched.get_last_lr() == [pytest.approx(0.025)] * 2 and sched.get_last_momentum() == [0.9, 0.9]


def test_a_group_added_later_keeps_its_rate_under_per_group_schedules():
    model = make_model()
    opt = torch.optim.SGD(model[0].parameters(), lr=1.0)
    sched = S.attach(opt, [S.exponential(0.1, 0.5)])
    opt.add_param_group({"params": model[2].parameters(), "lr": 0.3})
    for _ in range(2):
        opt.step()
        sched.step()
    assert sched.get_last_lr() == [pytest.approx(0.025), 0.3]
    assert sched.state_dict() == {"step": 2}


def test_extra_schedules_any_group_key_and_names_a_typo():
    _, opt = two_group_optimizer(weight_decay=0.0)
    sched = S.attach(opt, S.constant(0.1), extra={"weight_decay": [S.constant(0.0), S.linear(0.0, 0.1, 10)]})
    for _ in range(5):
        opt.step()
        sched.step()
    assert [g["weight_decay"] for g in opt.param_groups] == [0.0, pytest.approx(0.05)]
    with pytest.raises(ValueError, match=r"extra: 'weight_decya' is not a hyperparameter of group 0"):
        S.attach(opt, S.constant(0.1), extra={"weight_decya": S.constant(0.1)})
    with pytest.raises(ValueError, match=r"extra: schedule 'momentum' with its own argument"):
        S.attach(opt, S.constant(0.1), extra={"momentum": S.constant(0.1)})
    with pytest.raises(ValueError, match=r"weight_decay .* step 0"):
        S.attach(opt, S.constant(0.1), extra={"weight_decay": lambda step: -1.0})
