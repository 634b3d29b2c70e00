"""Time to 99.0% MNIST test accuracy: the fast recipe against the source article's recipe.

Both recipes train ``lrcourse.models.ArticleCNN`` on all 60,000 training images in one process,
taking turns seed by seed (article then fast for even seeds, fast then article for odd ones, so
a change in the machine's load does not favour one recipe):

- article: ``lrcourse.recipes.ARTICLE``, Adam at 1e-3, batches of 64, constant rate, 10 epochs;
  the test accuracy is measured after each epoch (it does not stop early);
- fast: ``lrcourse.recipes.FAST``, one cycle of SGD with Nesterov momentum, batches of 128,
  4 epochs; the test accuracy is measured every ``--eval-every`` updates and the run stops at
  the first measurement that reaches ``--target``.

Times are training only: the evaluations are timed apart and excluded for both recipes. The
script prints, per seed, the article's time for its 10 epochs and the fast recipe's time to the
target, in wall time and in CPU time of the process, and the ratio fast / article.

    LRCOURSE_DATA=../shared/data python benchmarks/mnist_time_to_accuracy.py --seeds 0 1
    # --threads 1, --target 0.99, --eval-every 117, --train-size 6000 (a smoke run)
"""

from __future__ import annotations

import argparse
import os
import platform

import numpy as np
import torch

from lrcourse import recipes
from lrcourse.data import mnist


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--target", type=float, default=0.99, help="test accuracy to reach (default 0.99)")
    parser.add_argument(
        "--eval-every",
        type=int,
        default=117,
        help="fast recipe: updates between evaluations (default 117, a quarter epoch)",
    )
    parser.add_argument("--train-size", type=int, default=None, help="first N training images (default all)")
    parser.add_argument("--article-epochs", type=int, default=recipes.ARTICLE.epochs)
    return parser.parse_args()


def run(name: str, train, test, args, seed: int) -> recipes.TimeToAccuracy:
    print(f"\n== {name}, seed {seed}", flush=True)
    if name == "article":
        recipe = recipes.ARTICLE.with_(epochs=args.article_epochs)
        return recipes.time_to_accuracy(recipe, train, test, target=args.target, stop=False, seed=seed, progress=True)
    return recipes.time_to_accuracy(
        recipes.FAST, train, test, target=args.target, eval_every=args.eval_every, seed=seed, progress=True
    )


def reached_at(r: recipes.TimeToAccuracy) -> str:
    hit = [done for _, done, acc in r.checks if acc >= r.target]
    return f"{hit[0]:.2f}" if hit else "-"


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    # explicit sizes: the benchmark ignores LRCOURSE_QUICK
    train, test = mnist("train", size=args.train_size or 60_000), mnist("test", size=10_000)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, {platform.processor() or platform.machine()},"
        f" load average {os.getloadavg()[0]:.2f} at start; {len(train[0])} training images, {len(test[0])} test"
    )
    print(f"article: {recipes.ARTICLE.with_(epochs=args.article_epochs)}\nfast:    {recipes.FAST}")
    results: dict[int, dict[str, recipes.TimeToAccuracy]] = {}
    for i, seed in enumerate(args.seeds):
        order = ("article", "fast") if i % 2 == 0 else ("fast", "article")
        results[seed] = {name: run(name, train, test, args, seed) for name in order}
    print(f"\nload average at the end {os.getloadavg()[0]:.2f} (1 min), {os.getloadavg()[1]:.2f} (5 min)")
    print(
        "\n| seed | recipe | epochs | final/target acc. | target reached at epoch | train wall (s) "
        "| train CPU (s) | eval wall (s) |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for seed, pair in results.items():
        for name in ("article", "fast"):
            r = pair[name]
            print(
                f"| {seed} | {name} | {r.epochs:.2f} | {100 * r.checks[-1][2]:.2f}% | {reached_at(r)} "
                f"| {r.seconds:.1f} | {r.cpu_seconds:.1f} | {r.eval_seconds:.1f} |"
            )
    wall = np.array([[p["fast"].seconds, p["article"].seconds] for p in results.values()])
    cpu = np.array([[p["fast"].cpu_seconds, p["article"].cpu_seconds] for p in results.values()])
    reached = all(p["fast"].reached for p in results.values())
    print(
        f"\nfast recipe reached {100 * args.target:.1f}% on {sum(p['fast'].reached for p in results.values())}"
        f" of {len(results)} seeds"
    )
    for label, times in (("wall", wall), ("CPU", cpu)):
        per_seed = ", ".join(f"{x:.3f}" for x in times[:, 0] / times[:, 1])
        print(
            f"ratio fast-to-target / article-{args.article_epochs}-epochs, {label} time: "
            f"{times[:, 0].mean() / times[:, 1].mean():.3f} (means of seeds; per seed {per_seed})"
        )
    if not reached:
        print("(the fast recipe missed the target on some seed: its time is that of its whole run)")


if __name__ == "__main__":
    main()
