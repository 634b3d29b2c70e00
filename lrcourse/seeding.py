"""Seeds: one call that makes a run repeatable, and independent streams derived from one seed.

A run draws several random streams: the initial weights, the order of the batches in each
epoch, a synthetic data set. Deriving them as ``seed + epoch`` makes seeds 0 and 1 share all
but one of their epoch orders, so two "independent" runs are not. :func:`derive` mixes
``(seed, purpose, keys...)`` through NumPy's ``SeedSequence`` (a hash designed for this), so
every combination gives its own stream and nearby seeds give unrelated ones.
"""

from __future__ import annotations

import random
import zlib

import numpy as np
import torch


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python's, NumPy's and PyTorch's global generators (every device).

    Returns a fresh ``torch.Generator`` seeded with the same value, for code
    that prefers an explicit generator to the global one.

    >>> _ = seed_everything(0); a = torch.rand(3)
    >>> _ = seed_everything(0); b = torch.rand(3)
    >>> torch.equal(a, b)
    True
    """
    _check_seed(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)  # also seeds every CUDA and MPS device
    return torch.Generator().manual_seed(seed)


def derive(seed: int, purpose: str, *keys: int) -> int:
    """A 63-bit seed for the stream ``purpose`` (and ``keys``, an epoch say) of run ``seed``.

    The same arguments always give the same value; changing any of them gives an
    unrelated one (``SeedSequence`` mixes them, it does not add them).

    >>> derive(0, "batches", 1) == derive(0, "batches", 1)
    True
    >>> len({derive(0, "batches", 1), derive(1, "batches", 0), derive(0, "data", 1)})
    3
    """
    _check_seed(seed)
    if not isinstance(purpose, str) or not purpose:
        raise ValueError(f"purpose must be a non-empty str, not {purpose!r}")
    for key in keys:
        _check_seed(key, name="keys")
    entropy = [seed, zlib.crc32(purpose.encode()), *keys]
    (state,) = np.random.SeedSequence(entropy).generate_state(1, dtype=np.uint64)
    return int(state) >> 1  # torch seeds are signed 64-bit


def generator(seed: int, purpose: str, *keys: int) -> torch.Generator:
    """A CPU ``torch.Generator`` for the stream ``purpose`` of run ``seed`` (see :func:`derive`).

    >>> a = torch.rand(2, generator=generator(0, "data"))
    >>> torch.equal(a, torch.rand(2, generator=generator(0, "data")))
    True
    >>> torch.equal(a, torch.rand(2, generator=generator(0, "noise")))
    False
    """
    return torch.Generator().manual_seed(derive(seed, purpose, *keys))


def _check_seed(value: int, name: str = "seed") -> None:
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{name} must be a non-negative int, not {value!r}")
