"""One MNIST epoch of the source article's CNN: ``lrcourse.train.fit`` against the article's own loop.

Both train the same network (``lrcourse.models.ArticleCNN``, the article's CNN
with its flattening corrected) with Adam at lr 1e-3 on batches of 64 for one
epoch, from the same initial weights:

- "article": the loop the article writes: torchvision's ``MNIST`` dataset with
  ``ToTensor`` and ``Normalize``, a shuffling ``DataLoader``, and
  zero_grad / forward / loss / backward / step;
- "fit": ``lrcourse.data.mnist`` (normalized tensors in memory), ``Batches``
  and ``fit``, which also measures the gradient norm, checks for divergence
  and records the history at every step;
- "bare": the article's four-line loop body over the same ``Batches``, which
  splits the difference: article -> bare is what the data pipeline costs,
  bare -> fit what fit's bookkeeping costs.

The runs take turns (article, fit, article, fit, ...) so that a change in the
machine's load hits both; the best of ``--repeats`` is reported. Run with
``LRCOURSE_DATA`` naming a folder that holds ``MNIST/raw/``:

    LRCOURSE_DATA=../shared/data python benchmarks/mnist_fit.py [--fraction 0.2] [--repeats 2] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import gzip
import pstats
import shutil
import tempfile
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader, Subset
from torchvision import datasets, transforms

from lrcourse.batching import Batches
from lrcourse.data import MNIST_MEAN, MNIST_STD, mnist, mnist_raw_folder
from lrcourse.models import ArticleCNN
from lrcourse.train import fit


def unpacked_mnist_root(folder: Path) -> Path:
    """A copy of the MNIST archives, unpacked, under ``folder``: torchvision reads only the unpacked
    files and would otherwise unpack them next to the archives (in a shared, read-only folder)."""
    raw = folder / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for archive in mnist_raw_folder(download=False).glob("*-ubyte.gz"):
        with gzip.open(archive, "rb") as packed, open(raw / archive.stem, "wb") as unpacked:
            shutil.copyfileobj(packed, unpacked)
    return folder


class Clock:
    """Wall time and this process's CPU time since creation.

    On a machine shared with other jobs the wall time of a run depends on their
    load; the CPU time it used (all threads) depends much less on it, so both are reported.
    """

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def read(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


def article_loader(num_images: int, root: Path) -> DataLoader:
    """The article's data pipeline: PIL images through ToTensor and Normalize, batched by a DataLoader."""
    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((MNIST_MEAN,), (MNIST_STD,))])
    dataset = datasets.MNIST(root, train=True, download=False, transform=transform)
    return DataLoader(Subset(dataset, range(num_images)), batch_size=64, shuffle=True)


def article_loop(model: nn.Module, num_images: int, root: Path) -> float:
    """The article's training loop for one epoch; returns its duration in seconds."""
    loader = article_loader(num_images, root)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    clock = Clock()
    for images, labels in loader:
        optimizer.zero_grad()
        loss = criterion(model(images), labels)
        loss.backward()
        optimizer.step()
    return clock.read()


def fit_loop(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    """The same epoch through ``fit``; returns its duration in seconds."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    clock = Clock()
    batches = Batches(images, labels, batch_size=64, seed=0)
    fit(model, nn.CrossEntropyLoss(), optimizer, batches, epochs=1, progress=False)
    return clock.read()


def bare_loop(model: nn.Module, images: torch.Tensor, labels: torch.Tensor) -> float:
    """The article's loop body over in-memory ``Batches``; returns its duration in seconds."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    clock = Clock()
    for batch_images, batch_labels in Batches(images, labels, batch_size=64, seed=0):
        optimizer.zero_grad()
        loss = criterion(model(batch_images), batch_labels)
        loss.backward()
        optimizer.step()
    return clock.read()


def fresh_model() -> nn.Module:
    torch.manual_seed(0)
    return ArticleCNN()


def profile(images: torch.Tensor, labels: torch.Tensor, root: Path) -> None:
    """Where the time goes: the article's data pipeline alone, then fit's operators and Python calls."""
    num_images = len(labels)
    start = time.perf_counter()
    for _ in article_loader(num_images, root):
        pass
    seconds = time.perf_counter() - start
    per_image_us = 1e6 * seconds / num_images
    print(f"article's DataLoader alone: {seconds:.2f} s for {num_images} images ({per_image_us:.0f} us an image)")
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        fit_loop(fresh_model(), images, labels)
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=15))
    profiler = cProfile.Profile()
    profiler.runcall(fit_loop, fresh_model(), images, labels)
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fraction", type=float, default=1.0, help="share of the 60,000 training images (default 1)")
    parser.add_argument("--repeats", type=int, default=1, help="epochs of each, taking turns (default 1)")
    parser.add_argument("--profile", action="store_true", help="also profile fit (operators and Python)")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's choice)")
    args = parser.parse_args()
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if not 0 < args.fraction <= 1:
        parser.error(f"--fraction must be in (0, 1], not {args.fraction}")
    num_images = round(60_000 * args.fraction)
    print(f"{num_images} images, batch 64, Adam 1e-3, torch {torch.__version__}, {torch.get_num_threads()} threads")
    times = {"article": [], "fit": [], "bare": []}
    images, labels = mnist("train", size=num_images, download=False)  # loading is timed by neither
    with tempfile.TemporaryDirectory() as folder:
        root = unpacked_mnist_root(Path(folder))
        for _ in range(args.repeats):
            times["article"].append(article_loop(fresh_model(), num_images, root))
            times["fit"].append(fit_loop(fresh_model(), images, labels))
            times["bare"].append(bare_loop(fresh_model(), images, labels))
        report(times, num_images)
        if args.profile:
            profile(images, labels, root)


def report(times: dict[str, list[tuple[float, float]]], num_images: int) -> None:
    """Images per second (wall clock) and per CPU-second of the best epoch of each, and their ratios."""
    wall = {name: num_images / min(w for w, _ in runs) for name, runs in times.items()}
    cpu = {name: num_images / min(c for _, c in runs) for name, runs in times.items()}
    for name, runs in times.items():
        print(
            f"{name:8s} {wall[name]:7.0f} images/s  {cpu[name]:7.0f} images/CPU-s   runs (wall/CPU s): "
            + ", ".join(f"{w:.1f}/{c:.1f}" for w, c in runs)
        )
    for other in ("article", "bare"):
        print(
            f"fit / {other:8s} {wall['fit'] / wall[other]:.2f}x images/s, {cpu['fit'] / cpu[other]:.2f}x images/CPU-s"
        )


if __name__ == "__main__":
    main()
