"""Saving and restoring everything a run depends on, so that a resumed run continues exactly.

Bit-for-bit continuation needs more than the weights: the optimizer's state
(momenta, step counts), the schedule's position, the scaler, the history, the
random generators (dropout, data order) and where in the epoch the run was.
The data order of an epoch is replayed by restoring the generators as they
were when the epoch began and skipping the batches already used.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

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


def save(path: str | Path, state: dict) -> None:
    """Write ``state`` with ``torch.save``, atomically: a crash mid-write keeps the old file.

    >>> import tempfile; path = Path(tempfile.mkdtemp()) / "run.pt"
    >>> save(path, {"step": 3, "rng": rng_state()}); load(path)["step"]
    3
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    torch.save(state, partial)
    os.replace(partial, path)


def load(path: str | Path, map_location: str | torch.device | None = None) -> dict:
    """Read a checkpoint written by :func:`save` (tensors and plain values only).

    >>> import tempfile; path = Path(tempfile.mkdtemp()) / "run.pt"
    >>> save(path, {"weights": torch.ones(2)}); load(path)["weights"].tolist()
    [1.0, 1.0]
    """
    return torch.load(path, map_location=map_location, weights_only=True)


def _as_tuples(value):
    """Python's generator state is nested tuples; a round trip through torch.load may give lists."""
    return tuple(_as_tuples(v) for v in value) if isinstance(value, (list, tuple)) else value
