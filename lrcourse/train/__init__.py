"""Training helpers: one ``fit`` loop, its history, evaluation and checkpoints.

The loop is split by concept: :mod:`~lrcourse.train.step` (accumulate and clip,
shared with the LR finder), :mod:`~lrcourse.train.rates` (schedules),
:mod:`~lrcourse.train.precision`, :mod:`~lrcourse.train.checkpoint`,
:mod:`~lrcourse.train.history`, :mod:`~lrcourse.train.evaluate`,
:mod:`~lrcourse.train.callbacks` (early stopping), :mod:`~lrcourse.train.trainer`
(one update, and what a checkpoint holds) and :mod:`~lrcourse.train.loop` (``fit`` itself).

>>> from lrcourse.train import fit, History, evaluate
>>> callable(fit) and History().loss == []
True
"""

from lrcourse.train.callbacks import EarlyStopping
from lrcourse.train.evaluate import accuracy, evaluate
from lrcourse.train.history import History
from lrcourse.train.loop import DivergenceWarning, fit

__all__ = ["DivergenceWarning", "EarlyStopping", "History", "accuracy", "evaluate", "fit"]
