"""LARS and LAMB against their papers' update rules, recomputed independently in NumPy.

The loss is a separable quadratic, ``sum(a * p**2 / 2 + c * p)`` over the parameters, so
its gradient ``a * p + c`` is known in closed form: the NumPy side needs no autograd and
shares no code with the optimizers. Edge cases: a parameter whose weights are all zero
(the trust ratio falls back to 1), a zero gradient, a parameter with no gradient,
``maximize`` and invariance to the scale of the loss.
"""

import numpy as np
import pytest
import torch

from lrcourse.optim import LAMB, LARS

STEPS = 6


def problem(seed=0, zero_bias=True):
    rng = np.random.default_rng(seed)
    shapes = [(3, 2), (3,)]
    start = [rng.normal(size=s) for s in shapes]
    if zero_bias:
        start[1][:] = 0.0  # ||w|| = 0: the ratio's numerator vanishes
    a = [rng.uniform(0.5, 2.0, size=s) for s in shapes]
    c = [rng.normal(size=s) for s in shapes]
    return start, a, c


def run_ours(cls, start, a, c, steps=STEPS, scale=1.0, **kwargs):
    params = [torch.nn.Parameter(torch.tensor(w, dtype=torch.float64)) for w in start]
    opt = cls(params, **kwargs)
    for _ in range(steps):
        opt.zero_grad()
        loss = sum((torch.tensor(ai) * p**2 / 2 + torch.tensor(ci) * p).sum() for p, ai, ci in zip(params, a, c))
        (scale * loss).backward()
        opt.step()
    return [p.detach().numpy() for p in params], opt


def trust(numerator, denominator):
    return numerator / denominator if numerator > 0 and denominator > 0 else 1.0


def lars_numpy(start, a, c, *, lr, momentum, weight_decay, trust_coefficient, steps=STEPS):
    """You, Gitman and Ginsburg (2017), Algorithm 1, layer by layer."""
    out = []
    for w, ai, ci in zip(start, a, c):
        w, v = w.copy(), np.zeros_like(w)
        for _ in range(steps):
            g = ai * w + ci
            w_norm, g_norm = np.linalg.norm(w), np.linalg.norm(g)
            local = trust(trust_coefficient * w_norm, g_norm + weight_decay * w_norm)
            v = momentum * v + lr * local * (g + weight_decay * w)
            w = w - v
        out.append(w)
    return out


def lamb_numpy(start, a, c, *, lr, betas, eps, weight_decay, steps=STEPS):
    """You et al. (2020), Algorithm 2 with phi the identity, layer by layer."""
    b1, b2 = betas
    out = []
    for x, ai, ci in zip(start, a, c):
        x, m, v = x.copy(), np.zeros_like(x), np.zeros_like(x)
        for t in range(1, steps + 1):
            g = ai * x + ci
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g**2
            r = (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
            u = r + weight_decay * x
            x = x - lr * trust(np.linalg.norm(x), np.linalg.norm(u)) * u
        out.append(x)
    return out


LARS_CONFIGS = [
    dict(lr=0.5, momentum=0.9, weight_decay=0.0, trust_coefficient=0.02),
    dict(lr=1.0, momentum=0.9, weight_decay=5e-2, trust_coefficient=0.01),
    dict(lr=0.3, momentum=0.0, weight_decay=1e-3, trust_coefficient=0.1),
]
LAMB_CONFIGS = [
    dict(lr=0.05, betas=(0.9, 0.999), eps=1e-6, weight_decay=0.0),
    dict(lr=0.02, betas=(0.8, 0.99), eps=1e-8, weight_decay=0.1),
    dict(lr=0.1, betas=(0.0, 0.9), eps=1e-3, weight_decay=0.01),
]


@pytest.mark.parametrize("zero_bias", [True, False])
@pytest.mark.parametrize("config", LARS_CONFIGS)
def test_lars_matches_algorithm_1(config, zero_bias):
    start, a, c = problem(zero_bias=zero_bias)
    ours, _ = run_ours(LARS, start, a, c, **config)
    for got, want in zip(ours, lars_numpy(start, a, c, **config)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("zero_bias", [True, False])
@pytest.mark.parametrize("config", LAMB_CONFIGS)
def test_lamb_matches_algorithm_2(config, zero_bias):
    start, a, c = problem(zero_bias=zero_bias)
    ours, _ = run_ours(LAMB, start, a, c, **config)
    for got, want in zip(ours, lamb_numpy(start, a, c, **config)):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_first_steps_by_hand():
    # LARS, one tensor w = (3, 4), g = (6, 8) (a = 2, c = 0), eta = 0.1, beta = 0.5:
    # lambda = 0.1 * 5 / (10 + 2.5) = 0.04; step = lr * lambda * (g + beta w) = 1 * 0.04 * (7.5, 10)
    ours, _ = run_ours(
        LARS,
        [np.array([3.0, 4.0])],
        [np.full(2, 2.0)],
        [np.zeros(2)],
        steps=1,
        lr=1.0,
        momentum=0.9,
        weight_decay=0.5,
        trust_coefficient=0.1,
    )
    np.testing.assert_allclose(ours[0], [3.0 - 0.3, 4.0 - 0.4])
    # LAMB, same tensor: r_1 = sign(g) (up to eps) = (1, 1), u = r + 0.5 x = (2.5, 3)
    # step = lr * ||x|| / ||u|| * u = 0.1 * 5 / 3.905 * (2.5, 3)
    ours, _ = run_ours(
        LAMB, [np.array([3.0, 4.0])], [np.full(2, 2.0)], [np.zeros(2)], steps=1, lr=0.1, eps=0.0, weight_decay=0.5
    )
    u = np.array([2.5, 3.0])
    np.testing.assert_allclose(ours[0], [3.0, 4.0] - 0.1 * 5 / np.linalg.norm(u) * u)


def test_zero_weights_use_the_global_rate():
    # w = 0: the ratio would be 0 and the parameter would never move; it is 1 instead
    ours, _ = run_ours(
        LARS,
        [np.zeros(2)],
        [np.ones(2)],
        [np.array([1.0, -1.0])],
        steps=1,
        lr=0.1,
        momentum=0.0,
        trust_coefficient=0.001,
    )
    np.testing.assert_allclose(ours[0], [-0.1, 0.1])
    ours, _ = run_ours(LAMB, [np.zeros(2)], [np.ones(2)], [np.array([1.0, -1.0])], steps=1, lr=0.1, eps=0.0)
    np.testing.assert_allclose(ours[0], [-0.1, 0.1])


@pytest.mark.parametrize("cls", [LARS, LAMB])
def test_zero_gradient_leaves_the_weights(cls):
    start = [np.array([1.0, 2.0])]
    ours, opt = run_ours(cls, start, [np.zeros(2)], [np.zeros(2)], steps=3, lr=0.1)
    np.testing.assert_array_equal(ours[0], start[0])
    assert all(
        torch.isfinite(s).all() for state in opt.state.values() for s in state.values() if isinstance(s, torch.Tensor)
    )


@pytest.mark.parametrize("cls,kwargs", [(LARS, dict(lr=0.5, trust_coefficient=0.01)), (LAMB, dict(lr=0.05, eps=0.0))])
def test_step_does_not_depend_on_the_scale_of_the_loss(cls, kwargs):  # LAMB: exactly so with eps = 0
    start, a, c = problem(zero_bias=False)
    small, _ = run_ours(cls, start, a, c, scale=1e-3, **kwargs)
    large, _ = run_ours(cls, start, a, c, scale=1e3, **kwargs)
    for s, g in zip(small, large):
        np.testing.assert_allclose(s, g, rtol=1e-6)


@pytest.mark.parametrize("cls", [LARS, LAMB])
def test_maximize_and_missing_gradients(cls):
    p, q = torch.nn.Parameter(torch.tensor([1.0, 2.0])), torch.nn.Parameter(torch.tensor([5.0]))
    opt = cls([p, q], lr=0.1, maximize=True)
    (-(p**2).sum()).backward()  # q gets no gradient: skipped, no state
    opt.step()
    assert (p.detach().abs() < torch.tensor([1.0, 2.0])).all()  # maximising -p^2 shrinks p
    assert q.item() == 5.0 and len(opt.state[q]) == 0


@pytest.mark.parametrize(
    "cls,kwargs,name",
    [
        (LARS, dict(lr=-1.0), "lr"),
        (LARS, dict(momentum=-0.1), "momentum"),
        (LARS, dict(weight_decay=-0.1), "weight_decay"),
        (LARS, dict(trust_coefficient=-1.0), "trust_coefficient"),
        (LAMB, dict(lr=-1.0), "lr"),
        (LAMB, dict(eps=-1.0), "eps"),
        (LAMB, dict(weight_decay=-1.0), "weight_decay"),
        (LAMB, dict(betas=(1.0, 0.9)), "betas[0]"),
    ],
)
def test_bad_arguments_are_named(cls, kwargs, name):
    with pytest.raises(ValueError) as error:
        cls([torch.nn.Parameter(torch.ones(1))], **kwargs)
    assert str(error.value).startswith(name)


@pytest.mark.parametrize("cls", [LARS, LAMB])
def test_state_dict_round_trip(cls):
    start, a, c = problem(zero_bias=False)
    whole, _ = run_ours(cls, start, a, c, steps=4, lr=0.05)
    half, opt = run_ours(cls, start, a, c, steps=2, lr=0.05)
    params = [torch.nn.Parameter(torch.tensor(w)) for w in half]
    again = cls(params, lr=0.05)
    again.load_state_dict(opt.state_dict())
    for _ in range(2):
        again.zero_grad()
        sum((torch.tensor(ai) * p**2 / 2 + torch.tensor(ci) * p).sum() for p, ai, ci in zip(params, a, c)).backward()
        again.step()
    for p, w in zip(params, whole):
        np.testing.assert_allclose(p.detach().numpy(), w, rtol=1e-12)
