"""The objects of one run and what they do together: the checked update, and what a checkpoint holds.

:func:`~lrcourse.train.fit` drives a :class:`Trainer` one update at a time. Resuming
checks the whole checkpoint against the run (:func:`check_resumable`) before it
changes anything, so a mismatched model, optimizer or data leaves the run as it was.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import torch

from lrcourse import interop
from lrcourse.train import checkpoint as ckpt
from lrcourse.train import distributed
from lrcourse.train.history import History
from lrcourse.train.precision import Precision
from lrcourse.train.rates import RateDriver
from lrcourse.train.step import accumulate_gradients, clip_gradients, trainable_parameters

#: What a checkpoint written by ``fit`` holds.
RUN_KEYS = ("model", "optimizer", "schedule", "precision", "history", "position", "epoch_rng", "rng")


@dataclass
class Position:
    """Where a run is: updates done, current epoch, micro-batches of that epoch already used.

    >>> Position(step=8, epoch=2)
    Position(step=8, epoch=2, batches_done=0)
    """

    step: int = 0
    epoch: int = 0
    batches_done: int = 0


class Update(NamedTuple):
    """What one update did: its rate (and momentum, when scheduled), loss, gradient norm, and any problem."""

    lr: float
    momentum: float | None
    loss: float
    grad_norm: float
    problem: str | None


class Trainer:
    """The model, loss, optimizer, rates and precision of one run, and the update they make together.

    >>> model = torch.nn.Linear(1, 1); opt = torch.optim.SGD(model.parameters(), lr=0.1)
    >>> trainer = Trainer(model, torch.nn.functional.mse_loss, opt, RateDriver(None, opt),
    ...                   Precision(False, torch.device("cpu")))
    >>> done = trainer.update([(torch.ones(4, 1), torch.zeros(4, 1))], 0, History())
    >>> done.lr, done.momentum, done.problem
    (0.1, None, None)
    """

    def __init__(self, model, loss_fn, optimizer, rates: RateDriver, precision: Precision):
        self.model, self.loss_fn, self.optimizer = model, loss_fn, optimizer
        self.rates, self.precision = rates, precision
        self.parameters = trainable_parameters(optimizer)
        self.clip_norm: float | None = None
        self.clip_value: float | None = None
        self.divergence_factor: float | None = None
        self.divergence_reference: float | None = None
        self.epoch_rng: dict | None = None  # the generators as they were when the current epoch began

    def set_limits(
        self,
        *,
        clip_norm: float | None,
        clip_value: float | None,
        divergence_factor: float | None,
        divergence_reference: float | None = None,
    ) -> None:
        """Set the clipping thresholds, the loss ratio that counts as divergence and the loss it is taken of
        (``None``: the first loss in the history)."""
        self.clip_norm, self.clip_value, self.divergence_factor = clip_norm, clip_value, divergence_factor
        self.divergence_reference = divergence_reference

    def update(self, micro_batches: list, step: int, history: History) -> Update:
        """Compute, check and apply update ``step``; say what it did."""
        self.optimizer.zero_grad(set_to_none=True)
        loss = accumulate_gradients(self.model, self.loss_fn, micro_batches, self.precision)
        self.precision.unscale_(self.optimizer)  # clip and measure the true gradient, not the scaled one
        norm = clip_gradients(self.parameters, clip_norm=self.clip_norm, clip_value=self.clip_value)
        lr, momentum = self.rates.before_update(step), self.rates.momentum()
        losses = distributed.all_mean(torch.stack([loss, norm.to(loss)]))  # workers agree on the loss
        loss_value, norm_value = losses.tolist()  # the one host sync of the step
        reference = self.divergence_reference
        if reference is None:
            reference = history.loss[0] if history.loss else loss_value
        problem = self._problem(loss_value, norm_value, reference)
        if problem is None:
            self.precision.step(self.optimizer)
            self.rates.after_update()
        return Update(lr, momentum, loss_value, norm_value, problem)

    def _problem(self, loss: float, grad_norm: float, reference: float) -> str | None:
        if not math.isfinite(loss):
            return f"the loss is {loss}"
        if not math.isfinite(grad_norm) and self.precision.scaler is None:  # with a scaler: a skipped step
            return f"the gradient norm is {grad_norm}"
        factor = self.divergence_factor
        if factor is not None and reference > 0 and loss > factor * reference:
            first = "the first loss" if self.divergence_reference is None else "divergence_reference"
            return f"the loss {loss:.4g} exceeds {factor:g} times {first} {reference:.4g}"
        return None

    def state_dict(self, history: History, position: Position) -> dict:
        """Everything needed to continue from ``position`` exactly (the keys of :data:`RUN_KEYS`)."""
        return {
            "model": distributed.unwrap(self.model).state_dict(),  # loads with or without DDP
            "optimizer": self.optimizer.state_dict(),
            "schedule": self.rates.state_dict(),
            "precision": self.precision.state_dict(),
            "history": history.state_dict(),
            "position": vars(position).copy(),
            "epoch_rng": self.epoch_rng,
            "rng": ckpt.rng_state(),
        }

    def load_state_dict(self, saved: dict) -> tuple[History, Position]:
        """Restore the model, optimizer, schedule and scaler; return the history and position.

        Call :func:`check_resumable` first: this assumes the checkpoint fits.
        """
        distributed.unwrap(self.model).load_state_dict(saved["model"])
        self.optimizer.load_state_dict(saved["optimizer"])
        self.rates.load_state_dict(saved["schedule"])
        self.precision.load_state_dict(saved["precision"])
        return History.from_state_dict(saved["history"]), Position(**saved["position"])


def check_resumable(saved: dict, path: str | Path, model: torch.nn.Module, optimizer, train_batches) -> None:
    """Raise ``ValueError`` naming ``path`` and the first thing in ``saved`` that does not fit this run.

    Checked: that it is a checkpoint written by ``fit`` at all, that its model has this
    model's entries and shapes, that its optimizer has this optimizer's groups (and was
    saved by the same library), and that the epoch it stopped in is not longer than an
    epoch of ``train_batches`` (when that has a length).

    >>> model = torch.nn.Linear(2, 1)
    >>> check_resumable({"model": model.state_dict()}, "w.pt", model, None, [])
    Traceback (most recent call last):
    ...
    ValueError: resume_from: w.pt is not a checkpoint written by fit: it lacks ['optimizer', ...
    """
    missing = [key for key in RUN_KEYS if key not in saved]
    if missing:
        hint = ""
        if all(isinstance(value, torch.Tensor) for value in saved.values()):
            hint = " It holds tensors only, like a model.state_dict(): load that with model.load_state_dict."
        raise ValueError(f"resume_from: {path} is not a checkpoint written by fit: it lacks {missing}.{hint}")
    for problem in (_model_mismatch(saved["model"], model), _optimizer_mismatch(saved["optimizer"], optimizer)):
        if problem:
            raise ValueError(f"resume_from: {path} does not fit this run: {problem}")
    done, epoch = saved["position"]["batches_done"], saved["position"]["epoch"]
    if hasattr(train_batches, "__len__") and done > len(train_batches):
        raise ValueError(
            f"resume_from: {path} was saved after {done} batches of epoch {epoch}, but train_batches gives "
            f"{len(train_batches)} an epoch: resume with the data and batch size of the saved run"
        )


def _model_mismatch(saved: dict, model: torch.nn.Module) -> str | None:
    own = distributed.unwrap(model).state_dict()
    missing, unexpected = [k for k in own if k not in saved], [k for k in saved if k not in own]
    if missing or unexpected:
        return (
            f"the checkpoint holds {unexpected[:5]} that the model lacks and lacks {missing[:5]} that it has; "
            "resume with the model the run was saved from"
        )
    for key, value in own.items():
        if isinstance(value, torch.Tensor) and value.shape != saved[key].shape:
            return (
                f"the model's {key} is {list(saved[key].shape)} in the checkpoint and {list(value.shape)} here; "
                "resume with the model the run was saved from"
            )
    return None


def _optimizer_mismatch(saved: dict, optimizer) -> str | None:
    groups, own = saved["param_groups"], optimizer.param_groups
    sizes, own_sizes = [len(g["params"]) for g in groups], [len(g["params"]) for g in own]
    if sizes != own_sizes:
        return f"the optimizer's groups hold {sizes} parameters in the checkpoint and {own_sizes} here"
    try:
        interop.check_state_dict(optimizer, saved)
    except ValueError as error:
        return str(error)
    return None
