"""lrcourse.optim against its oracle, torch.optim: one table of configurations through both.

Each configuration trains the same small network with ours and with torch's optimizer
for STEPS steps, through everything an optimizer meets in real use: two parameter
groups at different rates, a step where no gradient exists, a parameter frozen for a
few steps, a zero-size parameter, and the rate changed between steps. Parameters and
every state tensor must agree (to 1e-12 in float64, about 1e-6 in float32).
"""

from __future__ import annotations

import contextlib
import inspect
import io

import pytest
import torch
from torch import nn

from lrcourse import optim as ours
from lrcourse.devices import available_devices

STEPS = 24
NO_GRAD_STEP = 3  # no backward at all: every .grad is None
FROZEN_STEPS = range(6, 10)  # Net.frozen gets no gradient on these steps
LR_CHANGE_STEP = 12  # every group's rate is halved before this step

CONFIGS = [
    ("SGD", {}),
    ("SGD", dict(lr=0.05, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.5, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.01, momentum=0.5, nesterov=True, weight_decay=0.1, maximize=True)),
    ("Adagrad", {}),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05)),
    ("Adagrad", dict(lr=0.1, weight_decay=0.1, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.1, eps=1e-3, maximize=True)),
    ("RMSprop", {}),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-4, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5, maximize=True)),
    ("Adadelta", {}),
    ("Adadelta", dict(lr=0.5, rho=0.5, eps=1e-3)),
    ("Adadelta", dict(weight_decay=0.1, maximize=True)),
    ("Adam", {}),
    ("Adam", dict(lr=0.01, betas=(0.5, 0.9), eps=1e-3)),
    ("Adam", dict(lr=0.01, weight_decay=0.1)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True)),
    ("Adam", dict(lr=0.01, amsgrad=True, maximize=True)),
    ("AdamW", {}),
    ("AdamW", dict(lr=0.01, weight_decay=0.0, betas=(0.8, 0.99))),
    ("AdamW", dict(lr=0.01, weight_decay=0.5, amsgrad=True)),
    ("AdamW", dict(lr=0.01, eps=1e-3, maximize=True)),
    ("NAdam", {}),
    ("NAdam", dict(lr=0.01, betas=(0.8, 0.99), momentum_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("RAdam", {}),
    ("RAdam", dict(lr=0.01, betas=(0.8, 0.9), eps=1e-3)),  # rho_t > 5 from step 6: both branches
    ("RAdam", dict(lr=0.01, weight_decay=0.1)),
    ("RAdam", dict(lr=0.01, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
]
CONFIG_IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'defaults'}" for name, kw in CONFIGS]

# torch's state names -> ours (the book's symbols)
STATE_NAMES = {
    "step": "t",
    "momentum_buffer": "b",
    "sum": "G",
    "square_avg": "v",
    "grad_avg": "g_avg",
    "acc_delta": "u",
    "exp_avg": "m",
    "exp_avg_sq": "v",
    "max_exp_avg_sq": "v_max",
    "mu_product": "mu_product",
}


def device_kinds():
    """CPU and CUDA always appear, so CUDA cases are reported as skipped where there is none."""
    present = [d.type for d in available_devices()]
    kinds = ["cpu", "cuda"] + [k for k in present if k not in ("cpu", "cuda")]
    return [pytest.param(k, marks=pytest.mark.skipif(k not in present, reason=f"no {k} device here")) for k in kinds]


DEVICES = device_kinds()


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(4, 8)
        self.out = nn.Linear(8, 3)
        self.frozen = nn.Parameter(torch.randn(3))  # loses its gradient on FROZEN_STEPS
        self.empty = nn.Parameter(torch.zeros(0, 2))  # zero-size

    def forward(self, x):
        return self.out(torch.tanh(self.hidden(x))) + self.frozen + self.empty.sum()


def make_problem(device, dtype):
    """The same network and data every time."""
    torch.manual_seed(0)
    net = Net().to(device, dtype)
    x, y = torch.randn(16, 4), torch.randn(16, 3)
    return net, x.to(device, dtype), y.to(device, dtype)


def make_optimizer(module, name, kwargs, net):
    """Two groups: the second at half the rate (its own ``lr``), the first on the defaults."""
    cls = getattr(module, name)
    lr = kwargs.get("lr", inspect.signature(cls).parameters["lr"].default)
    groups = [
        {"params": [net.hidden.weight, net.hidden.bias, net.empty]},
        {"params": [net.out.weight, net.out.bias, net.frozen], "lr": lr / 2},
    ]
    extra = {"foreach": False} if module is torch.optim else {}  # the oracle's plain per-tensor path
    return cls(groups, **kwargs, **extra)


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


@contextlib.contextmanager
def default_dtype(dtype):
    """torch keeps NAdam's mu_product in the default dtype: make it float64 for the oracle."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(dtype)
    try:
        yield
    finally:
        torch.set_default_dtype(before)


def run_both(name, kwargs, device, dtype, steps=STEPS):
    results = []
    for module in (ours, torch.optim):
        net, x, y = make_problem(device, dtype)
        with default_dtype(dtype if dtype == torch.float64 else torch.float32):
            opt = make_optimizer(module, name, kwargs, net)
            train(opt, net, x, y, steps)
        results.append((net, opt))
    return results


def assert_matches(mine, oracle, atol, rtol):
    (net, opt), (net_t, opt_t) = mine, oracle
    for p, p_t in zip(net.parameters(), net_t.parameters()):
        torch.testing.assert_close(p, p_t, atol=atol, rtol=rtol)
        state, state_t = opt.state.get(p, {}), opt_t.state.get(p_t, {})
        if not state and float(state_t.get("step", 0)) == 0:
            continue  # torch's Adagrad builds state at construction; ours on first use
        assert set(state) == {STATE_NAMES[k] for k in state_t}
        for key_t, value_t in state_t.items():
            value = state[STATE_NAMES[key_t]]
            if isinstance(value, torch.Tensor):
                assert (value.device, value.dtype) == (p.device, p.dtype)
                torch.testing.assert_close(value, value_t, atol=atol, rtol=rtol)
            else:  # t and mu_product are Python numbers: no host sync to read them
                assert value == pytest.approx(float(value_t), abs=atol, rel=rtol)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("name", "kwargs"), CONFIGS, ids=CONFIG_IDS)
def test_matches_torch_float64(name, kwargs, device):
    mine, oracle = run_both(name, kwargs, device, torch.float64)
    assert_matches(mine, oracle, atol=1e-12, rtol=0)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("name", "kwargs"), CONFIGS, ids=CONFIG_IDS)
def test_matches_torch_float32(name, kwargs, device):
    mine, oracle = run_both(name, kwargs, device, torch.float32)
    assert_matches(mine, oracle, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("name", "kwargs"), CONFIGS, ids=CONFIG_IDS)
def test_trains_in_bfloat16(name, kwargs, device):
    net, x, y = make_problem(device, torch.bfloat16)
    before = [p.detach().clone() for p in net.parameters()]
    opt = make_optimizer(ours, name, kwargs, net)
    train(opt, net, x, y, STEPS)
    for p in net.parameters():
        assert p.dtype == torch.bfloat16 and torch.isfinite(p).all()
        assert all(s.dtype == torch.bfloat16 for s in opt.state[p].values() if isinstance(s, torch.Tensor))
    # Some steps are below bfloat16's resolution (SGD's default lr=1e-3 on weights near 1
    # rounds back to the same number: a property of the format), but not all of them.
    assert any(not torch.equal(p, p0) for p, p0 in zip(net.parameters(), before))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize(("name", "kwargs"), CONFIGS, ids=CONFIG_IDS)
def test_resume_from_state_dict_is_bit_for_bit(name, kwargs, device):
    split = LR_CHANGE_STEP + 2  # after the rate change: the saved param_groups must carry it
    net, x, y = make_problem(device, torch.float32)
    opt = make_optimizer(ours, name, kwargs, net)
    train(opt, net, x, y, STEPS)

    first, x, y = make_problem(device, torch.float32)
    opt_first = make_optimizer(ours, name, kwargs, first)
    train(opt_first, first, x, y, split)
    buffer = io.BytesIO()
    torch.save({"net": first.state_dict(), "opt": opt_first.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer, weights_only=True)
    resumed, _, _ = make_problem(device, torch.float32)
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
