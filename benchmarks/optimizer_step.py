"""Step time of lrcourse.optim against torch.optim, on the same parameters, interleaved.

    python benchmarks/optimizer_step.py [--params 10_000_000] [--tensors 200] [--repeats 21]

For each optimizer, three variants update the same parameters with the same gradients:
ours, torch's default (on CPU: its per-tensor loop) and torch's ``fused=True`` where
torch has one. The variants take turns, one step each, so a change in machine load
hits them all alike. The table gives each variant's median step time and the ratios,
each the median over rounds of the ratio within a round (what load drift affects
least). Adam's line also gives the bandwidth each variant achieves, counting the 28
bytes per fp32 parameter that any Adam step must move (read theta, g, m, v; write
theta, m, v).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import lrcourse.optim

NAMES = ["SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "NAdam", "RAdam"]
SETTINGS = {"SGD": dict(lr=1e-6, momentum=0.9)}  # momentum: the case people run
ADAM_BYTES_PER_PARAM = 28


def make_params(total: int, tensors: int, device: str) -> list[torch.Tensor]:
    """``tensors`` fp32 parameters of ``total // tensors`` elements each, with gradients."""
    torch.manual_seed(0)
    params = [torch.randn(total // tensors, device=device, requires_grad=True) for _ in range(tensors)]
    for p in params:
        p.grad = torch.randn_like(p) * 1e-3
    return params


def variants(name: str, params: list[torch.Tensor]) -> dict[str, torch.optim.Optimizer]:
    kwargs = SETTINGS.get(name, dict(lr=1e-6))
    found = {"ours": getattr(lrcourse.optim, name)(params, **kwargs),
             "torch": getattr(torch.optim, name)(params, **kwargs)}
    try:
        found["torch fused"] = getattr(torch.optim, name)(params, **kwargs, fused=True)
    except (TypeError, RuntimeError):  # no fused kernel for this optimizer or device
        pass
    return found


def sync(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def time_interleaved(optimizers: dict, repeats: int, device: str) -> dict[str, list[float]]:
    """Seconds per step of each optimizer, taking turns one step at a time.

    The order of the turns rotates each round, so that no variant always runs
    right after the same neighbour.
    """
    for opt in optimizers.values():  # warm-up: builds the state, touches the memory
        opt.step()
    times = {key: [] for key in optimizers}
    keys = list(optimizers)
    for round_ in range(repeats):
        for key in keys[round_ % len(keys):] + keys[:round_ % len(keys)]:
            sync(device)
            start = time.perf_counter()
            optimizers[key].step()
            sync(device)
            times[key].append(time.perf_counter() - start)
    return times


def ratio(times: dict[str, list[float]], a: str, b: str) -> float:
    """Median over rounds of a's time over b's in the same round: robust to load drifting."""
    return statistics.median(x / y for x, y in zip(times[a], times[b]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", type=int, default=10_000_000)
    parser.add_argument("--tensors", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--only", nargs="*", default=NAMES, help="optimizers to time")
    args = parser.parse_args()

    params = make_params(args.params, args.tensors, args.device)
    n = sum(p.numel() for p in params)
    print(f"{n:,} fp32 parameters in {len(params)} tensors on {args.device}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads, "
          f"median of {args.repeats} interleaved steps\n")
    print("| optimizer | ours (ms) | torch default (ms) | torch fused (ms) | ours / default | ours / fused |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in args.only:
        times = time_interleaved(variants(name, params), args.repeats, args.device)
        ms = {key: f"{statistics.median(ts) * 1e3:.1f}" for key, ts in times.items()}
        vs_fused = f"{ratio(times, 'ours', 'torch fused'):.2f}" if "torch fused" in times else "-"
        print(f"| {name} | {ms['ours']} | {ms['torch']} | {ms.get('torch fused', '-')} | "
              f"{ratio(times, 'ours', 'torch'):.2f} | {vs_fused} |", flush=True)
        if name == "Adam":
            floor = ADAM_BYTES_PER_PARAM * n / 1e9
            adam_line = ", ".join(f"{key} {floor / statistics.median(ts):.1f} GB/s" for key, ts in times.items())
    if "Adam" in args.only:
        print(f"\nAdam moves at least {ADAM_BYTES_PER_PARAM} bytes per parameter "
              f"({floor:.2f} GB per step); achieved: {adam_line}")


if __name__ == "__main__":
    main()
