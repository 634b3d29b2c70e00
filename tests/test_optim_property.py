"""lrcourse.optim against torch.optim for hyperparameters drawn at random (hypothesis).

The CONFIGS table in test_optim.py picks each option by hand; here every option of an
optimizer varies at once, over its whole valid range, on a small float64 problem.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from lrcourse import optim as ours

rate = st.floats(0.0, 0.1)
decay = st.floats(0.0, 0.99)  # an averaging rate in [0, 1)
small = st.floats(0.0, 0.5)
eps = st.floats(1e-10, 1e-2)
flag = st.booleans()
betas = st.tuples(decay, decay)

OPTIONS = {
    "SGD": dict(lr=rate, momentum=decay, dampening=decay, weight_decay=small, nesterov=flag, maximize=flag),
    "Adagrad": dict(
        lr=rate, lr_decay=small, weight_decay=small, initial_accumulator_value=small, eps=eps, maximize=flag
    ),
    "RMSprop": dict(lr=rate, alpha=decay, eps=eps, weight_decay=small, momentum=decay, centered=flag, maximize=flag),
    "Adadelta": dict(lr=st.floats(0.0, 1.0), rho=decay, eps=eps, weight_decay=small, maximize=flag),
    "Adam": dict(
        lr=rate, betas=betas, eps=eps, weight_decay=small, amsgrad=flag, maximize=flag, decoupled_weight_decay=flag
    ),
    "AdamW": dict(lr=rate, betas=betas, eps=eps, weight_decay=small, amsgrad=flag, maximize=flag),
    "NAdam": dict(
        lr=rate,
        betas=betas,
        eps=eps,
        weight_decay=small,
        momentum_decay=small,
        decoupled_weight_decay=flag,
        maximize=flag,
    ),
    "RAdam": dict(lr=rate, betas=betas, eps=eps, weight_decay=small, decoupled_weight_decay=flag, maximize=flag),
}


def final_theta(module, name, kwargs, steps=12):
    torch.manual_seed(0)
    theta = torch.nn.Parameter(torch.randn(6, dtype=torch.float64))
    opt = getattr(module, name)([theta], **kwargs)
    for _ in range(steps):
        opt.zero_grad()
        (theta**2 * torch.arange(1.0, 7.0, dtype=torch.float64)).sum().backward()
        opt.step()
    return theta


pytestmark = pytest.mark.usefixtures("float64_default")  # see conftest.py


@pytest.mark.parametrize("name", list(OPTIONS))
def test_random_hyperparameters_match_torch(name):
    @settings(max_examples=15, deadline=None, derandomize=True)
    @given(st.fixed_dictionaries(OPTIONS[name]))
    def check(kwargs):
        if kwargs.get("nesterov"):  # Nesterov needs momentum and no dampening
            kwargs.update(momentum=max(kwargs["momentum"], 0.1), dampening=0.0)
        mine = final_theta(ours, name, kwargs)
        theirs = final_theta(torch.optim, name, dict(kwargs, foreach=False))
        torch.testing.assert_close(mine, theirs, atol=1e-10, rtol=1e-10, equal_nan=True)

    check()
