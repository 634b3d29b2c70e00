"""Run PyTorch's own optimizer tests (``test/test_optim.py``) against ``lrcourse.optim``.

PyTorch tests its optimizers through ``optim_db``, a list of ``OptimizerInfo`` entries in
``torch.testing._internal.common_optimizers`` (installed with torch): each names a class
(``optim_cls``), the keyword sets to build it with, the errors it must raise and the
implementation flags it takes. ``test/test_optim.py`` (not installed with torch: see
README.md for where to put it) runs every test over that list. This script edits the list in
place before the test file is imported, then runs the file under pytest:

* every entry whose class ``lrcourse.optim`` also has (SGD, Adagrad, RMSprop, Adadelta, Adam,
  AdamW, NAdam, RAdam) gets ``optim_cls`` set to lrcourse's class; its sample inputs, error
  inputs, schedulers and skips are torch's, untouched;
* the entries lrcourse lacks (Adafactor, Adamax, ASGD, LBFGS, Muon, Rprop, SparseAdam) are
  removed;
* ``supported_impls`` loses ``foreach`` and ``differentiable``, which lrcourse does not offer,
  so the tests that compare those implementations with the for-loop one are not generated and
  no sample input sets them; ``fused`` stays only with ``--fused`` (lrcourse's compiled path for
  SGD, Adam and AdamW, slow to compile on a small CPU);
* error inputs that pass an implementation flag lrcourse does not take (``foreach=True``,
  ``capturable``, ``differentiable``) are left out of ``test_errors`` and counted;
* two tests that build ``torch.optim`` classes directly rather than from ``optim_db``
  (``test_adamw_serialization``, ``test_step_iteration``) are deselected: they test torch.

Only the CPU variant is instantiated (``PYTORCH_TESTING_DEVICE_ONLY_FOR=cpu``); the CUDA-only
tests are not generated. The run ends with a table of outcomes per test and optimizer.

    python benchmarks/torch_suite/run.py                      # upstream/test_optim.py, all tests
    python benchmarks/torch_suite/run.py -k test_errors       # extra arguments go to pytest
    python benchmarks/torch_suite/run.py --test-file PATH --fused
"""

from __future__ import annotations

import argparse
import collections
import inspect
import os
import re
import sys
import types
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_TEST_FILE = HERE / "upstream" / "test_optim.py"
NOT_OFFERED = ("foreach", "differentiable", "capturable")  # implementation flags lrcourse.optim does not take
TORCH_ONLY_TESTS = ("test_adamw_serialization", "test_step_iteration")  # build torch.optim classes themselves
# test/test_optim.py imports three sibling modules of PyTorch's test folder for their test classes
SIBLING_MODULES = {
    "optim.test_lrscheduler": "TestLRScheduler",
    "optim.test_optim": "TestDifferentiableOptimizer",
    "optim.test_swa_utils": "TestSWAUtils",
}


def stub_sibling_modules() -> None:
    """Stand-ins for ``optim.test_lrscheduler`` and the others: their classes are not run here."""
    package = types.ModuleType("optim")
    package.__path__ = []
    sys.modules["optim"] = package
    for name, cls in SIBLING_MODULES.items():
        module = types.ModuleType(name)
        setattr(module, cls, type(cls, (), {}))  # a plain class, which pytest does not collect
        sys.modules[name] = module


def stand_in_for_expecttest() -> None:
    """PyTorch's test helpers import ``expecttest`` (a test-only package) for a base class.

    Where it is not installed, a stand-in with that base class is enough: no test of
    ``test_optim.py`` compares against an expected-output string.
    """
    try:
        import expecttest  # noqa: F401
    except ImportError:
        module = types.ModuleType("expecttest")
        module.TestCase = unittest.TestCase  # type: ignore[attr-defined]
        module.ACCEPT = False  # type: ignore[attr-defined]
        sys.modules["expecttest"] = module


def swap_optim_db(fused: bool) -> dict[str, list[str]]:
    """Point ``optim_db`` at lrcourse.optim; return what was kept, dropped and left out."""
    from torch.testing._internal import common_optimizers

    import lrcourse.optim

    kept, removed, error_inputs_left_out = [], [], []
    for info in list(common_optimizers.optim_db):
        name = info.optim_cls.__name__
        if name not in lrcourse.optim.__all__:
            common_optimizers.optim_db.remove(info)
            removed.append(name)
            continue
        info.optim_cls = getattr(lrcourse.optim, name)
        offers_fused = fused and "fused" in inspect.signature(info.optim_cls).parameters
        info.supported_impls = tuple(i for i in info.supported_impls if i == "fused" and offers_fused)
        if "fused" not in info.supported_impls:
            info.supports_fused_on = ()
        if info.optim_error_inputs_func is not None:
            info.optim_error_inputs_func = _without_flags(info.optim_error_inputs_func, name, error_inputs_left_out)
        kept.append(name)
    return {"kept": kept, "removed": removed, "error inputs left out": error_inputs_left_out}


def _without_flags(error_inputs_func, name: str, left_out: list[str]):
    """``error_inputs_func``, less the inputs that set a flag lrcourse does not take."""

    def error_inputs(device, dtype):
        kept = []
        for error_input in error_inputs_func(device=device, dtype=dtype):
            kwargs = error_input.optimizer_error_input.kwargs
            flags = [flag for flag in NOT_OFFERED if kwargs.get(flag)]
            if flags:
                left_out.append(f"{name} {dtype}: {error_input.optimizer_error_input.desc} ({', '.join(flags)})")
            else:
                kept.append(error_input)
        return kept

    return error_inputs


def check_error_inputs() -> list[str]:
    """Each error input of ``optim_db`` on its own (``test_errors`` stops at the first that fails).

    Returns one line per input whose error differs from torch's: the exception type and the
    point where it is raised (construction or step) are checked apart from the message.
    """
    import warnings

    import torch
    from torch.testing._internal.common_optimizers import OptimizerErrorEnum, optim_db

    differ = []
    for info in optim_db:
        for error_input in info.optim_error_inputs_func(device="cpu", dtype=torch.float32):
            sample, expected = error_input.optimizer_error_input, error_input.error_type
            raised: BaseException | None = None
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    optimizer = info.optim_cls(sample.params, **sample.kwargs)
                    if error_input.error_on == OptimizerErrorEnum.STEP_ERROR:
                        optimizer.step()
                except Exception as error:
                    raised = error
            if issubclass(expected, Warning):
                got = [w.message for w in caught if issubclass(w.category, expected)]
                raised = got[0] if got else raised
            if isinstance(raised, expected) and re.search(error_input.error_regex, str(raised)):
                continue
            kind = "same type, other message" if isinstance(raised, expected) else "DIFFERENT TYPE"
            differ.append(
                f"{info.name}: {sample.desc}: {kind}: torch /{error_input.error_regex}/, ours {raised!r}"
                if raised is not None
                else f"{info.name}: {sample.desc}: NOT RAISED (torch: {expected.__name__})"
            )
    return differ


class Tally:
    """A pytest plugin that counts outcomes per test and per optimizer."""

    def __init__(self, optimizers: list[str]) -> None:
        self.optimizers = optimizers
        self.outcomes: collections.Counter = collections.Counter()
        self.by_test: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
        self.failures: list[str] = []

    def pytest_collection_modifyitems(self, config, items) -> None:
        torch_only = [item for item in items if item.name.startswith(TORCH_ONLY_TESTS)]
        if torch_only:
            items[:] = [item for item in items if item not in torch_only]
            config.hook.pytest_deselected(items=torch_only)

    def pytest_runtest_logreport(self, report) -> None:
        if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
            outcome = report.outcome
            name = report.nodeid.rsplit("::", 1)[-1]
            test = re.sub(rf"_(?:{'|'.join(self.optimizers)})_cpu_\w+$", "", name)  # less optimizer, device, dtype
            self.outcomes[outcome] += 1
            self.by_test[test][outcome] += 1
            if outcome == "failed":
                self.failures.append(name)

    def summary(self) -> str:
        lines = ["| test | passed | failed | skipped |", "|---|---:|---:|---:|"]
        for test in sorted(self.by_test):
            c = self.by_test[test]
            lines.append(f"| {test} | {c['passed']} | {c['failed']} | {c['skipped']} |")
        o = self.outcomes
        lines.append(f"| **total** | **{o['passed']}** | **{o['failed']}** | **{o['skipped']}** |")
        return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--test-file", type=Path, default=DEFAULT_TEST_FILE, help="PyTorch's test/test_optim.py")
    parser.add_argument("--fused", action="store_true", help="also run the fused tests (compiles; slow on CPU)")
    args, pytest_args = parser.parse_known_args(argv)
    if not args.test_file.exists():
        parser.error(f"{args.test_file} not found: see {HERE / 'README.md'} for how to get PyTorch's test_optim.py")

    os.environ.setdefault("PYTORCH_TESTING_DEVICE_ONLY_FOR", "cpu")
    stub_sibling_modules()
    stand_in_for_expecttest()
    swapped = swap_optim_db(args.fused)

    import pytest

    tally = Tally(swapped["kept"])
    code = pytest.main(
        [
            str(args.test_file),
            "-o",
            "addopts=",  # not the course's own options (doctests, notebooks)
            "-p",
            "no:cacheprovider",
            "-q",
            *pytest_args,
        ],
        plugins=[tally],
    )
    print(f"\nlrcourse.optim in optim_db: {', '.join(swapped['kept'])}")
    print(f"removed (not in lrcourse.optim): {', '.join(swapped['removed'])}")
    left_out = sorted(set(swapped["error inputs left out"]))
    print(f"error inputs left out (flags not offered): {len(left_out)}")
    for line in left_out:
        print(f"  {line}")
    print(f"deselected (test torch.optim itself): {', '.join(TORCH_ONLY_TESTS)}\n")
    print(tally.summary())
    differ = check_error_inputs()
    print(f"\nerror inputs checked one by one: {len(differ)} differ from torch's")
    for line in differ:
        print(f"  {line}")
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
