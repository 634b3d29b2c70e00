import pytest
import torch

from lrcourse import devices


def test_device_prefers_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert devices.device().type == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert devices.device().type == "mps"
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert devices.device() == torch.device("cpu")


def test_asking_for_a_missing_device_is_an_error(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(RuntimeError, match="not available"):
        devices.device("cuda")


def test_unknown_device_type_is_an_error():
    with pytest.raises(ValueError, match="unknown device type"):
        devices.is_available("tpu")


def test_available_devices_start_with_the_cpu_and_hold_only_usable_ones():
    found = devices.available_devices()
    assert found[0] == torch.device("cpu")
    for dev in found:
        torch.ones(2, device=dev).sum()  # each one really works
