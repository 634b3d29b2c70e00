"""Saving and restoring everything a run depends on, so that a resumed run continues exactly.

Bit-for-bit continuation needs more than the weights: the optimizer's state
(momenta, step counts), the schedule's position, the scaler, the history, the
random generators (dropout, data order) and where in the epoch the run was.
The data order of an epoch is replayed by restoring the generators as they
were when the epoch began and skipping the batches already used.

A checkpoint holds tensors, plain values and the schedules of :mod:`lrcourse.schedules`
(an LRScheduler driven by one saves it in its state): :func:`load` reads it with
``weights_only=True``, so loading a file never runs code from it, and :func:`check_loadable`
refuses, before training, a state that could be saved but never loaded back.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import random
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch


def rng_state() -> dict:
    """The state of Python's, NumPy's and PyTorch's global generators (CPU and CUDA).

    >>> state = rng_state(); a = torch.rand(2)
    >>> set_rng_state(state); torch.equal(torch.rand(2), a)
    True
    """
    name, keys, position, has_gauss, cached = np.random.get_state()
    return {
        "python": random.getstate(),
        "numpy": (name, torch.from_numpy(np.asarray(keys, dtype=np.int64)), position, has_gauss, cached),
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else [],
    }


def set_rng_state(state: dict) -> None:
    """Restore what :func:`rng_state` returned.

    >>> import random
    >>> state = rng_state(); a = random.random()
    >>> set_rng_state(state); random.random() == a
    True
    """
    random.setstate(_as_tuples(state["python"]))
    name, keys, position, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), position, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if state["cuda"]:
        torch.cuda.set_rng_state_all(state["cuda"])


class CheckpointError(ValueError):
    """A file that is not a readable checkpoint, or a state that could not be read back from one."""


def save(path: str | Path, state: dict) -> None:
    """Write ``state`` with ``torch.save``, atomically: a crash mid-write keeps the old file.

    The bytes go to a new temporary file in the same folder (a unique name, created
    exclusively, so a link planted there is never followed), are flushed to disk, and
    the file is renamed over ``path``; then the folder itself is flushed.

    >>> path = Path(tempfile.mkdtemp()) / "run.pt"
    >>> save(path, {"step": 3, "rng": rng_state()}); load(path)["step"]
    3
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, partial = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as file:
            if hasattr(os, "fchmod"):
                os.fchmod(file.fileno(), 0o666 & ~_umask())  # what open() would have given, not mkstemp's 0600
            torch.save(state, file)
            file.flush()
            os.fsync(file.fileno())
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
        raise
    _fsync_folder(path.parent)


def check_writable(path: str | Path) -> None:
    """Raise ``CheckpointError`` naming ``path`` unless a checkpoint can be written there (creates its folder).

    >>> check_writable(Path(tempfile.mkdtemp()) / "new" / "run.pt")
    """
    path = Path(path)
    try:
        if path.is_dir():
            raise IsADirectoryError(f"{path} is a folder")
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=path.parent)
        os.close(descriptor)
        os.unlink(probe)
    except OSError as error:
        raise CheckpointError(
            f"checkpoint={str(path)!r} cannot be written ({error}); pass a file in a folder you can write to"
        ) from None


def check_loadable(state: dict) -> None:
    """Raise ``CheckpointError`` if ``state`` could be saved but :func:`load` could not read it back.

    >>> check_loadable({"step": 3, "weights": torch.ones(2)})
    >>> check_loadable({"schedule": {"fn": Path("x")}})
    Traceback (most recent call last):
    ...
    lrcourse.train.checkpoint.CheckpointError: this checkpoint could be saved but never loaded back ...
    """
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    try:
        with torch.serialization.safe_globals(safe_classes()):
            torch.load(buffer, weights_only=True)
    except pickle.UnpicklingError as error:
        raise CheckpointError(
            "this checkpoint could be saved but never loaded back with weights_only=True: "
            f"{_reason(error)}. Keep to tensors, plain values and the schedules of "
            "lrcourse.schedules (a plain function is not saved at all) in what the run saves."
        ) from None


def load(path: str | Path, map_location: str | torch.device | None = None) -> dict:
    """Read a checkpoint written by :func:`save`: tensors, plain values and the package's schedules.

    A file that is missing keeps its ``FileNotFoundError``; one that is truncated, damaged
    or not written by ``torch.save`` is a :class:`CheckpointError` naming it.

    >>> path = Path(tempfile.mkdtemp()) / "run.pt"
    >>> save(path, {"weights": torch.ones(2)}); load(path)["weights"].tolist()
    [1.0, 1.0]
    >>> _ = path.write_bytes(path.read_bytes()[:100]); load(path)
    Traceback (most recent call last):
    ...
    lrcourse.train.checkpoint.CheckpointError: ...run.pt is not a readable checkpoint ...
    """
    try:
        with torch.serialization.safe_globals(safe_classes()):
            return torch.load(path, map_location=map_location, weights_only=True)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except (pickle.UnpicklingError, RuntimeError, OSError, EOFError, ValueError) as error:
        raise CheckpointError(
            f"{path} is not a readable checkpoint (truncated, damaged, or not written by torch.save): "
            f"{_reason(error)}. "
            "Resume from a complete file written by fit(checkpoint=...), or start afresh."
        ) from None


def safe_classes() -> list[Callable[..., Any] | tuple[Callable[..., Any], str]]:
    """The classes a checkpoint may hold besides tensors and plain values: the package's schedules.

    >>> from lrcourse.schedules import Cosine
    >>> Cosine in safe_classes()
    True
    """
    from lrcourse.schedules._base import Schedule  # not at import: the schedules package is larger
    from lrcourse.schedules.plateau import ReduceOnPlateau

    found: list[Callable[..., Any] | tuple[Callable[..., Any], str]] = [ReduceOnPlateau]
    todo: list[type] = [Schedule]
    while todo:
        subclasses: list[type] = todo.pop().__subclasses__()
        for cls in subclasses:
            todo.append(cls)
            if cls.__module__.startswith("lrcourse.schedules."):
                found.append(cls)
    return found


def _reason(error: BaseException) -> str:
    """The telling sentence of one of torch.load's long messages."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    lines = [line.split("error: ", 1)[1] for line in lines if "WeightsUnpickler error: " in line] or lines
    return lines[0].split(". ")[0].rstrip(".") if lines else type(error).__name__


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX; elsewhere a folder cannot be opened for this)."""
    if os.name != "posix":
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _as_tuples(value):
    """Python's generator state is nested tuples; a round trip through torch.load may give lists."""
    return tuple(_as_tuples(v) for v in value) if isinstance(value, (list, tuple)) else value
