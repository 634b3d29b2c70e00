"""Checkpoints move between lrcourse.optim and torch.optim, and training continues exactly."""

import copy

import pytest
import torch

from lrcourse import interop, optim

# (name, hyperparameters): every optimizer, and the options that add state
CASES = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, initial_accumulator_value=0.1)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.01)),
    ("Adadelta", dict(lr=1.0, rho=0.9)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, amsgrad=True, weight_decay=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1)),
    ("NAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.01)),
]
IDS = [f"{name}-{i}" for i, (name, _) in enumerate(CASES)]


@pytest.fixture(autouse=True)
def _float64(float64_default):
    """torch.optim keeps NAdam's mu_product in the default dtype: float64 compares like with like."""


def make_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1)).double()


def train(model, opt, steps, seed):
    generator = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        x = torch.randn(8, 3, generator=generator, dtype=torch.float64)
        loss = model(x).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()


def params(model):
    return [p.detach().clone() for p in model.parameters()]


@pytest.mark.parametrize(("name", "hyper"), CASES, ids=IDS)
def test_ours_to_torch_continues_identically(name, hyper):
    """Ours trains 5 steps, saves; torch.optim loads the converted checkpoint and goes on as ours does."""
    model = make_model()
    ours = getattr(optim, name)(model.parameters(), **hyper)
    train(model, ours, 5, seed=1)
    checkpoint = copy.deepcopy(interop.torch_state_dict(ours))

    moved = copy.deepcopy(model)
    theirs = getattr(torch.optim, name)(moved.parameters(), **hyper)
    theirs.load_state_dict(checkpoint)
    train(model, ours, 5, seed=2)
    train(moved, theirs, 5, seed=2)
    for a, b in zip(params(model), params(moved)):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize(("name", "hyper"), CASES, ids=IDS)
def test_torch_to_ours_continues_identically(name, hyper):
    """torch.optim trains 5 steps, saves; ours loads the converted checkpoint and goes on as torch does."""
    model = make_model()
    theirs = getattr(torch.optim, name)(model.parameters(), **hyper)
    train(model, theirs, 5, seed=1)
    checkpoint = copy.deepcopy(theirs.state_dict())

    moved = copy.deepcopy(model)
    ours = getattr(optim, name)(moved.parameters(), **hyper)
    interop.load_torch_state_dict(ours, checkpoint)
    train(model, theirs, 5, seed=2)
    train(moved, ours, 5, seed=2)
    for a, b in zip(params(model), params(moved)):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-14)
    for p in moved.parameters():  # the state is ours, in our names
        assert set(ours.state[p]) <= set(interop.STATE_KEYS[name])


@pytest.mark.parametrize(("name", "hyper"), CASES, ids=IDS)
def test_round_trip_is_the_identity(name, hyper):
    model = make_model()
    ours = getattr(optim, name)(model.parameters(), **hyper)
    train(model, ours, 3, seed=1)
    before = ours.state_dict()
    after = interop.from_torch(interop.to_torch(before, name), name)
    assert after["param_groups"] == before["param_groups"]
    assert before["state"].keys() == after["state"].keys()
    for index, state in before["state"].items():
        assert state.keys() == after["state"][index].keys()
        for key, value in state.items():
            if isinstance(value, torch.Tensor):
                assert torch.equal(value, after["state"][index][key])
            else:
                assert value == after["state"][index][key] and type(value) is type(after["state"][index][key])


def test_step_is_a_tensor_for_torch_and_an_int_for_us():
    theta = torch.nn.Parameter(torch.ones(2, dtype=torch.float64))
    ours = optim.Adam([theta], lr=0.1)
    theta.sum().backward()
    ours.step()
    ours.step()
    converted = interop.torch_state_dict(ours)["state"][0]
    assert isinstance(converted["step"], torch.Tensor) and converted["step"].item() == 2.0
    assert interop.from_torch({"state": {0: converted}, "param_groups": []}, "Adam")["state"][0]["t"] == 2


def test_unknown_optimizer_and_keys_are_errors():
    with pytest.raises(ValueError, match=r"no torch\.optim counterpart"):
        interop.to_torch({"state": {}, "param_groups": []}, "LARS")
    with pytest.raises(KeyError, match="unexpected key"):
        interop.to_torch({"state": {0: {"w": 1}}, "param_groups": []}, "Adam")
    with pytest.raises(KeyError, match="no use for"):
        interop.from_torch({"state": {0: {"w": torch.ones(1)}}, "param_groups": []}, "Adam")


def test_moving_in_memory_does_not_share_state():
    """Both optimizers go on in one process: each must own its state tensors."""
    theta = torch.nn.Parameter(torch.ones(2))
    ours = optim.Adam([theta], lr=0.1)
    theta.sum().backward()
    ours.step()
    theirs = torch.optim.Adam([torch.nn.Parameter(theta.detach().clone())], lr=0.1)
    theirs.load_state_dict(interop.torch_state_dict(ours))
    mine, other = ours.state[theta], next(iter(theirs.state.values()))
    assert mine["m"].data_ptr() != other["exp_avg"].data_ptr()
    back = optim.Adam([torch.nn.Parameter(torch.ones(2))], lr=0.1)
    interop.load_torch_state_dict(back, theirs.state_dict())
    assert next(iter(back.state.values()))["v"].data_ptr() != other["exp_avg_sq"].data_ptr()


def test_inputs_are_not_changed():
    sd = {
        "state": {0: {"t": 1, "m": torch.zeros(1), "v": torch.zeros(1)}},
        "param_groups": [{"lr": 0.1, "params": [0]}],
    }
    snapshot = copy.deepcopy(sd)
    interop.to_torch(sd, "Adam")["param_groups"][0]["lr"] = 1.0
    assert sd["state"][0].keys() == snapshot["state"][0].keys() and sd["param_groups"] == snapshot["param_groups"]
