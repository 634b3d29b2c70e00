import math

import numpy as np
import pytest

from lrcourse.tables import Table, over_seeds


def test_numbers_are_rounded_and_never_reprs():
    table = Table(["name", "x", "n"], [["a", np.float64(1 / 3), np.int64(5)], ["b", math.inf, 2]], digits=3)
    assert table.cells() == [["a", "0.333", "5"], ["b", "diverged", "2"]]
    assert "np.float64" not in str(table) and "np.float64" not in table._repr_html_()


def test_text_columns_align_and_html_escapes():
    table = Table(["method", "loss"], [["<SGD>", 0.5], ["Adam", 12.25]])
    assert str(table).splitlines() == ["method   loss", "<SGD>    0.50", "Adam    12.25"]
    assert "<td>&lt;SGD&gt;</td>" in table._repr_html_()


def test_over_seeds_by_hand():
    # mean 2, sample sd 1, t(0.975, 2) = 4.302653: half-width 2.484
    table = over_seeds({"m": [1.0, 2.0, 3.0]}, digits=3)
    assert table.cells() == [["m", "2.000", "-0.484 to 4.484", "1.000", "3.000", "3"]]


def test_a_short_row_is_refused():
    with pytest.raises(ValueError, match="every row"):
        Table(["a", "b"], [[1]])
