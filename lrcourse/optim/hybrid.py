"""The usual Muon hybrid: Muon for the hidden matrices, AdamW for embeddings, the head, biases and norms."""

from __future__ import annotations

import inspect
from collections.abc import Iterable

from torch import nn

from lrcourse.optim.adam import Adam, AdamW
from lrcourse.optim.base import Optimizer, check_betas, check_lr, check_nonnegative
from lrcourse.optim.muon import Muon, _check_hyperparameters, _check_matrices, _take_back_unless


def _defaults(cls) -> dict:
    return {
        name: p.default
        for name, p in inspect.signature(cls).parameters.items()
        if name not in ("params", "maximize", "fused") and p.default is not inspect.Parameter.empty
    }


_MUON_DEFAULTS = _defaults(Muon)
_ADAMW_DEFAULTS = _defaults(AdamW)


class MuonAdamW(Optimizer):
    r"""One optimizer whose groups are each Muon's or AdamW's: ``use_muon`` in the group says which.

    A group with ``use_muon=True`` is updated by :class:`~lrcourse.optim.Muon`'s rule and takes
    its hyperparameters (``lr``, ``weight_decay``, ``momentum``, ``nesterov``,
    ``ns_coefficients``, ``eps``, ``ns_steps``, ``adjust_lr_fn``); one with ``use_muon=False``
    by :class:`~lrcourse.optim.AdamW`'s (``lr``, ``betas``, ``eps``, ``weight_decay``,
    ``amsgrad``). Every group must give its ``lr``: the two rates live on different scales (a
    spectral step length for Muon, about 0.02; an elementwise one for AdamW, about 3e-4 to
    3e-3) and no default fits both. What a group leaves out takes the default of
    ``torch.optim.Muon`` or ``torch.optim.AdamW``. Each parameter's update, and its state, is
    exactly what that optimizer alone would give it, so one ``step``, one ``state_dict`` and
    one scheduler serve the whole model: :func:`lrcourse.schedules.attach` takes one schedule
    per group, and its ``momentum`` schedule moves Muon's ``momentum`` and AdamW's
    ``betas[0]``. :func:`~lrcourse.optim.muon_adamw` builds one from a model.

    >>> import torch
    >>> W, b = torch.nn.Parameter(torch.ones(3, 2)), torch.nn.Parameter(torch.ones(3))
    >>> opt = MuonAdamW([{"params": [W], "use_muon": True, "lr": 0.02},
    ...                  {"params": [b], "use_muon": False, "lr": 1e-3, "weight_decay": 0.0}])
    >>> [(g["use_muon"], g["lr"], g["weight_decay"]) for g in opt.param_groups]
    [(True, 0.02, 0.1), (False, 0.001, 0.0)]
    """

    def __init__(self, params) -> None:
        super().__init__(params, {})

    def add_param_group(self, param_group: dict) -> None:
        """Check ``use_muon`` and ``lr``, fill the rest from that optimizer's defaults, check them; then add."""
        group = dict(param_group)
        if "use_muon" not in group or not isinstance(group["use_muon"], bool):
            raise ValueError("use_muon must be given in every group, True (Muon) or False (AdamW)")
        if "lr" not in group:
            raise ValueError("lr must be given in every group: Muon's and AdamW's rates differ in scale")
        defaults = _MUON_DEFAULTS if group["use_muon"] else _ADAMW_DEFAULTS
        unknown = set(group) - {"params", "use_muon", *defaults}
        if unknown:
            kind = "Muon" if group["use_muon"] else "AdamW"
            raise ValueError(f"{sorted(unknown)[0]} is not a hyperparameter of {kind}; it takes {sorted(defaults)}")
        group = {**defaults, **group}
        if group["use_muon"]:
            group.update(_check_hyperparameters(**{name: group[name] for name in _MUON_DEFAULTS}))
        else:
            check_lr(group["lr"])
            check_betas(group["betas"])
            check_nonnegative(eps=group["eps"], weight_decay=group["weight_decay"])
            group.update(betas=tuple(group["betas"]), maximize=False, decoupled_weight_decay=True)
        super().add_param_group(group)
        if group["use_muon"]:
            _take_back_unless(self, _check_matrices)

    def update(self, theta, g, state, group):
        rule = Muon.update if group["use_muon"] else Adam.update  # AdamW is Adam with decoupled decay
        rule(self, theta, g, state, group)


def split_for_muon(
    model: nn.Module, head: nn.Module | Iterable[nn.Module] | None = None
) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """The trainable parameters of ``model`` as (hidden matrices, the rest): Muon's share and AdamW's.

    A hidden matrix is a 2-D parameter of neither an embedding (``nn.Embedding``,
    ``nn.EmbeddingBag``) nor the output ``head``. The rest is the embeddings, the head, and
    every parameter that is not 2-D: biases, the gains of norms, and convolution filters
    (``torch.optim.Muon``, and so ours, takes 2-D weights only). ``head`` is a module or
    several; ``None`` means the last ``nn.Linear`` of ``model.modules()``, the output layer of
    most models, and ``()`` means none. A weight shared between modules (an embedding tied to
    the head) is listed once, with AdamW. Frozen parameters (``requires_grad=False``) are left out.

    >>> from torch import nn
    >>> net = nn.Sequential(nn.Embedding(10, 4), nn.Linear(4, 4), nn.LayerNorm(4), nn.Linear(4, 10))
    >>> hidden, rest = split_for_muon(net)
    >>> [list(p.shape) for p in hidden], [list(p.shape) for p in rest]
    ([[4, 4]], [[10, 4], [4], [4], [4], [10, 4], [10]])
    """
    heads: list[nn.Module]
    if head is None:
        heads = [m for m in model.modules() if isinstance(m, nn.Linear)]
        heads = heads[-1:]
    else:
        heads = [head] if isinstance(head, nn.Module) else list(head)
    kept_out = {id(p) for m in model.modules() if isinstance(m, nn.Embedding | nn.EmbeddingBag) for p in m.parameters()}
    kept_out |= {id(p) for m in heads for p in m.parameters()}
    hidden: list[nn.Parameter] = []
    rest: list[nn.Parameter] = []
    for p in model.parameters():  # each shared parameter once
        if p.requires_grad:
            (hidden if p.ndim == 2 and id(p) not in kept_out else rest).append(p)
    return hidden, rest


def muon_adamw(
    model: nn.Module,
    *,
    muon_lr: float,
    adamw_lr: float,
    head: nn.Module | Iterable[nn.Module] | None = None,
    muon: dict | None = None,
    adamw: dict | None = None,
) -> MuonAdamW:
    """A :class:`~lrcourse.optim.MuonAdamW` for ``model``: group 0 Muon on its hidden matrices, group 1 AdamW.

    The split is :func:`~lrcourse.optim.split_for_muon`'s (``head`` as there). Both rates are required; ``muon``
    and ``adamw`` give each part's other hyperparameters (otherwise torch's defaults: Muon's
    weight decay 0.1, momentum 0.95, Nesterov; AdamW's betas (0.9, 0.999), weight decay 0.01).
    A part with no parameters gets no group. Drive both rates with one schedule each:
    ``schedules.attach(opt, [muon_schedule, adamw_schedule])``.

    >>> import torch
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 2))
    >>> opt = muon_adamw(net, muon_lr=0.02, adamw_lr=3e-4, adamw=dict(betas=(0.9, 0.95)))
    >>> [(g["use_muon"], g["lr"], [list(p.shape) for p in g["params"]]) for g in opt.param_groups]
    [(True, 0.02, [[16, 8], [16, 16]]), (False, 0.0003, [[16], [16], [2, 16], [2]])]
    >>> net(torch.randn(4, 8)).square().mean().backward(); opt.step()
    """
    hidden, rest = split_for_muon(model, head)
    groups = [
        {"params": params, "use_muon": use_muon, "lr": lr, **(options or {})}
        for params, use_muon, lr, options in ((hidden, True, muon_lr, muon), (rest, False, adamw_lr, adamw))
        if params
    ]
    if not groups:
        raise ValueError("model has no trainable parameters")
    return MuonAdamW(groups)
