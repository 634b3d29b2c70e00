import math

import pytest
import torch

from lrcourse import synthetic
from lrcourse.models import LogisticRegression


def test_regression_least_squares_recovers_the_truth():
    X, y = synthetic.regression(2000, weight=(2.0, -3.0, 0.5), bias=1.0, noise=0.1)
    design = torch.cat([X, torch.ones(len(X), 1)], dim=1)
    solution = torch.linalg.lstsq(design, y).solution.squeeze(1)
    torch.testing.assert_close(solution, torch.tensor([2.0, -3.0, 0.5, 1.0]), atol=0.02, rtol=0)
    residual = y - design @ solution.unsqueeze(1)
    assert abs(residual.std().item() - 0.1) < 0.01


def test_classification_is_as_separable_as_the_docstring_says():
    X, y = synthetic.classification(3000, classes=3, seed=1)
    model = LogisticRegression(2, num_classes=3)
    optimizer = torch.optim.LBFGS(model.parameters(), max_iter=100)

    def closure():
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(X), y)
        loss.backward()
        return loss

    optimizer.step(closure)
    accuracy = (model(X).argmax(1) == y).float().mean().item()
    bayes = 1 - 2 * 0.5 * math.erfc(1.5 / math.sqrt(2))  # each point has two neighbouring boundaries
    assert abs(accuracy - bayes) < 0.03


def test_classification_centres_are_three_apart():
    X, y = synthetic.classification(4000, classes=4, features=3, spread=0.01)
    centres = torch.stack([X[y == c].mean(0) for c in range(4)])
    assert torch.allclose((centres[0] - centres[1]).norm(), torch.tensor(3.0), atol=0.01)
    assert centres[:, 2].abs().max() < 0.01  # extra features are noise only


def test_sequences_target_continues_the_wave():
    X, y = synthetic.sequences(16, length=30, noise=0.0)
    # a sine sampled at equal steps obeys x[t+1] = 2 cos(w) x[t] - x[t-1]; recover 2 cos(w) from the window
    x = X.squeeze(-1)
    two_cos = (x[:, 2] + x[:, 0]) / x[:, 1]
    torch.testing.assert_close(y.squeeze(1), two_cos * x[:, -1] - x[:, -2], atol=1e-3, rtol=0)


def test_same_seed_same_data_and_no_global_state_used():
    torch.manual_seed(0)
    expected = torch.rand(2)
    torch.manual_seed(0)
    first = synthetic.classification(50, seed=4)
    assert torch.equal(torch.rand(2), expected)
    second = synthetic.classification(50, seed=4)
    assert all(torch.equal(a, b) for a, b in zip(first, second))


@pytest.mark.parametrize(
    "make,kwargs,name",
    [
        (synthetic.regression, {"n": 0}, "n"),
        (synthetic.classification, {"classes": 1}, "classes"),
        (synthetic.classification, {"features": 1}, "features"),
        (synthetic.sequences, {"length": 0}, "length"),
    ],
)
def test_bad_arguments_are_named(make, kwargs, name):
    with pytest.raises(ValueError, match=name):
        make(**kwargs)
