import random

import numpy as np
import pytest
import torch

from lrcourse import seed_everything


def draw():
    return random.random(), np.random.rand(), torch.rand(1).item()


def test_same_seed_same_draws_everywhere():
    seed_everything(7)
    first = draw()
    seed_everything(7)
    assert draw() == first
    seed_everything(8)
    assert draw() != first


def test_returned_generator_is_seeded():
    a = torch.randperm(10, generator=seed_everything(3))
    b = torch.randperm(10, generator=seed_everything(3))
    assert torch.equal(a, b)


@pytest.mark.parametrize("bad", [-1, 1.5, "0", True])
def test_bad_seed_is_an_error(bad):
    with pytest.raises(ValueError, match="seed"):
        seed_everything(bad)
