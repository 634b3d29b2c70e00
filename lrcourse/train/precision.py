"""Mixed precision: autocast for the forward pass and, in float16, a gradient scaler.

float16 has a narrow range, so small gradients underflow to zero; the scaler
multiplies the loss by a large factor before ``backward`` and divides the
gradients back ("unscales") before they are clipped or applied. bfloat16 has
float32's range and needs no scaler.
"""

from __future__ import annotations

import contextlib

import torch


class Precision:
    """How a training step computes: full precision, or autocast to ``dtype``.

    ``mixed_precision`` is ``False`` (full precision), ``True`` (the device's
    usual choice: bfloat16 where supported, else float16 with a scaler) or a
    dtype. On the CPU autocast is supported but rarely faster, so ``fit``
    leaves it off unless asked.

    >>> p = Precision(False, torch.device("cpu"))
    >>> p.dtype is None, p.scaler is None
    (True, True)
    >>> Precision(True, torch.device("cpu")).dtype
    torch.bfloat16

    One step, whatever the precision (``fit`` does this):

    >>> model = torch.nn.Linear(2, 1); opt = torch.optim.SGD(model.parameters(), lr=0.1)
    >>> with p.autocast():
    ...     loss = model(torch.ones(1, 2)).sum()
    >>> p.backward(loss); p.unscale_(opt); p.step(opt)
    >>> p.state_dict()
    {}
    """

    def __init__(self, mixed_precision: bool | torch.dtype, device: torch.device):
        self.device_type = device.type
        self.dtype = _choose_dtype(mixed_precision, device)
        needs_scaler = self.dtype == torch.float16
        self.scaler = torch.amp.GradScaler(self.device_type) if needs_scaler else None

    def autocast(self):
        """The context for forward passes (a no-op in full precision)."""
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)

    def backward(self, loss: torch.Tensor) -> None:
        """``loss.backward()``, through the scaler if there is one."""
        (self.scaler.scale(loss) if self.scaler else loss).backward()

    def unscale_(self, optimizer: torch.optim.Optimizer) -> None:
        """Divide the gradients by the scale, so clipping and norms see their true size."""
        if self.scaler:
            self.scaler.unscale_(optimizer)

    def step(self, optimizer: torch.optim.Optimizer) -> None:
        """Apply the update (the scaler skips it if a gradient overflowed)."""
        if self.scaler:
            self.scaler.step(optimizer)
            self.scaler.update()
        else:
            optimizer.step()

    def state_dict(self) -> dict:
        """The scaler's state (empty without one), for a checkpoint."""
        return self.scaler.state_dict() if self.scaler else {}

    def load_state_dict(self, state: dict) -> None:
        """Restore what :meth:`state_dict` returned."""
        if self.scaler and state:
            self.scaler.load_state_dict(state)


def _choose_dtype(mixed_precision: bool | torch.dtype, device: torch.device) -> torch.dtype | None:
    if mixed_precision is False:
        return None
    if isinstance(mixed_precision, torch.dtype):
        if mixed_precision not in (torch.float16, torch.bfloat16):
            raise ValueError(
                f"mixed_precision must be True, False, torch.float16 or torch.bfloat16, not {mixed_precision}"
            )
        return mixed_precision
    if mixed_precision is not True:
        raise ValueError(f"mixed_precision must be True, False or a dtype, not {mixed_precision!r}")
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.float16 if device.type == "mps" else torch.bfloat16
