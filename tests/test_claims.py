"""The claim helpers against hand-computed Student-t intervals (quantiles from printed tables)."""

import math

import pytest

from lrcourse import claims

T_975_DF2 = 4.302653  # two-sided 95%, 2 degrees of freedom
T_95_DF4 = 2.131847  # one-sided 95%, 4 degrees of freedom


def test_interval_matches_the_t_table():
    estimate = claims.interval([1.0, 2.0, 3.0])
    half = T_975_DF2 * 1.0 / math.sqrt(3)  # sample sd 1
    assert estimate.mean == 2.0 and estimate.n == 3
    assert estimate.low == pytest.approx(2.0 - half, rel=1e-6)
    assert estimate.high == pytest.approx(2.0 + half, rel=1e-6)


def test_paired_uses_per_seed_differences():
    # b = a - (1, 2, 3): the shared offsets cancel, only the differences count
    a = [10.0, 50.0, 90.0]
    d = claims.paired(a, [a[0] - 1, a[1] - 2, a[2] - 3])
    assert d.mean == pytest.approx(2.0)
    assert d.high - d.low == pytest.approx(2 * T_975_DF2 / math.sqrt(3), rel=1e-6)


def test_beats_by_is_the_one_sided_lower_bound():
    a, b = [1.0, 2.0, 3.0, 4.0, 5.0], [0.0] * 5
    bound = 3.0 - T_95_DF4 * math.sqrt(2.5) / math.sqrt(5)  # 1.4926
    assert claims.beats_by(a, b, bound - 1e-3, better="higher")
    assert not claims.beats_by(a, b, bound + 1e-3, better="higher")
    # lower is better: the same numbers read the other way round
    assert claims.beats_by(b, a, bound - 1e-3, better="lower")
    assert not claims.beats_by(a, b, 0.0, better="lower")


def test_equivalent_needs_both_one_sided_bounds_inside_the_margin():
    a, b = [0.01, -0.01, 0.02, -0.02, 0.0], [0.0] * 5
    half = T_95_DF4 * math.sqrt(2.5e-4) / math.sqrt(5)  # 0.015075
    assert claims.equivalent(a, b, margin=half + 1e-4)
    assert not claims.equivalent(a, b, margin=half - 1e-4)


def test_equivalence_from_fewer_than_five_seeds_is_refused():
    with pytest.raises(ValueError, match="at least 5 seeds"):
        claims.equivalent([1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0], margin=0.1)


def test_beats_on_every_seed_counts_ties_as_losses():
    assert claims.beats_on_every_seed([2, 3, 4], [1, 2, 3], better="higher")
    claim = claims.beats_on_every_seed([2, 3, 4], [1, 2, 4], better="higher")
    assert not claim and "2 of 3" in str(claim)


def test_at_least_and_at_most_bound_the_mean():
    values = [1.0, 2.0, 3.0, 4.0, 5.0]
    bound = T_95_DF4 * math.sqrt(2.5) / math.sqrt(5)
    assert claims.at_least(values, 3.0 - bound - 1e-3) and not claims.at_least(values, 3.0 - bound + 1e-3)
    assert claims.at_most(values, 3.0 + bound + 1e-3) and not claims.at_most(values, 3.0 + bound - 1e-3)


def test_a_claim_prints_its_numbers():
    claim = claims.beats_by([3.0, 4.0, 5.0], [1.0, 1.0, 1.0], 10.0, better="higher")
    assert str(claim).startswith("fails: better by 3 ")


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: claims.interval([1.0]), "at least 2"),
        (lambda: claims.interval([1.0, math.inf]), "non-finite"),
        (lambda: claims.paired([1.0, 2.0], [1.0, 2.0, 3.0]), "paired"),
        (lambda: claims.beats_by([1.0, 2.0], [0.0, 0.0], better="up"), "better"),
        (lambda: claims.beats_by([1.0, 2.0], [0.0, 0.0], -1.0, better="higher"), "margin"),
        (lambda: claims.equivalent([1.0] * 5, [1.0] * 5, margin=0.0), "margin"),
        (lambda: claims.interval([1.0, 2.0], confidence=95), "confidence"),
    ],
)
def test_bad_input_is_named(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_numpy_margins_and_values_give_a_plain_bool():
    import numpy as np

    claim = claims.beats_by(np.array([3.0, 4.0, 5.0]), np.zeros(3), np.float64(0.5), better="higher")
    assert claim.holds is True and bool(claim)
    assert claims.at_least(np.array([1.0, 1.1]), np.float32(0.5)).holds is True
