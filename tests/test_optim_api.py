"""lrcourse.optim as a drop-in for torch.optim: signatures, bad input, schedulers, closures,
zero_grad, sparse and complex gradients, and no host sync in the step."""

from __future__ import annotations

import contextlib
import copy
import inspect
import warnings

import pytest
import torch
from torch import nn

from lrcourse import optim as ours

NAMES = ours.__all__


pytestmark = pytest.mark.usefixtures("float64_default")  # see conftest.py
# torch options that choose an implementation, not the update rule (ours: the readable loop, or fused=True)
IMPLEMENTATION_ONLY = {"foreach", "fused", "capturable", "differentiable"}


@pytest.mark.parametrize("name", NAMES)
def test_signature_matches_torch(name):
    mine = inspect.signature(getattr(ours, name)).parameters
    theirs = inspect.signature(getattr(torch.optim, name)).parameters
    assert set(theirs) - set(mine) <= IMPLEMENTATION_ONLY
    for arg, param in mine.items():
        assert arg in theirs, f"{name} takes {arg!r}, which torch.optim.{name} does not"
        assert param.default == theirs[arg].default, f"{name}({arg}=...) default differs from torch"


@pytest.mark.parametrize("name", NAMES)
def test_unknown_keyword_is_an_error(name):
    with pytest.raises(TypeError):
        getattr(ours, name)([nn.Parameter(torch.ones(1))], weight_decya=0.1)


BAD_ARGUMENTS = [
    ("SGD", dict(lr=-0.1), "lr"),
    ("SGD", dict(lr=float("nan")), "lr"),
    ("SGD", dict(momentum=-0.5), "momentum"),
    ("SGD", dict(weight_decay=-1e-4), "weight_decay"),
    ("SGD", dict(nesterov=True), "nesterov"),
    ("SGD", dict(nesterov=True, momentum=0.9, dampening=0.1), "nesterov"),
    ("Adagrad", dict(lr=-1.0), "lr"),
    ("Adagrad", dict(lr_decay=-0.1), "lr_decay"),
    ("Adagrad", dict(weight_decay=-0.1), "weight_decay"),
    ("Adagrad", dict(initial_accumulator_value=-0.1), "initial_accumulator_value"),
    ("Adagrad", dict(eps=-1e-10), "eps"),
    ("RMSprop", dict(lr=-1.0), "lr"),
    ("RMSprop", dict(alpha=1.0), "alpha"),
    ("RMSprop", dict(alpha=-0.1), "alpha"),
    ("RMSprop", dict(eps=-1.0), "eps"),
    ("RMSprop", dict(weight_decay=-1.0), "weight_decay"),
    ("RMSprop", dict(momentum=-0.9), "momentum"),
    ("Adadelta", dict(lr=-1.0), "lr"),
    ("Adadelta", dict(rho=1.0), "rho"),
    ("Adadelta", dict(rho=-0.5), "rho"),
    ("Adadelta", dict(eps=-1e-6), "eps"),
    ("Adadelta", dict(weight_decay=-1.0), "weight_decay"),
    ("NAdam", dict(momentum_decay=-4e-3), "momentum_decay"),
] + [
    (name, bad, arg)
    for name in ("Adam", "AdamW", "NAdam", "RAdam")
    for bad, arg in [
        (dict(lr=-1e-3), "lr"),
        (dict(eps=-1e-8), "eps"),
        (dict(weight_decay=-0.1), "weight_decay"),
        (dict(betas=(1.0, 0.999)), "betas[0]"),
        (dict(betas=(-0.1, 0.999)), "betas[0]"),
        (dict(betas=(0.9, 1.0)), "betas[1]"),
        (dict(betas=(0.9, 1.5)), "betas[1]"),
        (dict(betas=(0.9,)), "betas"),
    ]
]


@pytest.mark.parametrize(("name", "kwargs", "arg"), BAD_ARGUMENTS, ids=lambda v: str(v))
def test_bad_hyperparameter_raises_value_error_naming_it(name, kwargs, arg):
    with pytest.raises(ValueError) as error:
        getattr(ours, name)([nn.Parameter(torch.ones(1))], **kwargs)
    assert str(error.value).startswith(arg)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize(("arg", "value"), [("lr", "0.1"), ("lr", None), ("lr", [0.1]), ("weight_decay", "0")])
def test_a_value_that_is_not_a_number_is_a_type_error_naming_it(name, arg, value):
    with pytest.raises(TypeError, match=rf"^{arg} must be a number.*{value!r}"):
        getattr(ours, name)([nn.Parameter(torch.ones(1))], **{arg: value})


@pytest.mark.parametrize("name", NAMES)
def test_a_tensor_lr_must_hold_one_number(name):
    with pytest.raises(ValueError, match=r"^lr"):
        getattr(ours, name)([nn.Parameter(torch.ones(1))], lr=torch.tensor([0.1, 0.2]))
    with pytest.raises(ValueError, match=r"^lr"):
        getattr(ours, name)([nn.Parameter(torch.ones(1))], lr=torch.tensor(-0.1))


def tensor_lr_configs():
    from test_optim import CONFIGS

    return [(name, kwargs) for name, kwargs in CONFIGS if name in NAMES]


@pytest.mark.parametrize("shape", [(), (1,)])
@pytest.mark.parametrize(("name", "kwargs"), tensor_lr_configs(), ids=lambda v: str(v))
def test_tensor_lr_trains_like_torch(name, kwargs, shape):
    """A tensor ``lr`` (each optimizer its own: the test halves it in place) through the oracle's run."""
    from test_optim import assert_matches, make_optimizer, make_problem, train

    lr = kwargs.get("lr", inspect.signature(getattr(ours, name)).parameters["lr"].default)
    results = []
    for module in (ours, torch.optim):
        net, x, y = make_problem("cpu", torch.float64)
        opt = make_optimizer(module, name, {**kwargs, "lr": torch.full(shape, lr)}, net)
        train(opt, net, x, y, 16)
        results.append((net, opt))
    assert_matches(*results, atol=1e-12, rtol=0)
    assert isinstance(results[0][1].param_groups[0]["lr"], torch.Tensor)


@pytest.mark.parametrize("name", NAMES)
def test_tensor_lr_step_reads_no_tensor_value_on_the_host(name, monkeypatch):
    theta = nn.Parameter(torch.randn(5))
    opt = getattr(ours, name)([theta], lr=torch.tensor(0.01))
    for _ in range(3):
        theta.grad = torch.randn(5)
        with host_syncs_forbidden(monkeypatch):
            opt.step()


def test_a_scheduler_moves_a_tensor_lr_in_place_as_in_torch():
    runs = []
    for module in (ours, torch.optim):
        (theta, _), _ = pair("SGD")
        opt = module.SGD([theta], lr=torch.tensor(0.1), momentum=0.9)  # each its own tensor
        lr = opt.param_groups[0]["lr"]
        scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
        for _ in range(4):
            opt.zero_grad()
            loss_of(theta).backward()
            opt.step()
            scheduler.step()
        assert opt.param_groups[0]["lr"] is lr and lr.item() == 0.1 / 16
        runs.append(theta)
    torch.testing.assert_close(*runs, atol=1e-12, rtol=0)


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
@pytest.mark.parametrize("betas", [(torch.tensor(0.9), 0.999), (0.9, torch.tensor(0.999))])
def test_mixed_float_and_tensor_betas_are_refused_as_in_torch(name, betas):
    with pytest.raises(ValueError):
        getattr(torch.optim, name)([nn.Parameter(torch.ones(1))], betas=betas)
    with pytest.raises(ValueError, match=r"^betas must be both floats or both tensors"):
        getattr(ours, name)([nn.Parameter(torch.ones(1))], betas=betas)


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_tensor_betas_train_like_torch(name):
    runs = []
    for theta, opt in pair(name, lr=0.01, betas=(torch.tensor(0.8), torch.tensor(0.99))):
        for _ in range(6):
            opt.zero_grad()
            loss_of(theta).backward()
            opt.step()
        runs.append(theta)
    torch.testing.assert_close(*runs, atol=1e-12, rtol=0)


@pytest.mark.parametrize("name", NAMES)
def test_an_older_state_dict_missing_group_keys_takes_them_from_the_defaults(name):
    """As torch's test_can_load_older_state_dict: a key added to the groups in a later release."""
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
def test_a_loaded_or_copied_optimizer_keeps_the_groups_and_defaults_as_saved_as_in_torch(name):
    """As torch's test_state_dict_deterministic: torch's ``__setstate__`` adds ``differentiable`` to
    the defaults, an option these optimizers do not take; it must not reach the groups either."""
    for theta, opt in pair(name, lr=0.01):
        loss_of(theta).backward()
        opt.step()
        saved, defaults = opt.state_dict(), dict(opt.defaults)
        fresh = type(opt)([nn.Parameter(theta.detach().clone())], lr=0.01)
        fresh.load_state_dict(copy.deepcopy(saved))
        for again in (fresh, copy.deepcopy(opt)):
            assert again.state_dict()["param_groups"] == saved["param_groups"]
            assert again.defaults == defaults


def test_adamw_loading_an_adam_state_dict_stays_decoupled_as_in_torch():
    """As torch's test_adamw_serialization: AdamW's decay is decoupled whatever its state_dict says."""
    for library in (torch.optim, ours):
        theta = nn.Parameter(torch.ones(3))
        adam_state = library.Adam([theta], weight_decay=0.1).state_dict()
        adamw = library.AdamW([theta], weight_decay=0.1)
        adamw.load_state_dict(adam_state)
        assert adamw.param_groups[0]["decoupled_weight_decay"] is True, library.__name__
        adam = library.Adam([theta])
        adam.load_state_dict(library.AdamW([theta]).state_dict())
        assert adam.param_groups[0]["decoupled_weight_decay"] is True, library.__name__


def test_a_torch_state_dict_loaded_into_ours_points_to_interop():
    (_, opt), (theirs, opt_t) = pair("Adam", lr=0.01)
    loss_of(theirs).backward()
    opt_t.step()
    with pytest.raises(ValueError, match=r"torch\.optim\.Adam.*lrcourse\.interop\.load_torch_state_dict"):
        opt.load_state_dict(opt_t.state_dict())
    assert len(opt.state) == 0


@pytest.mark.parametrize("kwargs", [dict(lr=0.1), dict(lr=0.1, weight_decay=0.1, maximize=True)])
def test_plain_sgd_keeps_no_state_as_in_torch(kwargs):
    runs = []
    for theta, opt in pair("SGD", **kwargs):
        for _ in range(3):
            opt.zero_grad()
            loss_of(theta).backward()
            opt.step()
        runs.append((theta, opt))
    (mine, opt), (theirs, opt_t) = runs
    torch.testing.assert_close(mine, theirs, atol=1e-12, rtol=0)
    assert len(opt.state) == len(opt_t.state) == 0 and opt.state_dict()["state"] == {}


# --- working with the rest of torch.optim -----------------------------------------------


def pair(name, **kwargs):
    """The same parameters for ours and for torch's, and an optimizer on each."""
    torch.manual_seed(0)
    start = torch.randn(5, dtype=torch.float64)
    mine, theirs = nn.Parameter(start.clone()), nn.Parameter(start.clone())
    return (mine, getattr(ours, name)([mine], **kwargs)), (theirs, getattr(torch.optim, name)([theirs], **kwargs))


def loss_of(theta):
    return (theta**4).sum() + (theta[1:] * theta[:-1]).sum()


SCHEDULERS = [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("CosineAnnealingLR", dict(T_max=10)),
    ("OneCycleLR", dict(max_lr=0.05, total_steps=12)),  # also cycles momentum or betas
]


@pytest.mark.parametrize(("scheduler", "sched_kwargs"), SCHEDULERS)
@pytest.mark.parametrize("name", NAMES)
def test_works_with_torch_schedulers(name, scheduler, sched_kwargs):
    momentum = {"SGD": dict(momentum=0.9), "RMSprop": dict(momentum=0.9)}.get(name, {})
    if scheduler == "OneCycleLR" and name in ("Adagrad", "Adadelta"):
        sched_kwargs = dict(sched_kwargs, cycle_momentum=False)  # they have no momentum to cycle
    runs = []
    for theta, opt in pair(name, lr=0.01, **momentum):
        sched = getattr(torch.optim.lr_scheduler, scheduler)(opt, **sched_kwargs)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # e.g. "lr_scheduler.step() before optimizer.step()"
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
            if step != 2:  # no backward: .grad is None or zeros
                loss_of(theta).backward()
            opt.step()
        runs.append((theta, opt))
    (mine, opt), (theirs, opt_t) = runs
    torch.testing.assert_close(mine, theirs, atol=1e-12, rtol=0)
    if "step" in opt_t.state[theirs]:
        assert opt.state[mine]["t"] == int(opt_t.state[theirs]["step"])


@pytest.mark.parametrize("name", NAMES)
def test_non_finite_gradient_is_left_to_the_caller(name):
    """As in torch: a nan gradient is used, not skipped; finding it is the caller's job."""
    for theta, opt in pair(name):
        theta.grad = torch.tensor([1.0, float("nan"), 1.0, 1.0, 1.0], dtype=theta.dtype)
        opt.step()
        assert theta[1].isnan() and theta[[0, 2, 3, 4]].isfinite().all()


@pytest.mark.parametrize("name", NAMES)
def test_complex_parameters_match_torch(name):
    """A complex parameter is updated as its real and imaginary parts, as torch does."""
    torch.manual_seed(0)
    start = torch.randn(4, dtype=torch.complex128)
    thetas = []
    for module in (ours, torch.optim):
        theta = nn.Parameter(start.clone())
        opt = getattr(module, name)([theta], lr=0.01)
        for _ in range(5):
            opt.zero_grad()
            (theta.abs() ** 3).sum().backward()
            opt.step()
        thetas.append(theta)
    torch.testing.assert_close(thetas[0], thetas[1], atol=1e-12, rtol=0)


# --- sparse gradients ---------------------------------------------------------------------


def train_embedding(opt_cls, steps=8, **kwargs):
    torch.manual_seed(0)
    emb = nn.Embedding(10, 3, sparse=True).double()
    before = emb.weight.detach().clone()
    opt = opt_cls(emb.parameters(), **kwargs)
    for step in range(steps):
        rows = torch.tensor([[1, 2, 2, 7], [3, 1, 1, 9]][step % 2])  # repeated rows: coalesced
        opt.zero_grad()
        emb(rows).pow(2).sum().backward()
        assert emb.weight.grad.is_sparse
        opt.step()
    return emb.weight, opt, before


@pytest.mark.parametrize(
    ("name", "kwargs"),
    [
        ("Adagrad", dict(lr=0.1)),
        ("Adagrad", dict(lr=0.1, lr_decay=0.1, initial_accumulator_value=0.1, eps=1e-3, maximize=True)),
        ("SGD", dict(lr=0.1)),
    ],
)
@pytest.mark.filterwarnings("ignore:Sparse invariant checks")  # raised by torch's Adagrad, the oracle
def test_sparse_embedding_matches_torch(name, kwargs):
    mine, opt, before = train_embedding(getattr(ours, name), **kwargs)
    theirs, opt_t, _ = train_embedding(getattr(torch.optim, name), **kwargs)
    torch.testing.assert_close(mine, theirs, atol=1e-12, rtol=0)
    if name == "Adagrad":
        torch.testing.assert_close(opt.state[mine]["G"], opt_t.state[theirs]["sum"], atol=1e-12, rtol=0)
    untouched = [0, 4, 5, 6, 8]  # rows no gradient touched keep their values
    assert torch.equal(mine[untouched], before[untouched])
    assert not torch.equal(mine[[1, 2]], before[[1, 2]])


def test_sparse_gradient_with_weight_decay_is_refused():
    with pytest.raises(RuntimeError, match="weight_decay"):
        train_embedding(ours.Adagrad, weight_decay=0.1)


@pytest.mark.parametrize("name", ["RMSprop", "Adadelta", "Adam", "AdamW", "NAdam", "RAdam"])
def test_sparse_gradient_is_refused_where_torch_refuses_it(name):
    with pytest.raises(RuntimeError, match="sparse"):
        train_embedding(getattr(ours, name))


# --- no host sync in the step ---------------------------------------------------------


@contextlib.contextmanager
def host_syncs_forbidden(monkeypatch):
    """Reading a tensor's value on the host (item, float, bool, ...) raises inside this block."""

    def refuse(*args, **kwargs):
        raise AssertionError("the optimizer step read a tensor's value on the host")

    with monkeypatch.context() as patch:
        for method in ("item", "tolist", "__bool__", "__float__", "__int__"):
            patch.setattr(torch.Tensor, method, refuse)
        yield


@pytest.mark.parametrize("name", NAMES)
def test_step_reads_no_tensor_value_on_the_host(name, monkeypatch):
    from test_optim import CONFIGS, make_optimizer, make_problem

    for config_name, kwargs in CONFIGS:
        if config_name != name:
            continue
        net, x, y = make_problem("cpu", torch.float32)
        opt = make_optimizer(ours, name, kwargs, net)
        for _ in range(3):
            opt.zero_grad()
            ((net(x) - y) ** 2).mean().backward()
            with host_syncs_forbidden(monkeypatch):
                opt.step()


def step_under_sync_errors(opt, theta, steps=3):
    """Take ``steps`` steps on random gradients with CUDA's sync debug mode set to raise; the state stays on device."""
    for _ in range(steps):
        theta.grad = torch.randn_like(theta)
        torch.cuda.set_sync_debug_mode("error")
        try:
            opt.step()
        finally:
            torch.cuda.set_sync_debug_mode("default")
        assert all(s.device == theta.device for s in opt.state[theta].values() if isinstance(s, torch.Tensor))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no cuda device here")
@pytest.mark.parametrize("name", NAMES)
def test_cuda_step_does_not_synchronize(name):
    theta = nn.Parameter(torch.randn(1000, device="cuda"))
    opt = getattr(ours, name)([theta])
    step_under_sync_errors(opt, theta)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no cuda device here")
@pytest.mark.parametrize("name", NAMES)
def test_cuda_step_with_a_cpu_tensor_lr_does_not_synchronize(name):
    """As torch: a 0-d CPU tensor rate is read as a number on the host, never a device sync."""
    theta = nn.Parameter(torch.randn(1000, device="cuda"))
    opt = getattr(ours, name)([theta], lr=torch.tensor(1e-3))
    step_under_sync_errors(opt, theta)
