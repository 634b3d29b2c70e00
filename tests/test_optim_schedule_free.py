"""SGDScheduleFree and AdamWScheduleFree against their oracle, PyPI schedulefree (1.4.1): one table of configurations.

The run is tests/test_optim.py's (two groups at different rates, a step with no gradients, a
frozen parameter, a zero-size parameter, the rate halved mid-run), with a visit to eval mode
in the middle, as when a run is evaluated. Parameters, every state tensor (``z``, ``v``) and
the groups' averaging numbers must agree to 1e-9 in float64, in train mode (the parameters
hold y) and after ``eval()`` (they hold x). They agree to the last bit: the same operations.
"""

from __future__ import annotations

import copy
import inspect
import io
import itertools

import numpy as np
import pytest
import reference_runs
import schedulefree
import torch
from reference_runs import make_optimizer, steps
from test_optim import DEVICES, STEPS, make_problem, train
from torch import nn

from lrcourse import interop
from lrcourse.optim import AdamWScheduleFree, SGDScheduleFree
from lrcourse.optim.schedule_free import recompute_batchnorm

CLASSES = {"SGDScheduleFree": SGDScheduleFree, "AdamWScheduleFree": AdamWScheduleFree}
CONFIGS = [
    ("SGDScheduleFree", {}),
    ("SGDScheduleFree", dict(lr=0.1)),
    ("SGDScheduleFree", dict(lr=0.1, momentum=0.5, weight_decay=0.01)),
    ("SGDScheduleFree", dict(lr=0.1, warmup_steps=5)),
    ("SGDScheduleFree", dict(lr=0.05, warmup_steps=40)),  # the run ends inside the warmup
    ("SGDScheduleFree", dict(lr=0.1, r=1.0, weight_lr_power=1.0)),
    ("SGDScheduleFree", dict(lr=0.1, weight_lr_power=0.0, momentum=0.95)),
    ("AdamWScheduleFree", {}),
    ("AdamWScheduleFree", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6)),
    ("AdamWScheduleFree", dict(lr=0.01, weight_decay=0.1)),
    ("AdamWScheduleFree", dict(lr=0.01, warmup_steps=5, weight_decay=0.01)),
    ("AdamWScheduleFree", dict(lr=0.01, r=0.5, weight_lr_power=0.0)),
    ("AdamWScheduleFree", dict(lr=0.02, betas=(0.95, 0.9), warmup_steps=10, r=2.0)),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'defaults'}" for name, kw in CONFIGS]
STATE_NAMES = {"z": "z", "exp_avg_sq": "v"}  # schedulefree's -> ours
GROUP_NUMBERS = ["k", "weight_sum", "lr_max", "scheduled_lr", "train_mode", "lr"]
EVAL_AT = 8  # both visit eval mode after this many steps, then train on
TOL = 1e-9


def run(cls, kwargs, device, dtype, steps=STEPS, **extra):
    net, x, y = make_problem(device, dtype)
    opt = make_optimizer(cls, {**kwargs, **extra}, net)
    opt.train()
    train(opt, net, x, y, EVAL_AT)
    opt.eval()
    opt.train()
    train(opt, net, x, y, steps - EVAL_AT, start=EVAL_AT)
    return net, opt


def run_both(name, kwargs, device, dtype, foreach=True):
    oracle = run(getattr(schedulefree, name), kwargs, device, dtype, foreach=foreach)
    return run(CLASSES[name], kwargs, device, dtype), oracle


def assert_matches(mine, oracle, tol):
    (net, opt), (net_t, opt_t) = mine, oracle
    for group, group_t in zip(opt.param_groups, opt_t.param_groups):
        assert {k: group[k] for k in GROUP_NUMBERS} == pytest.approx({k: group_t[k] for k in GROUP_NUMBERS}, rel=tol)
    for p, p_t in zip(net.parameters(), net_t.parameters()):
        torch.testing.assert_close(p, p_t, atol=tol, rtol=tol)
        state, state_t = opt.state.get(p, {}), opt_t.state.get(p_t, {})
        assert set(state) == {STATE_NAMES[k] for k in state_t}
        for key_t, value_t in state_t.items():
            value = state[STATE_NAMES[key_t]]
            assert (value.device, value.dtype) == (p.device, p.dtype)
            torch.testing.assert_close(value, value_t, atol=tol, rtol=tol)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("name", "kwargs"), CONFIGS, ids=IDS)
def test_matches_schedulefree_float64_in_train_and_eval_mode(name, kwargs, device):
    mine, oracle = run_both(name, kwargs, device, torch.float64)
    assert_matches(mine, oracle, TOL)  # train mode: the parameters hold y
    mine[1].eval()
    oracle[1].eval()
    assert_matches(mine, oracle, TOL)  # eval mode: they hold x


@pytest.mark.parametrize(("name", "kwargs"), CONFIGS, ids=IDS)
def test_matches_schedulefrees_plain_loop_too(name, kwargs):
    """schedulefree has two code paths (foreach, the default, and a per-tensor loop): both agree with ours."""
    mine, oracle = run_both(name, kwargs, "cpu", torch.float64, foreach=False)
    assert_matches(mine, oracle, TOL)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("name", "kwargs"), CONFIGS, ids=IDS)
def test_matches_schedulefree_float32(name, kwargs, device):
    mine, oracle = run_both(name, kwargs, device, torch.float32)
    assert_matches(mine, oracle, 1e-5)
    mine[1].eval()
    oracle[1].eval()
    assert_matches(mine, oracle, 1e-5)


@pytest.mark.parametrize("name", CLASSES)
def test_a_rate_of_zero_gives_no_weight_and_no_division_by_zero(name):
    """lr = 0: every averaging weight is 0, and c is 0 (schedulefree catches the ZeroDivisionError)."""
    mine, oracle = run_both(name, dict(lr=0.0), "cpu", torch.float64)
    assert_matches(mine, oracle, TOL)
    assert mine[1].param_groups[0]["weight_sum"] == 0.0


def test_sgd_is_the_papers_three_sequences():
    """Independent of schedulefree: y, z and x as the module docstring writes them, in NumPy, with x kept
    explicitly; our parameters hold y in train mode and x in eval mode."""
    a, b = np.array([1.0, 3.0]), np.array([0.5, -1.0])  # loss sum(a theta^2 / 2 + b theta)
    lr, beta, warmup = 0.1, 0.9, 3
    theta = nn.Parameter(torch.tensor([2.0, -1.0], dtype=torch.float64))
    opt = SGDScheduleFree([theta], lr=lr, momentum=beta, warmup_steps=warmup)
    opt.train()
    x = z = theta.detach().numpy().copy()
    weight_sum, lr_max = 0.0, -1.0
    for t in range(1, 11):
        opt.zero_grad()
        (torch.tensor(a) * theta**2 / 2 + torch.tensor(b) * theta).sum().backward()
        opt.step()
        y = (1 - beta) * z + beta * x
        gamma = lr * min(1.0, t / warmup)
        z = z - gamma * (a * y + b)
        lr_max = max(lr_max, gamma)
        weight_sum += lr_max**2
        c = lr_max**2 / weight_sum
        x = (1 - c) * x + c * z
        np.testing.assert_allclose(theta.detach().numpy(), (1 - beta) * z + beta * x, rtol=1e-13, atol=1e-14)
    opt.eval()
    np.testing.assert_allclose(theta.detach().numpy(), x, rtol=1e-13, atol=1e-14)


def test_step_in_eval_mode_is_refused_and_the_modes_toggle_once():
    theta = nn.Parameter(torch.tensor([1.0, -2.0], dtype=torch.float64))
    opt = AdamWScheduleFree([theta], lr=0.1)
    theta.grad = torch.ones(2, dtype=torch.float64)
    with pytest.raises(RuntimeError, match=r"eval mode: call optimizer\.train\(\)"):
        opt.step()
    opt.train()
    opt.step()
    opt.step()
    y = theta.detach().clone()
    opt.eval()
    x = theta.detach().clone()
    opt.eval()  # a second eval() changes nothing
    assert torch.equal(theta, x) and not torch.equal(x, y)
    opt.train()
    opt.train()
    torch.testing.assert_close(theta.detach(), y, atol=1e-15, rtol=0)


@pytest.mark.parametrize("name", CLASSES)
def test_signature_matches_schedulefree(name):
    mine = inspect.signature(CLASSES[name]).parameters
    theirs = inspect.signature(getattr(schedulefree, name)).parameters
    assert set(theirs) - set(mine) == {"foreach"}  # an implementation, not a rule
    assert set(mine) <= set(theirs)
    for arg in mine:
        assert mine[arg].default == theirs[arg].default, arg


BAD = [
    ("SGDScheduleFree", dict(lr=-1.0), "lr"),
    ("SGDScheduleFree", dict(momentum=0.0), "momentum"),
    ("SGDScheduleFree", dict(momentum=1.0), "momentum"),
    ("SGDScheduleFree", dict(momentum=-0.5), "momentum"),
    ("AdamWScheduleFree", dict(betas=(0.0, 0.999)), "betas[0]"),
    ("AdamWScheduleFree", dict(betas=(1.0, 0.999)), "betas[0]"),
    ("AdamWScheduleFree", dict(betas=(0.9, 1.0)), "betas[1]"),
    ("AdamWScheduleFree", dict(betas=(0.9,)), "betas"),
    ("AdamWScheduleFree", dict(eps=-1e-8), "eps"),
    ("AdamWScheduleFree", dict(lr=float("nan")), "lr"),
] + [
    (name, bad, arg)
    for name in CLASSES
    for bad, arg in [
        (dict(weight_decay=-0.1), "weight_decay"),
        (dict(warmup_steps=-1), "warmup_steps"),
        (dict(warmup_steps=2.5), "warmup_steps"),
        (dict(r=-1.0), "r"),
        (dict(weight_lr_power=-2.0), "weight_lr_power"),
    ]
]


@pytest.mark.parametrize(("name", "kwargs", "arg"), BAD, ids=[str(b) for b in BAD])
def test_bad_hyperparameter_raises_value_error_naming_it(name, kwargs, arg):
    with pytest.raises(ValueError) as error:
        CLASSES[name]([nn.Parameter(torch.ones(1))], **kwargs)
    assert str(error.value).startswith(arg)


@pytest.mark.parametrize("name", CLASSES)
def test_a_value_that_is_not_a_number_is_a_type_error_naming_it(name):
    with pytest.raises(TypeError, match=r"^lr must be a number"):
        CLASSES[name]([nn.Parameter(torch.ones(1))], lr="0.1")


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("name", "kwargs"), CONFIGS, ids=IDS)
def test_resume_from_state_dict_is_bit_for_bit(name, kwargs, device):
    """Saved in eval mode, as schedulefree asks; the uninterrupted run visits eval mode at the same step."""
    cls, split = CLASSES[name], 14  # after the rate change: the saved param_groups must carry it
    net, opt = run(cls, kwargs, device, torch.float32, steps=split)
    _, x, y = make_problem(device, torch.float32)
    opt.eval()
    buffer = io.BytesIO()
    torch.save({"net": net.state_dict(), "opt": opt.state_dict()}, buffer)
    opt.train()
    train(opt, net, x, y, STEPS - split, start=split)

    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    resumed, _, _ = make_problem(device, torch.float32)
    resumed.load_state_dict(saved["net"])
    opt_resumed = make_optimizer(cls, kwargs, resumed)
    opt_resumed.load_state_dict(saved["opt"])
    opt_resumed.train()
    train(opt_resumed, resumed, x, y, STEPS - split, start=split)

    assert opt.state_dict()["param_groups"] == opt_resumed.state_dict()["param_groups"]
    for p, q in zip(net.parameters(), resumed.parameters()):
        assert torch.equal(p, q)
        assert opt.state[p].keys() == opt_resumed.state[q].keys()
        assert all(torch.equal(value, opt_resumed.state[q][key]) for key, value in opt.state[p].items())


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
@pytest.mark.parametrize("name", CLASSES)
def test_state_follows_the_parameter_dtype_and_device(name, dtype, device):
    eps = {"eps": 1e-3} if name == "AdamWScheduleFree" else {}  # the default 1e-8 is 0 in float16
    net, opt = run(CLASSES[name], dict(lr=0.01, **eps), device, dtype, steps=12)
    opt.eval()
    for p in net.parameters():
        assert torch.isfinite(p).all()
        assert all((s.dtype, s.device) == (dtype, p.device) for s in opt.state[p].values())


@pytest.mark.parametrize("name", CLASSES)
def test_complex_parameters_move_as_their_real_and_imaginary_parts(name):
    start = torch.randn(3, dtype=torch.complex128, generator=torch.Generator().manual_seed(0))
    thetas = []
    for as_complex in (True, False):
        theta = nn.Parameter(start.clone() if as_complex else torch.view_as_real(start).clone())
        opt = CLASSES[name]([theta], lr=0.05)
        opt.train()
        for _ in range(4):
            opt.zero_grad()
            (torch.view_as_real(theta) if as_complex else theta).pow(4).sum().backward()
            opt.step()
        opt.eval()
        thetas.append(torch.view_as_real(theta.detach()) if as_complex else theta.detach())
    torch.testing.assert_close(*thetas, atol=0, rtol=0)


# --- the BatchNorm caveat -----------------------------------------------------------------


def test_recompute_batchnorm_gives_the_statistics_at_x():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Tanh(), nn.Linear(4, 1)).double()
    batches = [torch.randn(16, 3, dtype=torch.float64) for _ in range(5)]
    opt = SGDScheduleFree(net.parameters(), lr=0.5)
    opt.train()
    for xb in itertools.islice(itertools.cycle(batches), 20):
        opt.zero_grad()
        net(xb).pow(2).mean().backward()
        opt.step()
    at_y = net[1].running_mean.clone()
    net.eval()
    recompute_batchnorm(net, opt, [(xb, None) for xb in batches])  # (inputs, targets) pairs work
    assert not net.training and opt.param_groups[0]["train_mode"] is False
    with torch.no_grad():  # now at x: the plain average of each batch's mean pre-activation
        at_x = torch.stack([net[0](xb).mean(0) for xb in batches]).mean(0)
    torch.testing.assert_close(net[1].running_mean, at_x, atol=1e-12, rtol=0)
    assert (net[1].running_mean - at_y).abs().max() > 1e-3  # the statistics gathered at y were another net's


# --- checkpoints to and from schedulefree --------------------------------------------------


def fresh(cls, **kwargs):
    model, opt = reference_runs.fresh(cls, **kwargs)
    opt.train()
    return model, opt


HYPER = {"SGDScheduleFree": dict(lr=0.1, warmup_steps=3), "AdamWScheduleFree": dict(lr=0.01, weight_decay=0.1)}


@pytest.mark.parametrize("name", CLASSES)
def test_ours_to_schedulefree_continues_identically(name):
    model, ours = fresh(CLASSES[name], **HYPER[name])
    steps(model, ours, 5, seed=1)
    ours.eval()
    moved = copy.deepcopy(model)
    theirs = getattr(schedulefree, name)(moved.parameters(), **HYPER[name])
    theirs.load_state_dict(interop.to_torch(ours.state_dict(), name))
    for opt in (ours, theirs):
        opt.train()
    steps(model, ours, 5, seed=2)
    steps(moved, theirs, 5, seed=2)
    for opt in (ours, theirs):
        opt.eval()
    for a, b in zip(model.parameters(), moved.parameters()):
        assert torch.equal(a, b)


@pytest.mark.parametrize("name", CLASSES)
def test_schedulefree_to_ours_continues_identically(name):
    model, theirs = fresh(getattr(schedulefree, name), **HYPER[name])
    steps(model, theirs, 5, seed=1)
    theirs.eval()
    moved = copy.deepcopy(model)
    ours = CLASSES[name](moved.parameters(), **HYPER[name])
    interop.load_torch_state_dict(ours, theirs.state_dict())
    for opt in (ours, theirs):
        opt.train()
    steps(model, theirs, 5, seed=2)
    steps(moved, ours, 5, seed=2)
    for opt in (ours, theirs):
        opt.eval()
    for a, b in zip(model.parameters(), moved.parameters()):
        assert torch.equal(a, b)
    assert all(set(ours.state[p]) <= set(interop.STATE_KEYS[name]) for p in moved.parameters())


def test_an_adamw_schedulefree_state_dict_loaded_as_it_is_points_to_interop():
    model, theirs = fresh(schedulefree.AdamWScheduleFree, lr=0.01)
    steps(model, theirs, 1, seed=1)
    with pytest.raises(ValueError, match=r"schedulefree\.AdamWScheduleFree.*lrcourse\.interop"):
        AdamWScheduleFree(model.parameters()).load_state_dict(theirs.state_dict())


# --- no host sync in the step, and a tensor rate ---------------------------------------------


@pytest.mark.parametrize("name", CLASSES)
def test_step_and_the_mode_switches_read_no_tensor_value_on_the_host(name, monkeypatch):
    from test_optim_api import host_syncs_forbidden

    for config_name, kwargs in CONFIGS:
        if config_name != name:
            continue
        net, x, y = make_problem("cpu", torch.float32)
        opt = make_optimizer(CLASSES[name], kwargs, net)
        with host_syncs_forbidden(monkeypatch):
            opt.train()
        for _ in range(3):
            opt.zero_grad()
            ((net(x) - y) ** 2).mean().backward()
            with host_syncs_forbidden(monkeypatch):
                opt.step()
        with host_syncs_forbidden(monkeypatch):
            opt.eval()
            opt.train()


@pytest.mark.parametrize("name", CLASSES)
def test_a_tensor_lr_trains_as_in_schedulefree(name):
    """schedulefree takes a tensor rate (its averaging weights become tensors, read on the host); so do we."""
    kwargs = dict(lr=torch.tensor(0.01, dtype=torch.float64), warmup_steps=4)
    results = []
    for cls in (CLASSES[name], getattr(schedulefree, name)):
        net, x, y = make_problem("cpu", torch.float64)
        opt = cls(net.parameters(), **kwargs)
        opt.train()
        train(opt, net, x, y, 10)
        opt.eval()
        results.append(list(net.parameters()))
    for p, q in zip(*results):
        torch.testing.assert_close(p, q, atol=TOL, rtol=TOL)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no cuda device here")
@pytest.mark.parametrize("name", CLASSES)
def test_cuda_step_does_not_synchronize(name):
    from test_optim_api import step_under_sync_errors

    theta = nn.Parameter(torch.randn(1000, device="cuda"))
    opt = CLASSES[name]([theta], lr=0.01, weight_decay=0.01, warmup_steps=2)
    opt.train()
    step_under_sync_errors(opt, theta)
    torch.cuda.set_sync_debug_mode("error")
    try:
        opt.eval()
        opt.train()
    finally:
        torch.cuda.set_sync_debug_mode("default")
