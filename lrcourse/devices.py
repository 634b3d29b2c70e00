"""Choosing where tensors live: CUDA, then Apple's MPS, then the CPU."""

from __future__ import annotations

import torch


def device(prefer: str | None = None) -> torch.device:
    """The best available device, or ``prefer`` if it is given and available.

    The order is CUDA, then MPS, then CPU. Asking for a device that this
    machine does not have raises ``RuntimeError`` instead of silently falling
    back, so a script meant for a GPU does not quietly run for hours on a CPU.

    >>> device("cpu")
    device(type='cpu')
    >>> device().type in {"cuda", "mps", "cpu"}
    True
    """
    if prefer is not None:
        wanted = torch.device(prefer)
        if not is_available(wanted.type):
            raise RuntimeError(f"device {prefer!r} was asked for but is not available here")
        return wanted
    for kind in ("cuda", "mps"):
        if is_available(kind):
            return torch.device(kind)
    return torch.device("cpu")


def is_available(kind: str) -> bool:
    """Whether a device type (``"cuda"``, ``"mps"``, ``"cpu"``) can be used on this machine."""
    if kind == "cpu":
        return True
    if kind == "cuda":
        return torch.cuda.is_available()
    if kind == "mps":
        return torch.backends.mps.is_available()
    raise ValueError(f"unknown device type {kind!r}; expected 'cuda', 'mps' or 'cpu'")


def available_devices() -> list[torch.device]:
    """Every device type usable here, CPU first: what tests parametrize over.

    >>> available_devices()[0]
    device(type='cpu')
    """
    return [torch.device(kind) for kind in ("cpu", "cuda", "mps") if is_available(kind)]
