"""lrcourse.optim.Lion against its oracle, lion_pytorch.Lion (PyPI lion-pytorch): one table of configurations.

The run is tests/test_optim.py's: two parameter groups at different rates, a step where no
gradient exists, a parameter frozen for a few steps, a zero-size parameter, the rate halved
mid-run. Parameters and the state (``m``, lion_pytorch's ``exp_avg``) must agree to 1e-9 in
float64 (they agree to the last bit: the same operations in the same order).
"""

from __future__ import annotations

import copy
import inspect
import io

import lion_pytorch
import pytest
import torch
from reference_runs import fresh, make_optimizer, steps
from test_optim import DEVICES, STEPS, make_problem, train
from torch import nn

from lrcourse import interop
from lrcourse.optim import Lion

CONFIGS = [
    {},
    dict(lr=1e-3),
    dict(lr=1e-3, betas=(0.95, 0.98)),
    dict(lr=1e-3, betas=(0.0, 0.5)),
    dict(lr=1e-3, betas=(0.9, 1.0)),  # beta2 = 1: the momentum never moves (allowed: no bias correction)
    dict(lr=3e-3, weight_decay=0.1),
    dict(lr=3e-3, weight_decay=1e-2, decoupled_weight_decay=True),
    dict(lr=2e-3, betas=(0.5, 0.9), weight_decay=0.3, decoupled_weight_decay=True),
]
IDS = ["-".join(f"{k}={v}" for k, v in kw.items()) or "defaults" for kw in CONFIGS]
TOL = 1e-9  # the bar in float64; the runs below agree exactly


def run_both(kwargs, device, dtype, steps=STEPS):
    results = []
    for cls in (Lion, lion_pytorch.Lion):
        net, x, y = make_problem(device, dtype)
        opt = make_optimizer(cls, kwargs, net)
        train(opt, net, x, y, steps)
        results.append((net, opt))
    return results


def assert_matches(mine, oracle, tol):
    (net, opt), (net_t, opt_t) = mine, oracle
    for p, p_t in zip(net.parameters(), net_t.parameters()):
        torch.testing.assert_close(p, p_t, atol=tol, rtol=0)
        state, state_t = opt.state.get(p, {}), opt_t.state.get(p_t, {})
        assert set(state) == {"m"} and set(state_t) == {"exp_avg"}
        assert (state["m"].device, state["m"].dtype) == (p.device, p.dtype)
        torch.testing.assert_close(state["m"], state_t["exp_avg"], atol=tol, rtol=0)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kwargs", CONFIGS, ids=IDS)
def test_matches_lion_pytorch_float64(kwargs, device):
    assert_matches(*run_both(kwargs, device, torch.float64), tol=TOL)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kwargs", CONFIGS, ids=IDS)
def test_matches_lion_pytorch_float32(kwargs, device):
    assert_matches(*run_both(kwargs, device, torch.float32), tol=1e-6)


def test_every_coordinate_moves_by_the_rate():
    """The claim of the docstring: a sign step, whatever the gradient's size."""
    theta = nn.Parameter(torch.tensor([1.0, -1e-6, 1e6], dtype=torch.float64))
    opt = Lion([theta], lr=0.01)
    before = theta.detach().clone()
    theta.grad = torch.tensor([3.0, -1e-9, 1e9], dtype=torch.float64)
    opt.step()
    torch.testing.assert_close((theta - before).abs(), torch.full((3,), 0.01, dtype=torch.float64))


def test_decoupled_decay_divides_by_the_constructors_rate_in_every_group():
    """As lion_pytorch: the second group's lr does not enter the divisor, only the first argument's."""
    for cls in (Lion, lion_pytorch.Lion):
        a, b = nn.Parameter(torch.ones(1, dtype=torch.float64)), nn.Parameter(torch.ones(1, dtype=torch.float64))
        opt = cls([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1, weight_decay=0.2, decoupled_weight_decay=True)
        a.grad, b.grad = torch.zeros(1, dtype=torch.float64), torch.zeros(1, dtype=torch.float64)
        opt.step()  # a zero gradient: sign 0, only the decay moves theta
        assert a.item() == pytest.approx(1 - 0.1 * 0.2 / 0.1) and b.item() == pytest.approx(1 - 0.5 * 0.2 / 0.1)


def test_signature_matches_lion_pytorch():
    mine = inspect.signature(Lion).parameters
    theirs = inspect.signature(lion_pytorch.Lion).parameters
    assert set(theirs) - set(mine) == {"use_triton"}  # an implementation, not a rule
    assert set(mine) - set(theirs) == {"maximize"}
    for arg in set(mine) & set(theirs):
        assert mine[arg].default == theirs[arg].default, arg


def test_maximize_is_minimising_the_negative():
    runs = []
    for maximize in (False, True):
        theta = nn.Parameter(torch.tensor([1.0, -2.0], dtype=torch.float64))
        opt = Lion([theta], lr=0.1, maximize=maximize)
        for _ in range(3):
            opt.zero_grad()
            (theta**2).sum().mul(-1 if maximize else 1).backward()
            opt.step()
        runs.append(theta.detach())
    assert torch.equal(*runs)


BAD = [
    (dict(lr=-1e-4), "lr"),
    (dict(lr=float("nan")), "lr"),
    (dict(betas=(-0.1, 0.99)), "betas[0]"),
    (dict(betas=(0.9, 1.01)), "betas[1]"),
    (dict(betas=(0.9,)), "betas"),
    (dict(weight_decay=-0.1), "weight_decay"),
    (dict(lr=0.0, decoupled_weight_decay=True), "lr"),
]


@pytest.mark.parametrize(("kwargs", "arg"), BAD, ids=[str(b) for b in BAD])
def test_bad_hyperparameter_raises_value_error_naming_it(kwargs, arg):
    with pytest.raises(ValueError) as error:
        Lion([nn.Parameter(torch.ones(1))], **kwargs)
    assert str(error.value).startswith(arg)


@pytest.mark.parametrize(("arg", "value"), [("lr", "1e-4"), ("weight_decay", None)])
def test_a_value_that_is_not_a_number_is_a_type_error_naming_it(arg, value):
    with pytest.raises(TypeError, match=rf"^{arg} must be a number"):
        Lion([nn.Parameter(torch.ones(1))], **{arg: value})


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kwargs", CONFIGS, ids=IDS)
def test_resume_from_state_dict_is_bit_for_bit(kwargs, device):
    split = 14  # after the rate change: the saved param_groups must carry it
    net, x, y = make_problem(device, torch.float32)
    opt = make_optimizer(Lion, kwargs, net)
    train(opt, net, x, y, STEPS)

    first, x, y = make_problem(device, torch.float32)
    opt_first = make_optimizer(Lion, kwargs, first)
    train(opt_first, first, x, y, split)
    buffer = io.BytesIO()
    torch.save({"net": first.state_dict(), "opt": opt_first.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    resumed, _, _ = make_problem(device, torch.float32)
    resumed.load_state_dict(saved["net"])
    opt_resumed = make_optimizer(Lion, kwargs, resumed)
    opt_resumed.load_state_dict(saved["opt"])
    train(opt_resumed, resumed, x, y, STEPS - split, start=split)
    for p, q in zip(net.parameters(), resumed.parameters()):
        assert torch.equal(p, q) and torch.equal(opt.state[p]["m"], opt_resumed.state[q]["m"])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_state_follows_the_parameter_dtype_and_device(device, dtype):
    net, x, y = make_problem(device, dtype)
    before = [p.detach().clone() for p in net.parameters()]
    opt = make_optimizer(Lion, dict(lr=1e-2, weight_decay=0.1), net)
    train(opt, net, x, y, 6)
    for p in net.parameters():
        assert opt.state[p]["m"].dtype == dtype and opt.state[p]["m"].device == p.device
        assert torch.isfinite(p).all()
    assert any(not torch.equal(p, p0) for p, p0 in zip(net.parameters(), before))


# --- checkpoints to and from lion_pytorch ---------------------------------------------------


HYPER = dict(lr=1e-3, weight_decay=0.1)


def test_ours_to_lion_pytorch_continues_identically():
    model, ours = fresh(Lion, **HYPER)
    steps(model, ours, 5, seed=1)
    moved = copy.deepcopy(model)
    theirs = lion_pytorch.Lion(moved.parameters(), **HYPER)
    theirs.load_state_dict(interop.to_torch(ours.state_dict(), "Lion"))
    steps(model, ours, 5, seed=2)
    steps(moved, theirs, 5, seed=2)
    for a, b in zip(model.parameters(), moved.parameters()):
        assert torch.equal(a, b)


def test_lion_pytorch_to_ours_continues_identically():
    model, theirs = fresh(lion_pytorch.Lion, **HYPER)
    steps(model, theirs, 5, seed=1)
    moved = copy.deepcopy(model)
    ours = Lion(moved.parameters(), **HYPER)
    interop.load_torch_state_dict(ours, theirs.state_dict())
    steps(model, theirs, 5, seed=2)
    steps(moved, ours, 5, seed=2)
    for a, b in zip(model.parameters(), moved.parameters()):
        assert torch.equal(a, b)
    assert all(set(ours.state[p]) == {"m"} for p in moved.parameters())


def test_a_lion_pytorch_state_dict_loaded_as_it_is_points_to_interop():
    model, theirs = fresh(lion_pytorch.Lion, **HYPER)
    steps(model, theirs, 1, seed=1)
    with pytest.raises(ValueError, match=r"lion_pytorch\.Lion.*lrcourse\.interop\.load_torch_state_dict"):
        Lion(model.parameters(), **HYPER).load_state_dict(theirs.state_dict())


# --- no host sync in the step -------------------------------------------------------------


def test_step_reads_no_tensor_value_on_the_host(monkeypatch):
    from test_optim_api import host_syncs_forbidden

    for kwargs in CONFIGS:
        net, x, y = make_problem("cpu", torch.float32)
        opt = make_optimizer(Lion, kwargs, net)
        for _ in range(3):
            opt.zero_grad()
            ((net(x) - y) ** 2).mean().backward()
            with host_syncs_forbidden(monkeypatch):
                opt.step()


def test_a_tensor_lr_trains_as_the_number():
    runs = []
    for lr in (1e-2, torch.tensor(1e-2, dtype=torch.float64)):
        net, x, y = make_problem("cpu", torch.float64)
        opt = make_optimizer(Lion, dict(lr=lr, weight_decay=0.1), net)
        train(opt, net, x, y, 10)
        runs.append(list(net.parameters()))
    for p, q in zip(*runs):
        torch.testing.assert_close(p, q, atol=1e-15, rtol=0)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no cuda device here")
def test_cuda_step_does_not_synchronize():
    from test_optim_api import step_under_sync_errors

    theta = nn.Parameter(torch.randn(1000, device="cuda"))
    step_under_sync_errors(Lion([theta], weight_decay=0.1, decoupled_weight_decay=True), theta)
