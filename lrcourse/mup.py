r"""The maximal update parametrisation (muP, 最大更新参数化): one learning rate for every width.

In the standard parametrisation (SP: PyTorch's default initialisation and one global
rate) the best rate of a network moves as the network gets wider. muP (Yang and Hu
2021; Yang et al. 2021) rescales three things with the width multiplier
:math:`m = n / n_0` (the width :math:`n` over a *base width* :math:`n_0`) so that every
layer's update changes its output by the same amount at every width, and the rate
tuned at :math:`n_0` is the rate for any :math:`n`.

**The rule, from the spectral condition** (Yang, Simon and Bernstein 2023). A layer
:math:`h = W x` with fan-in :math:`a` and fan-out :math:`b` whose input has
:math:`\Theta(1)` coordinates (:math:`\lVert x \rVert \approx \sqrt a`) should have an
output with :math:`\Theta(1)` coordinates, and so should the change of its output
after a step. Both hold when the weight and its update have spectral norms

.. math:: \lVert W \rVert_2 \sim \lVert \Delta W \rVert_2 \sim \sqrt{b / a}.

*Initialisation.* A :math:`b \times a` Gaussian matrix of entry scale :math:`\sigma`
has :math:`\lVert W \rVert_2 \approx \sigma(\sqrt a + \sqrt b)`. For the input and
hidden layers (:math:`b \ge a` or :math:`a = b`) that gives :math:`\sigma \propto 1/\sqrt{a}`,
PyTorch's default; for the readout (:math:`a = n`, :math:`b` = the classes, fixed) it
gives :math:`\sigma \propto 1/n`, not the default :math:`1/\sqrt n`. muP writes the
readout as :math:`W_{\text{eff}} = \alpha W` with the *output multiplier*
:math:`\alpha = \alpha_0 / m` and keeps :math:`W` at the base model's initialisation.

*SGD.* A step is :math:`\Delta W = -\eta\, g x^\top`, rank one, of spectral norm
:math:`\eta \lVert g \rVert \lVert x \rVert`, with :math:`\lVert x \rVert \sim \sqrt a`.
The backward signal :math:`g` has :math:`\Theta(1)` coordinates at the output and, sent
down through the readout's :math:`1/n`, coordinates of size :math:`1/n` on every
width-:math:`n` vector. The condition then asks, for the input, hidden and output layers
alike, :math:`\eta \propto` ``fan_out_mult / fan_in_mult`` on the effective weight
(:math:`n`, 1 and :math:`1/n`).

*Adam.* A step has entries of size :math:`\eta` whatever the gradient's scale, and
:math:`\lVert \Delta W \rVert_2 \sim \eta \sqrt{a b}` (its rows are alike), so the
condition asks :math:`\eta \propto 1 / a` (``1 / fan_in_mult``).

*The multiplier.* A parameter used as :math:`\alpha W` sees its gradient multiplied
by :math:`\alpha`; to move :math:`\alpha W` by the step just derived, SGD's rate on
:math:`W` is divided by :math:`\alpha^2` and Adam's (blind to the gradient's scale)
by :math:`\alpha`. With :math:`c = \alpha / \alpha_0` (:math:`1/m` for the readout,
1 elsewhere) the rate of each parameter is the base rate times

.. math::

   \text{SGD: } \frac{\text{fan\_out\_mult}}{\text{fan\_in\_mult}\; c^2},
   \qquad
   \text{Adam: } \frac{1}{\text{fan\_in\_mult}\; c},

with a bias read as a weight of fan-in 1. For an MLP of widths
:math:`d \to n \to \dots \to n \to k` that is, relative to the base rate:

=========  ============  ============  ============  ============  ============
optimizer  input W, b    hidden W      hidden b      readout W     readout b
=========  ============  ============  ============  ============  ============
SGD        :math:`m`     1             :math:`m`     :math:`m`     1
Adam       1             :math:`1/m`   1             1             1
=========  ============  ============  ============  ============  ============

the rules of the ``mup`` package (``MuSGD``, ``MuAdam`` with ``MuReadout``), which the
tests check this module against. Weight decay is divided by the same multiplier, so
that the shrinkage per step, ``lr * weight_decay``, does not depend on the width.

>>> model = MLP(784, 256, 10, base_width=64)
>>> groups = param_groups(model, lr=0.1, optimizer="adam")
>>> [(g["name"], g["lr"]) for g in groups]  # doctest: +NORMALIZE_WHITESPACE
[('layers.1.weight', 0.1), ('layers.1.bias', 0.1), ('layers.3.weight', 0.025),
 ('layers.3.bias', 0.1), ('layers.5.weight', 0.1), ('layers.5.bias', 0.1)]
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import torch
from torch import nn

Optimizer = Literal["sgd", "adam"]


class Readout(nn.Linear):
    r"""The output layer of muP: :math:`y = W (\alpha_0 x / m) + b`, the output multiplier :math:`\alpha_0/m`.

    ``width_mult`` is :math:`m = n / n_0` and ``output_mult`` is :math:`\alpha_0`. Like
    ``mup.MuReadout``, the multiplier scales the input of the layer, not its bias.

    >>> layer = Readout(8, 2, width_mult=4.0)
    >>> x = torch.ones(1, 8)
    >>> torch.allclose(layer(x), nn.functional.linear(x / 4, layer.weight, layer.bias))
    True
    """

    def __init__(self, in_features: int, out_features: int, *, width_mult: float, output_mult: float = 1.0):
        super().__init__(in_features, out_features)
        if not (width_mult > 0 and output_mult > 0):
            raise ValueError(f"width_mult and output_mult must be positive, not {width_mult!r}, {output_mult!r}")
        self.width_mult = float(width_mult)
        self.output_mult = float(output_mult)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits: the input scaled by ``output_mult / width_mult``, then the linear map."""
        return super().forward(self.output_mult * x / self.width_mult)


class MLP(nn.Module):
    r"""An MLP in muP: ``in_features -> width (x depth) -> out_features``, equal to SP at the base width.

    The layers are built as :class:`lrcourse.models.MLP` builds them (PyTorch's default
    initialisation, in the same order, so one seed gives the same draws), then muP
    rescales what depends on the width, as ``mup.set_base_shapes`` does: the biases of
    layers with fan-in ``width`` by :math:`\sqrt m` (their default scale
    :math:`1/\sqrt{n}` becomes the base model's :math:`1/\sqrt{n_0}`), and the readout's
    weight and bias by :math:`\sqrt m` (the base model's scale; the multiplier
    :math:`1/m` then gives the effective readout its :math:`1/n`).

    >>> _ = torch.manual_seed(0); wide = MLP(784, 256, 10, base_width=64)
    >>> wide.width_mult, round(wide.layers[-1].weight.std().item() * 64 ** 0.5, 2)
    (4.0, 0.58)
    """

    def __init__(
        self,
        in_features: int,
        width: int,
        out_features: int = 10,
        *,
        base_width: int,
        depth: int = 2,
        output_mult: float = 1.0,
    ) -> None:
        super().__init__()
        for name, value in (("in_features", in_features), ("width", width), ("out_features", out_features)):
            _check_positive_int(name, value)
        _check_positive_int("base_width", base_width)
        _check_positive_int("depth", depth)
        self.width_mult = width / base_width
        widths = [in_features] + [width] * depth
        layers: list[nn.Module] = [nn.Flatten()]
        for fan_in, fan_out in zip(widths, widths[1:]):
            layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
        layers.append(Readout(width, out_features, width_mult=self.width_mult, output_mult=output_mult))
        self.layers = nn.Sequential(*layers)
        self._rescale()

    @torch.no_grad()
    def _rescale(self) -> None:
        root = math.sqrt(self.width_mult)
        for layer in self.layers[2:]:  # every Linear after the input layer has fan-in `width`
            if isinstance(layer, Readout):
                layer.weight.mul_(root)  # the base model's scale; forward divides by m
            if isinstance(layer, nn.Linear):
                layer.bias.mul_(root)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of shape ``(N, out_features)``; ``x`` is flattened after its batch dimension."""
        return self.layers(x)


@dataclass(frozen=True)
class Scaling:
    """How one parameter scales with width, relative to the base model.

    ``fan_in_mult`` and ``fan_out_mult`` are its fan-in and fan-out over the base
    model's (a bias has fan-in 1); ``multiplier`` is the factor :math:`c` its forward
    applies over the base model's (``1/m`` for the readout's weight, else 1).
    """

    fan_in_mult: float
    fan_out_mult: float
    multiplier: float = 1.0

    def lr_mult(self, optimizer: Optimizer) -> float:
        """The factor on the base rate: SGD ``fan_out/(fan_in c^2)``, Adam ``1/(fan_in c)``."""
        if optimizer == "sgd":
            return self.fan_out_mult / (self.fan_in_mult * self.multiplier**2)
        if optimizer == "adam":
            return 1.0 / (self.fan_in_mult * self.multiplier)
        raise ValueError(
            f"optimizer must be 'sgd' or 'adam' (Adam, AdamW and other entrywise-normalised), not {optimizer!r}"
        )


def scalings(model: MLP) -> dict[str, Scaling]:
    """The :class:`Scaling` of every parameter of a muP :class:`MLP`, by name.

    >>> s = scalings(MLP(10, 64, 3, base_width=16))
    >>> s["layers.1.weight"], s["layers.5.weight"].multiplier
    (Scaling(fan_in_mult=1.0, fan_out_mult=4.0, multiplier=1.0), 0.25)
    """
    if not isinstance(model, MLP):
        raise TypeError(f"scalings reads the layers of an lrcourse.mup.MLP, not {type(model).__name__}")
    m = model.width_mult
    found = {}
    linears = [(name, layer) for name, layer in model.named_modules() if isinstance(layer, nn.Linear)]
    for index, (name, layer) in enumerate(linears):
        fan_in = 1.0 if index == 0 else m  # the input layer reads the data, the others a width-n vector
        fan_out = 1.0 if isinstance(layer, Readout) else m
        multiplier = 1.0 / m if isinstance(layer, Readout) else 1.0
        found[f"{name}.weight"] = Scaling(fan_in, fan_out, multiplier)
        found[f"{name}.bias"] = Scaling(1.0, fan_out)  # the multiplier acts before the bias is added
    return found


def param_groups(model: MLP, lr: float, optimizer: Optimizer, weight_decay: float = 0.0) -> list[dict]:
    """One parameter group per parameter, with its muP rate and weight decay, for ``torch.optim``.

    ``lr`` and ``weight_decay`` are the values tuned at the base width; each group's
    rate is ``lr * lr_mult`` and its decay ``weight_decay / lr_mult``. Pass the groups
    to ``torch.optim.SGD`` for ``optimizer="sgd"`` and to ``Adam`` or ``AdamW`` for
    ``"adam"``. At the base width every group gets ``lr`` and ``weight_decay``.

    >>> model = MLP(784, 128, 10, base_width=32)
    >>> sgd = torch.optim.SGD(param_groups(model, lr=0.05, optimizer="sgd"))
    >>> [g["lr"] for g in sgd.param_groups]
    [0.2, 0.2, 0.05, 0.2, 0.2, 0.05]
    """
    if not (lr > 0 and weight_decay >= 0):
        raise ValueError(f"lr must be positive and weight_decay non-negative, not {lr!r}, {weight_decay!r}")
    found = scalings(model)
    groups = []
    for name, parameter in model.named_parameters():
        factor = found[name].lr_mult(optimizer)
        groups.append({"params": [parameter], "name": name, "lr": lr * factor, "weight_decay": weight_decay / factor})
    return groups


def _check_positive_int(name: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise ValueError(f"{name} must be a positive int, not {value!r}")
