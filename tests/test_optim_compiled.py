"""fused=True (lrcourse.optim.compiled) against the readable update: same numbers, no recompiles.

Each compiled kernel costs seconds to build, so the configurations below share four of them
(Adam, Adam with AMSGrad, SGD with and without momentum); every other option is data.
"""

from __future__ import annotations

import copy
import os
import subprocess
import sys

import pytest
import torch
from torch import nn

from lrcourse import optim
from lrcourse.devices import is_available

STEPS = 6
CONFIGS = [
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, maximize=True)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.3, maximize=True)),
    ("SGD", dict(lr=0.1, weight_decay=0.01)),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for name, kw in CONFIGS]
CUDA = [pytest.param("cuda", marks=pytest.mark.skipif(not is_available("cuda"), reason="no CUDA device"))]


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.hidden = nn.Linear(4, 8)
        self.out = nn.Linear(8, 3)
        self.scale = nn.Parameter(torch.ones(()))  # a 0-d parameter
        self.rarely = nn.Parameter(torch.zeros(3))  # has a gradient on some steps only

    def forward(self, x, use_rarely=True):
        y = self.scale * self.out(torch.tanh(self.hidden(x)))
        return y + self.rarely if use_rarely else y


def groups(net, lr):
    """Two parameter groups, the second at half the rate."""
    return [
        {"params": [net.hidden.weight, net.hidden.bias, net.scale]},
        {"params": [net.out.weight, net.out.bias, net.rarely], "lr": lr / 2},
    ]


def make_pair(name, kwargs, device="cpu"):
    """Two identical networks, one with the readable optimizer and one with fused=True."""
    torch.manual_seed(0)
    nets = [Net().to(device), None]
    nets[1] = copy.deepcopy(nets[0])
    cls = getattr(optim, name)
    lr = kwargs["lr"]
    return nets, [cls(groups(nets[0], lr), **kwargs), cls(groups(nets[1], lr), **kwargs, fused=True)]


def train(net, opt, steps, device="cpu", set_to_none=True, start=0):
    torch.manual_seed(1)
    x, y = torch.randn(16, 4, device=device), torch.randn(16, 3, device=device)
    for step in range(start, start + steps):
        opt.zero_grad(set_to_none=set_to_none)
        ((net(x, use_rarely=step % 3 == 0) - y) ** 2).mean().backward()
        if step == 2:
            for group in opt.param_groups:  # as a schedule would
                group["lr"] *= 0.5
        opt.step()


def assert_same(nets, opts):
    """Parameters and every state tensor equal to float32 rounding; the step counts exactly."""
    for a, b in zip(nets[0].parameters(), nets[1].parameters()):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-6)
        state_a, state_b = opts[0].state[a], opts[1].state[b]
        assert state_a.keys() == state_b.keys()
        for key in state_a:
            torch.testing.assert_close(state_b[key], state_a[key], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(("name", "kwargs"), CONFIGS, ids=IDS)
def test_fused_equals_readable(name, kwargs):
    nets, opts = make_pair(name, kwargs)
    for net, opt in zip(nets, opts):
        train(net, opt, STEPS)
    assert_same(nets, opts)


@pytest.mark.parametrize("device", CUDA)
def test_fused_equals_readable_on_cuda(device):
    for name, kwargs in CONFIGS:
        nets, opts = make_pair(name, kwargs, device)
        for net, opt in zip(nets, opts):
            train(net, opt, STEPS, device)
        assert_same(nets, opts)


def test_no_recompile_as_steps_and_hyperparameters_change():
    from torch._dynamo.utils import counters

    nets, opts = make_pair("Adam", dict(lr=0.01))
    train(nets[1], opts[1], 2)
    graphs = counters["stats"]["unique_graphs"]
    with torch._dynamo.config.patch(error_on_recompile=True):
        for step in range(20):
            for group in opts[1].param_groups:  # a schedule moving every hyperparameter
                group["lr"] = 0.01 / (step + 1)
                group["betas"] = (0.9 - step / 100, 0.999)
                group["weight_decay"] = step / 100
            train(nets[1], opts[1], 1, start=step)
    assert counters["stats"]["unique_graphs"] == graphs
    assert opts[1].state[nets[1].hidden.weight]["t"] == 22


def test_parameters_and_gradients_become_views_of_one_buffer():
    nets, opts = make_pair("Adam", dict(lr=0.01))
    net, opt = nets[1], opts[1]
    train(net, opt, 2, set_to_none=False)
    params = [net.hidden.weight, net.hidden.bias, net.scale]
    base = params[0].untyped_storage().data_ptr()
    assert all(p.untyped_storage().data_ptr() == base for p in params)
    assert all(p.grad.untyped_storage().data_ptr() == params[0].grad.untyped_storage().data_ptr() for p in params)
    grad_ptrs = [p.grad.data_ptr() for p in params]
    train(net, opt, 2, set_to_none=False, start=2)  # backward accumulates into the flat gradients
    assert [p.grad.data_ptr() for p in params] == grad_ptrs


def test_state_dict_round_trip_and_swap_with_readable():
    """A fused run resumed from a state_dict, by a fused or a readable optimizer, goes on alike."""
    nets, opts = make_pair("AdamW", dict(lr=0.01, weight_decay=0.1))
    train(nets[1], opts[1], 3)
    saved_net, saved_opt = copy.deepcopy(nets[1].state_dict()), copy.deepcopy(opts[1].state_dict())
    train(nets[1], opts[1], 3, start=3)
    for fused in (True, False):
        net, _ = make_pair("AdamW", dict(lr=0.01, weight_decay=0.1))[0]
        net.load_state_dict(saved_net)
        opt = optim.AdamW(groups(net, 0.01), lr=0.01, weight_decay=0.1, fused=fused)
        opt.load_state_dict(saved_opt)
        train(net, opt, 3, start=3)
        for a, b in zip(nets[1].parameters(), net.parameters()):
            torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-6)


def test_moved_parameters_are_flattened_again():
    nets, opts = make_pair("SGD", dict(lr=0.1, momentum=0.9))
    for net, opt in zip(nets, opts):
        train(net, opt, 2)
    nets[1].hidden.weight.data = nets[1].hidden.weight.data.clone()  # as model.to(...) does
    for net, opt in zip(nets, opts):
        train(net, opt, 2, start=2)
    assert_same(nets, opts)


def test_closure_returns_the_loss():
    nets, opts = make_pair("SGD", dict(lr=0.1, momentum=0.9))
    x = torch.ones(2, 4)

    def closure():
        opts[1].zero_grad()
        loss = nets[1](x).sum()
        loss.backward()
        return loss

    assert opts[1].step(closure) == nets[0](x).sum()


def test_what_the_fast_path_refuses():
    theta = nn.Parameter(torch.ones(2, dtype=torch.complex64))
    theta.grad = torch.ones_like(theta)
    with pytest.raises(RuntimeError, match="floating-point"):
        optim.Adam([theta], fused=True).step()
    sparse = nn.Parameter(torch.ones(3))
    sparse.grad = torch.ones(3).to_sparse()
    with pytest.raises(RuntimeError, match="sparse"):
        optim.SGD([sparse], lr=0.1, fused=True).step()


@pytest.mark.parametrize("library", [torch.optim, optim], ids=["torch", "lrcourse"])
def test_fused_parameters_on_meta_are_refused_as_in_torch(library):
    """As torch's test_fused_error_on_params_on_meta: a model built on the meta device (no data)
    is refused with a clear error, and a later step, after ``to_empty``, raises nothing."""
    with torch.device("meta"):
        net = nn.Linear(2, 3)
    opt = library.SGD(net.parameters(), lr=0.1, momentum=0.9, fused=True)
    for p in net.parameters():
        p.grad = torch.ones_like(p)
    with pytest.raises(RuntimeError, match="`fused=True` requires all the params to be floating point Tensors"):
        opt.step()
    opt.zero_grad(set_to_none=True)
    net.to_empty(device="cpu")
    for p in net.parameters():
        p.grad = torch.ones_like(p)
    opt.step()


AVX2_STEP = """
import torch
from lrcourse.optim import SGD
x = torch.arange(1.0, 65.0)
theta = torch.nn.Parameter(x.clone())
opt = SGD([theta], lr=0.1, fused=True)
(theta ** 2).sum().backward(); opt.step()  # theta - 0.1 * 2 theta
print(int(((theta.detach() - 0.8 * x).abs() > 1e-5).sum()))
"""


@pytest.mark.skipif(torch.backends.cpu.get_cpu_capability() != "AVX512", reason="needs a CPU with AVX-512")
def test_avx2_kernels_after_avx512_ones_in_the_same_inductor_cache(tmp_path):
    """Processes with and without ATEN_CPU_CAPABILITY=avx2 in turn, sharing inductor's cache, update
    all 64 elements (torch 2.14's graph cache handed the avx2 one a kernel that left 8 of every 16)."""
    env = {**os.environ, "TORCHINDUCTOR_CACHE_DIR": str(tmp_path), "OMP_NUM_THREADS": "1"}
    env.pop("ATEN_CPU_CAPABILITY", None)
    wrong = []
    for capability in (None, "avx2", None):
        run_env = env if capability is None else {**env, "ATEN_CPU_CAPABILITY": capability}
        done = subprocess.run([sys.executable, "-c", AVX2_STEP], env=run_env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        wrong.append(int(done.stdout.split()[-1]))
    assert wrong == [0, 0, 0]
