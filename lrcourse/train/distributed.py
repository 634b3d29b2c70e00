"""Data-parallel training with ``torch.distributed``: who I am, my share of the data, agreed numbers.

Launched by ``torchrun``, the same script runs once per worker; each worker holds
a full copy of the model, computes the gradient of its shard of every batch, and
``DistributedDataParallel`` (DDP) averages the gradients across workers during
the backward pass, so every copy takes the same step. The pieces :func:`fit
<lrcourse.train.fit>` needs:

- :func:`setup` joins the process group that ``torchrun`` describes in the
  environment (``gloo`` on CPU, ``nccl`` with CUDA); :func:`cleanup` leaves it;
- :func:`rank`, :func:`world_size`, :func:`is_main`: with no process group these
  are 0, 1 and ``True``, so single-process code runs unchanged;
- :func:`wrap` puts a model in DDP (what ``fit`` expects when there are several
  workers); :func:`unwrap` gives back the plain module (checkpoints hold its weights);
- :func:`shard` gives each worker its slice of every batch: with a global batch
  ``B`` and ``n`` workers, each sees ``B / n`` rows, and the averaged gradient
  is the gradient of the whole batch;
- :func:`all_mean` and :func:`weighted_mean` reduce metrics across workers.

>>> world_size(), rank(), is_main()   # no process group: one worker
(1, 0, True)
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator

import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel


def is_distributed() -> bool:
    """Whether a process group with more than one worker is running.

    >>> is_distributed()
    False
    """
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def world_size() -> int:
    """The number of workers (1 without a process group).

    >>> world_size()
    1
    """
    return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1


def rank() -> int:
    """This worker's index, ``0 .. world_size() - 1`` (0 without a process group).

    >>> rank()
    0
    """
    return dist.get_rank() if dist.is_available() and dist.is_initialized() else 0


def is_main() -> bool:
    """Whether this worker is rank 0, the one that prints, logs and saves.

    >>> is_main()
    True
    """
    return rank() == 0


def default_backend() -> str:
    """``"nccl"`` where CUDA is available, ``"gloo"`` (CPU) otherwise.

    >>> default_backend() in ("gloo", "nccl")
    True
    """
    return "nccl" if torch.cuda.is_available() else "gloo"


def setup(backend: str | None = None) -> torch.device:
    """Join the process group described by ``torchrun``'s environment; return this worker's device.

    ``torchrun`` sets ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR`` and
    ``MASTER_PORT``. Without them (a plain ``python script.py``) nothing is joined
    and the run is single-process. With CUDA, worker ``LOCAL_RANK`` takes GPU
    ``LOCAL_RANK`` of its machine.

    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {}, clear=True):
    ...     setup().type, is_distributed()
    ('cpu', False)
    """
    backend = backend or default_backend()
    if backend not in ("gloo", "nccl"):
        raise ValueError(f"backend must be 'gloo' or 'nccl', not {backend!r}")
    use_cuda = backend == "nccl"
    if "WORLD_SIZE" not in os.environ:
        return torch.device("cuda" if use_cuda else "cpu")
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = torch.device("cuda", local_rank) if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(device)
    if not dist.is_initialized():
        dist.init_process_group(backend=backend)  # reads the rendezvous address from the environment
    return device


def cleanup() -> None:
    """Leave the process group, if one was joined (call it at the end of the script).

    >>> cleanup()   # nothing to leave
    """
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def wrap(model: torch.nn.Module) -> torch.nn.Module:
    """``model`` in ``DistributedDataParallel`` when there are several workers, else ``model`` itself.

    DDP copies rank 0's parameters to every worker when it is built, then averages
    the gradients across workers in each backward pass. Build the optimizer from
    ``model.parameters()`` before or after: DDP shares the same parameter tensors.

    >>> model = torch.nn.Linear(2, 1)
    >>> wrap(model) is model   # one worker: nothing to wrap
    True
    """
    if not is_distributed() or isinstance(model, DistributedDataParallel):
        return model
    device = next(model.parameters()).device
    return DistributedDataParallel(model, device_ids=[device] if device.type == "cuda" else None)


def unwrap(model: torch.nn.Module) -> torch.nn.Module:
    """The plain module inside a DDP wrapper (``model`` itself otherwise).

    >>> model = torch.nn.Linear(2, 1)
    >>> unwrap(model) is model
    True
    """
    return model.module if isinstance(model, DistributedDataParallel) else model


class Shard:
    """Worker ``rank``'s rows of every batch of ``batches``: the batch split into ``world_size`` parts.

    Every worker iterates the same batches in the same order (a seeded shuffle
    such as :class:`~lrcourse.batching.Batches` gives that), and keeps its
    contiguous part of each: part sizes differ by at most one row. DDP weighs
    every worker equally, so the averaged gradient is exactly the gradient of
    the whole batch when the batch size divides by ``world_size`` (pick sizes
    that do, or ``drop_last=True``). ``set_epoch`` and ``len`` pass through.

    >>> from lrcourse.batching import Batches
    >>> batches = Batches(torch.arange(8), batch_size=4, shuffle=False)
    >>> [x.tolist() for (x,) in Shard(batches, rank=1, world_size=2)]
    [[2, 3], [6, 7]]
    """

    def __init__(self, batches: Iterable, *, rank: int, world_size: int):
        if not isinstance(world_size, int) or world_size < 1:
            raise ValueError(f"world_size must be a positive int, not {world_size!r}")
        if not isinstance(rank, int) or not 0 <= rank < world_size:
            raise ValueError(f"rank must be an int in [0, {world_size}), not {rank!r}")
        self.batches, self.rank, self.world_size = batches, rank, world_size

    def __len__(self) -> int:
        return len(self.batches)  # type: ignore[arg-type]  # TypeError without a length, as the batches

    def set_epoch(self, epoch: int) -> None:
        """Pass the epoch on to the batches, if they take one."""
        if hasattr(self.batches, "set_epoch"):
            self.batches.set_epoch(epoch)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, ...]]:
        for batch in self.batches:
            rows = len(batch[-1])
            if rows < self.world_size:
                raise ValueError(f"a batch of {rows} rows cannot be split over {self.world_size} workers")
            yield tuple(t.tensor_split(self.world_size)[self.rank] for t in batch)


def shard(batches: Iterable) -> Iterable:
    """This worker's :class:`Shard` of ``batches`` (``batches`` itself with one worker).

    >>> from lrcourse.batching import Batches
    >>> batches = Batches(torch.arange(8), batch_size=4)
    >>> shard(batches) is batches
    True
    """
    return Shard(batches, rank=rank(), world_size=world_size()) if is_distributed() else batches


def all_mean(values: torch.Tensor) -> torch.Tensor:
    """The elementwise mean of ``values`` over all workers (``values`` itself with one worker).

    >>> all_mean(torch.tensor([1.0, 2.0])).tolist()
    [1.0, 2.0]
    """
    if not is_distributed():
        return values
    total = values.clone()
    dist.all_reduce(total, op=dist.ReduceOp.SUM)  # gloo has no AVG: sum, then divide
    return total / world_size()


def weighted_mean(metrics: dict[str, float], count: int, device: torch.device | None = None) -> dict[str, float]:
    """Each metric averaged over all workers, weighted by the ``count`` of examples each measured.

    >>> weighted_mean({"loss": 0.5, "accuracy": 0.75}, count=10)
    {'loss': 0.5, 'accuracy': 0.75}
    """
    if not is_distributed():
        return dict(metrics)
    names = sorted(metrics)
    sums = torch.tensor([metrics[name] * count for name in names] + [count], dtype=torch.float64, device=device)
    dist.all_reduce(sums, op=dist.ReduceOp.SUM)
    total = sums[-1].item()
    return {name: sums[names.index(name)].item() / total for name in metrics}
