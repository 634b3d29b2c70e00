"""What ``fit(on_epoch_end=...)`` can call after each epoch: early stopping, decided from the history alone.

A callback takes the :class:`~lrcourse.train.History` so far and returns ``True`` to
stop training. :class:`EarlyStopping` keeps no state of its own: it reads the
validation rows, so a run resumed from a checkpoint stops where the unbroken run would.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from lrcourse.train.history import History


@dataclass(frozen=True)
class EarlyStopping:
    r"""Stop after ``patience`` epochs in a row (at least one) that do not improve the validation ``metric``.

    An epoch improves on the best so far :math:`x^*` when its value :math:`x` satisfies
    :math:`x < x^* - \delta` (``mode="min"``) or :math:`x > x^* + \delta` (``mode="max"``),
    with :math:`\delta` = ``min_delta``, as in Keras's ``EarlyStopping``. Epochs without
    the metric are not counted. The model is the one of the last epoch trained, not the best.

    >>> history = History()
    >>> for epoch, loss in enumerate([1.0, 0.5, 0.6, 0.7]):
    ...     history.record_validation(epoch=epoch, step=epoch, metrics={"loss": loss})
    >>> EarlyStopping(patience=2)(history), EarlyStopping(patience=3)(history)
    (True, False)
    """

    patience: int = 5
    metric: str = "loss"
    mode: str = "min"
    min_delta: float = 0.0

    def __post_init__(self):
        if isinstance(self.patience, bool) or not isinstance(self.patience, int) or self.patience < 0:
            raise ValueError(f"patience must be an int >= 0 (epochs without improvement), not {self.patience!r}")
        if self.mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', not {self.mode!r}")
        if not (isinstance(self.min_delta, int | float) and math.isfinite(self.min_delta) and self.min_delta >= 0):
            raise ValueError(f"min_delta must be a finite number >= 0, not {self.min_delta!r}")

    def __call__(self, history: History) -> bool:
        """``True`` once the last ``max(patience, 1)`` recorded epochs hold no improvement."""
        values = [row[self.metric] for row in history.val if self.metric in row]
        sign = 1.0 if self.mode == "min" else -1.0
        best, since = math.inf, 0
        for value in values:
            if sign * value < best - self.min_delta:
                best, since = sign * value, 0
            else:
                since += 1
        return since >= max(self.patience, 1)
