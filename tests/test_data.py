import gzip
import os
from pathlib import Path

import numpy as np
import pytest
import torch

from lrcourse import data


def write_idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(n.to_bytes(4, "big") for n in array.shape)
    with gzip.open(path, "wb") as file:
        file.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture
def tiny_mnist(tmp_path):
    """A fake MNIST in the real archive format: 3 training and 2 test images."""
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split, n in (("train", 3), ("test", 2)):
        images, labels = data._MNIST_FILES[split]
        write_idx(raw / images, rng.integers(0, 256, size=(n, 28, 28)))
        write_idx(raw / labels, np.arange(n))
    return tmp_path


def test_reads_the_archive_format_exactly(tiny_mnist):
    images, labels = data.load_mnist("train", root=tiny_mnist, normalize=False)
    assert images.shape == (3, 1, 28, 28) and images.dtype == torch.uint8
    assert labels.tolist() == [0, 1, 2] and labels.dtype == torch.int64
    expected = np.random.default_rng(0).integers(0, 256, size=(3, 28, 28))
    assert np.array_equal(images[:, 0].numpy(), expected)


def test_normalizes_like_to_tensor_then_normalize(tiny_mnist):
    raw, _ = data.load_mnist("test", root=tiny_mnist, normalize=False)
    normalized, _ = data.load_mnist("test", root=tiny_mnist)
    expected = (raw.float() / 255 - 0.1307) / 0.3081
    torch.testing.assert_close(normalized, expected)


def test_missing_data_offline_gives_one_clear_error(tmp_path, monkeypatch):
    def offline(root):
        raise data.DataMissingError(data._missing_message(root / "MNIST" / "raw") + "\nThe download failed: offline")

    monkeypatch.setattr(data, "_download_mnist", offline)
    with pytest.raises(data.DataMissingError, match="LRCOURSE_DATA"):
        data.load_mnist(root=tmp_path)


def test_download_failure_is_reported_as_missing_data(tmp_path, monkeypatch):
    import torchvision.datasets

    class Offline:
        def __init__(self, *args, **kwargs):
            raise RuntimeError("Error downloading train-images-idx3-ubyte.gz")

    monkeypatch.setattr(torchvision.datasets, "MNIST", Offline)
    with pytest.raises(data.DataMissingError, match="could not be downloaded"):
        data.load_mnist(root=tmp_path)


def test_no_download_when_not_allowed(tmp_path):
    with pytest.raises(data.DataMissingError, match=str(tmp_path)):
        data.load_mnist(root=tmp_path, download=False)


def test_bad_split_is_an_error(tiny_mnist):
    with pytest.raises(ValueError, match="split"):
        data.load_mnist("validation", root=tiny_mnist)


def test_truncated_archive_is_an_error(tiny_mnist):
    path = tiny_mnist / "MNIST" / "raw" / "t10k-labels-idx1-ubyte.gz"
    with gzip.open(path, "wb") as file:
        file.write(bytes([0, 0, 8, 1]) + (5).to_bytes(4, "big") + b"\x01\x02")
    with pytest.raises(ValueError, match="truncated"):
        data.load_mnist("test", root=tiny_mnist)


@pytest.mark.skipif(not os.environ.get("LRCOURSE_DATA"), reason="LRCOURSE_DATA names no real MNIST")
def test_real_mnist_has_the_known_statistics():
    images, labels = data.load_mnist("test", download=False)
    assert images.shape == (10_000, 1, 28, 28)
    assert labels[:5].tolist() == [7, 2, 1, 0, 4]  # the first five test digits, as published
    train, train_labels = data.load_mnist("train", download=False)
    assert train.shape == (60_000, 1, 28, 28)
    assert torch.bincount(train_labels).tolist()[:2] == [5923, 6742]
    assert abs(train.mean().item()) < 1e-3 and abs(train.std().item() - 1) < 1e-3


def test_mnist_keeps_the_first_examples_on_the_device(tiny_mnist):
    images, labels = data.mnist("train", size=2, device="cpu", root=tiny_mnist)
    full, _full_labels = data.load_mnist("train", root=tiny_mnist)
    assert torch.equal(images, full[:2]) and labels.tolist() == [0, 1]
    assert images.device.type == "cpu" and images.dtype == torch.float32


def test_mnist_quick_mode_takes_the_quick_subset(tiny_mnist, monkeypatch):
    monkeypatch.setitem(data.QUICK_MNIST_SIZES, "train", 2)
    monkeypatch.setenv("LRCOURSE_QUICK", "1")
    assert len(data.mnist("train", root=tiny_mnist)[0]) == 2
    monkeypatch.setenv("LRCOURSE_QUICK", "0")
    assert len(data.mnist("train", root=tiny_mnist)[0]) == 3


def test_mnist_unstandardized_is_what_to_tensor_gives(tiny_mnist):
    from torchvision.transforms.functional import to_tensor

    images, _ = data.mnist("test", root=tiny_mnist, standardize=False)
    raw, _ = data.load_mnist("test", root=tiny_mnist, normalize=False)
    expected = torch.stack([to_tensor(image[0].numpy()) for image in raw])  # one HxW uint8 image each
    torch.testing.assert_close(images, expected, rtol=0, atol=0)
    assert images.min() >= 0 and images.max() <= 1


@pytest.mark.parametrize("size", [0, -1, 2.5, True])
def test_mnist_rejects_a_bad_size(tiny_mnist, size):
    with pytest.raises(ValueError, match="size"):
        data.mnist("train", size=size, root=tiny_mnist)


@pytest.mark.skipif(not os.environ.get("LRCOURSE_DATA"), reason="LRCOURSE_DATA names no real MNIST")
def test_real_mnist_quick_subset_has_every_class(monkeypatch):
    monkeypatch.setenv("LRCOURSE_QUICK", "1")
    images, labels = data.mnist("test", download=False)
    assert images.shape == (data.QUICK_MNIST_SIZES["test"], 1, 28, 28)
    assert torch.bincount(labels, minlength=10).min() >= 50


def gzipped_then_cut(path):
    return path.read_bytes()[: len(path.read_bytes()) // 2]  # a download cut short


@pytest.mark.parametrize(
    "damage",
    [
        gzipped_then_cut,
        lambda path: b"not gzip at all, just text",
        lambda path: b"",
        lambda path: gzip.compress(b""),  # a valid archive of nothing
        lambda path: gzip.compress(bytes([0, 0, 8, 3])),  # a header that ends before its sizes
    ],
    ids=["cut", "garbage", "empty", "empty-gzip", "short-header"],
)
def test_a_damaged_archive_is_named_with_how_to_get_it_again(tiny_mnist, damage):
    path = tiny_mnist / "MNIST" / "raw" / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(damage(path))
    with pytest.raises(data.DataCorruptError) as error:
        data.load_mnist("test", root=tiny_mnist)
    message = str(error.value)
    assert str(path) in message and "delete" in message and "LRCOURSE_DATA" in message
    assert isinstance(error.value, ValueError)


def test_image_and_label_counts_that_differ_are_an_error(tiny_mnist):
    write_idx(tiny_mnist / "MNIST" / "raw" / "train-labels-idx1-ubyte.gz", np.arange(2))  # 3 images, 2 labels
    with pytest.raises(data.DataCorruptError, match=r"3 images.*2 labels"):
        data.mnist("train", size=2, root=tiny_mnist)
