"""Small synthetic data sets whose truth is known, for chapters and tests.

Each function returns ``(X, y)`` tensors drawn from its own seeded generator
(never the global one, so calling it does not disturb a training run), created
directly on ``device``. They are small enough to train on in a second on a CPU.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from lrcourse import seeding


def regression(
    n: int = 256,
    *,
    weight: Sequence[float] = (2.0, -3.0),
    bias: float = 1.0,
    noise: float = 0.1,
    seed: int = 0,
    device: str | torch.device | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Linear regression data: ``y = X @ weight + bias + noise * N(0, 1)``, ``X ~ N(0, 1)``.

    ``X`` has shape ``(n, len(weight))`` and ``y`` has shape ``(n, 1)``, so
    ``nn.Linear(len(weight), 1)`` fits it, and its best parameters are the known
    ``weight`` and ``bias``.

    >>> X, y = regression(1000, weight=(2.0,), bias=1.0, noise=0.0)
    >>> X.shape, y.shape, torch.allclose(y, 2 * X + 1)
    (torch.Size([1000, 1]), torch.Size([1000, 1]), True)
    """
    _check_positive("n", n)
    generator = _generator(seed)
    w = torch.tensor(weight, dtype=torch.float32)
    X = torch.randn(n, len(w), generator=generator)
    y = X @ w.unsqueeze(1) + bias + noise * torch.randn(n, 1, generator=generator)
    return X.to(device), y.to(device)


def classification(
    n: int = 300,
    *,
    classes: int = 3,
    features: int = 2,
    spread: float = 1.0,
    seed: int = 0,
    device: str | torch.device | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Gaussian blobs: ``classes`` clusters of standard deviation ``spread``, centres 3 apart.

    The centres sit on a circle in the first two features (other features are
    pure noise). Each centre is 1.5 from the boundaries with its neighbours, so
    with the default ``spread`` the classes overlap: with 3 classes even the
    best classifier scores only about 88 % (each point lands past one of two
    boundaries with probability about P(Z > 1.5) = 6.7 %).
    Labels are int64 in ``0 .. classes - 1``, balanced to within one.

    >>> X, y = classification(30, classes=3)
    >>> X.shape, y.dtype, torch.bincount(y).tolist()
    (torch.Size([30, 2]), torch.int64, [10, 10, 10])
    """
    _check_positive("n", n)
    if classes < 2:
        raise ValueError(f"classes must be at least 2, not {classes!r}")
    if features < 2:
        raise ValueError(f"features must be at least 2, not {features!r}")
    generator = _generator(seed)
    y = torch.arange(n) % classes
    y = y[torch.randperm(n, generator=generator)]
    radius = 1.5 / math.sin(math.pi / classes)  # neighbouring centres are 3 apart
    angle = 2 * math.pi * y.float() / classes
    centres = torch.zeros(n, features)
    centres[:, 0], centres[:, 1] = radius * torch.cos(angle), radius * torch.sin(angle)
    X = centres + spread * torch.randn(n, features, generator=generator)
    return X.to(device), y.to(device)


def sequences(
    n: int = 256,
    *,
    length: int = 20,
    noise: float = 0.05,
    seed: int = 0,
    device: str | torch.device | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Noisy sine waves: predict the next value from the last ``length`` ones.

    Each sequence has its own frequency (0.5 to 2 cycles per 20 steps) and
    phase. ``X`` is ``(n, length, 1)`` (batch first, one feature, as
    ``nn.LSTM(1, hidden, batch_first=True)`` expects) and ``y`` is ``(n, 1)``,
    the noiseless value one step after the window.

    >>> X, y = sequences(8, length=5, noise=0.0)
    >>> X.shape, y.shape, bool(X.abs().max() <= 1)
    (torch.Size([8, 5, 1]), torch.Size([8, 1]), True)
    """
    _check_positive("n", n)
    _check_positive("length", length)
    generator = _generator(seed)
    frequency = (0.5 + 1.5 * torch.rand(n, 1, generator=generator)) * 2 * math.pi / 20
    phase = 2 * math.pi * torch.rand(n, 1, generator=generator)
    t = torch.arange(length + 1, dtype=torch.float32)
    wave = torch.sin(frequency * t + phase)
    X = wave[:, :length] + noise * torch.randn(n, length, generator=generator)
    return X.unsqueeze(-1).to(device), wave[:, length:].to(device)


def _generator(seed: int) -> torch.Generator:
    return seeding.generator(seed, "synthetic")


def _check_positive(name: str, value: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name} must be a positive int, not {value!r}")
