"""fit: accumulation, schedules, clipping, mixed precision, divergence, against hand-written loops."""

import math
import os

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from lrcourse.batching import Batches
from lrcourse.devices import available_devices, is_available
from lrcourse.models import MLP
from lrcourse.train import DivergenceWarning, fit


def regression_data(n=30, seed=0):
    generator = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 3, generator=generator, dtype=torch.float64)
    return X, X @ torch.tensor([[1.0], [-2.0], [0.5]], dtype=torch.float64) + 0.3


def tiny_mlp(seed=0):
    torch.manual_seed(seed)
    return MLP(3, hidden=(5,), out_features=1).double()


def params(model):
    return [p.detach().clone() for p in model.parameters()]


def assert_same(a, b, atol=0.0):
    for x, y in zip(a, b, strict=True):
        torch.testing.assert_close(x, y, rtol=0, atol=atol)


def test_fit_is_the_plain_loop():
    X, y = regression_data()
    ours, theirs = tiny_mlp(), tiny_mlp()
    opt_ours = torch.optim.SGD(ours.parameters(), lr=0.05, momentum=0.9)
    opt_theirs = torch.optim.SGD(theirs.parameters(), lr=0.05, momentum=0.9)
    history = fit(ours, F.mse_loss, opt_ours, Batches(X, y, batch_size=8, seed=1), epochs=3, progress=False)
    losses, batches = [], Batches(X, y, batch_size=8, seed=1)
    for _ in range(3):
        for xb, yb in batches:
            opt_theirs.zero_grad()
            loss = F.mse_loss(theirs(xb), yb)
            loss.backward()
            opt_theirs.step()
            losses.append(loss.item())
    assert_same(params(ours), params(theirs))
    assert history.loss == losses and history.step == list(range(12))
    assert history.epoch == [0] * 4 + [1] * 4 + [2] * 4


def test_k_micro_batches_equal_one_batch_k_times_larger():
    X, y = regression_data(n=30)  # 30 rows: micro-batches of 4 leave a short one of 2
    small, large = tiny_mlp(), tiny_mlp()
    opt_small = torch.optim.SGD(small.parameters(), lr=0.05, momentum=0.9)
    opt_large = torch.optim.SGD(large.parameters(), lr=0.05, momentum=0.9)
    schedule = lambda step: 0.05 / (1 + step)
    micro = fit(
        small,
        F.mse_loss,
        opt_small,
        Batches(X, y, batch_size=4, shuffle=False),
        epochs=2,
        accumulate=3,
        schedule=schedule,
        progress=False,
    )
    whole = fit(
        large,
        F.mse_loss,
        opt_large,
        Batches(X, y, batch_size=12, shuffle=False),
        epochs=2,
        schedule=schedule,
        progress=False,
    )
    assert_same(params(small), params(large), atol=1e-12)
    assert micro.step == whole.step == list(range(6))  # groups of 12, 12 and 6 rows each epoch
    assert micro.lr == whole.lr == [schedule(s) for s in range(6)]
    assert micro.loss == pytest.approx(whole.loss, rel=1e-12)


def test_closed_form_schedule_sets_the_rate_before_each_update():
    w = nn.Parameter(torch.tensor([1.0], dtype=torch.float64))
    model = nn.Linear(1, 1, bias=False).double()
    with torch.no_grad():
        model.weight.fill_(1.0)
    X, y = torch.ones(1, 1, dtype=torch.float64), torch.zeros(1, 1, dtype=torch.float64)
    rates = [0.1, 0.2, 0.05]
    history = fit(
        model,
        F.mse_loss,
        torch.optim.SGD(model.parameters(), lr=99.0),
        [(X, y)],
        epochs=3,
        schedule=lambda step: rates[step],
        progress=False,
    )
    for lr in rates:  # loss w^2, gradient 2w: w <- w (1 - 2 lr)
        w.data *= 1 - 2 * lr
    assert model.weight.item() == pytest.approx(w.item(), rel=1e-15)
    assert history.lr == rates


def test_lr_scheduler_is_stepped_after_each_update():
    X, y = regression_data()
    model = tiny_mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    history = fit(
        model, F.mse_loss, optimizer, Batches(X, y, batch_size=10), epochs=2, schedule=scheduler, progress=False
    )
    assert history.lr == [0.1, 0.1, 0.05, 0.05, 0.025, 0.025]
    assert scheduler.last_epoch == 6


def test_clip_norm_records_the_norm_before_clipping_and_clips():
    X, y = regression_data(n=8)
    ours, theirs = tiny_mlp(), tiny_mlp()
    history = fit(
        ours, F.mse_loss, torch.optim.SGD(ours.parameters(), lr=0.1), [(X, y)], epochs=1, clip_norm=0.5, progress=False
    )
    F.mse_loss(theirs(X), y).backward()
    norm = torch.cat([p.grad.flatten() for p in theirs.parameters()]).norm()
    assert norm > 0.5 and history.grad_norm[0] == pytest.approx(norm.item(), rel=1e-12)
    with torch.no_grad():
        for p in theirs.parameters():
            p -= 0.1 * p.grad * 0.5 / (norm + 1e-6)  # torch's clip factor max_norm / (norm + 1e-6)
    assert_same(params(ours), params(theirs), atol=1e-14)


def test_clip_value_clamps_each_gradient():
    X, y = regression_data(n=8)
    ours, theirs = tiny_mlp(), tiny_mlp()
    history = fit(
        ours,
        F.mse_loss,
        torch.optim.SGD(ours.parameters(), lr=0.1),
        [(X, y)],
        epochs=1,
        clip_value=0.01,
        progress=False,
    )
    F.mse_loss(theirs(X), y).backward()
    norm = torch.cat([p.grad.flatten() for p in theirs.parameters()]).norm()
    assert history.grad_norm[0] == pytest.approx(norm.item(), rel=1e-12)
    with torch.no_grad():
        for p in theirs.parameters():
            p -= 0.1 * p.grad.clamp(-0.01, 0.01)
    assert_same(params(ours), params(theirs), atol=1e-15)


def test_bfloat16_autocast_on_request_tracks_float32():
    X, y = regression_data(n=64)
    seen = []

    def loss_fn(output, target):
        seen.append(output.dtype)
        return F.mse_loss(output.float(), target)

    def run(mixed_precision):
        torch.manual_seed(0)
        model = MLP(3, hidden=(16,), out_features=1)
        return fit(
            model,
            loss_fn,
            torch.optim.Adam(model.parameters(), lr=0.02),
            Batches(X.float(), y.float(), batch_size=16),
            epochs=15,
            mixed_precision=mixed_precision,
            progress=False,
        )

    full, mixed = run(False), run(True)
    assert seen[0] == torch.float32 and seen[-1] == torch.bfloat16
    assert full.loss[-1] < full.loss[0] / 4
    assert mixed.loss[-1] == pytest.approx(full.loss[-1], rel=0.2)  # bfloat16 keeps 8 bits of mantissa


def test_float16_gradients_are_unscaled_before_clipping_and_recording():
    X, y = regression_data(n=8)
    model, reference = MLP(3, hidden=(4,), out_features=1), MLP(3, hidden=(4,), out_features=1)
    reference.load_state_dict(model.state_dict())
    history = fit(
        model,
        F.mse_loss,
        torch.optim.SGD(model.parameters(), lr=0.01),
        [(X.float(), y.float())],
        epochs=30,
        mixed_precision=torch.float16,
        clip_norm=1e6,
        progress=False,
    )
    # the scaler starts at 65536 and halves after each overflow, skipping those updates: until the
    # first finite norm the parameters have not moved, so that norm is the one at the initial point
    first = next(i for i, norm in enumerate(history.grad_norm) if math.isfinite(norm))
    assert history.diverged is None and len(history.loss) == 30
    F.mse_loss(reference(X.float()), y.float()).backward()
    norm = torch.cat([p.grad.flatten() for p in reference.parameters()]).norm().item()
    assert history.grad_norm[first] == pytest.approx(norm, rel=0.02)  # scaled it would be thousands of times larger


def diverging_run(lr, **kwargs):
    X, y = regression_data()
    model = tiny_mlp()
    with pytest.warns(DivergenceWarning) as warned:
        history = fit(
            model,
            F.mse_loss,
            torch.optim.SGD(model.parameters(), lr=lr),
            Batches(X, y, batch_size=10),
            epochs=50,
            progress=False,
            **kwargs,
        )
    return model, history, str(warned[0].message)


def test_exploding_loss_stops_with_step_and_rate_named():
    model, history, message = diverging_run(lr=3.0)
    last = history.step[-1]
    assert f"step {last}" in message and "lr=3" in message and history.diverged == message
    assert history.loss[-1] > 100 * history.loss[0] and all(math.isfinite(v) for v in history.loss)
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert len(history.loss) == last + 1 < 150


def test_non_finite_loss_leaves_the_model_before_that_update():
    X, y = regression_data()
    calls = []

    def loss_fn(output, target):
        calls.append(1)
        loss = F.mse_loss(output, target)
        return loss * math.nan if len(calls) == 5 else loss

    model = tiny_mlp()
    with pytest.warns(DivergenceWarning, match=r"step 4 \(epoch 1\) with lr=0.01: the loss is nan"):
        history = fit(
            model,
            loss_fn,
            torch.optim.SGD(model.parameters(), lr=0.01),
            Batches(X, y, batch_size=10),
            epochs=3,
            progress=False,
        )
    assert math.isnan(history.loss[-1]) and len(history.loss) == 5
    replay, batches = tiny_mlp(), Batches(X, y, batch_size=10)  # the same 4 updates, by hand
    optimizer = torch.optim.SGD(replay.parameters(), lr=0.01)
    for (xb, yb), _ in zip((b for _ in range(2) for b in batches), range(4)):
        optimizer.zero_grad()
        F.mse_loss(replay(xb), yb).backward()
        optimizer.step()
    assert_same(params(model), params(replay))


def test_divergence_check_can_be_loosened():
    X, y = regression_data()
    model = tiny_mlp()
    history = fit(
        model,
        F.mse_loss,
        torch.optim.SGD(model.parameters(), lr=0.05),
        Batches(X, y, batch_size=10),
        epochs=2,
        divergence_factor=None,
        progress=False,
    )
    assert history.diverged is None and len(history.loss) == 6


def test_validation_each_epoch():
    X, y = regression_data()
    model = tiny_mlp()
    history = fit(
        model,
        F.mse_loss,
        torch.optim.SGD(model.parameters(), lr=0.05),
        Batches(X, y, batch_size=10),
        epochs=2,
        val_data=(X, y),
        progress=False,
    )
    assert [row["epoch"] for row in history.val] == [0, 1] and [row["step"] for row in history.val] == [3, 6]
    with torch.no_grad():
        assert history.val[-1]["loss"] == pytest.approx(F.mse_loss(model(X), y).item(), rel=1e-12)
    assert "val_loss" in history.table()


def test_an_iterator_instead_of_a_re_iterable_is_an_error():
    X, y = regression_data()
    model = tiny_mlp()
    with pytest.raises(ValueError, match="train_batches"):
        fit(model, F.mse_loss, torch.optim.SGD(model.parameters(), lr=0.05), iter([(X, y)]), epochs=2, progress=False)


@pytest.mark.parametrize(
    "kwargs,name",
    [
        ({"epochs": 0}, "epochs"),
        ({"epochs": 1, "accumulate": 0}, "accumulate"),
        ({"epochs": 1, "clip_norm": -1.0}, "clip_norm"),
        ({"epochs": 1, "clip_value": 0.0}, "clip_value"),
        ({"epochs": 1, "clip_norm": 1.0, "clip_value": 1.0}, "clip_norm or clip_value"),
        ({"epochs": 1, "divergence_factor": 0.5}, "divergence_factor"),
        ({"epochs": 1, "checkpoint_every": 0}, "checkpoint_every"),
        ({"epochs": 1, "schedule": 0.1}, "schedule"),
        ({"epochs": 1, "mixed_precision": torch.float64}, "mixed_precision"),
    ],
)
def test_bad_arguments_are_named(kwargs, name):
    model = tiny_mlp()
    with pytest.raises(ValueError, match=name):
        fit(
            model,
            F.mse_loss,
            torch.optim.SGD(model.parameters(), lr=0.1),
            [regression_data()],
            progress=False,
            **kwargs,
        )


@pytest.fixture
def one_thread():
    """Small convolutions gain nothing from a second thread, and on a shared machine it only waits."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.skipif(not os.environ.get("LRCOURSE_DATA"), reason="LRCOURSE_DATA names no real MNIST")
def test_article_cnn_learns_a_slice_of_mnist(one_thread):
    from lrcourse.data import mnist
    from lrcourse.models import ArticleCNN

    images, labels = mnist("test", size=768, download=False)  # the test split is the quicker one to read
    torch.manual_seed(0)
    model = ArticleCNN()
    history = fit(
        model,
        F.cross_entropy,
        torch.optim.Adam(model.parameters(), lr=2e-3),
        Batches(images[:512], labels[:512], batch_size=32),
        epochs=3,
        val_data=(images[512:], labels[512:]),
        progress=False,
    )
    assert history.loss[0] == pytest.approx(math.log(10), abs=0.1)  # untrained: about uniform over 10 digits
    assert history.val[-1]["accuracy"] > 0.6 and history.val[-1]["loss"] < history.val[0]["loss"]


@pytest.mark.parametrize("device", available_devices(), ids=str)
def test_everything_fit_creates_lives_on_the_model_device(device):
    X, y = (t.float().to(device) for t in regression_data())
    model = MLP(3, hidden=(5,), out_features=1).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    history = fit(
        model,
        F.mse_loss,
        optimizer,
        Batches(X, y, batch_size=10),
        epochs=2,
        val_data=(X, y),
        clip_norm=1.0,
        progress=False,
    )
    assert len(history.loss) == 6 and all(math.isfinite(v) for v in history.loss + history.grad_norm)
    assert all(state["exp_avg"].device.type == device.type for state in optimizer.state.values())


@pytest.mark.skipif(not is_available("cuda"), reason="needs a CUDA device")
def test_cpu_batches_feed_a_cuda_model_in_float16():
    X, y = (t.float() for t in regression_data(n=64))
    model = MLP(3, hidden=(16,), out_features=1).cuda()
    history = fit(
        model,
        F.mse_loss,
        torch.optim.SGD(model.parameters(), lr=0.01),
        Batches(X, y, batch_size=16),
        epochs=5,
        mixed_precision=torch.float16,
        clip_norm=10.0,
        progress=False,
    )
    assert history.diverged is None and history.loss[-1] < history.loss[0]


def test_a_model_left_in_eval_mode_is_trained_in_train_mode():
    X, y = regression_data()
    model = nn.Sequential(nn.Linear(3, 4), nn.Dropout(0.5), nn.Linear(4, 1)).double()
    modes = []
    model.register_forward_pre_hook(lambda module, args: modes.append(module.training))
    model.eval()
    fit(
        model,
        F.mse_loss,
        torch.optim.SGD(model.parameters(), lr=0.01),
        Batches(X, y, batch_size=10),
        epochs=1,
        val_data=(X, y),
        progress=False,
    )
    assert modes == [True, True, True, False] and model.training  # three steps, then validation


# --- issue 20: bad rates, early checks, the history on an exception, tensor rates ----------------


def plain_run(**kwargs):
    X, y = regression_data()
    model = tiny_mlp()
    optimizer = kwargs.pop("optimizer") if "optimizer" in kwargs else torch.optim.SGD(model.parameters(), lr=0.01)
    batches = kwargs.pop("batches") if "batches" in kwargs else Batches(X, y, batch_size=10)
    kwargs = {"epochs": 2, "progress": False, **kwargs}
    return model, lambda: fit(model, F.mse_loss, optimizer, batches, **kwargs)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -0.1])
def test_a_schedule_rate_that_is_not_finite_and_non_negative_is_an_error(bad):
    def schedule(step):
        return bad if step >= 2 else 0.01

    model, run = plain_run(schedule=schedule)
    with pytest.raises(ValueError, match=r"schedule .* step 2") as error:
        run()
    assert repr(bad) in str(error.value) and "finite number >= 0" in str(error.value)
    assert all(torch.isfinite(p).all() for p in model.parameters())
    assert error.value.history.step == [0, 1]  # the two good updates were recorded


def test_a_scheduler_that_sets_a_bad_rate_is_an_error():
    model = tiny_mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: -1.0 if step >= 1 else 1.0)
    _, run = plain_run(optimizer=optimizer, schedule=scheduler)
    with pytest.raises(ValueError, match=r"lr=-0.01 .*step 1"):
        run()


def test_an_exception_keeps_the_history_recorded_so_far():
    X, y = regression_data()
    calls = []

    def loss_fn(output, target):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return F.mse_loss(output, target)

    model = tiny_mlp()
    with pytest.raises(KeyboardInterrupt) as error:
        fit(model, loss_fn, torch.optim.SGD(model.parameters(), lr=0.01), Batches(X, y, batch_size=10), epochs=2)
    assert error.value.history.step == [0, 1, 2] and len(error.value.history.loss) == 3


@pytest.mark.parametrize(
    "val_data,match",
    [
        (lambda X, y: (X[:0], y[:0]), "val_data"),
        (lambda X, y: (X, y[:5]), "val_data"),
    ],
)
def test_bad_validation_data_is_an_error_before_training(val_data, match):
    X, y = regression_data()
    model, run = plain_run(val_data=val_data(X, y))
    before = params(model)
    with pytest.raises(ValueError, match=match):
        run()
    assert_same(params(model), before)


def test_an_unwritable_checkpoint_is_an_error_before_training(tmp_path):
    (tmp_path / "file").write_text("not a folder")
    model, run = plain_run(checkpoint=tmp_path / "file" / "run.pt")
    before = params(model)
    with pytest.raises((OSError, ValueError), match="checkpoint"):
        run()
    assert_same(params(model), before)


def test_an_empty_data_set_is_named_as_empty():
    X, y = regression_data()
    _, run = plain_run(batches=Batches(X[:0], y[:0], batch_size=10))
    with pytest.raises(ValueError, match="train_batches is empty") as error:
        run()
    assert "iterator" not in str(error.value)


def test_checkpoint_every_true_is_refused():
    _, run = plain_run(checkpoint_every=True)
    with pytest.raises(ValueError, match="checkpoint_every"):
        run()


def test_a_tensor_rate_is_recorded_as_numbers():
    model = tiny_mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=torch.tensor(0.1))
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1, 0.5)
    _, run = plain_run(optimizer=optimizer, schedule=scheduler)
    history = run()
    assert history.lr == pytest.approx([0.1, 0.05, 0.025, 0.0125, 0.00625, 0.003125], rel=1e-7)  # float32
    assert all(type(lr) is float for lr in history.lr)


# --- issue 20: fit's missing pieces ---------------------------------------------------------------


def test_on_epoch_end_sees_each_epoch_and_can_stop_training():
    X, y = regression_data()
    seen = []

    def on_epoch_end(history):
        seen.append((history.epoch[-1], len(history.loss), len(history.val)))
        return len(seen) == 2  # stop after the second epoch

    _, run = plain_run(epochs=5, val_data=(X, y), on_epoch_end=on_epoch_end)
    history = run()
    assert seen == [(0, 3, 1), (1, 6, 2)] and len(history.loss) == 6
    assert history.stopped == "on_epoch_end asked to stop after epoch 1" and history.diverged is None


def test_early_stopping_stops_once_the_best_validation_loss_is_patience_epochs_old():
    from lrcourse.train import EarlyStopping
    from lrcourse.train.history import History

    stop = EarlyStopping(patience=2)
    history = History()
    decisions = []
    for epoch, loss in enumerate([1.0, 0.5, 0.6, 0.55, 0.7]):
        history.record_validation(epoch=epoch, step=epoch, metrics={"loss": loss})
        decisions.append(stop(history))
    assert decisions == [False, False, False, True, True]  # best at epoch 1, two epochs without a better one
    assert EarlyStopping(patience=0, metric="accuracy", mode="max")(history) is False  # no accuracy recorded yet


def test_early_stopping_in_fit_keeps_the_model_of_the_last_epoch_trained():
    from lrcourse.train import EarlyStopping

    X, y = regression_data()
    _, run = plain_run(epochs=50, val_data=(X[:5], y[:5]), on_epoch_end=EarlyStopping(patience=0, min_delta=10.0))
    history = run()
    assert len(history.val) == 2 and "after epoch 1" in history.stopped


def test_divergence_reference_survives_fitting_in_pieces():
    X, y = regression_data()
    shifted = y.clone()
    shifted[10:] += 3.0  # the second piece's first batch is the trained one, its later ones are harder

    def in_pieces(**options):
        model = tiny_mlp()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.05)
        first = fit(model, F.mse_loss, optimizer, Batches(X, y, batch_size=10), epochs=40, progress=False)
        batches = Batches(X, shifted, batch_size=10, shuffle=False)
        reference = {"divergence_reference": first.loss[0]} if options.pop("continue_reference") else {}
        return first, fit(model, F.mse_loss, optimizer, batches, epochs=1, progress=False, **reference)

    with pytest.warns(DivergenceWarning, match="times the first loss"):  # against its own tiny first loss
        first, second = in_pieces(continue_reference=False)
    assert second.loss[0] < first.loss[0] / 100 < second.loss[1]  # a false alarm, by the first run's scale
    first, second = in_pieces(continue_reference=True)
    assert second.diverged is None and len(second.loss) == 3


def test_divergence_reference_must_be_positive():
    _, run = plain_run(divergence_reference=0.0)
    with pytest.raises(ValueError, match="divergence_reference"):
        run()


def test_any_group_key_can_be_scheduled_and_momentum_is_recorded():
    from lrcourse import schedules

    model = tiny_mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=0.0)
    scheduler = schedules.attach(
        optimizer,
        schedules.constant(0.01),
        momentum=schedules.linear(0.5, 0.9, 6),
        extra={"weight_decay": schedules.linear(0.0, 0.06, 6)},
    )
    seen = []
    original = optimizer.step

    def step(*args, **kwargs):
        group = optimizer.param_groups[0]
        seen.append((group["momentum"], group["weight_decay"]))
        return original(*args, **kwargs)

    optimizer.step = step
    _, run = plain_run(optimizer=optimizer, schedule=scheduler)
    history = run()
    expected = [0.5 + 0.4 * k / 6 for k in range(6)]
    assert [m for m, _ in seen] == pytest.approx(expected) and [w for _, w in seen] == pytest.approx(
        [0.01 * k for k in range(6)]
    )
    assert history.momentum == pytest.approx(expected) and history.lr == pytest.approx([0.01] * 6)


def test_momentum_is_recorded_only_when_scheduled():
    _, run = plain_run()
    assert run().momentum == []
    model = tiny_mlp()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    one_cycle = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=0.05, total_steps=6)
    _, run = plain_run(optimizer=optimizer, schedule=one_cycle)
    assert len(run().momentum) == 6


def test_total_norm_equals_torchs_get_total_norm_bit_for_bit():
    from lrcourse.train.step import total_norm

    gen = torch.Generator().manual_seed(0)
    grads = [torch.randn(shape, generator=gen) * scale for shape, scale in [((300, 7), 1e-3), ((7,), 5.0), ((), 2.0)]]
    assert torch.equal(total_norm(grads), torch.nn.utils.get_total_norm(grads))
    mixed = [grads[0], grads[1].double()]  # two dtypes: torch's grouping path
    assert torch.equal(total_norm(mixed), torch.nn.utils.get_total_norm(mixed))
