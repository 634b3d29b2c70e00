r"""Moving optimizer checkpoints between :mod:`lrcourse.optim` and ``torch.optim``.

Our optimizers take ``torch.optim``'s arguments and compute its updates, but they name a
parameter's state in the book's symbols, so a ``state_dict`` of one does not load into the
other. The names differ, and so do two types: our step count ``t`` is a Python ``int``
where ``torch.optim`` keeps a scalar tensor ``step``, and NAdam's ``mu_product`` is a float
here and a tensor there.

=========  ====================================================================
optimizer  ours -> ``torch.optim``
=========  ====================================================================
SGD        ``b`` -> ``momentum_buffer``
Adagrad    ``t`` -> ``step``, ``G`` -> ``sum``
RMSprop    ``t`` -> ``step``, ``v`` -> ``square_avg``, ``g_avg`` -> ``grad_avg``,
           ``b`` -> ``momentum_buffer``
Adadelta   ``t`` -> ``step``, ``v`` -> ``square_avg``, ``u`` -> ``acc_delta``
Adam(W)    ``t`` -> ``step``, ``m`` -> ``exp_avg``, ``v`` -> ``exp_avg_sq``,
           ``v_max`` -> ``max_exp_avg_sq``
NAdam      as Adam, and ``mu_product`` -> ``mu_product`` (a float here, a tensor there)
RAdam      as Adam
Muon       ``b`` -> ``momentum_buffer``
Adafactor  ``t`` -> ``step``, ``R`` -> ``row_var``, ``C`` -> ``col_var``, ``v`` -> ``variance``
=========  ====================================================================

Four have no ``torch.optim`` namesake; their references are PyPI packages, and the same
functions convert to and from them (:data:`REFERENCES` names each):

=================  ==========================================================================
optimizer          ours -> the reference's
=================  ==========================================================================
Lion               ``m`` -> ``exp_avg`` (``lion_pytorch.Lion``)
SGDScheduleFree    ``z`` -> ``z`` (``schedulefree.SGDScheduleFree``)
AdamWScheduleFree  ``z`` -> ``z``, ``v`` -> ``exp_avg_sq`` (``schedulefree.AdamWScheduleFree``)
Prodigy            ``t`` -> ``step`` (an ``int`` in both), ``s`` -> ``s``, ``x0`` -> ``p0``,
                   ``m`` -> ``exp_avg``, ``v`` -> ``exp_avg_sq`` (``prodigyopt.Prodigy``)
=================  ==========================================================================

The schedule-free pair and Prodigy keep their running numbers (the step count ``k``, the
averaging weights, the estimate ``d``) in ``param_groups``, under the reference's names.

:func:`to_torch` and :func:`from_torch` convert whole state dicts; :func:`torch_state_dict`
and :func:`load_torch_state_dict` do it for an optimizer of ours. The hyperparameters in
``param_groups`` keep their names (they are the same in both), and a training run that
moves from one library to the other continues exactly as it would have without the move
(``tests/test_interop.py`` checks this for every optimizer).

>>> import torch
>>> from lrcourse import interop, optim
>>> theta = torch.nn.Parameter(torch.tensor([1.0, -2.0]))
>>> ours = optim.Adam([theta], lr=0.1)
>>> (theta ** 2).sum().backward(); ours.step()
>>> sd = interop.torch_state_dict(ours)
>>> sorted(sd["state"][0])
['exp_avg', 'exp_avg_sq', 'step']
>>> theirs = torch.optim.Adam([theta], lr=0.1)
>>> theirs.load_state_dict(sd)
>>> theirs.state[theta]["step"]
tensor(1.)
"""

from __future__ import annotations

from typing import Any

import torch

#: For each optimizer (by class name), our state key -> ``torch.optim``'s.
STATE_KEYS: dict[str, dict[str, str]] = {
    "SGD": {"b": "momentum_buffer"},
    "Adagrad": {"t": "step", "G": "sum"},
    "RMSprop": {"t": "step", "v": "square_avg", "g_avg": "grad_avg", "b": "momentum_buffer"},
    "Adadelta": {"t": "step", "v": "square_avg", "u": "acc_delta"},
    "Adam": {"t": "step", "m": "exp_avg", "v": "exp_avg_sq", "v_max": "max_exp_avg_sq"},
    "AdamW": {"t": "step", "m": "exp_avg", "v": "exp_avg_sq", "v_max": "max_exp_avg_sq"},
    "NAdam": {"t": "step", "m": "exp_avg", "v": "exp_avg_sq", "mu_product": "mu_product"},
    "RAdam": {"t": "step", "m": "exp_avg", "v": "exp_avg_sq"},
    "Muon": {"b": "momentum_buffer"},
    "Adafactor": {"t": "step", "R": "row_var", "C": "col_var", "v": "variance"},
    "Lion": {"m": "exp_avg"},
    "SGDScheduleFree": {"z": "z"},
    "AdamWScheduleFree": {"z": "z", "v": "exp_avg_sq"},
    "Prodigy": {"t": "step", "s": "s", "x0": "p0", "m": "exp_avg", "v": "exp_avg_sq"},
}

#: Where the reference is not ``torch.optim.<name>``: the class our optimizer is checked against.
REFERENCES: dict[str, str] = {
    "Lion": "lion_pytorch.Lion",
    "SGDScheduleFree": "schedulefree.SGDScheduleFree",
    "AdamWScheduleFree": "schedulefree.AdamWScheduleFree",
    "Prodigy": "prodigyopt.Prodigy",
}

# References that count steps with a Python int, as we do (torch.optim keeps a tensor).
_INT_STEP = {"Prodigy"}

# Group keys a reference reads but we do not keep (implementation switches), with the reference's
# defaults: its load_state_dict takes the groups as saved, and its step would miss them.
_REFERENCE_GROUP_KEYS: dict[str, dict[str, Any]] = {
    "SGDScheduleFree": {"foreach": True},
    "AdamWScheduleFree": {"foreach": True},
    "Prodigy": {"fsdp_in_use": False},
}

# Values that are Python numbers here and scalar tensors in torch.optim.
_SCALARS = {"t", "mu_product"}


def _keys(name: str) -> dict[str, str]:
    try:
        return STATE_KEYS[name]
    except KeyError:
        raise ValueError(f"no torch.optim counterpart known for {name!r}; known: {sorted(STATE_KEYS)}") from None


def _reference(name: str) -> str:
    """The reference class of our optimizer ``name``, as text: ``torch.optim.<name>`` unless :data:`REFERENCES` says."""
    return REFERENCES.get(name, f"torch.optim.{name}")


def _scalar_dtype() -> torch.dtype:
    """The dtype torch.optim gives its ``step`` tensors."""
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32


def to_torch(state_dict: dict[str, Any], name: str) -> dict[str, Any]:
    """Our optimizer ``name``'s ``state_dict``, renamed so that ``torch.optim.<name>`` loads it.

    The input is not changed and its state tensors are copied: ``load_state_dict`` keeps the
    tensors it is given when their dtype and device already fit, so without the copy two
    optimizers could end up updating the same ``m`` and ``v``. A step count becomes a scalar
    tensor, as in ``torch.optim``.

    >>> import torch
    >>> sd = {"state": {0: {"t": 3, "m": torch.zeros(2), "v": torch.ones(2)}},
    ...       "param_groups": [{"lr": 0.1, "params": [0]}]}
    >>> converted = to_torch(sd, "Adam")["state"][0]
    >>> converted["step"], sorted(converted)
    (tensor(3.), ['exp_avg', 'exp_avg_sq', 'step'])
    """
    keys = _keys(name)
    state = {}
    for index, param_state in state_dict["state"].items():
        converted = {}
        for key, value in param_state.items():
            if key not in keys:
                raise KeyError(f"{name} state has an unexpected key {key!r}")
            if key in _SCALARS and name in _INT_STEP:
                value = int(value)
            elif key in _SCALARS:
                value = torch.tensor(float(value), dtype=_scalar_dtype())
            elif isinstance(value, torch.Tensor):
                value = value.clone()
            converted[keys[key]] = value
        state[index] = converted
    extra = _REFERENCE_GROUP_KEYS.get(name, {})
    return {"state": state, "param_groups": [{**extra, **group} for group in state_dict["param_groups"]]}


def from_torch(state_dict: dict[str, Any], name: str) -> dict[str, Any]:
    """``torch.optim.<name>``'s ``state_dict``, renamed so that our optimizer ``name`` loads it.

    The inverse of :func:`to_torch`: a scalar ``step`` tensor becomes the integer ``t``, and
    the state tensors are copied.
    Entries that ``torch.optim`` stores as ``None`` (SGD's buffer when it has no momentum)
    are left out, as our optimizers create no state they do not use.

    >>> import torch
    >>> sd = {"state": {0: {"step": torch.tensor(2.0), "sum": torch.ones(2)}},
    ...       "param_groups": [{"lr": 0.1, "params": [0]}]}
    >>> from_torch(sd, "Adagrad")["state"][0]
    {'t': 2, 'G': tensor([1., 1.])}
    """
    back = {theirs: ours for ours, theirs in _keys(name).items()}
    state = {}
    for index, param_state in state_dict["state"].items():
        converted = {}
        for key, value in param_state.items():
            if key not in back:
                raise KeyError(f"{_reference(name)} state has a key {key!r} that lrcourse.optim.{name} has no use for")
            if value is None:
                continue
            ours = back[key]
            if ours == "t":
                value = int(value.item()) if isinstance(value, torch.Tensor) else int(value)
            elif ours in _SCALARS:
                value = float(value.item()) if isinstance(value, torch.Tensor) else float(value)
            else:
                value = value.clone()
            converted[ours] = value
        state[index] = converted
    return {"state": state, "param_groups": [dict(group) for group in state_dict["param_groups"]]}


def check_state_dict(optimizer: torch.optim.Optimizer, state_dict: dict[str, Any]) -> None:
    """Raise ``ValueError`` if ``state_dict`` was saved by the other library's namesake of ``optimizer``.

    Loading it as it is would fail only at the next ``step`` (ours would look for ``t``,
    torch's for ``step``); the message says which conversion to use instead.

    >>> import torch
    >>> from lrcourse.optim import Adam
    >>> theta = torch.nn.Parameter(torch.ones(2))
    >>> theirs = torch.optim.Adam([theta]); theta.sum().backward(); theirs.step()
    >>> check_state_dict(Adam([theta]), theirs.state_dict())
    Traceback (most recent call last):
    ...
    ValueError: state_dict: this Adam state was saved by torch.optim.Adam ...lrcourse.interop.load_torch_state_dict...
    """
    name = type(optimizer).__name__
    if name not in STATE_KEYS:
        return
    ours, theirs = set(STATE_KEYS[name]), set(STATE_KEYS[name].values())
    found = {key for param_state in state_dict.get("state", {}).values() for key in param_state}
    if type(optimizer).__module__.startswith("lrcourse."):
        strange = found - ours
        if strange and strange <= theirs:
            raise ValueError(
                f"state_dict: this {name} state was saved by {_reference(name)} (it holds {sorted(strange)}, "
                f"lrcourse.optim.{name} names its state {sorted(ours)}); load it with "
                "lrcourse.interop.load_torch_state_dict(optimizer, state_dict)"
            )
    elif (strange := found - theirs) and strange <= ours:
        raise ValueError(
            f"state_dict: this {name} state was saved by lrcourse.optim.{name} (it holds {sorted(strange)}); "
            f"convert it with lrcourse.interop.to_torch(state_dict, {name!r}) before loading it into {_reference(name)}"
        )


def torch_state_dict(optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """The ``state_dict`` of our ``optimizer`` in the form its ``torch.optim`` namesake loads.

    >>> import torch
    >>> from lrcourse.optim import SGD
    >>> theta = torch.nn.Parameter(torch.ones(2))
    >>> opt = SGD([theta], lr=0.1, momentum=0.9)
    >>> theta.sum().backward(); opt.step()
    >>> torch_state_dict(opt)["state"][0]
    {'momentum_buffer': tensor([1., 1.])}
    """
    return to_torch(optimizer.state_dict(), type(optimizer).__name__)


def load_torch_state_dict(optimizer: torch.optim.Optimizer, state_dict: dict[str, Any]) -> None:
    """Load a ``state_dict`` saved by the ``torch.optim`` namesake of our ``optimizer`` into it.

    Hyperparameters that only ``torch.optim`` has (``foreach``, ``capturable``, ...) are kept
    in the groups but unused; ours that the checkpoint lacks take the optimizer's defaults.

    >>> import torch
    >>> from lrcourse.optim import Adam
    >>> theta = torch.nn.Parameter(torch.ones(2))
    >>> theirs = torch.optim.Adam([theta], lr=0.1)
    >>> theta.sum().backward(); theirs.step()
    >>> ours = Adam([theta], lr=0.1)
    >>> load_torch_state_dict(ours, theirs.state_dict())
    >>> ours.state[theta]["t"], ours.state[theta]["m"]
    (1, tensor([0.1000, 0.1000]))
    """
    converted = from_torch(state_dict, type(optimizer).__name__)
    converted["param_groups"] = [{**optimizer.defaults, **group} for group in converted["param_groups"]]
    optimizer.load_state_dict(converted)
