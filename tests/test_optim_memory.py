"""lrcourse.optim.state_bytes: an optimizer's state in bytes, checked against hand counts."""

import pytest
import torch

from lrcourse import optim


def stepped(make, *shapes, dtype=torch.float32):
    params = [torch.nn.Parameter(torch.zeros(shape, dtype=dtype)) for shape in shapes]
    for p in params:
        p.grad = torch.ones_like(p)
    opt = make(params)
    opt.step()
    return opt


def test_adam_keeps_two_moments_per_number():
    opt = stepped(lambda p: optim.Adam(p, lr=1e-3), (64, 32), (32,))
    n = 64 * 32 + 32
    assert optim.state_bytes(opt) == {"m": 4 * n, "v": 4 * n}
    assert optim.state_bytes_per_parameter(opt) == 8.0


def test_counts_what_is_stored_in_double_precision():
    opt = stepped(lambda p: optim.SGD(p, lr=0.1, momentum=0.9), (10, 3), dtype=torch.float64)
    assert optim.state_bytes_per_parameter(opt) == 8.0  # one float64 buffer


def test_plain_sgd_keeps_nothing():
    opt = stepped(lambda p: optim.SGD(p, lr=0.1), (10, 3))
    assert optim.state_bytes(opt) == {}
    assert optim.state_bytes_per_parameter(opt) == 0.0


def test_adafactor_keeps_a_row_and_a_column_per_matrix():
    opt = stepped(lambda p: optim.Adafactor(p, lr=1e-2), (300, 200), (200,))
    assert optim.state_bytes(opt) == {"R": 4 * 300, "C": 4 * 200, "v": 4 * 200}  # a vector is not factored


def test_reads_torch_optimizers_too():
    """torch.optim keeps its step count as a 0-dimensional float32 tensor: 4 bytes per parameter tensor."""
    opt = stepped(lambda p: torch.optim.Adam(p, lr=1e-3), (5, 4), (4,))
    assert optim.state_bytes(opt) == {"step": 2 * 4, "exp_avg": 4 * 24, "exp_avg_sq": 4 * 24}


def test_an_optimizer_without_parameters_is_refused():
    opt = optim.SGD([torch.nn.Parameter(torch.zeros(0))], lr=0.1)
    with pytest.raises(ValueError, match="no parameters"):
        optim.state_bytes_per_parameter(opt)
