"""The training loop: ``fit`` runs epochs of accumulated, clipped, scheduled optimizer steps."""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import torch

from lrcourse.train import checkpoint as ckpt
from lrcourse.train import distributed
from lrcourse.train.evaluate import evaluate
from lrcourse.train.history import History
from lrcourse.train.precision import Precision
from lrcourse.train.progress import RunLog
from lrcourse.train.rates import RateDriver
from lrcourse.train.step import check_clipping
from lrcourse.train.trainer import Position, Trainer, check_resumable


class DivergenceWarning(RuntimeWarning):
    """Training stopped because the loss (or the gradient) stopped being usable.

    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("error", DivergenceWarning)  # turn divergence into an exception
    ...     issubclass(DivergenceWarning, RuntimeWarning)
    True
    """


def fit(
    model: torch.nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    train_batches: Iterable,
    *,
    epochs: int,
    schedule=None,
    accumulate: int = 1,
    clip_norm: float | None = None,
    clip_value: float | None = None,
    mixed_precision: bool | torch.dtype = False,
    val_data=None,
    progress: bool = True,
    divergence_factor: float | None = 100.0,
    checkpoint: str | Path | None = None,
    checkpoint_every: int | None = None,
    resume_from: str | Path | None = None,
    tensorboard_dir: str | Path | None = None,
    on_epoch_end: Callable[[History], bool | None] | None = None,
    divergence_reference: float | None = None,
) -> History:
    """Train ``model`` for ``epochs`` passes over ``train_batches``; return the :class:`History`.

    - ``train_batches``: re-iterable ``(inputs, targets)`` batches, such as
      :class:`lrcourse.batching.Batches` or a ``DataLoader``; ``set_epoch(e)`` is
      called on it when it has one. ``loss_fn`` averages over its batch.
    - ``schedule``: a callable ``step -> lr`` applied before each update, or an
      LRScheduler stepped after it (see :class:`~lrcourse.train.rates.RateDriver`).
    - ``accumulate=k``: each update uses the summed gradients of k micro-batches,
      weighted so that it equals one batch k times larger; ``step`` counts updates.
    - ``clip_norm`` / ``clip_value``: clip by global norm or by value; the history
      records the norm before clipping (after unscaling in mixed precision).
    - ``mixed_precision``: see :class:`~lrcourse.train.precision.Precision`.
    - ``val_data``: ``(X, y)`` or batches, evaluated after each epoch.
    - divergence: a non-finite loss or gradient norm, or a loss above
      ``divergence_factor`` times the first one, stops training *before* the
      update, with a :class:`DivergenceWarning` naming the step and rate; the
      history is kept (``history.diverged`` holds the message).
    - ``checkpoint``: file written after each epoch and every ``checkpoint_every``
      updates; ``resume_from`` continues such a run exactly (same call, same ``epochs``).
      Before training, fit checks that the file can be written and that what it holds
      can be loaded back; resuming checks the checkpoint against the model, optimizer
      and data before it changes any of them.
    - an exception (``KeyboardInterrupt`` included) leaves the steps recorded so far
      on it as ``error.history``; a schedule rate that is not a finite number >= 0 is
      a ``ValueError`` naming the step, raised before that update.
    - ``divergence_reference``: the loss that ``divergence_factor`` multiplies, when
      fitting in pieces (pass the first call's ``history.loss[0]``); by default the
      first loss of this run (of the saved run, when resuming).
    - ``on_epoch_end``: called with the history after each epoch (after validation
      and the checkpoint); returning ``True`` stops training, with the reason in
      ``history.stopped``. :class:`~lrcourse.train.EarlyStopping` is one.
    - ``schedule`` may be :func:`lrcourse.schedules.attach`'s scheduler, which can also
      drive momentum and any other hyperparameter; the history then records the
      momentum of each update in ``history.momentum`` (as it does for ``OneCycleLR``).
    - ``tensorboard_dir``: also log rate, loss and gradient norm there (needs ``tensorboard``).
    - several workers (``torchrun``, see :mod:`~lrcourse.train.distributed`): pass
      the model wrapped by ``distributed.wrap`` and batches cut by
      ``distributed.shard``; the loss and validation metrics are averaged over
      the workers, and only rank 0 shows progress, logs and writes checkpoints.

    >>> from lrcourse.batching import Batches
    >>> _ = torch.manual_seed(0)
    >>> X = torch.randn(64, 2); y = X @ torch.tensor([[2.0], [-1.0]])
    >>> model = torch.nn.Linear(2, 1)
    >>> history = fit(model, torch.nn.functional.mse_loss, torch.optim.SGD(model.parameters(), lr=0.1),
    ...               Batches(X, y, batch_size=16), epochs=20, progress=False)
    >>> len(history.loss), history.loss[-1] < 1e-6
    (80, True)
    """
    _check_arguments(epochs, accumulate, divergence_factor, checkpoint_every)
    _check_callbacks(on_epoch_end, divergence_reference)
    check_clipping(clip_norm, clip_value)
    _check_parallel(model)
    _check_data(train_batches, val_data)
    main = distributed.is_main()
    device = next(model.parameters()).device
    trainer = Trainer(model, loss_fn, optimizer, RateDriver(schedule, optimizer), Precision(mixed_precision, device))
    trainer.set_limits(
        clip_norm=clip_norm,
        clip_value=clip_value,
        divergence_factor=divergence_factor,
        divergence_reference=divergence_reference,
    )
    history, position, saved = History(), Position(), None
    if main and checkpoint is not None:
        ckpt.check_writable(checkpoint)
    if resume_from is not None:
        saved = ckpt.load(resume_from, map_location="cpu")
        check_resumable(saved, resume_from, model, optimizer, train_batches)
        history, position = trainer.load_state_dict(saved)
    if main and checkpoint is not None:
        ckpt.check_loadable(trainer.state_dict(history, position))  # refused now, not at resume
    total = _total_steps(train_batches, epochs, accumulate)
    log = RunLog(total, position.step, progress and main, tensorboard_dir if main else None)
    try:
        for epoch in range(position.epoch, epochs):
            model.train()
            batches, trainer.epoch_rng = _epoch_batches(train_batches, epoch, position, saved)
            saved = None  # only the first epoch after resuming replays saved generator states
            for group in _groups(batches, accumulate):
                done = trainer.update(group, position.step, history)
                history.record_step(
                    step=position.step,
                    epoch=epoch,
                    lr=done.lr,
                    loss=done.loss,
                    grad_norm=done.grad_norm,
                    momentum=done.momentum,
                )
                log.step(position.step, lr=done.lr, loss=done.loss, grad_norm=done.grad_norm)
                if done.problem is not None:
                    where = f"step {position.step} (epoch {epoch}) with lr={done.lr:.3g}"
                    return _stop(history, f"training diverged at {where}: {done.problem}")
                position.step, position.batches_done = position.step + 1, position.batches_done + len(group)
                if main and checkpoint is not None and checkpoint_every and position.step % checkpoint_every == 0:
                    ckpt.save(checkpoint, trainer.state_dict(history, position))
            if position.batches_done == 0:
                raise ValueError(_no_batches(train_batches, epoch))
            if val_data is not None:
                metrics = _validate(model, loss_fn, val_data)
                history.record_validation(epoch=epoch, step=position.step, metrics=metrics)
                log.validation(position.step, metrics)
            position = Position(step=position.step, epoch=epoch + 1, batches_done=0)
            if main and checkpoint is not None:
                ckpt.save(checkpoint, trainer.state_dict(history, position))
            if on_epoch_end is not None and on_epoch_end(history):
                history.stopped = f"on_epoch_end asked to stop after epoch {epoch}"
                return history
        return history
    except BaseException as error:
        _keep_history(error, history)
        raise
    finally:
        log.close()


def _epoch_batches(train_batches, epoch: int, position: Position, saved: dict | None) -> tuple[Iterator, dict]:
    """The micro-batches of ``epoch`` not yet used, with the generators as an unbroken run would have them.

    Also returns the generators' state at the start of the epoch, for checkpoints.
    """
    resuming_mid_epoch = saved is not None and position.batches_done > 0
    if saved is not None and resuming_mid_epoch:
        ckpt.set_rng_state(saved["epoch_rng"])  # the data order (a DataLoader's shuffle) comes from here
    epoch_rng = ckpt.rng_state()
    if hasattr(train_batches, "set_epoch"):
        train_batches.set_epoch(epoch)
    batches = iter(train_batches)
    for done in range(position.batches_done if resuming_mid_epoch else 0):
        if next(batches, None) is None:  # replay the part of the epoch already trained on
            raise ValueError(
                f"resume_from: the run was saved after {position.batches_done} batches of epoch {epoch}, but "
                f"train_batches gives {done} an epoch: resume with the data and batch size of the saved run"
            )
    if saved is not None:
        ckpt.set_rng_state(saved["rng"])  # then dropout and the rest continue where they were
    return batches, epoch_rng


def _groups(batches: Iterator, size: int) -> Iterator[list]:
    """Consecutive lists of ``size`` micro-batches (the last may be shorter)."""
    while group := list(itertools.islice(batches, size)):
        yield group


def _total_steps(train_batches, epochs: int, accumulate: int) -> int | None:
    try:
        return epochs * math.ceil(len(train_batches) / accumulate)
    except TypeError:  # an iterable without a length: the bar counts without a total
        return None


def _stop(history: History, message: str) -> History:
    history.diverged = message + (
        ". Training stopped before this update, so the model keeps its last finite parameters;"
        " try a smaller rate, warmup or gradient clipping."
    )
    if distributed.is_main():  # every worker stops (they share the loss); one says so
        warnings.warn(history.diverged, DivergenceWarning, stacklevel=3)
    return history


def _check_parallel(model: torch.nn.Module) -> None:
    if distributed.is_distributed() and distributed.unwrap(model) is model:
        raise ValueError(
            f"model: with {distributed.world_size()} workers, pass lrcourse.train.distributed.wrap(model) "
            "so that the workers average their gradients"
        )


def _validate(model: torch.nn.Module, loss_fn, val_data) -> dict[str, float]:
    """The validation metrics; with several workers, each measures its share of an ``(X, y)`` pair."""
    model = distributed.unwrap(model)  # no collective calls inside DDP's forward
    pair = isinstance(val_data, (tuple, list)) and all(isinstance(t, torch.Tensor) for t in val_data)
    if not distributed.is_distributed() or not pair:
        return evaluate(model, loss_fn, val_data)  # batches: every worker measures all of them
    part = [t.tensor_split(distributed.world_size())[distributed.rank()] for t in val_data]
    metrics = evaluate(model, loss_fn, part)
    return distributed.weighted_mean(metrics, len(part[-1]), device=next(model.parameters()).device)


def _keep_history(error: BaseException, history: History) -> None:
    """Leave the steps recorded so far on ``error``, so that an interrupted run keeps its curve."""
    error.history = history  # type: ignore[attr-defined]
    if hasattr(error, "add_note"):  # Python 3.11+
        error.add_note(f"fit: the history of the {len(history.loss)} steps done is on this exception's .history")


def _no_batches(train_batches, epoch: int) -> str:
    if isinstance(train_batches, Iterator):
        return f"train_batches produced no batches in epoch {epoch}: pass a re-iterable, not an iterator"
    return f"train_batches is empty: it produced no batches in epoch {epoch}; give it at least one batch"


def _check_data(train_batches, val_data) -> None:
    """Empty or mismatched data is an error before training, not after the first epoch."""
    if hasattr(train_batches, "__len__") and len(train_batches) == 0:
        raise ValueError(
            "train_batches is empty: it gives 0 batches an epoch; give it at least one batch "
            "(with drop_last=True, at least batch_size examples)"
        )
    if isinstance(val_data, (tuple, list)) and val_data and all(isinstance(t, torch.Tensor) for t in val_data):
        sizes = [len(t) if t.ndim else 1 for t in val_data]
        if min(sizes) == 0 or len(set(sizes)) > 1:
            raise ValueError(
                f"val_data must be (inputs, targets) with the same number of rows, at least one, not {sizes} rows"
            )
    elif hasattr(val_data, "__len__") and len(val_data) == 0:
        raise ValueError("val_data is empty: give (inputs, targets) tensors or at least one batch, or None")


def _check_callbacks(on_epoch_end, divergence_reference) -> None:
    if on_epoch_end is not None and not callable(on_epoch_end):
        raise ValueError(f"on_epoch_end must be a callable history -> bool or None, not {on_epoch_end!r}")
    if divergence_reference is not None and not (
        isinstance(divergence_reference, int | float) and 0 < divergence_reference < math.inf
    ):
        raise ValueError(
            f"divergence_reference must be a positive finite loss (such as history.loss[0]) or None, "
            f"not {divergence_reference!r}"
        )


def _check_arguments(epochs, accumulate, divergence_factor, checkpoint_every) -> None:
    for name, value in (("epochs", epochs), ("accumulate", accumulate)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive int, not {value!r}")
    if divergence_factor is not None and not divergence_factor > 1:
        raise ValueError(f"divergence_factor must be above 1 or None, not {divergence_factor!r}")
    if checkpoint_every is not None and (
        not isinstance(checkpoint_every, int) or isinstance(checkpoint_every, bool) or checkpoint_every < 1
    ):
        raise ValueError(
            f"checkpoint_every must be a positive int (updates between checkpoints) or None, not {checkpoint_every!r}"
        )
