"""Data-parallel fit on loopback: two torchrun workers equal one process with twice the batch.

Each test launches real worker processes with ``python -m torch.distributed.run``
(``torchrun``) on this machine only (``--standalone``: a free local port, no
network), with a subprocess timeout so that a hang fails the test instead of
blocking the run.
"""

import os
import subprocess
import sys
import textwrap

import pytest
import torch

from lrcourse.batching import Batches
from lrcourse.train import distributed

SCRIPT = textwrap.dedent(
    """
    import sys
    import torch
    from lrcourse import synthetic
    from lrcourse.batching import Batches
    from lrcourse.models import MLP
    from lrcourse.train import distributed, fit


    def train(batch_size, out, fail_rank):
        distributed.setup()
        X, y = synthetic.classification(96, seed=1)
        X = X.double()
        torch.manual_seed(0)
        model = distributed.wrap(MLP(2, hidden=(8,), out_features=3))
        optimizer = torch.optim.SGD(model.parameters(), lr=0.2, momentum=0.9)
        steps = []

        def loss_fn(output, target):
            if distributed.rank() == fail_rank and len(steps) == 3:
                raise RuntimeError(f"worker {fail_rank} broke on purpose")
            steps.append(1)
            return torch.nn.functional.cross_entropy(output, target)

        batches = distributed.shard(Batches(X, y, batch_size=batch_size, seed=0))
        history = fit(model, loss_fn, optimizer, batches, epochs=2, val_data=(X, y),
                      checkpoint=f"{out}.rank{distributed.rank()}.ckpt", progress=True)
        if distributed.is_main():
            params = [p.detach().cpu() for p in distributed.unwrap(model).parameters()]
            torch.save({"params": params, "loss": history.loss, "val": history.val}, out)
        distributed.cleanup()


    if __name__ == "__main__":
        torch.set_default_dtype(torch.float64)
        train(int(sys.argv[1]), sys.argv[2], int(sys.argv[3]))
    """
)


def _torchrun(tmp_path, *args, workers: int, timeout: float = 180) -> subprocess.CompletedProcess:
    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    env.pop("CI", None)  # let rank 0 show its progress, to check that the others stay quiet
    launcher = ["-m", "torch.distributed.run", "--standalone", f"--nproc-per-node={workers}", "--max-restarts=0"]
    command = [sys.executable, *launcher, str(script), *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env, cwd=tmp_path)


@pytest.mark.timeout(240)
def test_two_workers_equal_one_process_with_twice_the_batch(tmp_path, float64_default):
    namespace = {"__name__": "reference"}
    exec(SCRIPT, namespace)  # the same training, here in one process with batch 16
    namespace["train"](16, str(tmp_path / "one.pt"), -1)
    two = _torchrun(tmp_path, 16, tmp_path / "two.pt", -1, workers=2)  # global batch 16: 8 per worker
    assert two.returncode == 0, two.stderr
    single, parallel = torch.load(tmp_path / "one.pt"), torch.load(tmp_path / "two.pt")
    for a, b in zip(single["params"], parallel["params"]):
        torch.testing.assert_close(b, a, rtol=1e-10, atol=1e-12)
    assert parallel["loss"] == pytest.approx(single["loss"], rel=1e-10)  # the workers' mean loss
    for a, b in zip(single["val"], parallel["val"]):  # validation measured on two halves, then merged
        assert b["loss"] == pytest.approx(a["loss"], rel=1e-10) and b["accuracy"] == pytest.approx(a["accuracy"])
    # only rank 0 saves and reports: one checkpoint, one validation line per epoch
    assert (tmp_path / "two.pt.rank0.ckpt").exists() and not (tmp_path / "two.pt.rank1.ckpt").exists()
    assert (two.stdout + two.stderr).count("val_loss") == 2


@pytest.mark.timeout(240)
def test_a_failing_worker_fails_the_launch_with_its_error(tmp_path):
    result = _torchrun(tmp_path, 16, tmp_path / "out.pt", 1, workers=2, timeout=180)
    assert result.returncode != 0
    assert "worker 1 broke on purpose" in result.stderr
    assert not (tmp_path / "out.pt").exists()


def test_fit_refuses_an_unwrapped_model_with_several_workers(monkeypatch):
    from lrcourse.train import fit

    monkeypatch.setattr(distributed, "is_distributed", lambda: True)
    monkeypatch.setattr(distributed, "world_size", lambda: 2)
    model = torch.nn.Linear(2, 1)
    with pytest.raises(ValueError, match=r"distributed\.wrap"):
        fit(
            model,
            torch.nn.functional.mse_loss,
            torch.optim.SGD(model.parameters(), lr=0.1),
            [(torch.zeros(2, 2), torch.zeros(2, 1))],
            epochs=1,
            progress=False,
        )


def test_shards_cover_each_batch_once_in_order():
    X = torch.arange(10)
    parts = [
        [x.tolist() for (x,) in distributed.Shard(Batches(X, batch_size=5, seed=3), rank=r, world_size=2)]
        for r in range(2)
    ]
    whole = [x.tolist() for (x,) in Batches(X, batch_size=5, seed=3)]
    assert [a + b for a, b in zip(*parts)] == whole  # rank 0's rows then rank 1's: the whole batch
    assert [len(p) for p in parts[0]] == [3, 3] and [len(p) for p in parts[1]] == [2, 2]


def test_shard_checks_its_arguments():
    with pytest.raises(ValueError, match="rank"):
        distributed.Shard([], rank=2, world_size=2)
    with pytest.raises(ValueError, match="world_size"):
        distributed.Shard([], rank=0, world_size=0)
    with pytest.raises(ValueError, match="cannot be split"):
        list(distributed.Shard([(torch.zeros(1),)], rank=0, world_size=2))
