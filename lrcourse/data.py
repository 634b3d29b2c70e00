"""Data sets of the course, held in memory as tensors.

MNIST is read straight from its four original archives (``MNIST/raw/*.gz`` under
:func:`lrcourse.config.data_root`), which is faster than a ``DataLoader`` over PIL
images and needs no worker processes. If the archives are missing, torchvision
downloads them into the same folder; offline, one clear error says how to get them.

:func:`mnist` is what chapters call: normalized tensors on a device, shrunk to a
subset in quick mode. Small synthetic sets live in :mod:`lrcourse.synthetic`,
batching in :mod:`lrcourse.batching`.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np
import torch

from lrcourse.config import data_root, pick

MNIST_MEAN, MNIST_STD = 0.1307, 0.3081  # over the 60,000 training images
_MNIST_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}


QUICK_MNIST_SIZES = {"train": 5_000, "test": 1_000}  # about 0.5 s of CNN training an epoch


class DataMissingError(FileNotFoundError):
    """A data set is not on disk and could not be downloaded."""


class DataCorruptError(ValueError):
    """A data file is on disk but damaged (cut short, not an archive, inconsistent); the message names it."""


def load_mnist(
    split: str = "train",
    *,
    root: str | Path | None = None,
    normalize: bool = True,
    download: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST as ``(images, labels)``: float32 ``(N, 1, 28, 28)`` and int64 ``(N,)``.

    ``split`` is ``"train"`` (60,000 images) or ``"test"`` (10,000). With
    ``normalize`` the pixels are scaled to [0, 1] and standardized with the
    training set's mean and standard deviation, as ``ToTensor`` followed by
    ``Normalize((0.1307,), (0.3081,))`` would do.

    >>> images, labels = load_mnist("test")  # doctest: +SKIP
    >>> images.shape, labels[:5].tolist()  # doctest: +SKIP
    (torch.Size([10000, 1, 28, 28]), [7, 2, 1, 0, 4])
    """
    if split not in _MNIST_FILES:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    raw = mnist_raw_folder(root, download=download)
    image_file, label_file = _MNIST_FILES[split]
    images = torch.from_numpy(_read_idx(raw / image_file)).unsqueeze(1)
    labels = torch.from_numpy(_read_idx(raw / label_file)).long()
    if len(images) != len(labels):  # a subset would hide the mismatch and pair images with wrong labels
        raise DataCorruptError(
            f"{raw / image_file} holds {len(images)} images but {raw / label_file} holds {len(labels)} labels: "
            + _get_again(raw)
        )
    return (_standardize(images) if normalize else images), labels


def mnist(
    split: str = "train",
    *,
    size: int | None = None,
    device: str | torch.device | None = None,
    root: str | Path | None = None,
    download: bool = True,
    standardize: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST ``(images, labels)`` as float32 on ``device``: a subset in quick mode.

    ``size`` keeps the first ``size`` examples (MNIST's order is already
    shuffled, so every class is present). Left as ``None`` it is the whole
    split, or ``QUICK_MNIST_SIZES[split]`` when ``LRCOURSE_QUICK`` is set.
    The pixels are standardized with the training set's mean and standard
    deviation (as ``ToTensor`` then ``Normalize``); with ``standardize=False``
    they are only scaled to [0, 1], as ``ToTensor`` alone leaves them.

    >>> images, labels = mnist("test", size=100, device="cpu")  # doctest: +SKIP
    >>> images.shape, images.device  # doctest: +SKIP
    (torch.Size([100, 1, 28, 28]), device(type='cpu'))
    """
    if split not in _MNIST_FILES:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    if size is None:
        size = pick(quick=QUICK_MNIST_SIZES[split], full=None)
    elif not isinstance(size, int) or isinstance(size, bool) or size <= 0:
        raise ValueError(f"size must be a positive int or None, not {size!r}")
    images, labels = load_mnist(split, root=root, normalize=False, download=download)
    images, labels = images[:size].to(device), labels[:size].to(device)  # convert only what is kept
    return (_standardize(images) if standardize else _to_unit_range(images)), labels


def _to_unit_range(images: torch.Tensor) -> torch.Tensor:
    """Bytes to float32 in [0, 1], as torchvision's ``ToTensor`` does."""
    return images.float() / 255


def _standardize(images: torch.Tensor) -> torch.Tensor:
    """Bytes to [0, 1], then to zero mean and unit variance over the training set."""
    return (_to_unit_range(images) - MNIST_MEAN) / MNIST_STD


def mnist_raw_folder(root: str | Path | None = None, *, download: bool = True) -> Path:
    """The folder holding the four MNIST archives, downloading them if allowed and needed.

    >>> import tempfile
    >>> try:
    ...     mnist_raw_folder(tempfile.mkdtemp(), download=False)
    ... except DataMissingError as error:
    ...     print("LRCOURSE_DATA" in str(error))
    True
    """
    root = Path(root) if root is not None else data_root()
    raw = root / "MNIST" / "raw"
    if _has_mnist(raw):
        return raw
    if download:
        _download_mnist(root)
        if _has_mnist(raw):
            return raw
    raise DataMissingError(_missing_message(raw))


def _has_mnist(raw: Path) -> bool:
    return all((raw / name).is_file() for pair in _MNIST_FILES.values() for name in pair)


def _download_mnist(root: Path) -> None:
    from torchvision.datasets import MNIST  # only needed for the download

    try:
        for train in (True, False):
            MNIST(root, train=train, download=True)
    except Exception as error:  # offline: URLError, RuntimeError, OSError ... all mean the same here
        raise DataMissingError(f"{_missing_message(root / 'MNIST' / 'raw')}\nThe download failed: {error}") from None


def _missing_message(raw: Path) -> str:
    names = ", ".join(name for pair in _MNIST_FILES.values() for name in pair)
    return (
        f"MNIST is not in {raw} and could not be downloaded. Put the four archives ({names}) "
        "in that folder, or set LRCOURSE_DATA to a folder that holds MNIST/raw/ "
        "(for example LRCOURSE_DATA=../shared/data), or run once with internet access."
    )


def _get_again(raw: Path) -> str:
    return (
        f"delete the damaged file(s) and download them again (run once with internet access, or copy good "
        f"archives into {raw}), or set LRCOURSE_DATA to a folder that holds an intact MNIST/raw/"
    )


def _read_idx(path: Path) -> np.ndarray:
    """Read one IDX file (the format of the MNIST archives), gzipped or not; a damaged one is named."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as file:
            data = file.read()
    except (EOFError, OSError, zlib.error) as error:  # cut short, or not gzip at all
        raise DataCorruptError(
            f"{path} is damaged ({type(error).__name__}: {error}): {_get_again(path.parent)}"
        ) from None
    if len(data) < 4 or len(data) < 4 + 4 * data[3]:
        raise DataCorruptError(
            f"{path} is truncated: its header is incomplete ({len(data)} bytes); " + _get_again(path.parent)
        )
    zero, dtype_code, ndim = data[0] * 256 + data[1], data[2], data[3]
    if zero != 0 or dtype_code != 0x08:  # 0x08: unsigned bytes, the only type MNIST uses
        raise DataCorruptError(f"{path} is not an IDX file of unsigned bytes: {_get_again(path.parent)}")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    body = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(shape)):
        raise DataCorruptError(
            f"{path} is truncated: expected {shape}, found {body.size} values; " + _get_again(path.parent)
        )
    return body.reshape(shape).copy()
