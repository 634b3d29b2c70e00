"""One optimizer step made of several micro-batches: the part of training that fit and the LR finder share."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

from lrcourse.train.precision import Precision


def accumulate_gradients(
    model: torch.nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    micro_batches: Sequence[tuple[torch.Tensor, ...]],
    precision: Precision,
) -> torch.Tensor:
    """Add to ``.grad`` the gradient of the mean loss over all examples of ``micro_batches``.

    Each micro-batch's mean loss is weighted by its share of the examples,
    ``n_i / N``, so k micro-batches give the gradient of one batch k times as
    large (plain division by k would over-weight a short last micro-batch).
    Returns that mean loss, detached, on the model's device (no host sync).

    >>> model = torch.nn.Linear(1, 1, bias=False); _ = model.weight.data.fill_(1.0)
    >>> batches = [(torch.tensor([[1.0]]), torch.tensor([[0.0]])), (torch.tensor([[2.0], [3.0]]), torch.zeros(2, 1))]
    >>> loss = accumulate_gradients(model, torch.nn.functional.mse_loss, batches, Precision(False, torch.device("cpu")))
    >>> round(loss.item(), 5), round(model.weight.grad.item(), 5)  # (1 + 4 + 9) / 3 and 2 (1 + 4 + 9) / 3
    (4.66667, 9.33333)
    """
    device = next(model.parameters()).device
    total = sum(len(batch[-1]) for batch in micro_batches)
    mean_loss = None  # no zero to start from: adding it (and multiplying by a share of 1) changes nothing
    for *inputs, target in micro_batches:
        inputs, target = [x.to(device, non_blocking=True) for x in inputs], target.to(device, non_blocking=True)
        with precision.autocast():
            loss = loss_fn(model(*inputs), target)
        share = len(target) / total  # 1 for a single micro-batch, the usual case
        precision.backward(loss if share == 1 else loss * share)
        at_least_float32 = torch.promote_types(loss.dtype, torch.float32)  # a float16 sum would round
        part = loss.detach().to(at_least_float32)
        part = part if share == 1 else part * share
        mean_loss = part if mean_loss is None else mean_loss + part
    return torch.zeros((), device=device) if mean_loss is None else mean_loss


def clip_gradients(
    parameters: Sequence[torch.nn.Parameter],
    *,
    clip_norm: float | None = None,
    clip_value: float | None = None,
) -> torch.Tensor:
    """Clip gradients in place by global norm or by value; return the global norm before clipping.

    >>> p = torch.nn.Parameter(torch.zeros(2)); p.grad = torch.tensor([3.0, 4.0])
    >>> clip_gradients([p], clip_norm=1.0).item(), [round(g, 4) for g in p.grad.tolist()]
    (5.0, [0.6, 0.8])
    >>> round(clip_gradients([p], clip_value=0.7).item(), 4), [round(g, 4) for g in p.grad.tolist()]
    (1.0, [0.6, 0.7])
    """
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return torch.zeros(())
    norm = total_norm(grads)
    if clip_norm is not None:
        torch.nn.utils.clip_grads_with_norm_(parameters, clip_norm, norm)
    if clip_value is not None:
        torch.nn.utils.clip_grad_value_(parameters, clip_value)
    return norm


@torch.no_grad()
def total_norm(grads: list[torch.Tensor]) -> torch.Tensor:
    """The 2-norm of all ``grads`` as one vector: ``torch.nn.utils.get_total_norm``'s value.

    When every gradient is a plain tensor on one device and of one dtype (the usual case), the
    same two reductions are called directly, without the grouping by device and dtype that costs
    about as much as the norms of a small network.

    >>> total_norm([torch.tensor([3.0]), torch.tensor([4.0])])
    tensor(5.)
    """
    first = grads[0]
    same_kind = all(
        type(g) is torch.Tensor and g.device == first.device and g.dtype == first.dtype and g.layout == torch.strided
        for g in grads
    )
    if not same_kind or first.device.type not in ("cpu", "cuda"):
        return torch.nn.utils.get_total_norm(grads)
    return torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads, 2.0)), 2.0)


def check_clipping(clip_norm: float | None, clip_value: float | None) -> None:
    """ValueError unless each threshold is ``None`` or positive, and at most one is given.

    >>> check_clipping(1.0, None)
    >>> check_clipping(-1.0, None)
    Traceback (most recent call last):
    ...
    ValueError: clip_norm must be positive or None, not -1.0
    """
    for name, value in (("clip_norm", clip_norm), ("clip_value", clip_value)):
        if value is not None and not value > 0:
            raise ValueError(f"{name} must be positive or None, not {value!r}")
    if clip_norm is not None and clip_value is not None:
        raise ValueError("give clip_norm or clip_value, not both")


def trainable_parameters(optimizer: torch.optim.Optimizer) -> list[torch.nn.Parameter]:
    """Every parameter the optimizer updates, in order.

    >>> a, b = torch.nn.Parameter(torch.zeros(1)), torch.nn.Parameter(torch.zeros(2))
    >>> [p.numel() for p in trainable_parameters(torch.optim.SGD([{"params": [a]}, {"params": [b]}], lr=0.1))]
    [1, 2]
    """
    return [p for group in optimizer.param_groups for p in group["params"]]
