"""Training recipes for the source article's MNIST network: the article's own, and a fast one.

A :class:`Recipe` names everything that decides a run of
:class:`~lrcourse.models.ArticleCNN`: optimizer, peak rate, schedule shape,
momentum, batch size and epochs. :func:`train` runs a recipe with
:func:`lrcourse.train.fit` and returns its :class:`~lrcourse.train.History`;
:func:`timed_train` runs its whole budget (fixed in advance, no early stop),
timing the training and testing along the way, so that a collapse shows
(:func:`collapsed`) and the final accuracy is the one reported. The MNIST chapter and
``benchmarks/mnist_time_to_accuracy.py`` both call these, so the book and the
benchmark measure the same thing.

- :data:`ARTICLE`: Adam at 1e-3, batches of 64, a constant rate, 10 epochs.
- :data:`FAST`: SGD with Nesterov momentum, batches of 128, one cycle peaking at
  0.15 (the scale from a range test, the value from a search over seeds), 4 epochs.

>>> ARTICLE.optimizer, ARTICLE.lr, ARTICLE.batch_size, ARTICLE.epochs
('adam', 0.001, 64, 10)
>>> ARTICLE.rates(steps_per_epoch=938)[:2], FAST.schedule
([0.001, 0.001], 'one_cycle')
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace

import torch
from torch.nn import functional as F

from lrcourse import optim, schedules
from lrcourse.batching import Batches
from lrcourse.models import ArticleCNN
from lrcourse.seeding import seed_everything
from lrcourse.train import History, evaluate, fit

SCHEDULES = ("constant", "step", "cosine", "one_cycle", "warmup_cosine")
OPTIMIZERS = ("sgd", "adam")


@dataclass(frozen=True)
class Recipe:
    r"""How to train: optimizer, peak rate ``lr``, schedule shape, momentum, batch size, epochs.

    With :math:`T` the number of updates (``epochs`` times the batches per epoch)
    and :math:`\eta` = ``lr``, the schedules are

    - ``"constant"``: :math:`\eta` throughout;
    - ``"step"``: :math:`\eta\,\gamma^{\lfloor t / s \rfloor}`, :math:`\gamma` =
      ``gamma``, :math:`s` = ``step_epochs`` epochs;
    - ``"cosine"``: :math:`\tfrac12\eta(1 + \cos(\pi t / T))`;
    - ``"one_cycle"``: :func:`lrcourse.schedules.one_cycle` with peak :math:`\eta`
      at ``warmup`` of the way, and the momentum cycling the other way
      (0.95 -> 0.85 -> 0.95) when the optimizer has momentum;
    - ``"warmup_cosine"``: a linear warmup over ``warmup`` of the updates, then cosine to 0.

    >>> r = Recipe("sgd", 0.1, batch_size=64, epochs=2, schedule="step", step_epochs=1, gamma=0.5)
    >>> r.rates(steps_per_epoch=3)
    [0.1, 0.1, 0.1, 0.05, 0.05, 0.05]
    >>> Recipe("sgd", 0.1, batch_size=64, epochs=1, schedule="cubic")
    Traceback (most recent call last):
    ...
    ValueError: schedule must be one of ('constant', 'step', 'cosine', 'one_cycle', 'warmup_cosine'), not 'cubic'
    """

    optimizer: str
    lr: float
    batch_size: int
    epochs: int
    schedule: str = "constant"
    momentum: float = 0.0
    nesterov: bool = False
    weight_decay: float = 0.0
    warmup: float = 0.25
    step_epochs: int = 1
    gamma: float = 0.1

    def __post_init__(self):
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, not {self.optimizer!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, not {self.schedule!r}")
        if not (isinstance(self.lr, (int, float)) and self.lr > 0 and math.isfinite(self.lr)):
            raise ValueError(f"lr must be a positive number, not {self.lr!r}")
        for name in ("batch_size", "epochs", "step_epochs"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int, not {value!r}")
        if not 0 < self.warmup < 1:
            raise ValueError(f"warmup must be a fraction in (0, 1), not {self.warmup!r}")
        if not 0 <= self.momentum < 1 or self.weight_decay < 0 or not 0 < self.gamma <= 1:
            raise ValueError("need 0 <= momentum < 1, weight_decay >= 0 and 0 < gamma <= 1")

    def with_(self, **changes) -> Recipe:
        """A copy with some fields changed (``dataclasses.replace``, checked again).

        >>> ARTICLE.with_(epochs=2).epochs
        2
        """
        return replace(self, **changes)

    def make_schedule(self, steps_per_epoch: int) -> schedules.Schedule:
        """The rate schedule over ``epochs * steps_per_epoch`` updates.

        >>> s = Recipe("sgd", 1.0, batch_size=8, epochs=1, schedule="warmup_cosine", warmup=0.5).make_schedule(4)
        >>> [round(s(t), 3) for t in range(4)]
        [0.0, 0.5, 1.0, 0.5]
        """
        if not isinstance(steps_per_epoch, int) or isinstance(steps_per_epoch, bool) or steps_per_epoch < 1:
            raise ValueError(f"steps_per_epoch must be a positive int, not {steps_per_epoch!r}")
        total = self.epochs * steps_per_epoch
        if self.schedule == "constant":
            return schedules.constant(self.lr)
        if self.schedule == "step":
            return schedules.step_decay(self.lr, step_size=self.step_epochs * steps_per_epoch, gamma=self.gamma)
        if self.schedule == "cosine":
            return schedules.cosine(self.lr, total_steps=total)
        if self.schedule == "one_cycle":
            return schedules.one_cycle(self.lr, total_steps=total, pct_start=self.warmup)
        if total < 2:
            raise ValueError(
                f"a warmup followed by a cosine needs at least 2 updates, but this recipe has {total} "
                f"({self.epochs} epochs of {steps_per_epoch}): use more data, a smaller batch or another schedule"
            )
        ramp = min(max(1, round(self.warmup * total)), total - 1)  # leave the cosine at least one update
        return schedules.warmup(schedules.cosine(self.lr, total_steps=total - ramp), warmup_steps=ramp)

    def rates(self, steps_per_epoch: int) -> list[float]:
        """The rate of every update, as a list (for plots and checks).

        >>> len(ARTICLE.rates(steps_per_epoch=5))
        50
        """
        schedule = self.make_schedule(steps_per_epoch)
        return [float(schedule(t)) for t in range(self.epochs * steps_per_epoch)]

    def make_optimizer(self, model: torch.nn.Module) -> torch.optim.Optimizer:
        """The course's SGD or Adam over ``model``'s parameters, at rate ``lr``.

        >>> type(ARTICLE.make_optimizer(torch.nn.Linear(2, 1))).__name__
        'Adam'
        """
        params = model.parameters()
        if self.optimizer == "adam":
            return optim.Adam(params, lr=self.lr, weight_decay=self.weight_decay)
        return optim.SGD(
            params, lr=self.lr, momentum=self.momentum, nesterov=self.nesterov, weight_decay=self.weight_decay
        )

    def attach(self, optimizer: torch.optim.Optimizer, steps_per_epoch: int) -> schedules.Scheduler:
        """Drive ``optimizer`` with :meth:`make_schedule` (one cycle also cycles momentum or beta1).

        >>> model = torch.nn.Linear(2, 1)
        >>> opt = FAST.make_optimizer(model)
        >>> _ = FAST.attach(opt, steps_per_epoch=10)
        >>> opt.param_groups[0]["momentum"], round(opt.param_groups[0]["lr"], 4) == round(FAST.lr / 25, 4)
        (0.95, True)
        """
        schedule = self.make_schedule(steps_per_epoch)
        has_momentum = self.optimizer == "adam" or self.momentum > 0
        momentum = schedule.momentum if isinstance(schedule, schedules.OneCycle) and has_momentum else None
        return schedules.attach(optimizer, schedule, momentum=momentum)


ARTICLE = Recipe("adam", 1e-3, batch_size=64, epochs=10)
"""The source article's recipe: Adam at 1e-3, batches of 64, a constant rate, 10 epochs."""

FAST = Recipe(
    "sgd",
    0.15,
    batch_size=128,
    epochs=4,
    schedule="one_cycle",
    momentum=0.9,
    nesterov=True,
    weight_decay=5e-4,
    warmup=0.25,
)
"""The fast recipe: one cycle of SGD with Nesterov momentum peaking at 0.15, batches of 128, 4 epochs.

The peak sits in the middle of the plateau that a search over 5 seeds found (peaks 0.1 to
0.2 end within a tenth of a point of each other; 0.05 is worse), clear of its upper end 0.2,
the earlier peak, which ended below 99.0% on one seed of five and collapsed on one seed in a
report from another machine. The 4 epochs fit in a third of :data:`ARTICLE`'s training time on
one CPU thread; 3 were not enough. ``benchmarks/README.md`` records the search.
"""


def batches(recipe: Recipe, data: tuple[torch.Tensor, torch.Tensor], seed: int = 0) -> Batches:
    """The recipe's shuffled mini-batches of ``data`` (``(X, y)``), their order drawn from ``seed``.

    >>> b = batches(ARTICLE, (torch.zeros(130, 1), torch.zeros(130)), seed=0)
    >>> len(b), b.batch_size
    (3, 64)
    """
    return Batches(*data, batch_size=recipe.batch_size, seed=seed)


def train(
    recipe: Recipe,
    train_data: tuple[torch.Tensor, torch.Tensor],
    test_data: tuple[torch.Tensor, torch.Tensor] | None = None,
    *,
    seed: int = 0,
    model: torch.nn.Module | None = None,
    progress: bool = False,
) -> History:
    """Train a fresh :class:`ArticleCNN` (or ``model``) by ``recipe``; test accuracy after each epoch.

    The weights are drawn from ``seed`` and so is the order of the batches.
    ``history.val[-1]["accuracy"]`` is the final test accuracy.

    >>> X, y = torch.randn(96, 1, 28, 28), torch.randint(0, 10, (96,))
    >>> h = train(ARTICLE.with_(epochs=2), (X, y), (X[:32], y[:32]), seed=0)
    >>> len(h.loss), [row["epoch"] for row in h.val]
    (4, [0, 1])
    """
    seed_everything(seed)
    model = model if model is not None else ArticleCNN()
    optimizer = recipe.make_optimizer(model)
    data = batches(recipe, train_data, seed)
    scheduler = recipe.attach(optimizer, steps_per_epoch=len(data))
    return fit(
        model,
        F.cross_entropy,
        optimizer,
        data,
        epochs=recipe.epochs,
        schedule=scheduler,
        val_data=test_data,
        progress=progress,
    )


COLLAPSE_DROP = 0.05
"""A run *collapses* when its test accuracy falls this far (5 points) below the best it had before."""


def collapsed(accuracies: Sequence[float], drop: float = COLLAPSE_DROP) -> bool:
    """Whether a run's accuracies, in the order measured, ever fall ``drop`` or more below an earlier one.

    A rate at the edge of stability can throw a half-trained network back to
    near chance and let it recover by the end: the final accuracy alone hides
    that, so :func:`timed_train` measures along the way and this rule reads it.

    >>> collapsed([0.90, 0.945, 0.253, 0.97]), collapsed([0.90, 0.93, 0.92, 0.99])
    (True, False)
    """
    best = -math.inf
    for accuracy in accuracies:
        if accuracy <= best - drop:
            return True
        best = max(best, accuracy)
    return False


@dataclass
class TimedRun:
    """What :func:`timed_train` measured over a recipe's whole budget.

    ``seconds`` is the wall time of training, with the evaluations excluded
    (``eval_seconds`` is their total); ``cpu_seconds`` is the processor time of
    the same training (all threads of the process), steadier than wall time on
    a shared machine. ``checks`` lists ``(step, epochs_done, accuracy)`` at each
    evaluation; the last is taken at the end of the budget.

    >>> r = TimedRun(seconds=30.0, cpu_seconds=29.0, eval_seconds=2.0, steps=940,
    ...              checks=[(470, 1.0, 0.985), (940, 2.0, 0.991)])
    >>> r.final, r.best, r.epochs, r.collapsed
    (0.991, 0.991, 2.0, False)
    """

    seconds: float
    cpu_seconds: float
    eval_seconds: float
    steps: int
    checks: list[tuple[int, float, float]] = field(default_factory=list)
    history: History = field(default_factory=History)

    @property
    def final(self) -> float:
        """The test accuracy at the end of the budget: the number a fixed-budget recipe is judged by."""
        return self.checks[-1][2] if self.checks else float("nan")

    @property
    def best(self) -> float:
        """The highest test accuracy seen along the way (for reading curves, not for claims)."""
        return max((a for _, _, a in self.checks), default=float("nan"))

    @property
    def epochs(self) -> float:
        """Epochs trained when the run stopped."""
        return self.checks[-1][1] if self.checks else 0.0

    @property
    def collapsed(self) -> bool:
        """Training diverged, or the test accuracy fell :data:`COLLAPSE_DROP` below an earlier one."""
        return self.history.diverged is not None or collapsed([a for _, _, a in self.checks])


class _Take:
    """The next ``n`` batches of an endless stream, as a sized iterable that ``fit`` accepts."""

    def __init__(self, stream: Iterator, n: int):
        self.stream, self.n = stream, n

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator:
        for _ in range(self.n):
            yield next(self.stream)


def _endless(data: Batches) -> Iterator:
    while True:
        yield from data  # each pass is the next epoch, in a new order


def check_points(total_steps: int, every: int) -> list[int]:
    """The update counts after which :func:`timed_train` evaluates: every ``every``, and the last.

    >>> check_points(10, 4), check_points(8, 4)
    ([4, 8, 10], [4, 8])
    """
    if not isinstance(every, int) or isinstance(every, bool) or every < 1:
        raise ValueError(f"every must be a positive int, not {every!r}")
    points = list(range(every, total_steps + 1, every))
    return points if points and points[-1] == total_steps else points + [total_steps]


def channels_last(model: torch.nn.Module) -> torch.nn.Module:
    """``model`` if its weights are stored channels-last, else a copy that is (for testing it).

    On a CPU a convolution over channels-last weights runs faster, and the
    predictions are the same up to the order of some floating-point sums: the
    test accuracy of the copy is the model's. The model itself is left as it is,
    so that testing it never changes how it trains.

    >>> net = ArticleCNN()
    >>> X = torch.randn(8, 1, 28, 28)
    >>> copy_ = channels_last(net)
    >>> copy_ is not net, net.conv1.weight.is_contiguous(), channels_last(copy_) is copy_
    (True, True, True)
    >>> torch.allclose(copy_(X), net(X), atol=1e-5)
    True
    """
    if all(p.dim() != 4 or p.is_contiguous(memory_format=torch.channels_last) for p in model.parameters()):
        return model
    return copy.deepcopy(model).to(memory_format=torch.channels_last)


def timed_train(
    recipe: Recipe,
    train_data: tuple[torch.Tensor, torch.Tensor],
    test_data: tuple[torch.Tensor, torch.Tensor],
    *,
    eval_every: int | None = None,
    seed: int = 0,
    model: torch.nn.Module | None = None,
    clock: Callable[[], float] = time.perf_counter,
    progress: bool = False,
) -> TimedRun:
    """Train by ``recipe`` for its whole budget, timing the training and testing along the way.

    The budget (``recipe.epochs``) is fixed in advance and trained out: there is
    no early stop at a target, since the first of many noisy measurements to
    cross a line is a lucky one. The run is cut into pieces of ``eval_every``
    updates (default: one epoch), each trained by :func:`~lrcourse.train.fit`
    with one scheduler that carries on across pieces, so the rates are exactly
    those of :func:`train`; after each piece the test accuracy is measured, so
    that a collapse on the way shows (:attr:`TimedRun.collapsed`), on a copy of the
    network stored channels-last (:func:`channels_last`). Only training
    counts towards ``seconds``. ``progress`` prints one line per evaluation.

    The network is a fresh :class:`ArticleCNN` drawn from ``seed``, or ``model``
    (trained in place, in its own layout), as in :func:`train`. A copy of the
    seed's network stored channels-last starts from the same weights and trains
    faster on a CPU; the layout changes the order of some floating-point sums,
    which over thousands of updates moves a run as another rounding would.

    >>> X, y = torch.randn(64, 1, 28, 28), torch.randint(0, 10, (64,))
    >>> r = timed_train(ARTICLE.with_(epochs=1, batch_size=16), (X, y), (X, y), eval_every=2)
    >>> r.steps, [c[:2] for c in r.checks]
    (4, [(2, 0.5), (4, 1.0)])
    >>> _ = seed_everything(0)
    >>> net = ArticleCNN().to(memory_format=torch.channels_last)
    >>> r2 = timed_train(ARTICLE.with_(epochs=1, batch_size=16), (X, y), (X, y), eval_every=2, model=net)
    >>> [c[2] for c in r2.checks] == [c[2] for c in r.checks]
    True
    """
    seed_everything(seed)
    model = model if model is not None else ArticleCNN()
    optimizer = recipe.make_optimizer(model)
    data = batches(recipe, train_data, seed)
    per_epoch = len(data)
    scheduler = recipe.attach(optimizer, steps_per_epoch=per_epoch)
    stream, history = _endless(data), History()
    result = TimedRun(seconds=0.0, cpu_seconds=0.0, eval_seconds=0.0, steps=0, history=history)
    for end in check_points(recipe.epochs * per_epoch, eval_every or per_epoch):
        start, cpu = clock(), time.process_time()
        # fit's divergence test compares each loss with the first loss of *its* call; later pieces
        # start from a trained model whose first loss can be tiny, so only the first piece uses it
        # (a non-finite loss stops every piece)
        piece = fit(
            model,
            F.cross_entropy,
            optimizer,
            _Take(stream, end - result.steps),
            epochs=1,
            schedule=scheduler,
            progress=False,
            divergence_factor=100.0 if result.steps == 0 else None,
        )
        result.seconds += clock() - start
        result.cpu_seconds += time.process_time() - cpu
        for i, lr in enumerate(piece.lr):  # renumber the piece's steps into the whole run's
            step = result.steps + i
            history.record_step(
                step=step, epoch=step // per_epoch, lr=lr, loss=piece.loss[i], grad_norm=piece.grad_norm[i]
            )
        result.steps = result.steps + len(piece.lr) if piece.diverged else end
        start = clock()
        metrics = evaluate(channels_last(model), F.cross_entropy, test_data)
        result.eval_seconds += clock() - start
        result.checks.append((result.steps, result.steps / per_epoch, metrics["accuracy"]))
        history.record_validation(epoch=max(result.steps - 1, 0) // per_epoch, step=result.steps, metrics=metrics)
        if progress:
            print(
                f"step {result.steps:5d}  epoch {result.steps / per_epoch:5.2f}  "
                f"test accuracy {metrics['accuracy']:.4f}  train {result.seconds:6.1f} s",
                flush=True,
            )
        if piece.diverged:  # what is left is tested once (above), then the run ends
            history.diverged = piece.diverged
            break
    return result
