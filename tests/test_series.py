"""lrcourse.series: the generated series by its formula, windows by hand, the forecaster's shapes and fit."""

import math

import pytest
import torch

from lrcourse import series


def test_generate_matches_its_formula_without_noise():
    x = series.generate(120, periods=(20.0,), amplitudes=(2.0,), noise=0.0, seed=3)
    assert x.abs().max().item() == pytest.approx(2.0, abs=0.05)
    assert torch.allclose(x[:100], x[20:], atol=1e-5)  # period 20
    t = torch.arange(120, dtype=torch.float64)
    fitted = torch.stack([torch.sin(2 * math.pi * t / 20), torch.cos(2 * math.pi * t / 20)], 1)
    coef = torch.linalg.lstsq(fitted, x.double().unsqueeze(1)).solution.squeeze()
    assert coef.norm().item() == pytest.approx(2.0, rel=1e-5)  # amplitude, whatever the phase


def test_generate_noise_has_the_stated_size():
    clean = series.generate(20000, noise=0.0, seed=1)
    noisy = series.generate(20000, noise=0.3, seed=1)
    assert (noisy - clean).std().item() == pytest.approx(0.3, rel=0.05)
    with pytest.raises(ValueError):
        series.generate(10, periods=(5.0,), amplitudes=(1.0, 2.0))


def test_windows_by_hand():
    X, y = series.windows(torch.arange(10.0), length=4, stride=3)
    assert X[:, :, 0].tolist() == [[0, 1, 2, 3], [3, 4, 5, 6]]
    assert y[:, 0].tolist() == [4, 7]
    with pytest.raises(ValueError):
        series.windows(torch.arange(5.0), length=5)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_forecaster_shapes_and_last_state(cell):
    torch.manual_seed(0)
    model = series.Forecaster(hidden=4, cell=cell)
    x = torch.randn(3, 7, 1)
    out = model(x)
    assert out.shape == (3, 1)
    states, _ = model.rnn(x)
    assert torch.allclose(out, model.out(states[:, -1]))
    with pytest.raises(ValueError):
        series.Forecaster(cell="rnn")


def test_forecaster_learns_a_sine():
    torch.manual_seed(0)
    x = series.generate(600, periods=(20.0,), amplitudes=(1.0,), noise=0.0)
    X, y = series.windows(x, length=20, stride=2)
    model = series.Forecaster(hidden=8)
    opt = torch.optim.Adam(model.parameters(), lr=0.02)
    for _ in range(150):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(X), y)
        loss.backward()
        opt.step()
    assert loss.item() < 0.05 * y.var().item()
