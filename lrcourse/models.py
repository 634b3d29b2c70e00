"""The models that the chapters train: the source article's CNN, an MLP, logistic regression."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn
from torch.nn import functional as F


class ArticleCNN(nn.Module):
    """The source article's MNIST network, with its flattening size corrected.

    Two 3x3 convolutions (1 -> 6 -> 16 channels), each followed by ReLU and 2x2
    max pooling, then three fully connected layers 400 -> 120 -> 84 -> 10.
    On a 28x28 image the feature maps go 28 -> 26 -> 13 -> 11 -> 5, so the
    flattened size is ``16 * 5 * 5 = 400``. The article writes
    ``x.view(-1, 16 * 4 * 4)`` and gives ``fc1`` 256 inputs: a batch of 64 is
    reshaped into 100 rows of 256, which its ``fc1`` accepts, and the run fails
    only at the loss, which gets 100 predictions for 64 labels. (The article's
    code also forgets ``import torch.nn.functional as F``.)

    >>> model = ArticleCNN()
    >>> model(torch.zeros(64, 1, 28, 28)).shape
    torch.Size([64, 10])
    >>> sum(p.numel() for p in model.parameters())
    60074
    """

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, kernel_size=3)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=3)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of shape ``(N, 10)`` for images ``x`` of shape ``(N, 1, 28, 28)``."""
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)  # (N, 6, 13, 13)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)  # (N, 16, 5, 5)
        x = torch.flatten(x, 1)  # (N, 400): keeps the batch dimension whatever the image size
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)  # logits: nn.CrossEntropyLoss applies the softmax


class MLP(nn.Module):
    """A multilayer perceptron: flatten, then ``Linear + ReLU`` per hidden width, then ``Linear``.

    >>> model = MLP(784, hidden=(32, 16), out_features=10)
    >>> model(torch.zeros(5, 1, 28, 28)).shape
    torch.Size([5, 10])
    >>> [m.out_features for m in model.layers if isinstance(m, nn.Linear)]
    [32, 16, 10]
    """

    def __init__(self, in_features: int, hidden: Sequence[int] = (128,), out_features: int = 10) -> None:
        super().__init__()
        widths = [in_features, *hidden]
        if any(not isinstance(w, int) or w <= 0 for w in [*widths, out_features]):
            raise ValueError(
                f"in_features, hidden and out_features must be positive ints, not {widths + [out_features]}"
            )
        layers: list[nn.Module] = [nn.Flatten()]
        for width_in, width_out in zip(widths, widths[1:]):
            layers += [nn.Linear(width_in, width_out), nn.ReLU()]
        layers.append(nn.Linear(widths[-1], out_features))
        self.layers = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of shape ``(N, classes)``; ``x`` is flattened after its batch dimension."""
        return self.layers(x)


class LogisticRegression(nn.Module):
    """Multinomial logistic regression: one linear layer giving a logit per class.

    Train it with ``nn.CrossEntropyLoss`` (or, with ``num_classes=1``,
    ``nn.BCEWithLogitsLoss``). Its loss is convex in the parameters, which makes it
    the chapters' example where the stability limit on the rate can be computed.

    >>> model = LogisticRegression(784, num_classes=10)
    >>> model(torch.zeros(3, 1, 28, 28)).shape
    torch.Size([3, 10])
    """

    def __init__(self, in_features: int, num_classes: int = 10) -> None:
        super().__init__()
        if in_features <= 0 or num_classes <= 0:
            raise ValueError(f"in_features and num_classes must be positive, not {in_features}, {num_classes}")
        self.linear = nn.Linear(in_features, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of shape ``(N, classes)`` of the flattened inputs."""
        return self.linear(torch.flatten(x, 1))
