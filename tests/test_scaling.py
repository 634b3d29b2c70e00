"""The batch-size scaling rules and the scaled schedule, against values worked out by hand."""

import math

import numpy as np
import pytest

from lrcourse import scaling
from lrcourse.schedules import constant, cosine, multistep


def test_rules_by_hand():
    assert scaling.linear_rule(0.1, 256, 8192) == pytest.approx(3.2)  # Goyal et al.: 0.1 x 8k / 256
    assert scaling.sqrt_rule(1e-3, 64, 1024) == pytest.approx(4e-3)
    assert scaling.linear_rule(0.4, 1024, 256) == pytest.approx(0.1)  # smaller batches scale down


def test_goyal_recipe_warmup_then_scaled_rate():
    s = scaling.linear_scaling(0.1, base_batch_size=256, batch_size=1024, warmup_steps=5)
    expected = [0.1, 0.16, 0.22, 0.28, 0.34, 0.4, 0.4]  # eta + (k - 1) eta t / w, then k eta
    np.testing.assert_allclose(s(np.arange(7)), expected)
    assert [s(t) for t in range(7)] == pytest.approx(expected)


def test_reference_schedule_is_read_at_the_same_epoch():
    reference = multistep(0.1, milestones=[300, 600], gamma=0.1)  # steps at batch 32
    s = scaling.linear_scaling(reference, base_batch_size=32, batch_size=96)  # k = 3: milestones at 100, 200
    assert [s(t) for t in (99, 100, 199, 200)] == pytest.approx([0.3, 0.03, 0.03, 0.003])
    c = scaling.sqrt_scaling(cosine(0.01, total_steps=1000), base_batch_size=10, batch_size=40)
    assert c(250) == pytest.approx(0.0) and c(125) == pytest.approx(2 * 0.005)  # half way at step 500 / 4


def test_plain_callables_and_pickling():
    import pickle

    s = scaling.linear_scaling(lambda step: 0.1 / (1 + step), base_batch_size=1, batch_size=2)
    assert s(1) == pytest.approx(2 * 0.1 / 3)
    t = scaling.sqrt_scaling(constant(0.1), 4, 16, warmup_steps=2)
    assert pickle.loads(pickle.dumps(t))(1) == pytest.approx(0.15)


def test_factor_and_smaller_batches():
    assert scaling.ScaledSchedule(constant(1.0), 8, 2, rule="sqrt").factor == pytest.approx(0.5)
    assert scaling.ScaledSchedule(constant(1.0), 8, 32).factor == 4.0
    assert math.isclose(scaling.linear_scaling(0.2, 8, 2, warmup_steps=4)(2), 0.2 * (1 - 0.75 / 2))


@pytest.mark.parametrize(
    "kwargs,name",
    [
        (dict(base_batch_size=0, batch_size=4), "base_batch_size"),
        (dict(base_batch_size=4, batch_size=2.5), "batch_size"),
        (dict(base_batch_size=4, batch_size=8, warmup_steps=-1), "warmup_steps"),
    ],
)
def test_bad_arguments_are_named(kwargs, name):
    with pytest.raises(ValueError, match=name):
        scaling.linear_scaling(0.1, **kwargs)


def test_bad_rule_and_rate():
    with pytest.raises(ValueError, match="rule"):
        scaling.ScaledSchedule(constant(0.1), 1, 2, rule="cubic")
    with pytest.raises(ValueError, match="base_lr"):
        scaling.linear_rule(-0.1, 1, 2)
