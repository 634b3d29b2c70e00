"""Execute the book's chapters into Jupyter Book's execution cache, longest first.

`make book` runs this before `jupyter-book build`, which then finds every chapter in the cache
and only renders. Usage::

    python tools/execute_chapters.py _build/.jupyter_cache book/**/*.ipynb

Why not `jcache project execute --executor local-parallel`: that executor hands the notebooks to
`multiprocessing.Pool.map`, which deals them out in chunks of four in the order given, so the
longest chapter can start last and run alone while the other core idles. Here each worker takes
the next chapter as soon as it is free, the longest first (Graham's longest-processing-time
rule), and each kernel gets one thread per worker's share of the cores. Measured in two
fresh-clone builds on a quiet machine (2026-12-07): the same ten longest chapters took 1,573 s
with one thread each and 1,742 s with two each (muon did less work in the second). With a third
process on the cores it went the other way (a pair: 191-232 s with one thread, 124 s with two).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
from pathlib import Path

from jupyter_cache import get_cache
from jupyter_cache.executors.basic import ExecutionWorkerLocalMProc, ProcessData

# Seconds each chapter took in full mode (two at a time, fresh clone at 1533165, 2026-12-07, machine quiet).
# Only the order matters: a chapter that ran before in this cache is ordered by the time it took then instead.
EXPECTED_SECONDS = {
    "practice/mnist": 232,
    "today/muon": 191,
    "today/edge_of_stability": 81,
    "dynamic/warmup": 77,
    "dynamic/custom_schedules": 77,
    "dynamic/restarts_cycles": 76,
    "dynamic/decay": 76,
    "practice/text": 66,
    "foundations/minibatch": 62,
    "adaptive/side_by_side": 62,
    "today/horizons": 61,
    "foundations/fixed_rate": 61,
    "today/rate_transfer": 54,
    "dynamic/range_test": 50,
    "practice/time_series": 47,
    "dynamic/clipping": 47,
    "scale/large_batch": 46,
    "practice/recommender": 42,
}
UNKNOWN_SECONDS = 30  # a chapter not listed above: most take well under a minute


def chapter_key(uri: str) -> str:
    """'.../book/practice/mnist.ipynb' -> 'practice/mnist'."""
    path = Path(uri)
    return f"{path.parent.name}/{path.stem}"


def expected_seconds(cache, uris: list[str]) -> dict[str, float]:
    """Each notebook's expected run time: its last run in this cache, else the table above."""
    last_run = {
        record.uri: record.data["execution_seconds"]
        for record in cache.list_cache_records()
        if "execution_seconds" in record.data
    }
    return {uri: last_run.get(uri, EXPECTED_SECONDS.get(chapter_key(uri), UNKNOWN_SECONDS)) for uri in uris}


def run_one(data: ProcessData) -> tuple[int, str, float]:
    """Execute one notebook and cache it (jupyter-cache's own worker); time it."""
    start = time.perf_counter()
    status, uri = ExecutionWorkerLocalMProc()(data)
    return status, uri, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cache", help="the execution cache folder, e.g. _build/.jupyter_cache")
    parser.add_argument("notebooks", nargs="+", help="the chapters (.ipynb)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--timeout", type=int, default=1800, help="seconds per cell")
    args = parser.parse_args(argv)

    cache = get_cache(args.cache)
    uris = [str(Path(notebook).absolute()) for notebook in args.notebooks]
    for uri in uris:
        cache.add_nb_to_project(uri)
    records = cache.list_unexecuted(filter_uris=uris)
    if not records:
        print("Every chapter is in the execution cache already.")
        return 0
    expected = expected_seconds(cache, [record.uri for record in records])
    records.sort(key=lambda record: -expected[record.uri])

    # The kernels share the cores (one thread each on two cores), unless the caller chose; set in
    # the workers, whose kernels inherit it, so this process's environment is untouched.
    threads = str(max(1, (os.cpu_count() or 1) // args.workers))
    kernel_env = {name: os.environ.get(name, threads) for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}

    jobs = [ProcessData(r.pk, r.uri, cache, args.timeout, False) for r in records]
    plural = "s" if len(jobs) > 1 else ""
    print(f"Executing {len(jobs)} chapter{plural}, {args.workers} at a time, longest first")
    failed = []
    start = time.perf_counter()
    with multiprocessing.Pool(args.workers, initializer=os.environ.update, initargs=(kernel_env,)) as pool:
        for done, (status, uri, seconds) in enumerate(pool.imap_unordered(run_one, jobs), 1):
            verdict = "ok" if status == 0 else "FAILED"
            elapsed = time.perf_counter() - start
            print(
                f"[{done:2d}/{len(jobs)}] {verdict:6s} {chapter_key(uri):32s} {seconds:5.0f} s"
                f"   ({elapsed / 60:.1f} min so far)",
                flush=True,
            )
            if status != 0:
                failed.append(uri)
    for uri in failed:
        record = cache.get_project_record(uri)
        print(f"\n{chapter_key(uri)} failed:\n{record.traceback or 'no traceback recorded'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
