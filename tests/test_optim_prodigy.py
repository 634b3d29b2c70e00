"""lrcourse.optim.Prodigy against its oracle, PyPI prodigyopt (1.1.2): one table of configurations.

The run is tests/test_optim.py's: a step with no gradients (Prodigy then moves nothing and counts
no step), a frozen parameter, a zero-size parameter, the rate halved mid-run. prodigyopt takes
one rate for all groups, or 0 for a frozen group, so each configuration runs twice: with the
second group at rate 0, and with both at the same rate but the second with its own weight
decay and eps. Parameters, every state tensor (``s``, ``x0``, ``m``, ``v``), the step counts
and the groups' estimate (``d`` and its parts) must agree to 1e-8 in float64.
"""

from __future__ import annotations

import copy
import inspect
import io

import prodigyopt
import pytest
import torch
from reference_runs import fresh, steps
from test_optim import DEVICES, STEPS, make_problem, train
from torch import nn

from lrcourse import interop
from lrcourse.optim import Prodigy

CONFIGS = [
    {},
    dict(use_bias_correction=True),
    dict(safeguard_warmup=True),
    dict(d_coef=0.5, growth_rate=1.02),
    dict(betas=(0.0, 0.99)),  # no first moment: the step uses the gradient
    dict(weight_decay=0.1),  # decoupled, the default
    dict(weight_decay=0.1, decouple=False),
    dict(weight_decay=0.1, decouple=False, betas=(0.0, 0.999)),
    dict(beta3=0.9, d0=1e-4, eps=1e-6),
    dict(lr=0.5, slice_p=3),
    dict(lr=2.0, use_bias_correction=True, safeguard_warmup=True, weight_decay=0.01),
]
IDS = ["-".join(f"{k}={v}" for k, v in kw.items()) or "defaults" for kw in CONFIGS]
LAYOUTS = ["frozen-group", "own-decay"]
STATE_NAMES = {"step": "t", "s": "s", "p0": "x0", "exp_avg": "m", "exp_avg_sq": "v"}  # prodigyopt's -> ours
GROUP_NUMBERS = ["d", "d_max", "d_numerator", "d_denom", "d_hat", "k", "lr"]
TOL = 1e-8


def make_optimizer(cls, kwargs, net, layout):
    """Two groups: the second frozen (rate 0), or at the same rate with its own weight decay and eps."""
    second = {"lr": 0.0} if layout == "frozen-group" else {"weight_decay": 0.05, "eps": 1e-6}
    groups = [
        {"params": [net.hidden.weight, net.hidden.bias, net.empty]},
        {"params": [net.out.weight, net.out.bias, net.frozen], **second},
    ]
    return cls(groups, **kwargs)


def run_both(kwargs, device, dtype, layout, steps=STEPS):
    results = []
    for cls in (Prodigy, prodigyopt.Prodigy):
        net, x, y = make_problem(device, dtype)
        opt = make_optimizer(cls, kwargs, net, layout)
        train(opt, net, x, y, steps)
        results.append((net, opt))
    return results


def close(value, expected, tol):
    """Equal to ``tol`` relative to the tensor's own scale (v is of order d^2 g^2, tiny while d is small)."""
    scale = float(expected.abs().max()) if expected.numel() else 0.0
    torch.testing.assert_close(value, expected, rtol=tol, atol=tol * scale)


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
            if isinstance(value_t, torch.Tensor):
                assert (value.device, value.dtype) == (p.device, p.dtype)
                close(value, value_t, tol)
            else:
                assert value == value_t and type(value) is int  # the step count


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("kwargs", CONFIGS, ids=IDS)
def test_matches_prodigyopt_float64(kwargs, layout, device):
    mine, oracle = run_both(kwargs, device, torch.float64, layout)
    assert_matches(mine, oracle, TOL)
    assert mine[1].d > mine[1].param_groups[0]["d0"]  # the estimate moved: the test exercised it


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kwargs", CONFIGS, ids=IDS)
def test_matches_prodigyopt_float32(kwargs, device):
    mine, oracle = run_both(kwargs, device, torch.float32, "own-decay")
    assert_matches(mine, oracle, 1e-5)


def test_a_step_without_gradients_moves_nothing_and_counts_no_step():
    net, x, y = make_problem("cpu", torch.float64)
    opt = make_optimizer(Prodigy, {}, net, "own-decay")
    train(opt, net, x, y, 2)
    before = copy.deepcopy((net.state_dict(), opt.state_dict()))
    opt.zero_grad()
    opt.step()
    assert opt.param_groups[0]["k"] == 2 and all(torch.equal(p, before[0][k]) for k, p in net.state_dict().items())


def test_the_estimate_is_in_the_state_dict():
    net, x, y = make_problem("cpu", torch.float64)
    opt = make_optimizer(Prodigy, {}, net, "own-decay")
    train(opt, net, x, y, 5)
    saved = opt.state_dict()["param_groups"]
    assert saved[0]["d"] == saved[1]["d"] == opt.d > 1e-6


def test_signature_matches_prodigyopt():
    mine = inspect.signature(Prodigy).parameters
    theirs = inspect.signature(prodigyopt.Prodigy).parameters
    assert set(theirs) - set(mine) == {"fsdp_in_use"}  # sharded training: not offered
    assert set(mine) <= set(theirs)
    for arg in mine:
        assert mine[arg].default == theirs[arg].default, arg


BAD = [
    (dict(lr=0.0), "lr"),
    (dict(lr=-1.0), "lr"),
    (dict(eps=0.0), "eps"),
    (dict(d0=0.0), "d0"),
    (dict(d0=-1e-6), "d0"),
    (dict(d_coef=0.0), "d_coef"),
    (dict(betas=(1.0, 0.999)), "betas[0]"),
    (dict(betas=(0.9, 1.0)), "betas[1]"),
    (dict(betas=(0.9,)), "betas"),
    (dict(beta3=1.0), "beta3"),
    (dict(beta3=-0.1), "beta3"),
    (dict(weight_decay=-0.1), "weight_decay"),
    (dict(growth_rate=0.5), "growth_rate"),
    (dict(slice_p=0), "slice_p"),
    (dict(slice_p=1.5), "slice_p"),
]


@pytest.mark.parametrize(("kwargs", "arg"), BAD, ids=[str(b) for b in BAD])
def test_bad_hyperparameter_raises_value_error_naming_it(kwargs, arg):
    with pytest.raises(ValueError) as error:
        Prodigy([nn.Parameter(torch.ones(1))], **kwargs)
    assert str(error.value).startswith(arg)


def test_groups_at_two_nonzero_rates_are_refused_naming_lr():
    a, b = nn.Parameter(torch.ones(2)), nn.Parameter(torch.ones(2))
    with pytest.raises(ValueError, match=r"^lr must be the same in every group, or 0"):
        Prodigy([{"params": [a]}, {"params": [b], "lr": 0.5}])
    opt = Prodigy([{"params": [a]}, {"params": [b]}])  # a scheduler may set them apart later
    opt.param_groups[1]["lr"] = 0.5
    a.grad, b.grad = torch.ones(2), torch.ones(2)
    with pytest.raises(ValueError, match=r"^lr must be the same"):
        opt.step()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kwargs", CONFIGS, ids=IDS)
def test_resume_from_state_dict_is_bit_for_bit(kwargs, device):
    split = 14  # after the rate change: the saved param_groups must carry it
    net, x, y = make_problem(device, torch.float32)
    opt = make_optimizer(Prodigy, kwargs, net, "own-decay")
    train(opt, net, x, y, STEPS)

    first, x, y = make_problem(device, torch.float32)
    opt_first = make_optimizer(Prodigy, kwargs, first, "own-decay")
    train(opt_first, first, x, y, split)
    buffer = io.BytesIO()
    torch.save({"net": first.state_dict(), "opt": opt_first.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    resumed, _, _ = make_problem(device, torch.float32)
    resumed.load_state_dict(saved["net"])
    opt_resumed = make_optimizer(Prodigy, kwargs, resumed, "own-decay")
    opt_resumed.load_state_dict(saved["opt"])
    train(opt_resumed, resumed, x, y, STEPS - split, start=split)

    assert opt.state_dict()["param_groups"] == opt_resumed.state_dict()["param_groups"]
    for p, q in zip(net.parameters(), resumed.parameters()):
        assert torch.equal(p, q)
        assert opt.state[p].keys() == opt_resumed.state[q].keys()
        for key, value in opt.state[p].items():
            other = opt_resumed.state[q][key]
            assert torch.equal(value, other) if isinstance(value, torch.Tensor) else value == other


# bfloat16 only: float16 cannot hold v ~ d^2 g^2 while d ~ 1e-6 (prodigyopt cannot either)
@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.bfloat16])
def test_state_follows_the_parameter_dtype_and_device(device, dtype):
    net, x, y = make_problem(device, dtype)
    opt = make_optimizer(Prodigy, {}, net, "own-decay")
    train(opt, net, x, y, 8)
    for p in net.parameters():
        assert torch.isfinite(p).all()
        assert all((s.dtype, s.device) == (dtype, p.device) for s in opt.state[p].values() if torch.is_tensor(s))


def test_the_step_reads_the_device_once_not_once_per_parameter(monkeypatch):
    """prodigyopt calls .item() twice per parameter; ours copies the sums to the host in one go."""
    net, x, y = make_problem("cpu", torch.float64)
    opt = make_optimizer(Prodigy, {}, net, "own-decay")
    train(opt, net, x, y, 1)  # the first step also reads whether each parameter is zero
    reads = []
    for method in ("item", "tolist"):
        original = getattr(torch.Tensor, method)
        monkeypatch.setattr(torch.Tensor, method, lambda self, _f=original, _m=method: reads.append(_m) or _f(self))
    train(opt, net, x, y, 1, start=1)
    assert reads == ["tolist"]


# --- checkpoints to and from prodigyopt ------------------------------------------------------


HYPER = dict(weight_decay=0.01, use_bias_correction=True)


def test_ours_to_prodigyopt_continues_identically():
    model, ours = fresh(Prodigy, **HYPER)
    steps(model, ours, 5, seed=1)
    moved = copy.deepcopy(model)
    theirs = prodigyopt.Prodigy(moved.parameters(), **HYPER)
    theirs.load_state_dict(interop.to_torch(ours.state_dict(), "Prodigy"))
    assert type(next(iter(theirs.state.values()))["step"]) is int  # as prodigyopt keeps it
    steps(model, ours, 5, seed=2)
    steps(moved, theirs, 5, seed=2)
    for a, b in zip(model.parameters(), moved.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)
    assert theirs.param_groups[0]["d"] == pytest.approx(ours.d, rel=1e-12)


def test_prodigyopt_to_ours_continues_identically():
    model, theirs = fresh(prodigyopt.Prodigy, **HYPER)
    steps(model, theirs, 5, seed=1)
    moved = copy.deepcopy(model)
    ours = Prodigy(moved.parameters(), **HYPER)
    interop.load_torch_state_dict(ours, theirs.state_dict())
    steps(model, theirs, 5, seed=2)
    steps(moved, ours, 5, seed=2)
    for a, b in zip(model.parameters(), moved.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)
    assert all(set(ours.state[p]) == {"t", "s", "x0", "m", "v"} for p in moved.parameters())


def test_a_prodigyopt_state_dict_loaded_as_it_is_points_to_interop():
    model, theirs = fresh(prodigyopt.Prodigy)
    steps(model, theirs, 1, seed=1)
    with pytest.raises(ValueError, match=r"prodigyopt\.Prodigy.*lrcourse\.interop\.load_torch_state_dict"):
        Prodigy(model.parameters()).load_state_dict(theirs.state_dict())
