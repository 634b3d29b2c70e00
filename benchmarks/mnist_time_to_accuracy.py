"""MNIST on a fixed budget: the fast recipe's final test accuracy over seeds, and its time against the article's.

Every recipe trains ``lrcourse.models.ArticleCNN`` on all 60,000 training images for the whole
budget it states in advance (its epochs), with no early stop, and is judged by its **final** test
accuracy on all 10,000 test images, over several seeds (default ``config.seeds(5)``):

- article: ``lrcourse.recipes.ARTICLE``, Adam at 1e-3, batches of 64, constant rate, 10 epochs;
- fast: ``lrcourse.recipes.FAST``, one cycle of SGD with Nesterov momentum, with any of its
  settings overridden from the command line (``--peak 0.1 0.15`` runs one candidate per value:
  the recipe search of ``benchmarks/README.md``);
- ``--ablate``: the fast recipe, then the fast recipe with one ingredient taken out at a time (the
  one-cycle schedule, the momentum, the weight decay, the batch of 128, the standardized inputs),
  every other setting unchanged and the peak not retuned: what each ingredient buys.

The test accuracy is also measured every ``--eval-every`` updates on the way, to count
**collapses** (``lrcourse.recipes.collapsed``: the accuracy falls 5 points or more below an
earlier measurement, or training diverges), which a final accuracy alone can hide. Times are
training only (evaluations are timed apart), in wall time and CPU time of the process; within a
seed the recipes take turns in an order that alternates with the seed, so a change in the
machine's load does not favour one. The summary gives, per recipe, the mean final accuracy with
its 95% interval, the worst seed, how many seeds reached ``--target``, the collapses, and the
ratio of its mean training time to the article's.

    LRCOURSE_DATA=../shared/data python benchmarks/mnist_time_to_accuracy.py
    # --seeds 0 1 2 3 4, --threads 1, --target 0.99, --eval-every (default half an epoch),
    # --peak/--warmup/--epochs/--batch (fast recipe candidates; one cycle sets the momentum), --no-article,
    # --train-size 6000 (a smoke run), --ablate (each ingredient of the fast recipe removed in turn)
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import subprocess

import numpy as np
import torch

from lrcourse import config, recipes
from lrcourse.claims import interval
from lrcourse.data import mnist
from lrcourse.tables import Table


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=None, help="default: config.seeds(5)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--target", type=float, default=0.99, help="final test accuracy to count (default 0.99)")
    parser.add_argument(
        "--eval-every", type=int, default=None, help="updates between evaluations (default half an epoch, rounded up)"
    )
    parser.add_argument("--train-size", type=int, default=None, help="first N training images (default all)")
    parser.add_argument("--no-article", action="store_true", help="skip the article's recipe (a recipe search)")
    parser.add_argument("--ablate", action="store_true", help="the fast recipe with each ingredient removed in turn")
    fast = recipes.FAST
    parser.add_argument("--peak", type=float, nargs="+", default=[fast.lr], help=f"peak rate (default {fast.lr})")
    parser.add_argument("--warmup", type=float, nargs="+", default=[fast.warmup], help="fraction of the run warming up")
    parser.add_argument("--epochs", type=int, nargs="+", default=[fast.epochs])
    parser.add_argument("--batch", type=int, nargs="+", default=[fast.batch_size])
    return parser.parse_args()


PLAIN_INPUTS = "fast without standardized inputs"  # the one ablation that changes the data, not the recipe


def ablations() -> dict[str, recipes.Recipe]:
    """The fast recipe, and the fast recipe without each of its ingredients (the others unchanged)."""
    fast = recipes.FAST
    return {
        "fast": fast,
        "fast without one cycle (constant rate at the peak)": fast.with_(schedule="constant"),
        "fast without momentum": fast.with_(momentum=0.0, nesterov=False),
        "fast without weight decay": fast.with_(weight_decay=0.0),
        "fast with batches of 64": fast.with_(batch_size=64),
        PLAIN_INPUTS: fast,
    }


def candidates(args: argparse.Namespace) -> dict[str, recipes.Recipe]:
    """The article's recipe (unless ``--no-article``) and one fast recipe per combination of settings."""
    out = {} if args.no_article else {"article": recipes.ARTICLE}
    if args.ablate:
        return out | ablations()
    for lr, warmup, epochs, batch in itertools.product(args.peak, args.warmup, args.epochs, args.batch):
        recipe = recipes.FAST.with_(lr=lr, warmup=warmup, epochs=epochs, batch_size=batch)
        out[f"fast peak {lr:g} warmup {warmup:g} {epochs} ep batch {batch}"] = recipe
    return out


def cpu_name() -> str:
    try:
        lines = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout.splitlines()
        return next(line.split(":", 1)[1].strip() for line in lines if line.startswith("Model name"))
    except (OSError, subprocess.CalledProcessError, StopIteration):
        return platform.processor() or platform.machine()


def main() -> None:
    args = parse_args()
    seeds = args.seeds if args.seeds is not None else config.seeds(5)
    torch.set_num_threads(args.threads)
    # explicit sizes: the benchmark ignores LRCOURSE_QUICK
    train, test = mnist("train", size=args.train_size or 60_000), mnist("test", size=10_000)
    plain = (  # pixels in [0, 1] only, as the article's ToTensor leaves them: only the ablation needs them
        (
            mnist("train", size=args.train_size or 60_000, standardize=False),
            mnist("test", size=10_000, standardize=False),
        )
        if args.ablate
        else None
    )
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU {cpu_name()}, "
        f"load average {os.getloadavg()[0]:.2f} at start; {len(train[0])} training images, {len(test[0])} test"
    )
    grid = candidates(args)
    for name, recipe in grid.items():
        print(f"{name}: {recipe}")
    runs: dict[str, list[recipes.TimedRun]] = {name: [] for name in grid}
    for i, seed in enumerate(seeds):
        names = list(grid) if i % 2 == 0 else list(reversed(grid))
        for name in names:
            recipe = grid[name]
            every = args.eval_every or -(-len(recipes.batches(recipe, train)) // 2)  # half an epoch, rounded up
            print(f"\n== {name}, seed {seed}", flush=True)
            data = plain if name == PLAIN_INPUTS else (train, test)
            runs[name].append(recipes.timed_train(recipe, *data, eval_every=every, seed=seed, progress=True))
    print(f"\nload average at the end {os.getloadavg()[0]:.2f} (1 min), {os.getloadavg()[1]:.2f} (5 min)")

    print("\nper seed (final = test accuracy at the end of the budget):")
    rows = [
        [name, seed, 100 * r.final, 100 * r.best, "yes" if r.collapsed else "no", r.seconds, r.cpu_seconds]
        for name, rs in runs.items()
        for seed, r in zip(seeds, rs)
    ]
    print(Table(["recipe", "seed", "final %", "best %", "collapsed", "train wall s", "train CPU s"], rows))

    article_cpu = np.mean([r.cpu_seconds for r in runs["article"]]) if "article" in runs else None
    print(f"\nover {len(seeds)} seeds {seeds}:")
    rows = []
    for name, rs in runs.items():
        final = 100 * np.array([r.final for r in rs])
        est = interval(final)
        cpu = np.mean([r.cpu_seconds for r in rs])
        ratio = f"{cpu / article_cpu:.3f}" if article_cpu else "-"
        rows.append(
            [
                name,
                est.mean,
                f"{est.low:.2f} to {est.high:.2f}",
                final.min(),
                f"{int(np.sum(final >= 100 * args.target))}/{len(rs)}",
                f"{sum(r.collapsed for r in rs)}/{len(rs)}",
                cpu,
                ratio,
            ]
        )
    header = ["recipe", "final mean %", "95% CI", "min %", f">= {100 * args.target:g}%", "collapses"]
    print(Table([*header, "train CPU s (mean)", "CPU / article"], rows))


if __name__ == "__main__":
    main()
