import pytest
import torch

from lrcourse import seeding
from lrcourse.batching import Batches


def served_rows(batches):
    return torch.cat([batch[-1] for batch in batches]).tolist()


def test_each_epoch_serves_every_row_once_in_a_new_order():
    X, y = torch.randn(10, 3), torch.arange(10)
    batches = Batches(X, y, batch_size=3, seed=1)
    orders = [served_rows(batches) for _ in range(3)]
    assert all(sorted(order) == list(range(10)) for order in orders)
    assert orders[0] != orders[1] != orders[2]
    for Xb, yb in batches:  # inputs stay paired with their targets
        assert torch.equal(Xb, X[yb])


def test_order_depends_only_on_seed_and_epoch():
    y = torch.arange(50)
    walked = Batches(y, batch_size=7, seed=3)
    for _ in range(4):
        served_rows(walked)
    jumped = Batches(y, batch_size=7, seed=3)
    jumped.set_epoch(4)
    assert served_rows(walked) == served_rows(jumped)
    expected = torch.randperm(50, generator=seeding.generator(3, "batches", 5)).tolist()
    assert served_rows(walked) == expected  # epoch 5 of seed 3, mixed by SeedSequence


def test_two_seeds_share_no_epoch_order():
    # under seed + epoch, seed 1 replayed seed 0's orders one epoch later
    y = torch.arange(100)
    orders = {
        seed: [tuple(served_rows(batches)) for _ in range(6)]
        for seed, batches in ((s, Batches(y, batch_size=10, seed=s)) for s in range(3))
    }
    every_order = [order for epochs in orders.values() for order in epochs]
    assert len(set(every_order)) == len(every_order) == 18


def test_same_seed_reproduces_bit_for_bit():
    X = torch.randn(40, 3)
    first = [xb for (xb,) in Batches(X, batch_size=8, seed=5)]
    again = [xb for (xb,) in Batches(X, batch_size=8, seed=5)]
    assert all(torch.equal(a, b) for a, b in zip(first, again))


def test_sizes_and_drop_last():
    y = torch.arange(10)
    assert [len(b[0]) for b in Batches(y, batch_size=4)] == [4, 4, 2]
    assert [len(b[0]) for b in Batches(y, batch_size=4, drop_last=True)] == [4, 4]
    assert len(Batches(y, batch_size=5)) == 2
    assert served_rows(Batches(y, y, batch_size=4, shuffle=False)) == list(range(10))


def test_does_not_touch_the_global_random_state():
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    served_rows(Batches(torch.arange(10), torch.arange(10), batch_size=2))
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize(
    "args,kwargs,name",
    [
        ((), {"batch_size": 2}, "tensors"),
        ((torch.zeros(3), torch.zeros(4)), {"batch_size": 2}, "first dimension"),
        ((torch.zeros(3),), {"batch_size": 0}, "batch_size"),
    ],
)
def test_bad_arguments_are_named(args, kwargs, name):
    with pytest.raises(ValueError, match=name):
        Batches(*args, **kwargs)


def test_set_epoch_rejects_negative():
    with pytest.raises(ValueError, match="epoch"):
        Batches(torch.zeros(3), batch_size=2).set_epoch(-1)


@pytest.mark.parametrize("seed", [-1, 1.5, "0"])
def test_a_bad_seed_is_refused_at_construction(seed):
    with pytest.raises(ValueError, match="seed"):
        Batches(torch.arange(4), batch_size=2, seed=seed)
