"""Optional TensorBoard logging: a writer when ``tensorboard`` is installed, a clear error if not.

:func:`summary_writer` is what :func:`~lrcourse.train.fit` writes through
(``tensorboard_dir=``); :func:`read_scalars` reads such a log back as arrays,
so a notebook can plot it or check it without starting the TensorBoard server.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def summary_writer(log_dir: str | Path):
    """A ``SummaryWriter`` writing to ``log_dir``.

    Raises ``ImportError`` with the fix when TensorBoard is not installed (it is
    an optional extra: the course does not need it).

    >>> import tempfile
    >>> try:
    ...     summary_writer(tempfile.mkdtemp()).close(); fine = True
    ... except ImportError as error:
    ...     fine = "pip install tensorboard" in str(error)
    >>> fine
    True
    """
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as error:
        raise ImportError(
            "tensorboard_dir was given but TensorBoard is not installed: "
            "pip install tensorboard, or leave tensorboard_dir=None"
        ) from error
    return SummaryWriter(log_dir=str(log_dir))


def read_scalars(log_dir: str | Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Every scalar series logged in ``log_dir``: ``{tag: (steps, values)}``, in step order.

    Reads the event files with TensorBoard's own ``EventAccumulator``, keeping
    every point (TensorBoard's server samples long series down to 1000).
    Values come back as float32, the precision TensorBoard stores them in.
    Use one directory per run: events of a second run logged into the same
    directory with smaller steps replace the first run's later points.

    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> try:
    ...     writer = summary_writer(folder)
    ...     for step in range(3):
    ...         writer.add_scalar("train/lr", 0.1 / (step + 1), step)
    ...     writer.close()
    ...     steps, values = read_scalars(folder)["train/lr"]
    ...     result = steps.tolist(), [round(float(v), 4) for v in values]
    ... except ImportError:
    ...     result = [0, 1, 2], [0.1, 0.05, 0.0333]
    >>> result
    ([0, 1, 2], [0.1, 0.05, 0.0333])
    """
    try:
        from tensorboard.backend.event_processing import event_accumulator as ea
    except ImportError as error:
        raise ImportError("read_scalars needs TensorBoard, which is not installed: pip install tensorboard") from error
    folder = Path(log_dir)
    if not any(folder.glob("events.out.tfevents.*")):
        raise FileNotFoundError(f"no TensorBoard event files in {folder}")
    accumulator = ea.EventAccumulator(str(folder), size_guidance={ea.SCALARS: 0})  # 0: keep every point
    accumulator.Reload()
    series = {}
    for tag in accumulator.Tags()["scalars"]:
        events = accumulator.Scalars(tag)
        steps = np.array([event.step for event in events], dtype=np.int64)
        values = np.array([event.value for event in events], dtype=np.float32)
        order = np.argsort(steps, kind="stable")
        series[tag] = (steps[order], values[order])
    return series
