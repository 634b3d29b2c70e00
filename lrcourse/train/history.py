"""What a training run records: per-step rate, loss and gradient norm, per-epoch validation."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field


@dataclass
class History:
    """The record of a :func:`~lrcourse.train.fit` run, one list entry per optimizer step.

    ``step[i]`` is the 0-based count of updates before the loss ``loss[i]`` was
    measured, ``lr[i]`` the rate of the update that followed and
    ``grad_norm[i]`` the global gradient norm before clipping. ``val`` holds one
    dictionary per epoch (``epoch``, ``step`` and the metrics of
    :func:`~lrcourse.train.evaluate`). ``diverged`` is the message if training
    stopped on divergence, else ``None``; ``stopped`` is the message if an
    ``on_epoch_end`` callback (such as :class:`~lrcourse.train.EarlyStopping`)
    stopped it. ``momentum[i]`` is the momentum (or beta1) of update
    ``i``, recorded only when the schedule sets it.

    >>> h = History()
    >>> h.record_step(step=0, epoch=0, lr=0.1, loss=2.0, grad_norm=1.5)
    >>> h.record_step(step=1, epoch=0, lr=0.1, loss=1.0, grad_norm=0.5)
    >>> h.record_validation(epoch=0, step=2, metrics={"loss": 0.9, "accuracy": 0.75})
    >>> h.to_rows()
    [{'epoch': 0, 'step': 2, 'lr': 0.1, 'train_loss': 1.5, 'val_loss': 0.9, 'val_accuracy': 0.75}]
    >>> print(h.table())
    epoch  step   lr      train_loss  val_loss  val_accuracy
    0      2      0.1     1.5         0.9       0.75
    """

    step: list[int] = field(default_factory=list)
    epoch: list[int] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    val: list[dict] = field(default_factory=list)
    diverged: str | None = None
    momentum: list[float] = field(default_factory=list)
    stopped: str | None = None

    def record_step(
        self, *, step: int, epoch: int, lr: float, loss: float, grad_norm: float, momentum: float | None = None
    ) -> None:
        """Append one optimizer step (its momentum too, when the schedule sets one)."""
        self.step.append(step)
        self.epoch.append(epoch)
        self.lr.append(lr)
        self.loss.append(loss)
        self.grad_norm.append(grad_norm)
        if momentum is not None:
            self.momentum.append(momentum)

    def record_validation(self, *, epoch: int, step: int, metrics: dict[str, float]) -> None:
        """Append the validation metrics measured at the end of ``epoch`` (after ``step`` updates)."""
        self.val.append({"epoch": epoch, "step": step, **metrics})

    def to_rows(self) -> list[dict]:
        """One row per epoch: last step count and rate, mean training loss, validation metrics.

        >>> h = History(step=[0, 1, 2], epoch=[0, 0, 1], lr=[1.0, 0.5, 0.25], loss=[3.0, 1.0, 0.5], grad_norm=[1, 1, 1])
        >>> [row["train_loss"] for row in h.to_rows()]
        [2.0, 0.5]
        """
        validation = {row["epoch"]: row for row in self.val}
        rows = []
        for epoch in dict.fromkeys(self.epoch):  # epochs in order, each once
            picked = [i for i, e in enumerate(self.epoch) if e == epoch]
            row = {"epoch": epoch, "step": self.step[picked[-1]] + 1, "lr": self.lr[picked[-1]]}
            row["train_loss"] = sum(self.loss[i] for i in picked) / len(picked)
            for name, value in validation.get(epoch, {}).items():
                if name not in ("epoch", "step"):
                    row[f"val_{name}"] = value
            rows.append(row)
        return rows

    def table(self, digits: int = 4) -> str:
        """:meth:`to_rows` as a plain-text table, numbers to ``digits`` significant digits."""
        rows = self.to_rows()
        if not rows:
            return "(no steps recorded)"
        names = list(dict.fromkeys(name for row in rows for name in row))
        cells = [names] + [[_format(row.get(name, ""), digits) for name in names] for row in rows]
        widths = [max(len(line[i]) for line in cells) + 2 for i in range(len(names))]
        return "\n".join("".join(c.ljust(w) for c, w in zip(line, widths)).rstrip() for line in cells)

    def plot(self, key: str = "loss", ax=None):
        """Draw one per-step series (``"loss"``, ``"lr"``, ``"grad_norm"`` or ``"momentum"``) against the step.

        >>> ax = History(step=[0, 1], loss=[2.0, 1.0]).plot()
        >>> ax.get_xlabel(), ax.get_yscale()
        ('step', 'log')
        """
        if key not in ("loss", "lr", "grad_norm", "momentum"):
            raise ValueError(f"key must be 'loss', 'lr', 'grad_norm' or 'momentum', not {key!r}")
        import matplotlib.pyplot as plt  # only plotting needs Matplotlib

        ax = ax if ax is not None else plt.figure(figsize=(5, 3.5)).add_subplot()
        values = getattr(self, key)
        positive = all(v > 0 for v in values if math.isfinite(v)) and key != "momentum"
        ax.plot(self.step[: len(values)], values, linewidth=1)
        ax.set(xlabel="step", ylabel=key.replace("_", " "), yscale="log" if positive else "linear")
        return ax

    def state_dict(self) -> dict:
        """Plain lists and numbers, for a checkpoint."""
        return asdict(self)

    @classmethod
    def from_state_dict(cls, state: dict) -> History:
        """The inverse of :meth:`state_dict` (a checkpoint from before ``momentum`` and ``stopped`` loads too).

        >>> h = History(step=[0], loss=[1.0])
        >>> History.from_state_dict(h.state_dict()) == h
        True
        """
        return cls(**state)


def _format(value, digits: int) -> str:
    return f"{value:.{digits}g}" if isinstance(value, float) else str(value)
