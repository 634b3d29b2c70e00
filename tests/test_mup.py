"""lrcourse.mup against its oracle, PyPI mup (1.0.0), and against the rates worked out by hand.

The oracle model is what mup's README builds: the same layers with ``mup.MuReadout`` as the
output layer, then ``mup.set_base_shapes(model, base, delta=delta)``. Built from the same seed,
it must hold the same parameters as ``lrcourse.mup.MLP`` (the same draws, rescaled the same
way) and compute the same logits; ``mup.MuSGD`` and ``mup.MuAdam`` must give every parameter
the rate and weight decay that ``lrcourse.mup.param_groups`` gives it; and a few steps of
training in float64 must end at the same parameters.
"""

from __future__ import annotations

import mup as reference
import pytest
import torch
from test_optim import DEVICES
from torch import nn

from lrcourse import models
from lrcourse import mup as ours

IN, OUT, BASE = 12, 5, 8
WIDTHS = [8, 16, 64]  # the base width itself, and two wider
OPTIMIZERS = {  # ours -> (torch optimizer, mup's wrapper)
    "sgd": [(torch.optim.SGD, reference.MuSGD, {"momentum": 0.9})],
    "adam": [(torch.optim.Adam, reference.MuAdam, {}), (torch.optim.AdamW, reference.MuAdamW, {})],
}
CASES = [(name, *case) for name, cases in OPTIMIZERS.items() for case in cases]
CASE_IDS = [f"{name}-{torch_cls.__name__}" for name, torch_cls, *_ in CASES]


def oracle(width, depth=2, seed=0):
    """The mup package's MLP: nn.Linear layers and a MuReadout, base shapes set from the base width."""

    def build(n):
        layers = [nn.Flatten()]
        for fan_in, fan_out in zip([IN] + [n] * depth, [n] * depth):
            layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
        return nn.Sequential(*layers, reference.MuReadout(n, OUT))

    base, delta = build(BASE), build(2 * BASE)  # delta: which dimensions grow with width
    torch.manual_seed(seed)
    model = build(width)
    reference.set_base_shapes(model, base, delta=delta)
    return model


def ours_model(width, depth=2, seed=0):
    torch.manual_seed(seed)
    return ours.MLP(IN, width, OUT, base_width=BASE, depth=depth)


def by_parameter(groups, names):
    """(lr, weight_decay) of every parameter, by name, read from optimizer groups."""
    found = {}
    for group in groups:
        for p in group["params"]:
            found[names[id(p)]] = (group["lr"], group["weight_decay"])
    return found


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("width", WIDTHS)
def test_initialisation_and_logits_match_mup(width, depth):
    mine, theirs = ours_model(width, depth), oracle(width, depth)
    theirs_params = dict(theirs.named_parameters())
    for name, p in mine.named_parameters():
        torch.testing.assert_close(p, theirs_params[name.removeprefix("layers.")], rtol=0, atol=0)
    x = torch.randn(7, IN)
    torch.testing.assert_close(mine(x), theirs(x), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(("name", "torch_cls", "mup_cls", "kwargs"), CASES, ids=CASE_IDS)
def test_rates_and_decay_match_mup(width, name, torch_cls, mup_cls, kwargs):
    mine, theirs = ours_model(width), oracle(width)
    lr, decay = 0.03, 0.01
    mine_opt = torch_cls(ours.param_groups(mine, lr, name, weight_decay=decay), **kwargs)
    theirs_opt = mup_cls(theirs.parameters(), lr=lr, weight_decay=decay, **kwargs)
    mine_rates = by_parameter(mine_opt.param_groups, {id(p): n for n, p in mine.named_parameters()})
    theirs_rates = by_parameter(theirs_opt.param_groups, {id(p): n for n, p in theirs.named_parameters()})
    mine_rates = {k.removeprefix("layers."): v for k, v in mine_rates.items()}
    assert mine_rates.keys() == theirs_rates.keys()
    for key, (rate, decay_) in theirs_rates.items():
        assert mine_rates[key] == (pytest.approx(rate, rel=1e-14), pytest.approx(decay_, rel=1e-14)), key


@pytest.mark.parametrize(("name", "torch_cls", "mup_cls", "kwargs"), CASES, ids=CASE_IDS)
def test_training_matches_mup(name, torch_cls, mup_cls, kwargs, float64_default):
    mine, theirs = ours_model(64), oracle(64)
    lr = 0.05 if name == "sgd" else 1e-3
    mine_opt = torch_cls(ours.param_groups(mine, lr, name, weight_decay=0.01), **kwargs)
    theirs_opt = mup_cls(theirs.parameters(), lr=lr, weight_decay=0.01, **kwargs)
    generator = torch.Generator().manual_seed(1)
    for _ in range(6):
        x, y = torch.randn(16, IN, generator=generator), torch.randint(OUT, (16,), generator=generator)
        for model, opt in ((mine, mine_opt), (theirs, theirs_opt)):
            opt.zero_grad()
            nn.functional.cross_entropy(model(x), y).backward()
            opt.step()
    theirs_params = dict(theirs.named_parameters())
    for key, p in mine.named_parameters():
        torch.testing.assert_close(p, theirs_params[key.removeprefix("layers.")], rtol=0, atol=1e-12)


def test_rates_worked_out_by_hand():
    """The module docstring's table at m = 4: SGD m, 1, m, (m, 1); Adam 1, 1/m, 1, (1, 1)."""
    model = ours.MLP(IN, 4 * BASE, OUT, base_width=BASE)
    layers = ["input W", "input b", "hidden W", "hidden b", "readout W", "readout b"]
    expected = {"sgd": [4, 4, 1, 4, 4, 1], "adam": [1, 1, 0.25, 1, 1, 1]}
    for name, factors in expected.items():
        groups = ours.param_groups(model, lr=1.0, optimizer=name, weight_decay=1.0)
        assert dict(zip(layers, [g["lr"] for g in groups])) == dict(zip(layers, factors)), name
        assert [g["weight_decay"] * g["lr"] for g in groups] == [1.0] * 6  # lr * wd: width-free shrinkage


def test_base_width_is_the_standard_parametrisation():
    torch.manual_seed(3)
    standard = models.MLP(IN, hidden=(BASE, BASE), out_features=OUT)
    mine = ours_model(BASE, seed=3)
    for (name, p), q in zip(mine.named_parameters(), standard.parameters()):
        torch.testing.assert_close(p, q, rtol=0, atol=0, msg=name)
    for optimizer in ("sgd", "adam"):
        assert {g["lr"] for g in ours.param_groups(mine, 0.1, optimizer)} == {0.1}


def test_readout_scales_like_one_over_width():
    """muP's effective readout has entries of scale 1/n (SP: 1/sqrt n); its stored weight keeps the base scale."""
    torch.manual_seed(0)
    for width in (64, 1024):
        model = ours.MLP(IN, width, OUT, base_width=BASE)
        stored = model.layers[-1].weight
        effective = stored / model.width_mult
        assert stored.std().item() == pytest.approx(BASE**-0.5 / 3**0.5, rel=0.15)
        assert effective.std().item() * width == pytest.approx(BASE**0.5 / 3**0.5, rel=0.15)


@pytest.mark.parametrize("device", DEVICES)
def test_trains_on_device(device):
    torch.manual_seed(0)
    model = ours.MLP(IN, 32, OUT, base_width=BASE).to(device)
    opt = torch.optim.Adam(ours.param_groups(model, 1e-3, "adam"))
    x, y = torch.randn(8, IN, device=device), torch.randint(OUT, (8,), device=device)
    nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
    assert all(p.device.type == device for p in model.parameters())


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: ours.MLP(IN, 0, OUT, base_width=BASE), "width must be a positive int"),
        (lambda: ours.MLP(IN, 16, OUT, base_width=8.0), "base_width must be a positive int"),
        (lambda: ours.MLP(IN, 16, OUT, base_width=BASE, depth=0), "depth must be a positive int"),
        (lambda: ours.Readout(4, 2, width_mult=0.0), "width_mult and output_mult must be positive"),
        (lambda: ours.param_groups(ours_model(16), 0.1, "lion"), "optimizer must be 'sgd' or 'adam'"),
        (lambda: ours.param_groups(ours_model(16), -0.1, "sgd"), "lr must be positive"),
        (lambda: ours.param_groups(models.MLP(IN), 0.1, "sgd"), "lrcourse.mup.MLP, not MLP"),
    ],
)
def test_bad_arguments_are_named(call, message):
    with pytest.raises((ValueError, TypeError), match=message):
        call()
