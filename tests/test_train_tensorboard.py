"""read_scalars: what fit logs to TensorBoard comes back exactly, as float32, in step order."""

import sys

import numpy as np
import pytest
import torch

from lrcourse import schedules
from lrcourse.batching import Batches
from lrcourse.train import fit
from lrcourse.train.tensorboard import read_scalars, summary_writer

pytest.importorskip("tensorboard")


def test_reads_back_what_was_written(tmp_path):
    writer = summary_writer(tmp_path)
    for step in (2, 0, 1):  # written out of order, returned sorted
        writer.add_scalar("a", step * 0.5, step)
        writer.add_scalar("b/c", -step, step)
    writer.close()
    series = read_scalars(tmp_path)
    assert sorted(series) == ["a", "b/c"]
    steps, values = series["a"]
    assert steps.tolist() == [0, 1, 2] and values.tolist() == [0.0, 0.5, 1.0]
    assert values.dtype == np.float32 and series["b/c"][1].tolist() == [0.0, -1.0, -2.0]


def test_keeps_every_point_of_a_long_series(tmp_path):
    writer = summary_writer(tmp_path)
    for step in range(2500):  # the TensorBoard server would sample this down to 1000 points
        writer.add_scalar("x", float(step), step)
    writer.close()
    steps, values = read_scalars(tmp_path)["x"]
    assert len(steps) == 2500 and values[-1] == 2499.0


def test_fit_logs_the_schedule_loss_and_norm(tmp_path):
    torch.manual_seed(0)
    X = torch.randn(40, 3)
    y = X @ torch.tensor([[1.0], [-1.0], [2.0]])
    model = torch.nn.Linear(3, 1)
    schedule = schedules.warmup(schedules.cosine(0.1, total_steps=20), warmup_steps=4)
    history = fit(
        model,
        torch.nn.functional.mse_loss,
        torch.optim.SGD(model.parameters(), lr=1.0),
        Batches(X, y, batch_size=8),
        epochs=4,
        schedule=schedule,
        progress=False,
        val_data=(X, y),
        tensorboard_dir=tmp_path,
    )
    series = read_scalars(tmp_path)
    assert {"train/lr", "train/loss", "train/grad_norm", "val/loss"} <= set(series)
    steps, lr = series["train/lr"]
    assert steps.tolist() == list(range(20))
    expected = np.array([schedule(int(s)) for s in steps], dtype=np.float32)  # hand-computed closed form
    np.testing.assert_array_equal(lr, expected)
    np.testing.assert_array_equal(series["train/loss"][1], np.float32(history.loss))
    np.testing.assert_array_equal(series["train/grad_norm"][1], np.float32(history.grad_norm))
    assert series["val/loss"][0].tolist() == [5, 10, 15, 20]


def test_empty_folder_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="no TensorBoard event files"):
        read_scalars(tmp_path)


def test_missing_tensorboard_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "tensorboard.backend.event_processing", None)
    with pytest.raises(ImportError, match="pip install tensorboard"):
        read_scalars(tmp_path)
