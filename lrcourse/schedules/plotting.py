r"""Seeing a schedule, and counting steps: :func:`~lrcourse.schedules.plot`,
:func:`~lrcourse.schedules.steps_per_epoch`, :func:`~lrcourse.schedules.epochs_to_steps`.

Schedules count optimizer updates, while training plans are often written in epochs; the
two helpers convert, so a chapter can say "cosine over 10 epochs" and pass steps.

>>> from lrcourse.schedules import cosine, epochs_to_steps, steps_per_epoch
>>> per_epoch = steps_per_epoch(60_000, batch_size=128)
>>> per_epoch, epochs_to_steps(10, per_epoch)
(469, 4690)
"""

from __future__ import annotations

import math
from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np

from lrcourse.schedules._base import check_steps, values


def steps_per_epoch(num_samples: int, batch_size: int, drop_last: bool = False, accumulation_steps: int = 1) -> int:
    r"""Optimizer updates in one pass over ``num_samples`` examples.

    .. math::
        \text{batches} = \lceil N / B \rceil \ (\lfloor N / B \rfloor \text{ with drop\_last}),
        \qquad \text{updates} = \lceil \text{batches} / A \rceil

    with :math:`A` = ``accumulation_steps`` (a final, shorter accumulation still makes an update).

    >>> steps_per_epoch(1000, batch_size=32), steps_per_epoch(1000, batch_size=32, drop_last=True)
    (32, 31)
    >>> steps_per_epoch(1000, batch_size=32, accumulation_steps=4)
    8
    """
    n = check_steps("num_samples", num_samples)
    b = check_steps("batch_size", batch_size)
    a = check_steps("accumulation_steps", accumulation_steps)
    batches = n // b if drop_last else math.ceil(n / b)
    if batches == 0:
        raise ValueError(f"num_samples ({n}) < batch_size ({b}) with drop_last leaves no batch")
    return math.ceil(batches / a)


def epochs_to_steps(epochs: float, steps_per_epoch: int) -> int:
    r"""Updates in ``epochs`` epochs (which may be fractional): :math:`\operatorname{round}(E \cdot S)`.

    >>> epochs_to_steps(0.5, steps_per_epoch=469)
    234
    """
    if isinstance(epochs, bool) or not isinstance(epochs, int | float) or not math.isfinite(epochs) or epochs < 0:
        raise ValueError(f"epochs must be a finite number >= 0, got {epochs!r}")
    return int(round(epochs * check_steps("steps_per_epoch", steps_per_epoch)))


def plot(
    schedule: Callable,
    total_steps: int,
    ax=None,
    label: str | None = None,
    log: bool = False,
    steps_per_epoch: int | None = None,
):
    r"""Draw :math:`\eta_t` for :math:`t = 0, \dots, T-1` (``T = total_steps``) and return the ``Axes``.

    Our schedules are evaluated on all steps at once; a plain callable, step by step. With
    ``steps_per_epoch`` the horizontal axis counts epochs instead of steps; ``log`` puts the
    rate on a log scale.

    >>> from lrcourse.schedules import cosine
    >>> ax = plot(cosine(0.1, total_steps=1000), total_steps=1000, label="cosine")
    >>> ax.get_xlabel(), ax.get_ylabel(), len(ax.lines[0].get_xdata())
    ('step', 'learning rate', 1000)
    """
    t = np.arange(check_steps("total_steps", total_steps))
    lr = values(schedule, t)
    if ax is None:
        ax = plt.figure(figsize=(5, 3)).add_subplot()
    x: np.ndarray
    if steps_per_epoch is not None:
        x, xlabel = t / check_steps("steps_per_epoch", steps_per_epoch), "epoch"
    else:
        x, xlabel = t, "step"
    ax.plot(x, lr, label=label)
    ax.set(xlabel=xlabel, ylabel="learning rate", yscale="log" if log else "linear")
    if label is not None:
        ax.legend(fontsize="small")
    return ax
