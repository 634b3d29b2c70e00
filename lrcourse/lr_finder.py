"""Leslie Smith's learning-rate range test, in three separable pieces.

1. :func:`range_test` trains for a few hundred steps while the rate sweeps
   from tiny to huge, records the loss, then puts the model, optimizer and
   random generators back exactly as they were.
2. Pure suggestion rules on the recorded curve: :func:`steepest`,
   :func:`valley`, :func:`minimum_over_ten` (and :func:`suggestions` for all three).
   :meth:`RangeTestResult.suggestions` first trims the curve as fastai's
   ``lr_find`` does (:meth:`RangeTestResult.trimmed`).
3. :func:`plot` draws the curve with the suggestions.

Reference: L. N. Smith, *Cyclical Learning Rates for Training Neural Networks*
(WACV 2017), section 3.3. The trimming and :func:`valley` follow fastai's
``lr_find`` and ``valley`` (``fastai/callback/schedule.py``).
"""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from lrcourse.train import checkpoint as ckpt
from lrcourse.train.precision import Precision
from lrcourse.train.step import accumulate_gradients, check_clipping, clip_gradients, trainable_parameters

SKIP_END = 5  # fastai's lr_find drops the last 5 points of the curve before suggesting


@dataclass(frozen=True)
class RangeTestResult:
    """The rates tried, the smoothed losses, the raw losses, whether the sweep stopped on divergence,
    and the number of steps it was planned to take (``None``: as many as were tried).

    >>> RangeTestResult([0.1, 1.0], [1.0, 0.5], [1.0, 0.4], diverged=False).lrs
    [0.1, 1.0]
    """

    lrs: list[float]
    losses: list[float]
    raw_losses: list[float]
    diverged: bool
    num_steps: int | None = None

    def trimmed(self) -> tuple[list[float], list[float]]:
        """The part of the curve the rules read, as fastai's ``lr_find`` cuts it.

        fastai drops the first ``num_steps // 10`` points (the noisiest of the
        average, at rates too small to matter) and the last 5 (the blow-up). A
        curve too short to keep two points after that is returned whole.

        >>> lrs = [10.0**k for k in range(-6, 2)] * 3
        >>> result = RangeTestResult(lrs, list(range(24)), list(range(24)), diverged=False, num_steps=30)
        >>> kept, _ = result.trimmed()
        >>> len(kept)  # 24 - 30 // 10 - 5
        16
        """
        planned = len(self.lrs) if self.num_steps is None else self.num_steps
        start, end = planned // 10, len(self.lrs) - SKIP_END
        if end - start < 2:
            return list(self.lrs), list(self.losses)
        return list(self.lrs[start:end]), list(self.losses[start:end])

    def suggestions(self) -> dict[str, float]:
        """:func:`suggestions` of the :meth:`trimmed` curve.

        >>> result = RangeTestResult([0.01, 0.1, 1.0], [2.0, 0.5, 9.0], [2.0, 0.5, 9.0], diverged=True)
        >>> result.suggestions()["minimum/10"]  # too short to trim: the whole curve
        0.01
        """
        return suggestions(*self.trimmed())


def sweep_rates(start_lr: float, end_lr: float, num_steps: int, mode: str = "exp") -> list[float]:
    """The rates of the sweep: ``num_steps`` from ``start_lr`` to ``end_lr``, evenly in log (``"exp"``) or linearly.

    >>> sweep_rates(1e-3, 1e-1, 3)
    [0.001, 0.01, 0.1]
    >>> sweep_rates(0.0, 1.0, 5, mode="linear")
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    if mode not in ("exp", "linear"):
        raise ValueError(f"mode must be 'exp' or 'linear', not {mode!r}")
    if not isinstance(num_steps, int) or num_steps < 2:
        raise ValueError(f"num_steps must be an int of at least 2, not {num_steps!r}")
    for name, value in (("start_lr", start_lr), ("end_lr", end_lr)):
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, not {value!r}; pass a float such as {name}=1e-3")
    if not 0 <= start_lr < end_lr or (mode == "exp" and start_lr == 0):
        raise ValueError(f"need 0 < start_lr < end_lr (0 allowed for linear), not start_lr={start_lr}, end_lr={end_lr}")
    fractions = [i / (num_steps - 1) for i in range(num_steps)]
    if mode == "exp":
        return [start_lr * (end_lr / start_lr) ** f for f in fractions]
    return [start_lr + (end_lr - start_lr) * f for f in fractions]


def range_test(
    model: torch.nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    optimizer: torch.optim.Optimizer,
    train_batches: Iterable,
    *,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_steps: int = 100,
    mode: str = "exp",
    smoothing: float = 0.8,
    divergence_factor: float = 4.0,
    accumulate: int = 1,
    clip_norm: float | None = None,
    mixed_precision: bool | torch.dtype = False,
) -> RangeTestResult:
    """Train with the rate rising through :func:`sweep_rates`; record the loss; restore everything.

    Every parameter group gets the sweep's rate. The recorded loss is an
    exponential moving average with weight ``smoothing`` on the past, divided by
    ``1 - smoothing ** (i + 1)`` so early values are not pulled towards zero.
    The average lags the raw loss by ``smoothing / (1 - smoothing)`` steps on
    average: 4 steps at the default 0.8, 49 at fastai's 0.98, which on a sweep
    of 100 steps over 8 decades is 4 decades of rate, so the blow-up is seen
    too late or not at all. The sweep stops once the smoothed loss exceeds
    ``divergence_factor`` times its minimum, or is not finite. ``accumulate`` micro-batches make each step,
    as in :func:`lrcourse.train.fit`; batches are reused if the sweep needs more.
    Afterwards the model's parameters, their ``.grad`` and buffers, its train/eval
    mode, the optimizer's state and rates, and the random generators are as before.

    >>> from lrcourse.batching import Batches
    >>> _ = torch.manual_seed(0); X = torch.randn(64, 1); y = 3 * X + 0.5 * torch.randn(64, 1)
    >>> model = torch.nn.Linear(1, 1)
    >>> before = [p.clone() for p in model.parameters()]
    >>> result = range_test(model, torch.nn.functional.mse_loss, torch.optim.SGD(model.parameters(), lr=0.1),
    ...                     Batches(X, y, batch_size=16), start_lr=1e-3, end_lr=10, num_steps=50, smoothing=0.8)
    >>> result.diverged, all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    (True, True)
    >>> 0.05 < result.suggestions()["minimum/10"] < 0.3  # SGD on this loss is stable below lr = 1
    True
    """
    lrs = sweep_rates(start_lr, end_lr, num_steps, mode)
    if not 0 <= smoothing < 1:
        raise ValueError(f"smoothing must be in [0, 1), not {smoothing!r}")
    if not divergence_factor > 1:
        raise ValueError(f"divergence_factor must be above 1, not {divergence_factor!r}")
    if not isinstance(accumulate, int) or accumulate < 1:
        raise ValueError(f"accumulate must be a positive int, not {accumulate!r}")
    check_clipping(clip_norm, None)
    saved = _snapshot(model, optimizer, train_batches)
    try:
        return _sweep(
            model,
            loss_fn,
            optimizer,
            _endless(train_batches),
            lrs,
            smoothing=smoothing,
            divergence_factor=divergence_factor,
            accumulate=accumulate,
            clip_norm=clip_norm,
            precision=Precision(mixed_precision, next(model.parameters()).device),
        )
    finally:
        _restore(model, optimizer, train_batches, saved)


def _sweep(
    model, loss_fn, optimizer, batches: Iterator, lrs, *, smoothing, divergence_factor, accumulate, clip_norm, precision
) -> RangeTestResult:
    model.train()
    parameters = trainable_parameters(optimizer)
    tried, smoothed, raw, average, best = [], [], [], 0.0, math.inf
    for i, lr in enumerate(lrs):
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.zero_grad(set_to_none=True)
        loss = accumulate_gradients(model, loss_fn, [next(batches) for _ in range(accumulate)], precision).item()
        average = smoothing * average + (1 - smoothing) * loss
        value = average / (1 - smoothing ** (i + 1))  # bias correction, as in Adam's moments
        tried.append(lr)
        raw.append(loss)
        smoothed.append(value)
        if not math.isfinite(value) or value > divergence_factor * best:
            return RangeTestResult(tried, smoothed, raw, diverged=True, num_steps=len(lrs))
        best = min(best, value)
        precision.unscale_(optimizer)
        clip_gradients(parameters, clip_norm=clip_norm)
        precision.step(optimizer)
    return RangeTestResult(tried, smoothed, raw, diverged=False, num_steps=len(lrs))


def _endless(train_batches: Iterable) -> Iterator:
    """The batches over and over (each pass a new epoch, so a ``Batches`` reshuffles)."""
    while True:
        served = False
        for batch in train_batches:
            served = True
            yield batch
        if not served:
            raise ValueError("train_batches produced no batches")


def _snapshot(model, optimizer, train_batches) -> dict:
    return {
        "model": copy.deepcopy(model.state_dict()),
        "grads": [None if p.grad is None else p.grad.clone() for p in model.parameters()],
        "training": [m.training for m in model.modules()],
        "optimizer": copy.deepcopy(optimizer.state_dict()),
        "rng": ckpt.rng_state(),
        "epoch": getattr(train_batches, "epoch", None),  # a Batches counts its epochs
    }


def _restore(model, optimizer, train_batches, saved: dict) -> None:
    model.load_state_dict(saved["model"])
    for p, grad in zip(model.parameters(), saved["grads"]):
        p.grad = grad  # the sweep's last gradient would otherwise feed the caller's next step
    for module, training in zip(model.modules(), saved["training"]):
        module.training = training
    optimizer.load_state_dict(saved["optimizer"])
    ckpt.set_rng_state(saved["rng"])
    if saved["epoch"] is not None:
        train_batches.epoch = saved["epoch"]


def steepest(lrs: Sequence[float], losses: Sequence[float]) -> float:
    """The rate where the loss falls fastest per decade of rate, among the rates before the lowest loss.

    The slope at point i is the central difference
    ``(L[i+1] - L[i-1]) / (log10 lr[i+1] - log10 lr[i-1])`` (one-sided at the
    ends). Past the lowest loss the curve is in the blow-up, where noise makes
    steep drops too, so only the points before the minimum compete.

    >>> lrs = [1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0]
    >>> steepest(lrs, [2.0, 1.9, 1.2, 1.0, 3.0, 1.5])  # slopes -0.1 -0.4 -0.45 | 0.9 0.25 -1.5
    0.01
    """
    rates, values = _curve(lrs, losses)
    bottom = int(np.argmin(values))
    if bottom == 0:
        raise ValueError("losses: the loss never falls below its first value; start the sweep at a smaller rate")
    slopes = np.gradient(values, np.log10(rates))
    return float(rates[int(np.argmin(slopes[:bottom]))])


def valley(lrs: Sequence[float], losses: Sequence[float]) -> float:
    """fastai's ``valley`` rule: about halfway along the longest valley of the curve.

    1. ``length[i]``: the length of the longest decreasing subsequence ending at
       point i (small bumps do not end it); ``end``: the first point where it is longest.
    2. ``start = end - length[end]``. fastai does not track where the subsequence
       begins: this is where a run of that length would begin if it had no gaps
       (one point before it, by this count).
    3. With ``s = (end - start) / 3``, the suggestion is the rate at
       ``start + int(s) + int(s / 2)``, about halfway (fastai would index from
       the end of the curve where that is negative; here it stops at the first point).

    fastai applies it to the curve trimmed by :meth:`RangeTestResult.trimmed`.

    >>> valley([1, 2, 3, 4, 5, 6, 7, 8], [5.0, 4.0, 4.5, 3.0, 2.0, 2.5, 1.0, 9.0])  # 5 4 3 2 1: end 6, start 1
    3.0
    """
    rates, values = _curve(lrs, losses)
    length = np.ones(len(values), dtype=int)  # longest decreasing subsequence ending at i
    for i in range(1, len(values)):
        for j in range(i):
            if values[j] > values[i] and length[j] + 1 > length[i]:
                length[i] = length[j] + 1
    end = int(np.argmax(length))  # the first point with the longest
    start = end - int(length[end])
    sections = (end - start) / 3
    return float(rates[max(start + int(sections) + int(sections / 2), 0)])


def minimum_over_ten(lrs: Sequence[float], losses: Sequence[float]) -> float:
    """A tenth of the rate at the lowest loss: at the minimum the loss is already about to blow up.

    >>> minimum_over_ten([0.01, 0.1, 1.0], [2.0, 0.5, 9.0])
    0.01
    """
    rates, values = _curve(lrs, losses)
    return float(rates[int(np.argmin(values))]) / 10


def suggestions(lrs: Sequence[float], losses: Sequence[float]) -> dict[str, float]:
    """All three rules on the curve as given: ``{"steepest": ..., "valley": ..., "minimum/10": ...}``.

    >>> suggestions([0.01, 0.1, 1.0], [2.0, 0.5, 9.0])["minimum/10"]
    0.01
    """
    return {
        "steepest": steepest(lrs, losses),
        "valley": valley(lrs, losses),
        "minimum/10": minimum_over_ten(lrs, losses),
    }


def plot(result: RangeTestResult, ax=None, show_suggestions: bool = True):
    """The smoothed loss against the rate (log scale), raw losses faint, suggestions marked.

    >>> ax = plot(RangeTestResult([0.01, 0.1, 1.0], [2.0, 0.5, 9.0], [2.0, 0.5, 9.0], diverged=True))
    >>> ax.get_xscale(), len(ax.lines)
    ('log', 5)
    """
    import matplotlib.pyplot as plt  # only plotting needs Matplotlib

    ax = ax if ax is not None else plt.figure(figsize=(5, 3.5)).add_subplot()
    ax.plot(result.lrs, result.raw_losses, color="0.8", linewidth=0.8, label="raw")
    ax.plot(result.lrs, result.losses, color="C0", label="smoothed")
    if show_suggestions:
        for (name, lr), color in zip(result.suggestions().items(), ("C1", "C2", "C3")):
            ax.axvline(lr, color=color, linestyle="--", linewidth=1, label=f"{name}: {lr:.2g}")
    finite = [v for v in result.losses if math.isfinite(v)]
    if finite:  # keep the blow-up at the end from flattening the interesting part
        ax.set_ylim(min(finite) - 0.05 * abs(min(finite)), min(max(finite), 2 * finite[0]) * 1.05)
    ax.set(xscale="log", xlabel="learning rate", ylabel="loss")
    ax.legend(fontsize="small")
    return ax


def _curve(lrs: Sequence[float], losses: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """The finite part of the curve as arrays (the sweep's last loss may be inf or nan)."""
    rates, values = np.asarray(lrs, dtype=float), np.asarray(losses, dtype=float)
    if rates.shape != values.shape or rates.ndim != 1:
        raise ValueError(f"lrs and losses must be 1-D and the same length, not {rates.shape} and {values.shape}")
    keep = np.isfinite(values)
    if keep.sum() < 2:
        raise ValueError("losses: need at least two finite values to suggest a rate")
    return rates[keep], values[keep]
