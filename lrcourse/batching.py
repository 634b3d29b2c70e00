"""Mini-batches of tensors already in memory, reshuffled each epoch from a seed.

A ``DataLoader`` with worker processes earns its keep when each example must be
decoded from disk; for data sets that fit in memory (MNIST is 188 MB as float32)
slicing one tensor is faster and keeps the order reproducible: the order of
epoch ``e`` depends only on ``(seed, e)``, so a run resumed at epoch ``e`` sees
the same batches as one that never stopped. The two are mixed by
:func:`lrcourse.seeding.derive`, so two seeds share no epoch's order.
"""

from __future__ import annotations

from collections.abc import Iterator

import torch

from lrcourse import seeding


class Batches:
    """Iterate ``(X[i], y[i])`` mini-batches of ``batch_size`` rows, in a new order each epoch.

    Each ``iter()`` is one epoch. The permutation of epoch ``e`` is drawn from its
    own generator, ``seeding.generator(seed, "batches", e)``: not ``seed + e`` (the
    convention of PyTorch's ``DistributedSampler``), under which seed 1 would replay
    seed 0's orders one epoch later. :meth:`set_epoch` chooses the epoch, and iterating
    moves on to the next one by itself. Batches live on the tensors' device.

    >>> X, y = torch.arange(10.0).unsqueeze(1), torch.arange(10)
    >>> batches = Batches(X, y, batch_size=4, seed=0)
    >>> len(batches), [len(yb) for _, yb in batches]
    (3, [4, 4, 2])
    >>> first, second = [yb.tolist() for _, yb in batches], [yb.tolist() for _, yb in batches]
    >>> first != second, sorted(sum(second, []))
    (True, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    """

    def __init__(
        self,
        *tensors: torch.Tensor,
        batch_size: int,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ):
        if not tensors:
            raise ValueError("tensors: give at least one tensor to batch")
        sizes = {len(t) for t in tensors}
        if len(sizes) != 1:
            raise ValueError(f"tensors must all have the same first dimension, not {sorted(sizes)}")
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive int, not {batch_size!r}")
        seeding.derive(seed, "batches")  # a bad seed is named now, not at the first iteration
        self.tensors = tensors
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.seed = seed
        self.drop_last = drop_last
        self.epoch = 0

    @property
    def num_examples(self) -> int:
        """How many rows each tensor has.

        >>> Batches(torch.zeros(5, 2), torch.zeros(5), batch_size=2).num_examples
        5
        """
        return len(self.tensors[0])

    def __len__(self) -> int:
        full, rest = divmod(self.num_examples, self.batch_size)
        return full if self.drop_last or rest == 0 else full + 1

    def set_epoch(self, epoch: int) -> None:
        """Make the next ``iter()`` produce the order of ``epoch``.

        >>> batches = Batches(torch.arange(6), batch_size=6, seed=1)
        >>> first = next(iter(batches))[0].tolist()
        >>> batches.set_epoch(0); next(iter(batches))[0].tolist() == first
        True
        """
        if not isinstance(epoch, int) or epoch < 0:
            raise ValueError(f"epoch must be a non-negative int, not {epoch!r}")
        self.epoch = epoch

    def order(self, epoch: int) -> torch.Tensor:
        """The row indices of ``epoch``, in the order they are served (on the CPU).

        >>> Batches(torch.zeros(5), batch_size=2, shuffle=False).order(3).tolist()
        [0, 1, 2, 3, 4]
        """
        if not self.shuffle:
            return torch.arange(self.num_examples)
        return torch.randperm(self.num_examples, generator=seeding.generator(self.seed, "batches", epoch))

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        order = self.order(self.epoch).to(self.tensors[0].device)
        self.epoch += 1  # a plain loop over epochs reshuffles without calling set_epoch
        return self._serve(order)

    def _serve(self, order: torch.Tensor) -> Iterator[tuple[torch.Tensor, ...]]:
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            rows = order[start : start + self.batch_size]
            yield tuple(t.index_select(0, rows) for t in self.tensors)
