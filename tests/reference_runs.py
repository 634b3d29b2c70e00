"""Runs shared by the tests that compare an optimizer with its reference package.

Not a test module: the oracle tests import it (pytest puts ``tests/`` on the path).
"""

import inspect

import torch
from torch import nn


def fresh(cls, **kwargs):
    """A small float64 network (the same weights every call) and ``cls`` over its parameters."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double()
    return model, cls(model.parameters(), **kwargs)


def steps(model, opt, n, seed):
    """``n`` steps on batches drawn from ``seed``, so two runs can be compared step for step."""
    generator = torch.Generator().manual_seed(seed)
    for _ in range(n):
        opt.zero_grad()
        model(torch.randn(8, 3, generator=generator, dtype=torch.float64)).pow(2).mean().backward()
        opt.step()


def make_optimizer(cls, kwargs, net):
    """Two groups: the second at half the rate (its own ``lr``), the first on the defaults."""
    lr = kwargs.get("lr", inspect.signature(cls).parameters["lr"].default)
    groups = [
        {"params": [net.hidden.weight, net.hidden.bias, net.empty]},
        {"params": [net.out.weight, net.out.bias, net.frozen], "lr": lr / 2},
    ]
    return cls(groups, **kwargs)
