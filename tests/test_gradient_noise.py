"""lrcourse.gradient_noise against exact enumeration and closed forms."""

import itertools

import pytest
import torch
from torch import nn

from lrcourse.gradient_noise import (
    flat_gradient,
    gradient_statistics,
    minibatch_error,
    noise_scale,
    predicted_error,
)


def tiny_problem(n=7, seed=0):
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 3, generator=generator, dtype=torch.float64)
    y = torch.randint(0, 2, (n,), generator=generator)
    model = nn.Linear(3, 2).double()
    return model, nn.CrossEntropyLoss(), X, y


def test_statistics_match_a_loop_over_examples():
    model, loss_fn, X, y = tiny_problem()
    G, trace = gradient_statistics(model, loss_fn, X, y, chunk_size=3)
    each = torch.stack([flat_gradient(model, loss_fn, X[i : i + 1], y[i : i + 1]) for i in range(len(X))])
    torch.testing.assert_close(G, each.mean(0))
    torch.testing.assert_close(G, flat_gradient(model, loss_fn, X, y))
    assert trace == pytest.approx((each - each.mean(0)).square().sum(1).mean().item(), rel=1e-10)


@pytest.mark.parametrize("batch_size", [1, 2, 3, 5, 7])
def test_prediction_is_exact_over_all_batches(batch_size):
    model, loss_fn, X, y = tiny_problem()
    G, trace = gradient_statistics(model, loss_fn, X, y)
    errors = [
        (flat_gradient(model, loss_fn, X[list(rows)], y[list(rows)]) - G).square().sum().item()
        for rows in itertools.combinations(range(len(X)), batch_size)
    ]
    exact = sum(errors) / len(errors)
    assert predicted_error(trace, batch_size, len(X)) == pytest.approx(exact, rel=1e-9, abs=1e-15)


def test_measured_error_is_close_to_the_prediction():
    model, loss_fn, X, y = tiny_problem(n=50)
    _G, trace = gradient_statistics(model, loss_fn, X, y)
    measured = minibatch_error(model, loss_fn, X, y, batch_size=5, draws=4000, seed=1)
    assert measured == pytest.approx(predicted_error(trace, 5, 50), rel=0.1)


def test_linear_regression_by_hand():
    X, y = torch.arange(6.0).unsqueeze(1), torch.zeros(6, 1)
    model = nn.Linear(1, 1, bias=False)
    nn.init.ones_(model.weight)
    G, trace = gradient_statistics(model, nn.MSELoss(), X, y)
    g = 2 * X.squeeze() ** 2  # d/dw (w x)^2 at w = 1
    assert G.item() == pytest.approx(g.mean().item())
    assert trace == pytest.approx(g.var(unbiased=False).item(), rel=1e-6)


def test_bad_batch_size_and_noise_scale():
    with pytest.raises(ValueError):
        predicted_error(1.0, 0, 10)
    assert noise_scale(torch.tensor([1.0, 0.0]), 5.0) == 5.0
