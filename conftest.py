"""pytest hooks for the chapters: keep what nbval executed, so the book build renders it without running it again.

``make test`` runs every chapter once, under nbval. When the environment variable
``LRCOURSE_EXECUTED_CACHE`` names a jupyter-cache folder (the one the book build reads,
``<output>/_build/.jupyter_cache``), each notebook whose cells all passed is stored there with
the outputs nbval received from its kernel. Jupyter Book's ``execute_notebooks: cache`` finds
it by the hash of its code cells and renders those outputs: the quick book is exactly what the
tests executed, and no notebook runs twice. Without the variable nothing is stored.
"""

from __future__ import annotations

import copy
import fcntl
import os
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

CACHE_VARIABLE = "LRCOURSE_EXECUTED_CACHE"


class _Run:
    """One notebook as nbval executes it: a copy that collects each cell's outputs."""

    def __init__(self, notebook):
        self.notebook = copy.deepcopy(notebook)
        self.code_cells = [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
        self.failed = False
        self.started = time.perf_counter()

    def record(self, item, passed: bool) -> bool:
        """Store the cell's outputs; return True once the last code cell has passed."""
        index = self.code_cells[item.cell_num]  # nbval numbers the code cells only
        cell = self.notebook.cells[index]
        cell.outputs = list(item.test_outputs or [])
        cell.execution_count = self.code_cells.index(index) + 1
        self.failed = self.failed or not passed
        return index == self.code_cells[-1] and not self.failed


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    cache_path = os.environ.get(CACHE_VARIABLE)
    if not cache_path or call.when != "call" or not hasattr(item, "test_outputs"):
        return  # not asked for, or not an nbval cell
    notebook_file = item.parent
    if not hasattr(notebook_file, "lrcourse_run"):
        notebook_file.lrcourse_run = _Run(notebook_file.nb)
    run = notebook_file.lrcourse_run
    if run.record(item, passed=report.passed):
        _store(Path(cache_path), run, Path(str(notebook_file.fspath)))


def _store(cache_path: Path, run: _Run, notebook_path: Path) -> None:
    from jupyter_cache import get_cache
    from jupyter_cache.base import CacheBundleIn

    seconds = time.perf_counter() - run.started
    with _exclusive(cache_path.with_name(cache_path.name + ".lock")):  # pytest-xdist workers share it
        get_cache(str(cache_path)).cache_notebook_bundle(
            CacheBundleIn(run.notebook, str(notebook_path), data={"execution_seconds": seconds}),
            check_validity=False,
            overwrite=True,
        )


@contextmanager
def _exclusive(lock_path: Path):
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
