"""A forecasting task on a generated time series: the series, its windows, and a recurrent forecaster.

:func:`generate` draws a series with two seasonal cycles and noise; :func:`windows` cuts it into
``(past window, next value)`` examples; :class:`Forecaster` reads a window with a GRU or an LSTM
and predicts the next value from its last state.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from lrcourse import seeding


def generate(
    n_steps: int,
    *,
    periods: tuple[float, ...] = (50.0, 11.0),
    amplitudes: tuple[float, ...] = (1.0, 0.5),
    noise: float = 0.1,
    seed: int = 0,
) -> torch.Tensor:
    r"""A series :math:`x_t = \sum_k a_k \sin(2\pi t / P_k + \phi_k) + \sigma \varepsilon_t`, ``t = 0..n_steps-1``.

    The phases :math:`\phi_k` are drawn uniformly from the seed; :math:`\varepsilon_t` is standard normal.

    >>> x = generate(200, noise=0.0, periods=(50.0,), amplitudes=(1.0,))
    >>> x.shape, bool(torch.allclose(x[:150], x[50:], atol=1e-4))   # period 50
    (torch.Size([200]), True)
    """
    if len(periods) != len(amplitudes):
        raise ValueError("give one amplitude per period")
    g = seeding.generator(seed, "series")
    t = torch.arange(n_steps, dtype=torch.float64)
    x = torch.zeros(n_steps, dtype=torch.float64)
    for period, amplitude in zip(periods, amplitudes):
        phase = 2 * math.pi * torch.rand((), generator=g, dtype=torch.float64)
        x += amplitude * torch.sin(2 * math.pi * t / period + phase)
    x += noise * torch.randn(n_steps, generator=g, dtype=torch.float64)
    return x.float()


def windows(series: torch.Tensor, length: int, *, stride: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    """Every window of ``length`` values (every ``stride``-th start) and the value that follows it.

    Returns ``X`` of shape ``(n, length, 1)`` (batch first, one feature) and ``y`` of shape ``(n, 1)``.

    >>> X, y = windows(torch.arange(6.0), length=3)
    >>> X[:, :, 0].tolist(), y[:, 0].tolist()
    ([[0.0, 1.0, 2.0], [1.0, 2.0, 3.0], [2.0, 3.0, 4.0]], [3.0, 4.0, 5.0])
    """
    if not 0 < length < len(series):
        raise ValueError(f"length must be in [1, {len(series) - 1}], not {length!r}")
    starts = torch.arange(0, len(series) - length, stride)
    X = series[starts[:, None] + torch.arange(length)]
    return X.unsqueeze(-1), series[starts + length].unsqueeze(-1)


class Forecaster(nn.Module):
    """A one-layer GRU (``cell="gru"``) or LSTM (``cell="lstm"``) and a linear read-out of its last state.

    >>> model = Forecaster(hidden=8, cell="lstm")
    >>> model(torch.zeros(4, 30, 1)).shape
    torch.Size([4, 1])
    """

    def __init__(self, hidden: int = 16, *, cell: str = "gru") -> None:
        super().__init__()
        if cell not in ("gru", "lstm"):
            raise ValueError(f"cell must be 'gru' or 'lstm', not {cell!r}")
        self.rnn = (nn.GRU if cell == "gru" else nn.LSTM)(1, hidden, batch_first=True)
        self.out = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        states, _ = self.rnn(x)
        return self.out(states[:, -1])
