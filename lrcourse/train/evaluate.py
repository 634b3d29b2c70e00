"""Measuring a model without training it: mean loss and accuracy, with no gradient tracking."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import torch


def accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """The fraction of rows whose largest logit is at the true label.

    >>> accuracy(torch.tensor([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]]), torch.tensor([0, 1, 1]))
    0.6666666666666666
    """
    return (logits.argmax(dim=-1) == labels).sum().item() / labels.numel()


@torch.no_grad()
def evaluate(
    model: torch.nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    data,
    *,
    batch_size: int = 1024,
) -> dict[str, float]:
    """Mean loss over all examples of ``data`` and, for class labels, the accuracy.

    ``data`` is an ``(inputs, targets)`` pair of tensors (split into chunks of
    ``batch_size``) or an iterable of such batches. ``loss_fn`` must average
    over its batch (PyTorch's default ``reduction="mean"``); each batch is
    weighted by its size, so a short last batch counts for what it holds.
    Accuracy is reported when the targets are integers with one dimension fewer
    than the outputs. The model is evaluated in ``eval()`` mode and put back in
    the mode it was in.

    >>> model = torch.nn.Linear(2, 2)
    >>> X, y = torch.eye(2), torch.tensor([0, 1])
    >>> with torch.no_grad(): _ = model.weight.copy_(torch.eye(2)), model.bias.zero_()
    >>> evaluate(model, torch.nn.functional.cross_entropy, (X, y))
    {'loss': 0.31326165795326233, 'accuracy': 1.0}
    """
    was_training = model.training
    model.eval()
    try:
        return _averages(model, loss_fn, batches_of(data, batch_size))
    finally:
        model.train(was_training)


def _averages(model, loss_fn, batches: Iterable) -> dict[str, float]:
    device = next(model.parameters()).device
    count, loss_sum, correct = 0, torch.zeros((), device=device), torch.zeros((), device=device)
    classifying = None
    for *inputs, target in batches:
        inputs, target = [x.to(device) for x in inputs], target.to(device)
        output = model(*inputs)
        loss = loss_fn(output, target)
        loss_sum = loss_sum.to(torch.promote_types(loss.dtype, loss_sum.dtype)) + loss * len(target)
        if classifying is None:
            classifying = not target.is_floating_point() and output.dim() == target.dim() + 1
        if classifying:
            correct += (output.argmax(dim=-1) == target).sum()
        count += len(target)
    if count == 0:
        raise ValueError("data: no examples to evaluate")
    metrics = {"loss": loss_sum.item() / count}  # one host sync for the whole evaluation
    if classifying:
        metrics["accuracy"] = correct.item() / count
    return metrics


def batches_of(data, batch_size: int) -> Iterable:
    """``data`` as an iterable of batches: a tuple of tensors is cut into ``batch_size`` rows.

    >>> [len(y) for _, y in batches_of((torch.zeros(5, 2), torch.zeros(5)), 2)]
    [2, 2, 1]
    """
    if isinstance(data, (tuple, list)) and data and all(isinstance(t, torch.Tensor) for t in data):
        if not isinstance(batch_size, int) or batch_size <= 0:
            raise ValueError(f"batch_size must be a positive int, not {batch_size!r}")
        return zip(*(t.split(batch_size) for t in data))
    return data
