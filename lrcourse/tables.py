"""Results tables for the pages: rounded numbers, aligned columns, no ``np.float64(...)`` reprs.

A :class:`Table` prints as aligned text and renders as an HTML table in Jupyter and
in the book. :func:`over_seeds` builds the usual one: a row per method with the mean
over seeds, its confidence interval, the worst and best seed.

>>> import numpy as np
>>> print(Table(["method", "loss"], [["SGD", np.float64(0.123456)], ["Adam", 0.5]], digits=3))
method   loss
SGD     0.123
Adam    0.500
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from numbers import Integral, Real

from lrcourse.claims import interval


class Table:
    """Rows of values under a header; reals are shown with ``digits`` decimals."""

    def __init__(self, header: Sequence[str], rows: Sequence[Sequence[object]], digits: int = 2):
        if any(len(row) != len(header) for row in rows):
            raise ValueError(f"every row needs {len(header)} values, one per column of {list(header)}")
        if not isinstance(digits, int) or digits < 0:
            raise ValueError(f"digits must be a non-negative int, not {digits!r}")
        self.header = [str(h) for h in header]
        self.rows = [list(row) for row in rows]
        self.digits = digits

    def cells(self) -> list[list[str]]:
        """The rows as the strings that are shown."""
        return [[self._format(value) for value in row] for row in self.rows]

    def __str__(self) -> str:
        lines = [self.header, *self.cells()]
        widths = [max(len(line[j]) for line in lines) for j in range(len(self.header))]
        # the first column (names) aligns left, the numbers right
        return "\n".join(
            "  ".join(
                cell.ljust(w) if j == 0 else cell.rjust(w) for j, (cell, w) in enumerate(zip(line, widths))
            ).rstrip()
            for line in lines
        )

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in self.header)
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>" for row in self.cells()
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def _format(self, value: object) -> str:
        if isinstance(value, bool) or not isinstance(value, Real):
            return str(value)
        if isinstance(value, Integral):
            return str(int(value))
        x = float(value)
        return f"{x:.{self.digits}f}" if math.isfinite(x) else ("diverged" if math.isinf(x) else "nan")


def over_seeds(
    results: Mapping[str, Sequence[float]], *, scale: float = 1.0, digits: int = 2, confidence: float = 0.95
) -> Table:
    """A row per method: mean over seeds, its ``confidence`` interval, worst and best seed, seeds.

    ``scale`` multiplies every value (100 shows accuracies in percent).

    >>> print(over_seeds({"SGD": [0.95, 0.96, 0.97]}, scale=100, digits=1))
    method  mean  95% CI        min   max   seeds
    SGD     96.0  93.5 to 98.5  95.0  97.0  3
    """
    rows = []
    for name, values in results.items():
        scaled = [scale * float(v) for v in values]
        estimate = interval(scaled, confidence)
        ci = f"{estimate.low:.{digits}f} to {estimate.high:.{digits}f}"
        rows.append([name, estimate.mean, ci, min(scaled), max(scaled), len(scaled)])
    return Table(["method", "mean", f"{confidence:.0%} CI", "min", "max", "seeds"], rows, digits)
