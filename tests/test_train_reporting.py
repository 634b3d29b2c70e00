"""What fit reports: history rows and tables, evaluation, the progress bar, TensorBoard."""

import sys
import types
import warnings

import matplotlib
import pytest
import torch
from torch.nn import functional as F

from lrcourse.batching import Batches
from lrcourse.train import History, accuracy, evaluate, fit, progress

matplotlib.use("Agg")


def small_run(**kwargs):
    torch.manual_seed(0)
    X = torch.randn(24, 2)
    y = (X[:, 0] > 0).long()
    model = torch.nn.Linear(2, 2)
    history = fit(
        model,
        F.cross_entropy,
        torch.optim.SGD(model.parameters(), lr=0.5),
        Batches(X, y, batch_size=8),
        epochs=2,
        val_data=(X, y),
        **kwargs,
    )
    return model, history


def test_history_rows_average_each_epoch_and_join_validation():
    history = History(
        step=[0, 1, 2, 3],
        epoch=[0, 0, 1, 1],
        lr=[0.1, 0.1, 0.05, 0.05],
        loss=[4.0, 2.0, 1.0, 0.5],
        grad_norm=[1.0] * 4,
        val=[{"epoch": 0, "step": 2, "loss": 1.5}, {"epoch": 1, "step": 4, "loss": 0.75}],
    )
    assert history.to_rows() == [
        {"epoch": 0, "step": 2, "lr": 0.1, "train_loss": 3.0, "val_loss": 1.5},
        {"epoch": 1, "step": 4, "lr": 0.05, "train_loss": 0.75, "val_loss": 0.75},
    ]
    lines = history.table(digits=2).splitlines()
    assert lines[0].split() == ["epoch", "step", "lr", "train_loss", "val_loss"]
    assert lines[2].split() == ["1", "4", "0.05", "0.75", "0.75"]


def test_history_of_a_real_run_and_its_plot():
    _, history = small_run(progress=False)
    assert len(history.to_rows()) == 2 and set(history.val[0]) == {"epoch", "step", "loss", "accuracy"}
    line = history.plot("lr").lines[0]
    assert list(line.get_xdata()) == history.step and list(line.get_ydata()) == history.lr
    with pytest.raises(ValueError, match="key"):
        history.plot("accuracy")
    assert History().table() == "(no steps recorded)"


def test_evaluate_weights_batches_by_size_and_restores_the_mode():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Dropout(0.5))
    X, y = torch.randn(10, 3), torch.randint(0, 4, (10,))
    grad_enabled = []

    def loss_fn(output, target):
        grad_enabled.append(torch.is_grad_enabled())
        return F.cross_entropy(output, target)

    model.train()
    metrics = evaluate(model, loss_fn, (X, y), batch_size=4)  # batches of 4, 4, 2
    model.eval()
    with torch.no_grad():
        expected_loss = F.cross_entropy(model(X), y).item()
        expected_accuracy = (model(X).argmax(1) == y).float().mean().item()
    assert metrics["loss"] == pytest.approx(expected_loss, rel=1e-6)
    assert metrics["accuracy"] == pytest.approx(expected_accuracy)
    assert grad_enabled == [False] * 3
    model.train()
    evaluate(model, loss_fn, (X, y))
    assert model.training


def test_evaluate_regression_has_no_accuracy_and_takes_batches():
    model = torch.nn.Linear(1, 1)
    batches = [(torch.ones(2, 1), torch.zeros(2, 1)), (torch.ones(1, 1), torch.ones(1, 1))]
    with torch.no_grad():
        model.weight.fill_(1.0), model.bias.fill_(0.0)
    # batch losses 1 (two rows) and 0 (one row): 2/3 over the examples, not 1/2 over the batches
    assert evaluate(model, F.mse_loss, batches) == {"loss": pytest.approx(2 / 3)}
    with pytest.raises(ValueError, match="data"):
        evaluate(model, F.mse_loss, [])


def test_accuracy_counts_argmax_hits():
    logits = torch.tensor([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    assert accuracy(logits, torch.tensor([1, 0, 0, 0])) == 0.75


def test_progress_bar_shows_loss_and_rate(capsys, monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    small_run(progress=True)
    out, err = capsys.readouterr()
    assert "loss=" in err and "lr=0.5" in err and "6/6" in err
    assert "val_accuracy" in out  # the epoch's validation line, printed above the bar


@pytest.mark.parametrize("ci,enabled", [("true", True), ("", False)])
def test_progress_bar_is_quiet_under_ci_or_when_off(capsys, monkeypatch, ci, enabled):
    monkeypatch.setenv("CI", ci)
    small_run(progress=enabled)
    assert capsys.readouterr() == ("", "")


def test_in_a_notebook_without_ipywidgets_the_bar_is_text_and_silent(monkeypatch):
    import tqdm.std

    shell = type("ZMQInteractiveShell", (), {})()
    monkeypatch.setitem(sys.modules, "ipykernel.zmqshell", types.ModuleType("ipykernel.zmqshell"))
    monkeypatch.setitem(sys.modules, "IPython", types.SimpleNamespace(get_ipython=lambda: shell))
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # None makes the import fail, as when not installed

    def forget_tqdm_auto():
        for name in ("tqdm.auto", "tqdm.autonotebook", "tqdm.notebook"):
            monkeypatch.delitem(sys.modules, name, raising=False)

    forget_tqdm_auto()
    with pytest.warns(tqdm.std.TqdmWarning, match="IProgress"):  # this does look like a notebook to tqdm
        import tqdm.auto
    forget_tqdm_auto()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the IProgress warning would be an error here
        bar_class = progress.tqdm_class()
    assert issubclass(bar_class, tqdm.std.tqdm) and "notebook" not in bar_class.__module__


def test_tensorboard_missing_is_one_clear_error(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    with pytest.raises(ImportError, match="pip install tensorboard"):
        small_run(progress=False, tensorboard_dir=tmp_path)


def test_tensorboard_receives_rate_loss_and_norm(monkeypatch, tmp_path):
    logged = []

    class FakeWriter:
        def add_scalar(self, tag, value, step):
            logged.append((tag, step))

        def close(self):
            logged.append("closed")

    monkeypatch.setattr(progress, "summary_writer", lambda log_dir: FakeWriter())  # the log lives there
    _, history = small_run(progress=False, tensorboard_dir=tmp_path)
    assert {tag for tag, _ in logged[:-1]} == {"train/lr", "train/loss", "train/grad_norm", "val/loss", "val/accuracy"}
    assert [step for tag, step in logged[:-1] if tag == "train/loss"] == history.step
    assert logged[-1] == "closed"
