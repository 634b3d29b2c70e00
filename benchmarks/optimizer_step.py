"""Step time of lrcourse.optim against torch.optim, on the same parameters, interleaved.

    python benchmarks/optimizer_step.py [--params 10_000_000] [--tensors 200] [--repeats 21]
    python benchmarks/optimizer_step.py --only Muon Adafactor [--d-model 256] [--layers 4]

For each optimizer, up to four variants update the same parameters with the same gradients:
ours (the readable per-parameter loop), ours with ``fused=True`` (one loop over all
parameters compiled by ``torch.compile``, for SGD, Adam and AdamW), torch's default (on CPU:
its per-tensor loop) and torch's ``fused=True`` where torch has one. The variants take turns,
one step each, so a change in machine load hits them all alike. The first table gives each
variant's median step time and the ratios, each the median over rounds of the ratio within
a round (what load drift affects least). The second gives the bandwidth each variant
achieves, counting the bytes per fp32 parameter that any implementation must move: read
theta, g and each state tensor, write theta and each state tensor (28 for Adam: read theta,
g, m, v; write theta, m, v). The first step of ``fused=True`` compiles its kernel (or loads
it from inductor's on-disk cache); its time is reported apart, once.

Muon and Adafactor, whose rules read a weight as a matrix, run on another set of parameters: the
2-D weights of ``--layers`` transformer blocks of width ``--d-model`` (the query, key, value and
output projections, d x d, and the MLP's two, 4d x d and d x 4d), ours against torch's, interleaved
the same way. Their table also gives the memory of each one's state, in bytes per parameter
(every state tensor, torch's step counts included), beside Adam's on the same weights.
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time

import torch

import lrcourse.optim

NAMES = ["SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "NAdam", "RAdam"]
SETTINGS = {"SGD": dict(lr=1e-6, momentum=0.9)}  # momentum: the case people run
STATE_TENSORS = {"SGD": 1, "Adagrad": 1, "RMSprop": 1, "Adadelta": 2, "Adam": 2, "AdamW": 2, "NAdam": 2, "RAdam": 2}
OURS_FUSED = {"SGD", "Adam", "AdamW"}  # the optimizers with lrcourse's fused=True
COLUMNS = ["ours", "ours fused", "torch", "torch fused"]
MATRIX_NAMES = ["Muon", "Adafactor"]  # on transformer-shaped 2-D weights (make_matrices)
MATRIX_SETTINGS = {"Muon": dict(lr=0.02), "Adafactor": dict(lr=1e-2)}


def floor_bytes(name: str, itemsize: int = 4) -> int:
    """Bytes per parameter a step must move: read theta, g, each state; write theta, each state."""
    return itemsize * (3 + 2 * STATE_TENSORS[name])


def make_params(total: int, tensors: int, device: str) -> list[torch.Tensor]:
    """``tensors`` fp32 parameters of ``total // tensors`` elements each, with gradients."""
    torch.manual_seed(0)
    params = [torch.randn(total // tensors, device=device, requires_grad=True) for _ in range(tensors)]
    for p in params:
        p.grad = torch.randn_like(p) * 1e-3
    return params


def make_matrices(d_model: int, layers: int, device: str) -> list[torch.Tensor]:
    """The fp32 2-D weights of ``layers`` transformer blocks of width ``d_model``, with gradients."""
    d = d_model
    shapes = [(d, d)] * 4 + [(4 * d, d), (d, 4 * d)]  # q, k, v, output projection; MLP up, down
    torch.manual_seed(0)
    params = [torch.randn(shape, device=device, requires_grad=True) for _ in range(layers) for shape in shapes]
    for p in params:
        p.grad = torch.randn_like(p) * 1e-3
    return params


def state_bytes_per_param(opt: torch.optim.Optimizer, params: list[torch.Tensor]) -> float:
    """Bytes of every tensor in ``opt``'s state (torch's step counts too) per parameter."""
    total = sum(
        value.numel() * value.element_size()
        for state in opt.state.values()
        for value in state.values()
        if isinstance(value, torch.Tensor)
    )
    return total / sum(p.numel() for p in params)


def time_matrices(names: list[str], args: argparse.Namespace) -> None:
    """Ours against torch's on transformer-shaped weights, interleaved, and the state's memory."""
    params = make_matrices(args.d_model, args.layers, args.device)
    n = sum(p.numel() for p in params)
    print(
        f"\n{n:,} fp32 parameters in {len(params)} matrices ({args.layers} blocks of width {args.d_model}) on "
        f"{args.device}, median of {args.repeats} interleaved steps\n"
    )
    adam = torch.optim.Adam(params, lr=1e-6)
    adam.step()
    adam_bytes = state_bytes_per_param(adam, params)
    del adam
    print("| optimizer | ours (ms) | torch (ms) | ours / torch | state, ours (B/param) | state, torch | Adam's |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in names:
        kwargs = MATRIX_SETTINGS[name]
        optimizers = {"ours": getattr(lrcourse.optim, name)(params, **kwargs)}
        optimizers["torch"] = getattr(torch.optim, name)(params, **kwargs)
        times, _ = time_interleaved(optimizers, args.repeats, args.device)
        ms = [f"{statistics.median(times[key]) * 1e3:.1f}" for key in ("ours", "torch")]
        memory = [f"{state_bytes_per_param(optimizers[key], params):.3f}" for key in ("ours", "torch")]
        print(
            f"| {name} | {' | '.join(ms)} | {ratio(times, 'ours', 'torch'):.2f} | {' | '.join(memory)} "
            f"| {adam_bytes:.3f} |",
            flush=True,
        )


def variants(name: str, params: list[torch.Tensor]) -> dict[str, torch.optim.Optimizer]:
    """The optimizers to compare, by column name; each holds its own state over ``params``."""
    kwargs = SETTINGS.get(name, dict(lr=1e-6))
    found = {"ours": getattr(lrcourse.optim, name)(params, **kwargs)}
    if name in OURS_FUSED:
        found["ours fused"] = getattr(lrcourse.optim, name)(params, **kwargs, fused=True)
    found["torch"] = getattr(torch.optim, name)(params, **kwargs)
    with contextlib.suppress(TypeError, RuntimeError):  # no fused kernel for this optimizer or device
        found["torch fused"] = getattr(torch.optim, name)(params, **kwargs, fused=True)
    return found


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def time_interleaved(optimizers: dict, repeats: int, device: str) -> tuple[dict[str, list[float]], dict[str, float]]:
    """Seconds per step of each optimizer, taking turns one step at a time, and first-step times.

    The first step of each (building the state, touching the memory, compiling) is timed
    apart. The order of the turns rotates each round, so that no variant always runs right
    after the same neighbour.
    """
    first = {}
    for key, opt in optimizers.items():
        sync(device)
        start = time.perf_counter()
        opt.step()
        sync(device)
        first[key] = time.perf_counter() - start
    times: dict[str, list[float]] = {key: [] for key in optimizers}
    keys = list(optimizers)
    for round_ in range(repeats):
        for key in keys[round_ % len(keys) :] + keys[: round_ % len(keys)]:
            sync(device)
            start = time.perf_counter()
            optimizers[key].step()
            sync(device)
            times[key].append(time.perf_counter() - start)
    return times, first


def ratio(times: dict[str, list[float]], a: str, b: str) -> float:
    """Median over rounds of a's time over b's in the same round: robust to load drifting."""
    return statistics.median(x / y for x, y in zip(times[a], times[b]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", type=int, default=10_000_000)
    parser.add_argument("--tensors", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads before timing")
    parser.add_argument("--cold", action="store_true", help="compile without inductor's on-disk cache")
    parser.add_argument("--only", nargs="*", default=NAMES + MATRIX_NAMES, help="optimizers to time")
    parser.add_argument("--d-model", type=int, default=256, help="width of the blocks Muon and Adafactor run on")
    parser.add_argument("--layers", type=int, default=4, help="number of those blocks")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.cold:
        from torch._inductor import config as inductor_config

        inductor_config.force_disable_caches = True

    elementwise = [name for name in args.only if name not in MATRIX_NAMES]
    if elementwise:
        time_elementwise(elementwise, args)
    matrices = [name for name in args.only if name in MATRIX_NAMES]
    if matrices:
        time_matrices(matrices, args)


def time_elementwise(names: list[str], args: argparse.Namespace) -> None:
    """The eight elementwise optimizers on ``--params`` parameters in ``--tensors`` tensors."""
    params = make_params(args.params, args.tensors, args.device)
    n = sum(p.numel() for p in params)
    print(
        f"{n:,} fp32 parameters in {len(params)} tensors on {args.device}, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"median of {args.repeats} interleaved steps\n"
    )
    print(
        "| optimizer | ours (ms) | ours fused (ms) | torch default (ms) | torch fused (ms) "
        "| ours / default | ours fused / torch fused | ours fused / ours |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    bandwidth, compile_s = [], {}
    for name in names:
        times, first = time_interleaved(variants(name, params), args.repeats, args.device)
        ms = [f"{statistics.median(times[key]) * 1e3:.1f}" if key in times else "-" for key in COLUMNS]

        def r(a: str, b: str) -> str:
            return f"{ratio(times, a, b):.2f}" if a in times and b in times else "-"  # noqa: B023

        print(
            f"| {name} | {' | '.join(ms)} | {r('ours', 'torch')} | {r('ours fused', 'torch fused')} "
            f"| {r('ours fused', 'ours')} |",
            flush=True,
        )
        gb = floor_bytes(name) * n / 1e9
        bandwidth.append(
            f"| {name} | {floor_bytes(name)} | "
            + " | ".join(f"{gb / statistics.median(times[key]):.1f}" if key in times else "-" for key in COLUMNS)
            + " |"
        )
        if "ours fused" in first:
            compile_s[name] = first["ours fused"]
    print("\nAchieved bandwidth (GB/s), counting the bytes per parameter a step must move:\n")
    print("| optimizer | bytes / param | ours | ours fused | torch default | torch fused |")
    print("|---|---:|---:|---:|---:|---:|")
    print("\n".join(bandwidth))
    if compile_s:
        cache = "without" if args.cold else "with"
        print(
            f"\nFirst step of ours fused ({cache} inductor's on-disk cache; the first one in the process "
            "also imports the compiler): " + ", ".join(f"{k} {v:.1f} s" for k, v in compile_s.items())
        )


if __name__ == "__main__":
    main()
