"""Muon and Adafactor against their oracles, torch.optim.Muon and torch.optim.Adafactor.

The table of tests/test_optim.py, on networks these two can take: each configuration trains the
same small network with ours and with torch's for STEPS steps, with two parameter groups at
different rates, a step where no gradient exists, a parameter frozen for a few steps, and the rate
halved mid-run; parameters and every state tensor must agree. Muon's network has 2-D weights
only, one tall, one wide, one square; Adafactor's adds a vector, a 3-D tensor (factored over its
last two dimensions) and a scalar. Then the drop-in checks of tests/test_optim_api.py, for these two.
"""

from __future__ import annotations

import copy
import inspect
import io
import warnings

import pytest
import torch
from test_optim import DEVICES
from test_optim_api import host_syncs_forbidden, loss_of, step_under_sync_errors
from torch import nn

from lrcourse import interop
from lrcourse import optim as ours

STEPS = 25
NO_GRAD_STEP = 3  # no backward at all: every .grad is None
FROZEN_STEPS = range(6, 10)  # net.frozen gets no gradient on these steps
LR_CHANGE_STEP = 12  # every group's rate is halved before this step

CONFIGS = [
    ("Muon", {}),
    ("Muon", dict(lr=0.02)),
    ("Muon", dict(lr=0.02, nesterov=False)),
    ("Muon", dict(lr=0.05, momentum=0.9, weight_decay=0.0, adjust_lr_fn="original")),
    ("Muon", dict(lr=0.02, weight_decay=0.01, adjust_lr_fn="match_rms_adamw")),
    ("Muon", dict(lr=0.02, adjust_lr_fn="spectral_unclamped", ns_steps=3, eps=1e-5)),
    ("Muon", dict(lr=0.02, ns_coefficients=(1.5, -0.5, 0.0), ns_steps=10)),  # the classic cubic iteration
    ("Muon", dict(lr=0.02, momentum=0.0)),
    ("Adafactor", {}),
    ("Adafactor", dict(lr=0.1, beta2_decay=-0.5)),
    ("Adafactor", dict(lr=0.05, eps=(1e-30, 1e-3), d=2.0)),
    ("Adafactor", dict(lr=0.05, eps=(1e-3, 0.0), weight_decay=0.1)),
    ("Adafactor", dict(lr=0.05, weight_decay=0.1, maximize=True)),
]
CONFIG_IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'defaults'}" for name, kw in CONFIGS]
NAMES = ours.MATRIX

# torch's state names -> ours
STATE_NAMES = {"momentum_buffer": "b", "step": "t", "row_var": "R", "col_var": "C", "variance": "v"}


class MatrixNet(nn.Module):
    """2-D weights only: a tall one (8 x 4), a wide one (3 x 8), a square one; no biases."""

    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(4, 8, bias=False)
        self.out = nn.Linear(8, 3, bias=False)
        self.frozen = nn.Parameter(torch.randn(3, 3))  # loses its gradient on FROZEN_STEPS

    def forward(self, x):
        return self.out(torch.tanh(self.hidden(x))) @ self.frozen


class FactorNet(MatrixNet):
    """MatrixNet, plus a vector, a 3-D tensor and a scalar: Adafactor's unfactored and batched cases."""

    def __init__(self):
        super().__init__()
        self.bias = nn.Parameter(torch.randn(3))
        self.cube = nn.Parameter(torch.randn(2, 3, 3))
        self.scalar = nn.Parameter(torch.tensor(0.5))

    def forward(self, x):
        y = super().forward(x) + self.bias
        return y + self.scalar * (y @ self.cube).mean(0)


def make_problem(name, device, dtype):
    """The same network and data every time."""
    torch.manual_seed(0)
    net = (MatrixNet() if name == "Muon" else FactorNet()).to(device, dtype)
    x, y = torch.randn(16, 4), torch.randn(16, 3)
    return net, x.to(device, dtype), y.to(device, dtype)


def make_optimizer(module, name, kwargs, net):
    """Two groups: the second at half the rate (its own ``lr``), the first on the defaults."""
    cls = getattr(module, name)
    lr = kwargs.get("lr", inspect.signature(cls).parameters["lr"].default)
    first = [net.hidden.weight] + ([net.bias, net.cube] if isinstance(net, FactorNet) else [])
    second = [net.out.weight, net.frozen] + ([net.scalar] if isinstance(net, FactorNet) else [])
    return cls([{"params": first}, {"params": second, "lr": lr / 2}], **kwargs)


def train(opt, net, x, y, steps, start=0):
    for step in range(start, start + steps):
        opt.zero_grad(set_to_none=True)
        if step != NO_GRAD_STEP:
            ((net(x) - y) ** 2).mean().backward()
        if step in FROZEN_STEPS:
            net.frozen.grad = None
        if step == LR_CHANGE_STEP:
            for group in opt.param_groups:
                group["lr"] /= 2
        opt.step()


def run_both(name, kwargs, device, dtype, steps=STEPS):
    results = []
    for module in (ours, torch.optim):
        net, x, y = make_problem(name, device, dtype)
        opt = make_optimizer(module, name, kwargs, net)
        train(opt, net, x, y, steps)
        results.append((net, opt))
    return results


def assert_matches(mine, oracle, atol, rtol):
    (net, opt), (net_t, opt_t) = mine, oracle
    for p, p_t in zip(net.parameters(), net_t.parameters()):
        torch.testing.assert_close(p, p_t, atol=atol, rtol=rtol)
        state, state_t = opt.state[p], opt_t.state[p_t]
        assert set(state) == {STATE_NAMES[k] for k in state_t}
        for key_t, value_t in state_t.items():
            value = state[STATE_NAMES[key_t]]
            if key_t == "step":  # a Python int here: no host sync to read it
                assert isinstance(value, int) and value == int(value_t)
            else:
                assert (value.device, value.dtype) == (p.device, p.dtype)
                torch.testing.assert_close(value, value_t, atol=atol, rtol=rtol)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("name", "kwargs"), CONFIGS, ids=CONFIG_IDS)
def test_matches_torch_float64(name, kwargs, device):
    mine, oracle = run_both(name, kwargs, device, torch.float64)
    assert_matches(mine, oracle, atol=1e-12, rtol=0)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("name", "kwargs"), CONFIGS, ids=CONFIG_IDS)
def test_matches_torch_float32(name, kwargs, device):
    """Muon orthogonalises in bfloat16 in both: the same operations give the same numbers."""
    mine, oracle = run_both(name, kwargs, device, torch.float32)
    assert_matches(mine, oracle, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("name", "kwargs"), CONFIGS, ids=CONFIG_IDS)
def test_trains_in_bfloat16(name, kwargs, device):
    net, x, y = make_problem(name, device, torch.bfloat16)
    before = [p.detach().clone() for p in net.parameters()]
    opt = make_optimizer(ours, name, kwargs, net)
    train(opt, net, x, y, STEPS)
    for p in net.parameters():
        assert p.dtype == torch.bfloat16 and torch.isfinite(p).all()
        assert all(s.dtype == torch.bfloat16 for s in opt.state[p].values() if isinstance(s, torch.Tensor))
    assert any(not torch.equal(p, p0) for p, p0 in zip(net.parameters(), before))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("name", "kwargs"), CONFIGS, ids=CONFIG_IDS)
def test_resume_from_state_dict_is_bit_for_bit(name, kwargs, device):
    split = LR_CHANGE_STEP + 2  # after the rate change: the saved param_groups must carry it
    net, x, y = make_problem(name, device, torch.float32)
    opt = make_optimizer(ours, name, kwargs, net)
    train(opt, net, x, y, STEPS)

    first, x, y = make_problem(name, device, torch.float32)
    opt_first = make_optimizer(ours, name, kwargs, first)
    train(opt_first, first, x, y, split)
    buffer = io.BytesIO()
    torch.save({"net": first.state_dict(), "opt": opt_first.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    resumed, _, _ = make_problem(name, device, torch.float32)
    resumed.load_state_dict(saved["net"])
    opt_resumed = make_optimizer(ours, name, kwargs, resumed)
    opt_resumed.load_state_dict(saved["opt"])
    train(opt_resumed, resumed, x, y, STEPS - split, start=split)

    for p, q in zip(net.parameters(), resumed.parameters()):
        assert torch.equal(p, q)
        assert opt.state[p].keys() == opt_resumed.state[q].keys()
        for key, value in opt.state[p].items():
            other = opt_resumed.state[q][key]
            assert torch.equal(value, other) if isinstance(value, torch.Tensor) else value == other


# --- checkpoints to and from torch.optim (lrcourse.interop) -------------------------------


@pytest.mark.parametrize(("name", "kwargs"), CONFIGS, ids=CONFIG_IDS)
@pytest.mark.parametrize("direction", ["ours to torch", "torch to ours"])
def test_a_checkpoint_moved_between_libraries_continues_identically(name, kwargs, direction):
    """One library trains 14 steps and saves; the other loads the converted checkpoint and goes on."""
    split = LR_CHANGE_STEP + 2
    _, oracle = run_both(name, kwargs, "cpu", torch.float64)
    first_lib, then_lib = (ours, torch.optim) if direction == "ours to torch" else (torch.optim, ours)
    net, x, y = make_problem(name, "cpu", torch.float64)
    opt = make_optimizer(first_lib, name, kwargs, net)
    train(opt, net, x, y, split)
    moved = make_optimizer(then_lib, name, kwargs, net)
    if then_lib is torch.optim:
        moved.load_state_dict(copy.deepcopy(interop.torch_state_dict(opt)))
    else:
        interop.load_torch_state_dict(moved, copy.deepcopy(opt.state_dict()))
    train(moved, net, x, y, STEPS - split, start=split)
    for p, p_t in zip(net.parameters(), oracle[0].parameters()):
        torch.testing.assert_close(p, p_t, atol=1e-12, rtol=0)
    if then_lib is ours:
        assert all(set(moved.state[p]) <= set(interop.STATE_KEYS[name]) for p in net.parameters())


@pytest.mark.parametrize("name", NAMES)
def test_interop_round_trip_is_the_identity(name):
    net, x, y = make_problem(name, "cpu", torch.float64)
    opt = make_optimizer(ours, name, {}, net)
    train(opt, net, x, y, 5)
    before = opt.state_dict()
    after = interop.from_torch(interop.to_torch(before, name), name)
    assert after["param_groups"] == before["param_groups"]
    for index, state in before["state"].items():
        assert state.keys() == after["state"][index].keys()
        for key, value in state.items():
            other = after["state"][index][key]
            if isinstance(value, torch.Tensor):
                assert torch.equal(value, other)
            else:
                assert (value, type(value)) == (other, type(other))


@pytest.mark.parametrize("name", NAMES)
def test_a_torch_state_dict_loaded_into_ours_points_to_interop(name):
    (_, opt), (theirs, opt_t) = pair(name, lr=0.01)
    loss_of(theirs).backward()
    opt_t.step()
    with pytest.raises(ValueError, match=rf"torch\.optim\.{name}.*lrcourse\.interop\.load_torch_state_dict"):
        opt.load_state_dict(opt_t.state_dict())


# --- drop-in for torch.optim: the checks of tests/test_optim_api.py ------------------------


def pair(name, **kwargs):
    """The same 4 x 3 matrix for ours and for torch's, and an optimizer on each."""
    torch.manual_seed(0)
    start = torch.randn(4, 3, dtype=torch.float64)
    mine, theirs = nn.Parameter(start.clone()), nn.Parameter(start.clone())
    return (mine, getattr(ours, name)([mine], **kwargs)), (theirs, getattr(torch.optim, name)([theirs], **kwargs))


@pytest.mark.parametrize("name", NAMES)
def test_signature_matches_torch(name):
    mine = inspect.signature(getattr(ours, name)).parameters
    theirs = inspect.signature(getattr(torch.optim, name)).parameters
    assert set(theirs) - set(mine) <= {"foreach"}  # an implementation flag: ours has one loop
    for arg, param in mine.items():
        assert arg in theirs, f"{name} takes {arg!r}, which torch.optim.{name} does not"
        assert param.default == theirs[arg].default, f"{name}({arg}=...) default differs from torch"


@pytest.mark.parametrize("name", NAMES)
def test_unknown_keyword_is_an_error(name):
    with pytest.raises(TypeError):
        getattr(ours, name)([nn.Parameter(torch.ones(2, 2))], weight_decya=0.1)


BAD_ARGUMENTS = [
    ("Muon", dict(lr=-0.1), "lr"),
    ("Muon", dict(lr=float("nan")), "lr"),
    ("Muon", dict(weight_decay=-0.1), "weight_decay"),
    ("Muon", dict(momentum=-0.5), "momentum"),
    ("Muon", dict(eps=-1e-7), "eps"),
    ("Muon", dict(ns_coefficients=(3.4, -4.7)), "ns_coefficients"),
    ("Muon", dict(ns_steps=100), "ns_steps"),
    ("Muon", dict(ns_steps=-1), "ns_steps"),
    ("Muon", dict(ns_steps=2.5), "ns_steps"),
    ("Muon", dict(adjust_lr_fn="spectral"), "adjust_lr_fn"),
    ("Adafactor", dict(lr=-0.1), "lr"),
    ("Adafactor", dict(beta2_decay=0.5), "beta2_decay"),
    ("Adafactor", dict(eps=(-1e-30, 1e-3)), "eps[0]"),
    ("Adafactor", dict(eps=(None, -1e-3)), "eps[1]"),
    ("Adafactor", dict(eps=(1e-3,)), "eps"),
    ("Adafactor", dict(d=0.5), "d"),
    ("Adafactor", dict(weight_decay=-0.1), "weight_decay"),
]


@pytest.mark.parametrize(("name", "kwargs", "arg"), BAD_ARGUMENTS, ids=lambda v: str(v))
def test_bad_hyperparameter_raises_value_error_naming_it(name, kwargs, arg):
    with pytest.raises(ValueError) as error:
        getattr(ours, name)([nn.Parameter(torch.ones(2, 2))], **kwargs)
    assert str(error.value).startswith(arg)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("arg", "value"), [("lr", "0.1"), ("lr", None), ("lr", [0.1]), ("weight_decay", "0")])
def test_a_value_that_is_not_a_number_is_a_type_error_naming_it(name, arg, value):
    with pytest.raises(TypeError, match=rf"^{arg} must be a number.*{value!r}"):
        getattr(ours, name)([nn.Parameter(torch.ones(2, 2))], **{arg: value})


@pytest.mark.parametrize("name", NAMES)
def test_a_tensor_lr_must_hold_one_number(name):
    for lr in (torch.tensor([0.1, 0.2]), torch.tensor(-0.1)):
        with pytest.raises(ValueError, match=r"^lr"):
            getattr(ours, name)([nn.Parameter(torch.ones(2, 2))], lr=lr)


@pytest.mark.parametrize(("shape", "lr_dtype"), [((), torch.float64), ((1,), torch.float64), ((), torch.float32)])
@pytest.mark.parametrize(("name", "kwargs"), CONFIGS, ids=CONFIG_IDS)
def test_tensor_lr_trains_like_torch(name, kwargs, shape, lr_dtype):
    """A float32 rate on float64 weights too: torch then takes Adafactor's step size in float32, as ours."""
    lr = kwargs.get("lr", inspect.signature(getattr(ours, name)).parameters["lr"].default)
    results = []
    for module in (ours, torch.optim):
        net, x, y = make_problem(name, "cpu", torch.float64)
        opt = make_optimizer(module, name, {**kwargs, "lr": torch.full(shape, lr, dtype=lr_dtype)}, net)
        train(opt, net, x, y, 16)
        results.append((net, opt))
    assert_matches(*results, atol=1e-12, rtol=0)


@pytest.mark.parametrize("tensor_lr", [False, True])
@pytest.mark.parametrize(("name", "kwargs"), CONFIGS, ids=CONFIG_IDS)
def test_step_reads_no_tensor_value_on_the_host(name, kwargs, tensor_lr, monkeypatch):
    """torch's Adafactor reads two norms per parameter with .item(); ours keeps them on the device."""
    net, x, y = make_problem(name, "cpu", torch.float32)
    if tensor_lr:
        kwargs = {**kwargs, "lr": torch.tensor(kwargs.get("lr", 0.01))}
    opt = make_optimizer(ours, name, kwargs, net)
    for _ in range(3):
        opt.zero_grad()
        ((net(x) - y) ** 2).mean().backward()
        with host_syncs_forbidden(monkeypatch):
            opt.step()


@pytest.mark.parametrize(
    ("scheduler", "sched_kwargs"),
    [("StepLR", dict(step_size=3, gamma=0.5)), ("CosineAnnealingLR", dict(T_max=10)), ("OneCycleLR", {})],
)
@pytest.mark.parametrize("name", NAMES)
def test_works_with_torch_schedulers(name, scheduler, sched_kwargs):
    if scheduler == "OneCycleLR":  # it cycles Muon's momentum; Adafactor has none to cycle
        sched_kwargs = dict(max_lr=0.05, total_steps=12, cycle_momentum=name == "Muon")
    runs = []
    for theta, opt in pair(name, lr=0.01):
        sched = getattr(torch.optim.lr_scheduler, scheduler)(opt, **sched_kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for _ in range(12):
                opt.zero_grad()
                loss_of(theta).backward()
                opt.step()
                sched.step()
        runs.append(theta)
    torch.testing.assert_close(runs[0], runs[1], atol=1e-12, rtol=0)


@pytest.mark.parametrize("name", NAMES)
def test_step_with_closure_returns_its_loss(name):
    runs = []
    for theta, opt in pair(name):

        def closure():
            opt.zero_grad()
            loss = loss_of(theta)
            loss.backward()
            return loss

        losses = [opt.step(closure) for _ in range(5)]
        runs.append((theta, losses))
    (mine, my_losses), (theirs, their_losses) = runs
    torch.testing.assert_close(mine, theirs, atol=1e-12, rtol=0)
    assert all(torch.equal(a, b) for a, b in zip(my_losses, their_losses))


@pytest.mark.parametrize("set_to_none", [True, False])
@pytest.mark.parametrize("name", NAMES)
def test_zero_grad(name, set_to_none):
    """A zeroed gradient (set_to_none=False) is still a gradient: state advances as in torch."""
    runs = []
    for theta, opt in pair(name, lr=0.01):
        for step in range(6):
            opt.zero_grad(set_to_none=set_to_none)
            if step != 2:
                loss_of(theta).backward()
            opt.step()
        runs.append((theta, opt))
    (mine, opt), (theirs, opt_t) = runs
    torch.testing.assert_close(mine, theirs, atol=1e-12, rtol=0)
    if "step" in opt_t.state[theirs]:
        assert opt.state[mine]["t"] == int(opt_t.state[theirs]["step"])


@pytest.mark.parametrize("name", NAMES)
def test_an_older_state_dict_missing_group_keys_takes_them_from_the_defaults(name):
    runs = []
    for copy_through_old_state in (False, True):
        (theta, opt), _ = pair(name, lr=0.01)
        for step in range(6):
            if step == 3 and copy_through_old_state:
                old = opt.state_dict()
                for group in old["param_groups"]:
                    for key in [k for k in group if k not in ("params", "lr")]:
                        del group[key]
                opt = getattr(ours, name)([theta], lr=0.01)
                opt.load_state_dict(old)
            opt.zero_grad()
            loss_of(theta).backward()
            opt.step()
        runs.append(theta)
    torch.testing.assert_close(*runs, atol=0, rtol=0)


@pytest.mark.parametrize("name", NAMES)
def test_a_loaded_or_copied_optimizer_keeps_the_groups_and_defaults_as_saved(name):
    """torch's own Muon and Adafactor gain ``differentiable`` in their defaults on a copy; ours do not."""
    (theta, opt), _ = pair(name, lr=0.01)
    loss_of(theta).backward()
    opt.step()
    saved, defaults = opt.state_dict(), dict(opt.defaults)
    fresh = type(opt)([nn.Parameter(theta.detach().clone())], lr=0.01)
    fresh.load_state_dict(copy.deepcopy(saved))
    for again in (fresh, copy.deepcopy(opt)):
        assert again.state_dict()["param_groups"] == saved["param_groups"]
        assert again.defaults == defaults


@pytest.mark.parametrize("name", NAMES)
def test_non_finite_gradient_is_left_to_the_caller_as_in_torch(name):
    """A nan is used, not skipped. Adafactor's spreads along its row and column; Muon's, through
    the norm and the matrix products, to the whole matrix: in torch's exactly as in ours."""
    runs = []
    for theta, opt in pair(name):
        grad = torch.ones_like(theta)
        grad[1, 2] = float("nan")
        theta.grad = grad
        opt.step()
        runs.append(theta)
    torch.testing.assert_close(*runs, atol=1e-12, rtol=0, equal_nan=True)
    assert runs[0].isnan().any()


@pytest.mark.parametrize("name", NAMES)
def test_complex_parameters_are_refused_at_construction(name):
    """torch refuses them at the first step; ours when they are given."""
    with pytest.raises(ValueError, match=r"^params.*complex"):
        getattr(ours, name)([nn.Parameter(torch.ones(2, 2, dtype=torch.complex64))])
    theta = nn.Parameter(torch.ones(2, 2, dtype=torch.complex64))
    theta.grad = torch.ones_like(theta)
    with pytest.raises(RuntimeError, match="complex"):
        getattr(torch.optim, name)([theta]).step()


@pytest.mark.parametrize("name", NAMES)
def test_sparse_gradients_are_refused_as_in_torch(name):
    theta = nn.Parameter(torch.ones(3, 2))
    opt = getattr(ours, name)([theta])
    theta.grad = torch.ones(3, 2).to_sparse()
    with pytest.raises(RuntimeError, match="sparse"):
        opt.step()


def test_muon_refuses_what_is_not_a_matrix_naming_params():
    for shape in [(3,), (2, 2, 2), ()]:
        with pytest.raises(ValueError, match=r"^params: Muon takes real 2-D matrices"):
            ours.Muon([nn.Parameter(torch.ones(shape))])
        with pytest.raises(ValueError):
            torch.optim.Muon([nn.Parameter(torch.ones(shape))])
    opt = ours.Muon([nn.Parameter(torch.ones(2, 2))])
    with pytest.raises(ValueError, match=r"^params"):  # a group added later is checked too, and not added
        opt.add_param_group({"params": [nn.Parameter(torch.ones(3))]})
    assert len(opt.param_groups) == 1
    opt.add_param_group({"params": (p for p in [nn.Parameter(torch.ones(3, 2))])})  # any iterable, as in torch
    assert len(opt.param_groups) == 2


@pytest.mark.parametrize("name", NAMES)
def test_a_zero_size_parameter_is_left_as_it_is(name):
    """torch divides by the size (Adafactor) or the width (Muon, for shape (2, 0)) of such a tensor."""
    empty = nn.Parameter(torch.zeros(2, 0))
    theta = nn.Parameter(torch.ones(2, 2))
    opt = getattr(ours, name)([theta, empty])
    for _ in range(2):
        empty.grad, theta.grad = torch.zeros(2, 0), torch.ones(2, 2)
        opt.step()
    assert empty.shape == (2, 0) and not torch.equal(theta, torch.ones(2, 2))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no cuda device here")
@pytest.mark.parametrize("lr", [1e-3, torch.tensor(1e-3)])
@pytest.mark.parametrize("name", NAMES)
def test_cuda_step_does_not_synchronize(name, lr):
    theta = nn.Parameter(torch.randn(100, 30, device="cuda"))
    opt = getattr(ours, name)([theta], lr=lr)
    step_under_sync_errors(opt, theta)
