"""What an optimizer's state costs in memory, read from the state it holds after a step.

Counted: every tensor in ``optimizer.state`` (moments, factored rows and columns, buffers),
in bytes as stored. A step count kept as a Python number (this package's ``t``) costs
nothing that grows with the model and is not counted; ``torch.optim`` keeps its ``step`` as a
0-dimensional tensor, which is counted (4 bytes per parameter tensor).

>>> import torch
>>> from lrcourse import optim
>>> w = torch.nn.Parameter(torch.zeros(64, 32))
>>> w.grad = torch.ones(64, 32)
>>> opt = optim.Adam([w], lr=1e-3)
>>> opt.step()
>>> state_bytes(opt)
{'m': 8192, 'v': 8192}
>>> state_bytes_per_parameter(opt)  # two float32 moments
8.0
"""

from __future__ import annotations

from collections import Counter

import torch


def state_bytes(optimizer: torch.optim.Optimizer) -> dict[str, int]:
    """Bytes of the optimizer's state tensors, by state name, summed over its parameters.

    Call it after at least one ``step()``: most optimizers create their state lazily.
    """
    total: Counter[str] = Counter()
    for state in optimizer.state.values():
        for name, value in state.items():
            if torch.is_tensor(value):
                total[name] += value.numel() * value.element_size()
    return dict(total)


def state_bytes_per_parameter(optimizer: torch.optim.Optimizer) -> float:
    """All state bytes over the number of numbers the optimizer trains.

    Adam keeps two float32 moments (8 bytes a parameter), SGD with momentum one (4),
    Adafactor a row and a column per matrix (close to 0 for large matrices).
    """
    trained = sum(p.numel() for group in optimizer.param_groups for p in group["params"])
    if trained == 0:
        raise ValueError("the optimizer has no parameters to train")
    return sum(state_bytes(optimizer).values()) / trained
