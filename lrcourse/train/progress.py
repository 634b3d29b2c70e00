"""The progress bar of ``fit`` (tqdm, a widget in notebooks that can show one, text elsewhere) and its log.

The book is built without ``ipywidgets`` (a widget would load JavaScript from a
CDN), and then ``tqdm.auto`` falls back to its text bar with a warning about
``IProgress``; the warning is noise in a rendered page, so it is silenced here.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

from lrcourse.train.tensorboard import summary_writer


def progress_bar(total: int | None, *, enabled: bool = True, desc: str = "train"):
    """A tqdm bar over ``total`` steps, disabled when ``enabled`` is false or ``CI`` is set.

    >>> bar = progress_bar(3, enabled=False)
    >>> bar.disable
    True
    >>> bar.close()
    """
    quiet = not enabled or bool(os.environ.get("CI", "").strip())
    return tqdm_class()(total=total, desc=desc, disable=quiet, dynamic_ncols=True, mininterval=0.5)


def tqdm_class():
    """``tqdm.auto.tqdm``: the notebook widget where ipywidgets exists, the text bar otherwise.

    >>> import tqdm
    >>> issubclass(tqdm_class(), tqdm.std.tqdm)
    True
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*IProgress not found.*")
        from tqdm.auto import tqdm
    return tqdm


class RunLog:
    """Where a :func:`~lrcourse.train.fit` run reports: the progress bar and, if asked for, TensorBoard.

    >>> log = RunLog(2, done=0, progress=False, tensorboard_dir=None)
    >>> log.step(0, lr=0.1, loss=1.0, grad_norm=2.0); log.validation(1, {"loss": 0.5}); log.close()
    """

    def __init__(self, total_steps: int | None, done: int, progress: bool, tensorboard_dir: str | Path | None):
        self.writer = summary_writer(tensorboard_dir) if tensorboard_dir is not None else None
        self.bar = progress_bar(total_steps, enabled=progress)
        self.bar.update(done)

    def step(self, step: int, **values: float) -> None:
        """Report one update's ``values`` (``lr``, ``loss``, ``grad_norm``)."""
        if not self.bar.disable:
            self.bar.set_postfix(loss=f"{values['loss']:.4g}", lr=f"{values['lr']:.3g}", refresh=False)
            self.bar.update()
        if self.writer is not None:
            for name, value in values.items():
                self.writer.add_scalar(f"train/{name}", value, step)

    def validation(self, step: int, metrics: dict[str, float]) -> None:
        """Report the validation metrics measured after ``step`` updates."""
        if not self.bar.disable:
            self.bar.write("  ".join([f"step {step}"] + [f"val_{name} {value:.4g}" for name, value in metrics.items()]))
        if self.writer is not None:
            for name, value in metrics.items():
                self.writer.add_scalar(f"val/{name}", value, step)

    def close(self) -> None:
        """Close the bar and the TensorBoard writer."""
        self.bar.close()
        if self.writer is not None:
            self.writer.close()
