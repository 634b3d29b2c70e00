"""Fixtures shared by several test files."""

import pytest
import torch


@pytest.fixture
def float64_default():
    """torch keeps NAdam's mu_product in the default dtype: float64 makes it an exact oracle."""
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_default_dtype(before)
