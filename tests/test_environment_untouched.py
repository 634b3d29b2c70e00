"""Doctests and tests must leave the environment as they found it.

Notebooks run under nbval in kernels that inherit this process's environment, so a
test that changed LRCOURSE_QUICK or LRCOURSE_DATA would silently switch later
chapters to full mode or to a data folder that does not exist.
"""

import doctest
import os

import pytest

import lrcourse.config


def test_config_doctests_restore_the_environment():
    before = {key: os.environ.get(key) for key in ("LRCOURSE_QUICK", "LRCOURSE_DATA")}
    result = doctest.testmod(lrcourse.config)
    assert result.attempted > 0 and result.failed == 0
    assert {key: os.environ.get(key) for key in before} == before


@pytest.mark.skipif(not os.environ.get("LRCOURSE_BOOK_HTML"), reason="only under `make test`")
def test_make_test_runs_in_quick_mode():
    assert lrcourse.config.is_quick()
