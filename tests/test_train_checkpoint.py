"""Checkpoint and resume: an interrupted run, resumed, is bit-for-bit the run that never stopped."""

import pytest
import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.data import DataLoader, TensorDataset

from lrcourse.batching import Batches
from lrcourse.train import fit
from lrcourse.train.checkpoint import load, rng_state, set_rng_state


class Interrupted(Exception):
    pass


def data():
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(40, 4, generator=generator)
    return X, (X.sum(1) > 0).long()


def make_run(seed):
    torch.manual_seed(seed)  # a different seed proves the resumed run takes nothing from its own init
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.3), nn.Linear(8, 2))  # dropout uses the RNG
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    return model, optimizer


def interrupting_loss(after_calls):
    calls = []

    def loss_fn(output, target):
        calls.append(1)
        if len(calls) > after_calls:
            raise Interrupted
        return F.cross_entropy(output, target)

    return loss_fn


def run_three_ways(make_batches, tmp_path, interrupt_after, **options):
    """The run straight through, and interrupted then resumed from its last checkpoint."""
    path = tmp_path / "run.pt"
    torch.manual_seed(123)
    model, optimizer = make_run(seed=0)
    straight = fit(model, F.cross_entropy, optimizer, make_batches(), epochs=4, progress=False, **options)
    expected = model.state_dict(), optimizer.state_dict(), torch.rand(3)

    torch.manual_seed(123)
    model, optimizer = make_run(seed=0)
    with pytest.raises(Interrupted):
        fit(
            model,
            interrupting_loss(interrupt_after),
            optimizer,
            make_batches(),
            epochs=4,
            progress=False,
            checkpoint=path,
            checkpoint_every=3,
            **options,
        )
    torch.manual_seed(999)  # whatever happened to the generators since, the checkpoint restores them
    model, optimizer = make_run(seed=1)
    resumed = fit(
        model, F.cross_entropy, optimizer, make_batches(), epochs=4, progress=False, resume_from=path, **options
    )
    return straight, resumed, expected, (model.state_dict(), optimizer.state_dict(), torch.rand(3))


def assert_identical(expected, actual):
    (model_a, opt_a, rand_a), (model_b, opt_b, rand_b) = expected, actual
    for name in model_a:
        assert torch.equal(model_a[name], model_b[name]), name
    for index, state in opt_a["state"].items():
        for key, value in state.items():
            assert torch.equal(value, opt_b["state"][index][key]), (index, key)
    assert opt_a["param_groups"] == opt_b["param_groups"]
    assert torch.equal(rand_a, rand_b)


@pytest.mark.parametrize("interrupt_after", [7, 13])  # mid-epoch (after the checkpoint at step 6) and at step 12
def test_resume_continues_bit_for_bit_with_batches(tmp_path, interrupt_after):
    X, y = data()
    straight, resumed, expected, actual = run_three_ways(
        lambda: Batches(X, y, batch_size=8, seed=5),
        tmp_path,
        interrupt_after,
        schedule=lambda step: 0.01 * 0.9**step,
        accumulate=2,
    )
    assert_identical(expected, actual)
    assert resumed == straight and len(straight.loss) == 12  # 5 micro-batches an epoch: updates of 2, 2, 1


def test_resume_continues_bit_for_bit_with_a_shuffling_data_loader(tmp_path):
    X, y = data()  # a DataLoader draws its shuffle from the global generator at each iter()
    straight, resumed, expected, actual = run_three_ways(
        lambda: DataLoader(TensorDataset(X, y), batch_size=8, shuffle=True),
        tmp_path,
        interrupt_after=8,
    )
    assert_identical(expected, actual)
    assert resumed == straight


def test_resume_restores_an_lr_scheduler(tmp_path):
    X, y = data()
    path = tmp_path / "run.pt"
    model, optimizer = make_run(seed=0)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)
    fit(
        model,
        F.cross_entropy,
        optimizer,
        Batches(X, y, batch_size=10),
        epochs=2,
        schedule=scheduler,
        checkpoint=path,
        progress=False,
    )
    model, optimizer = make_run(seed=1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=3, gamma=0.5)
    history = fit(
        model,
        F.cross_entropy,
        optimizer,
        Batches(X, y, batch_size=10),
        epochs=4,
        schedule=scheduler,
        resume_from=path,
        progress=False,
    )
    assert history.lr == pytest.approx([0.01 * 0.5 ** (step // 3) for step in range(16)], rel=1e-15)
    assert scheduler.last_epoch == 16  # 4 updates an epoch, 8 of them made after resuming


def test_epoch_end_checkpoint_holds_the_position_and_history(tmp_path):
    X, y = data()
    path = tmp_path / "run.pt"
    model, optimizer = make_run(seed=0)
    history = fit(
        model, F.cross_entropy, optimizer, Batches(X, y, batch_size=10), epochs=2, checkpoint=path, progress=False
    )
    saved = load(path)
    assert saved["position"] == {"step": 8, "epoch": 2, "batches_done": 0}
    assert saved["history"]["loss"] == history.loss
    assert not (tmp_path / "run.pt.partial").exists()


def test_rng_state_round_trip_covers_python_numpy_and_torch():
    import random

    import numpy as np

    state = rng_state()
    expected = random.random(), np.random.rand(), torch.rand(1).item()
    set_rng_state(state)
    assert (random.random(), np.random.rand(), torch.rand(1).item()) == expected


def test_resume_with_the_course_optimizer(tmp_path):
    from lrcourse import optim

    X, y = data()
    path = tmp_path / "run.pt"

    def run(seed, **options):
        torch.manual_seed(seed)
        model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        optimizer = optim.Adam(model.parameters(), lr=0.01)
        history = fit(model, F.cross_entropy, optimizer, Batches(X, y, batch_size=8), progress=False, **options)
        return model, history

    straight_model, straight = run(0, epochs=3)
    run(0, epochs=1, checkpoint=path)
    resumed_model, resumed = run(1, epochs=3, resume_from=path)
    assert resumed == straight
    assert all(torch.equal(a, b) for a, b in zip(straight_model.parameters(), resumed_model.parameters()))


# --- issue 20: checkpoints that cannot be resumed, mismatched resumes, files that are not checkpoints --


def short_run(loss_fn=F.cross_entropy, model=None, optimizer=None, batch_size=10, **options):
    X, y = data()
    if model is None:
        model, optimizer = make_run(seed=0)
    options = {"epochs": 1, "progress": False, **options}
    return fit(model, loss_fn, optimizer, Batches(X, y, batch_size=batch_size), **options)


def test_a_scheduler_holding_package_schedules_saves_and_resumes(tmp_path):
    from lrcourse import schedules

    path = tmp_path / "run.pt"

    def run(seed, **options):
        model, optimizer = make_run(seed)
        lambdas = torch.optim.lr_scheduler.LambdaLR(optimizer, schedules.warmup(schedules.cosine(1.0, 20), 5))
        return short_run(F.cross_entropy, model, optimizer, schedule=lambdas, **options)

    straight = run(0, epochs=3)
    run(0, epochs=1, checkpoint=path, checkpoint_every=2)
    assert run(1, epochs=3, resume_from=path).lr == straight.lr


def test_a_checkpoint_that_could_never_be_loaded_is_refused_before_training(tmp_path):
    from pathlib import PurePosixPath

    class Remembering(torch.optim.lr_scheduler.LambdaLR):
        def state_dict(self):
            return {**super().state_dict(), "where": PurePosixPath("/somewhere")}  # not loadable safely

    model, optimizer = make_run(seed=0)
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(ValueError, match="never loaded back") as error:
        short_run(
            F.cross_entropy,
            model,
            optimizer,
            schedule=Remembering(optimizer, lambda s: 1.0),
            checkpoint=tmp_path / "r.pt",
        )
    assert "PurePosixPath" in str(error.value)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert not (tmp_path / "r.pt").exists()


def test_resuming_another_model_changes_nothing_and_names_the_mismatch(tmp_path):
    path = tmp_path / "run.pt"
    short_run(F.cross_entropy, checkpoint=path)
    torch.manual_seed(1)
    other = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.3), nn.Linear(8, 3))  # 3 classes, not 2
    optimizer = torch.optim.Adam(other.parameters(), lr=0.01)
    before = {k: v.clone() for k, v in other.state_dict().items()}
    with pytest.raises(ValueError, match=r"resume_from.*3\.weight.*\[2, 8\].*\[3, 8\]"):
        short_run(F.cross_entropy, other, optimizer, epochs=2, resume_from=path)
    assert all(torch.equal(before[k], v) for k, v in other.state_dict().items())
    assert optimizer.state == {}


def test_a_torch_optimizer_checkpoint_into_ours_points_to_interop(tmp_path):
    from lrcourse import optim

    path = tmp_path / "run.pt"
    short_run(F.cross_entropy, checkpoint=path)  # torch.optim.Adam
    model, _ = make_run(seed=0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match=r"torch\.optim.*lrcourse\.interop"):
        short_run(F.cross_entropy, model, optim.Adam(model.parameters(), lr=0.01), epochs=2, resume_from=path)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_resuming_with_fewer_batches_an_epoch_is_named(tmp_path):
    path = tmp_path / "run.pt"
    with pytest.raises(Interrupted):
        short_run(interrupting_loss(3), epochs=2, checkpoint=path, checkpoint_every=3)
    model, optimizer = make_run(seed=0)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(ValueError, match=r"resume_from.*3 batches.*train_batches gives 2"):
        short_run(F.cross_entropy, model, optimizer, batch_size=32, epochs=2, resume_from=path)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())

    class NoLength:  # batches whose number is known only by iterating
        def __iter__(self):
            return iter(Batches(*data(), batch_size=32))

    with pytest.raises(ValueError, match=r"resume_from.*3 batches.*train_batches gives 2"):
        fit(model, F.cross_entropy, optimizer, NoLength(), epochs=2, progress=False, resume_from=path)


def test_a_plain_state_dict_is_named_as_not_a_checkpoint(tmp_path):
    model, optimizer = make_run(seed=0)
    torch.save(model.state_dict(), tmp_path / "weights.pt")
    with pytest.raises(ValueError, match=r"weights\.pt is not a checkpoint written by fit.*model.state_dict"):
        short_run(F.cross_entropy, model, optimizer, resume_from=tmp_path / "weights.pt")


@pytest.mark.parametrize("damage", [lambda b: b[: len(b) // 2], lambda b: b"", lambda b: b"\x00garbage" * 50])
def test_a_damaged_checkpoint_is_named(tmp_path, damage):
    path = tmp_path / "run.pt"
    short_run(F.cross_entropy, checkpoint=path)
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(ValueError, match=r"run\.pt is not a readable checkpoint"):
        load(path)


def test_a_planted_link_at_the_temporary_name_is_not_followed(tmp_path):
    from lrcourse.train.checkpoint import save

    victim = tmp_path / "victim"
    victim.write_text("keep me")
    (tmp_path / "c.pt.partial").symlink_to(victim)
    save(tmp_path / "c.pt", {"step": 1})
    assert victim.read_text() == "keep me" and load(tmp_path / "c.pt") == {"step": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.pt", "c.pt.partial", "victim"]


def test_a_failed_save_leaves_no_temporary_file(tmp_path):
    from lrcourse.train.checkpoint import save

    with pytest.raises(Exception):  # noqa: B017 (whatever torch.save raises on an unpicklable value)
        save(tmp_path / "c.pt", {"f": lambda: 1})
    assert list(tmp_path.iterdir()) == []
