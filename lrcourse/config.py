"""Settings read from the environment: quick mode, the seeds and the data root.

``LRCOURSE_QUICK=1`` shrinks data and epochs so that every chapter runs in well
under a minute on two CPU cores (CI and the test suite set it). Unset, chapters
do the full run that the published book shows.

``LRCOURSE_SEED`` (an integer, default 0) shifts every seed a chapter uses:
chapters take their seeds from :func:`seed` and :func:`seeds`, never as literals,
so a claim can be re-checked on other seeds by running the chapter again with
another value. The published book uses the default.

``LRCOURSE_DATA`` names the folder that holds ``MNIST/raw/``. Without it the
loaders use a per-user cache folder and may download into it.

Both are read at call time, never at import, so a notebook or a test can change
them with ``os.environ`` and see the effect at once.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def is_quick() -> bool:
    """Whether quick mode is on (``LRCOURSE_QUICK`` is ``1``, ``true``, ``yes`` or ``on``).

    >>> from unittest import mock
    >>> with mock.patch.dict("os.environ", {"LRCOURSE_QUICK": "1"}):
    ...     is_quick()
    True
    >>> with mock.patch.dict("os.environ", {"LRCOURSE_QUICK": "0"}):
    ...     is_quick()
    False
    """
    raw = os.environ.get("LRCOURSE_QUICK", "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValueError(f"LRCOURSE_QUICK must be 1/0, true/false, yes/no or on/off, not {raw!r}")


def pick(quick: T, full: T) -> T:
    """Return ``quick`` in quick mode and ``full`` otherwise.

    Chapters write their sizes once, both ways: ``epochs = pick(quick=1, full=10)``.

    >>> from unittest import mock
    >>> with mock.patch.dict("os.environ", {"LRCOURSE_QUICK": "1"}):
    ...     pick(quick=1, full=10)
    1
    >>> with mock.patch.dict("os.environ", {"LRCOURSE_QUICK": ""}):
    ...     pick(quick=1, full=10)
    10
    """
    return quick if is_quick() else full


def base_seed() -> int:
    """The value of ``LRCOURSE_SEED``: a non-negative integer, 0 when unset.

    >>> from unittest import mock
    >>> with mock.patch.dict("os.environ", {"LRCOURSE_SEED": "7"}):
    ...     base_seed()
    7
    """
    raw = os.environ.get("LRCOURSE_SEED", "").strip()
    if not raw:
        return 0
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if value < 0:
        raise ValueError(f"LRCOURSE_SEED must be a non-negative integer, not {raw!r}")
    return value


def seed(offset: int = 0) -> int:
    """The chapter's seed number ``offset``: ``LRCOURSE_SEED + offset``.

    >>> from unittest import mock
    >>> with mock.patch.dict("os.environ", {"LRCOURSE_SEED": "100"}):
    ...     seed(), seed(3)
    (100, 103)
    """
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise ValueError(f"offset must be a non-negative int, not {offset!r}")
    return base_seed() + offset


def seeds(n: int) -> list[int]:
    """``n`` seeds for a claim over seeds: ``LRCOURSE_SEED``, ``LRCOURSE_SEED + 1``, ...

    Consecutive seeds give unrelated runs: every random stream of the package is
    derived from its seed by a mixer (:mod:`lrcourse.seeding`), not by adding.

    >>> from unittest import mock
    >>> with mock.patch.dict("os.environ", {"LRCOURSE_SEED": ""}):
    ...     seeds(5)
    [0, 1, 2, 3, 4]
    """
    if not isinstance(n, int) or isinstance(n, bool) or n <= 0:
        raise ValueError(f"n must be a positive int, not {n!r}")
    return [seed(i) for i in range(n)]


def default_cache() -> Path:
    """The per-user folder used when ``LRCOURSE_DATA`` is not set."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "lrcourse"


def data_root() -> Path:
    """The folder that holds the data sets (``LRCOURSE_DATA``, else the user cache).

    >>> from unittest import mock
    >>> with mock.patch.dict("os.environ", {"LRCOURSE_DATA": "/srv/data"}):
    ...     str(data_root())
    '/srv/data'
    """
    configured = os.environ.get("LRCOURSE_DATA", "").strip()
    return Path(configured).expanduser() if configured else default_cache()
