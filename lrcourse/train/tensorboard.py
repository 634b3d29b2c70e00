"""Optional TensorBoard logging: a writer when ``tensorboard`` is installed, a clear error if not."""

from __future__ import annotations

from pathlib import Path


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
