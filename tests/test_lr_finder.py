import math

import matplotlib
import numpy as np
import pytest
import torch
from torch import nn
from torch.nn import functional as F

from lrcourse import lr_finder
from lrcourse.batching import Batches
from lrcourse.lr_finder import RangeTestResult, minimum_over_ten, range_test, steepest, suggestions, sweep_rates, valley

matplotlib.use("Agg")


def regression(n=32):
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(n, 3, generator=generator, dtype=torch.float64)
    return X, X @ torch.tensor([[1.0], [-2.0], [0.5]], dtype=torch.float64)


def small_net(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 6), nn.ReLU(), nn.Linear(6, 1)).double()


def test_sweep_rates_exponential_and_linear():
    np.testing.assert_allclose(sweep_rates(1e-6, 1.0, 7), np.logspace(-6, 0, 7), rtol=1e-12)
    assert sweep_rates(0.1, 0.5, 5, mode="linear") == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5])


@pytest.mark.parametrize(
    "args,kwargs,name",
    [
        ((1e-3, 1.0, 1), {}, "num_steps"),
        ((1.0, 0.1, 5), {}, "start_lr"),
        ((0.0, 1.0, 5), {}, "start_lr"),
        ((1e-3, 1.0, 5), {"mode": "cosine"}, "mode"),
    ],
)
def test_sweep_rates_rejects_bad_arguments(args, kwargs, name):
    with pytest.raises(ValueError, match=name):
        sweep_rates(*args, **kwargs)


def test_the_sweep_is_a_plain_training_loop_with_rising_rates():
    X, y = regression()
    model, reference = small_net(), small_net()
    result = range_test(
        model,
        F.mse_loss,
        torch.optim.SGD(model.parameters(), lr=1.0),
        Batches(X, y, batch_size=8, shuffle=False),
        start_lr=1e-4,
        end_lr=1e-1,
        num_steps=10,
        smoothing=0.0,
    )
    optimizer, raw = torch.optim.SGD(reference.parameters(), lr=1.0), []
    batches = [b for _ in range(3) for b in Batches(X, y, batch_size=8, shuffle=False)]
    for lr, (xb, yb) in zip(sweep_rates(1e-4, 1e-1, 10), batches):
        optimizer.param_groups[0]["lr"] = lr
        optimizer.zero_grad()
        loss = F.mse_loss(reference(xb), yb)
        loss.backward()
        optimizer.step()
        raw.append(loss.item())
    assert result.raw_losses == raw and result.losses == raw  # smoothing 0: the raw losses
    assert result.lrs == sweep_rates(1e-4, 1e-1, 10) and not result.diverged


def test_smoothing_is_a_bias_corrected_moving_average():
    X, y = regression()
    model = small_net()
    result = range_test(
        model,
        F.mse_loss,
        torch.optim.SGD(model.parameters(), lr=1.0),
        Batches(X, y, batch_size=8),
        start_lr=1e-4,
        end_lr=1e-2,
        num_steps=8,
        smoothing=0.9,
    )
    average, expected = 0.0, []
    for i, loss in enumerate(result.raw_losses):
        average = 0.9 * average + 0.1 * loss
        expected.append(average / (1 - 0.9 ** (i + 1)))
    assert result.losses == pytest.approx(expected, rel=1e-12)
    assert result.losses[0] == result.raw_losses[0]


def test_accumulated_micro_batches_give_the_same_sweep():
    X, y = regression(n=32)
    small, large = small_net(), small_net()
    micro = range_test(
        small,
        F.mse_loss,
        torch.optim.SGD(small.parameters(), lr=1.0),
        Batches(X, y, batch_size=4, shuffle=False),
        start_lr=1e-3,
        end_lr=0.3,
        num_steps=12,
        accumulate=2,
        smoothing=0.5,
    )
    whole = range_test(
        large,
        F.mse_loss,
        torch.optim.SGD(large.parameters(), lr=1.0),
        Batches(X, y, batch_size=8, shuffle=False),
        start_lr=1e-3,
        end_lr=0.3,
        num_steps=12,
        smoothing=0.5,
    )
    assert micro.raw_losses == pytest.approx(whole.raw_losses, rel=1e-12)
    assert len(micro.raw_losses) == 12


def test_everything_is_restored_exactly():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.Dropout(0.2), nn.ReLU(), nn.Linear(8, 1)).double()
    X, y = regression()
    batches = Batches(X, y, batch_size=8)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    for xb, yb in batches:  # give the optimizer some state to lose
        optimizer.zero_grad()
        F.mse_loss(model(xb), yb).backward()
        optimizer.step()
    model.eval()
    model[2].train()  # a mixed mode, to see each module's flag come back
    before_model = {k: v.clone() for k, v in model.state_dict().items()}
    before_optimizer = optimizer.state_dict()
    before_state = {i: {k: v.clone() for k, v in s.items()} for i, s in before_optimizer["state"].items()}
    before_groups = [dict(g) for g in before_optimizer["param_groups"]]
    torch.manual_seed(42)
    expected_random = torch.rand(4)
    torch.manual_seed(42)

    result = range_test(model, F.mse_loss, optimizer, batches, start_lr=1e-4, end_lr=100.0, num_steps=30)

    assert result.diverged and len(result.lrs) < 30  # it did train, up to divergence
    assert torch.equal(torch.rand(4), expected_random)
    after = model.state_dict()
    assert all(torch.equal(before_model[k], after[k]) for k in before_model)  # weights and BatchNorm statistics
    assert [m.training for m in model.modules()] == [False, False, False, True, False, False]
    state = optimizer.state_dict()
    assert state["param_groups"] == before_groups
    assert all(torch.equal(before_state[i][k], state["state"][i][k]) for i in before_state for k in before_state[i])
    assert batches.epoch == 1


def test_a_fresh_optimizer_stays_fresh():
    X, y = regression()
    model = small_net()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    range_test(model, F.mse_loss, optimizer, [(X, y)], num_steps=5)
    assert len(optimizer.state) == 0 and optimizer.param_groups[0]["lr"] == 0.01


def test_stops_once_the_smoothed_loss_passes_four_times_its_minimum():
    X, y = regression()
    model = small_net()
    result = range_test(
        model,
        F.mse_loss,
        torch.optim.SGD(model.parameters(), lr=1.0),
        Batches(X, y, batch_size=8),
        start_lr=1e-3,
        end_lr=1e3,
        num_steps=100,
        smoothing=0.5,
    )
    assert result.diverged and len(result.losses) < 100
    finite = [v for v in result.losses[:-1]]
    assert all(v <= 4 * min(finite[: i + 1]) for i, v in enumerate(finite))
    assert not result.losses[-1] <= 4 * min(finite)


def test_suggestions_on_a_known_curve():
    lrs = np.logspace(-6, 0, 121)
    x = np.log10(lrs)
    losses = 2 - np.tanh(x + 3) + np.exp(3 * (x + 0.5))  # falls fastest at 1e-3, bottoms out near 10^-0.9
    assert steepest(lrs, losses) == pytest.approx(1e-3, rel=0.13)  # within one grid step (10^0.05)
    bottom = int(np.argmin(losses))
    assert minimum_over_ten(lrs, losses) == pytest.approx(lrs[bottom] / 10)
    # the loss falls all the way from the first rate to the bottom: fastai's start is one before the first
    # point, and the suggestion about halfway to the bottom
    length = bottom + 1
    assert valley(lrs, losses) == lrs[-1 + int(length / 3) + int(length / 6)]
    assert set(suggestions(lrs, losses)) == {"steepest", "valley", "minimum/10"}


def test_steepest_ignores_the_blow_up_past_the_minimum():
    # a range test's blow-up is noisy: a drop there can be steeper than any on the way down
    lrs = np.logspace(-4, 1, 11)
    losses = [2.3, 2.3, 2.2, 2.0, 1.6, 1.2, 1.0, 3.0, 9.0, 1.5, 30.0]
    slopes = np.gradient(losses, np.log10(lrs))
    assert np.argmin(slopes) == 8  # the unrestricted rule would pick lr = 1, in the blow-up
    assert steepest(lrs, losses) == pytest.approx(lrs[4])  # (1.2 - 2.0) / 1 decade, before the minimum


def test_steepest_needs_a_loss_that_falls():
    with pytest.raises(ValueError, match="never falls"):
        steepest([0.1, 1.0, 10.0], [1.0, 2.0, 3.0])


def fastai_valley(lrs, losses):
    """fastai's valley (fastai/callback/schedule.py), transcribed as the oracle: the index it suggests."""
    n = len(losses)
    max_start, max_end = 0, 0
    lds = [1] * n
    for i in range(1, n):
        for j in range(0, i):
            if (losses[i] < losses[j]) and (lds[i] < lds[j] + 1):
                lds[i] = lds[j] + 1
            if lds[max_end] < lds[i]:
                max_end = i
                max_start = max_end - lds[max_end]
    sections = (max_end - max_start) / 3
    return max_start + int(sections) + int(sections / 2)


@pytest.mark.parametrize("seed", range(20))
def test_valley_is_fastais_valley(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 60))
    lrs = np.logspace(-5, 1, n)
    losses = 2 - np.tanh(np.linspace(-3, 3, n)) + rng.normal(0, 0.3, n)  # a noisy fall, then noise
    index = fastai_valley(list(lrs), list(losses))
    assert valley(lrs, losses) == lrs[max(index, 0)]  # fastai would read a negative index from the end


def test_valley_starts_at_end_minus_length_not_at_the_true_start():
    # the longest decreasing subsequence is 9 8 7 6 1 (indices 0, 3, 4, 5, 6): it truly starts at 0,
    # fastai puts the start at end - length = 6 - 5 = 1 and suggests 1 + int(5/3) + int(5/6) = 2
    lrs = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
    assert valley(lrs, [9.0, 1.5, 1.4, 8.0, 7.0, 6.0, 1.0, 10.0]) == 3.0


def test_the_rules_read_the_curve_trimmed_as_fastai_does():
    lrs = list(np.logspace(-6, 1, 80))
    losses = list(np.linspace(3.0, 1.0, 80))  # still falling when the sweep ends
    result = RangeTestResult(lrs, losses, losses, diverged=False, num_steps=100)
    kept, values = result.trimmed()
    assert kept == lrs[10:75] and values == losses[10:75]  # 100 // 10 first points, the last 5
    assert result.suggestions() == suggestions(kept, values)
    assert result.suggestions()["minimum/10"] == pytest.approx(lrs[74] / 10)
    short = RangeTestResult(lrs[:6], losses[:6], losses[:6], diverged=False)
    assert short.trimmed() == (lrs[:6], losses[:6])  # nothing would be left: the whole curve


def test_range_test_records_its_planned_length():
    X, y = regression()
    model = small_net()
    result = range_test(model, F.mse_loss, torch.optim.SGD(model.parameters(), lr=0.1), [(X, y)], num_steps=7)
    assert result.num_steps == 7


def scripted_sweep(raw_losses, **kwargs):
    """A sweep whose raw loss is the given sequence (the model only carries the gradient)."""
    model = nn.Linear(1, 1)
    values = iter(raw_losses)

    def loss_fn(output, target):
        return next(values) + 0 * output.sum()

    return range_test(
        model,
        loss_fn,
        torch.optim.SGD(model.parameters(), lr=0.1),
        [(torch.ones(1, 1), torch.ones(1, 1))],
        num_steps=len(raw_losses),
        **kwargs,
    )


@pytest.mark.parametrize("smoothing,steps", [(0.8, 7), (0.98, 69)])
def test_how_long_the_average_takes_to_see_a_jump(smoothing, steps):
    # after a long flat start the raw loss jumps to 5 times its level: the average passes 4 times the
    # minimum once smoothing**m < 1/4, after m = ceil(ln 4 / ln(1 / smoothing)) steps
    assert steps == math.ceil(math.log(4) / math.log(1 / smoothing))
    flat = 1000  # long enough for the bias correction to have faded
    result = scripted_sweep([1.0] * flat + [5.0] * 100, smoothing=smoothing)
    assert result.diverged and len(result.losses) == flat + steps


def test_the_default_smoothing_catches_a_jump_within_a_few_steps():
    result = scripted_sweep([1.0] * 90 + [5.0] * 10)
    assert result.diverged and len(result.losses) <= 97


def test_suggestions_ignore_the_non_finite_tail():
    lrs, losses = [0.001, 0.01, 0.1, 1.0, 10.0], [1.0, 0.8, 0.3, 0.6, math.nan]
    assert minimum_over_ten(lrs, losses) == pytest.approx(0.01)
    # valley 3 2 1 ends at index 2, fastai's start 2 - 3 = -1, suggestion -1 + 1 + 0 = 0
    assert valley([1, 2, 3, 4, 5], [3.0, 2.0, 1.0, 2.0, math.inf]) == 1.0
    with pytest.raises(ValueError, match="losses"):
        steepest([1.0, 2.0], [math.nan, 1.0])
    with pytest.raises(ValueError, match="same length"):
        valley([1.0, 2.0], [1.0])


def test_plot_marks_the_suggestions():
    result = RangeTestResult([1e-3, 1e-2, 1e-1, 1.0], [2.0, 1.5, 0.5, 8.0], [2.1, 1.4, 0.6, 9.0], diverged=True)
    ax = lr_finder.plot(result)
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels[:2] == ["raw", "smoothed"] and labels[4] == "minimum/10: 0.01"
    assert ax.get_xscale() == "log" and ax.get_ylim()[1] < 8.0  # the blow-up is cut off


def test_bad_arguments_are_named():
    model = small_net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for kwargs, name in [
        ({"smoothing": 1.0}, "smoothing"),
        ({"divergence_factor": 1.0}, "divergence_factor"),
        ({"accumulate": 0}, "accumulate"),
        ({"clip_norm": -1.0}, "clip_norm"),
    ]:
        with pytest.raises(ValueError, match=name):
            range_test(model, F.mse_loss, optimizer, [regression()], **kwargs)


@pytest.mark.parametrize("had_grad", [False, True])
def test_gradients_are_restored_as_they_were(had_grad):
    X, y = regression()
    model = small_net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    if had_grad:
        F.mse_loss(model(X), y).backward()
    before = [None if p.grad is None else p.grad.clone() for p in model.parameters()]
    range_test(model, F.mse_loss, optimizer, [(X, y)], start_lr=1e-4, end_lr=10.0, num_steps=20)
    for old, p in zip(before, model.parameters()):
        assert (p.grad is None) if old is None else torch.equal(p.grad, old)


@pytest.mark.parametrize(
    "start_lr,end_lr", [(1e-3, math.inf), (math.nan, 1.0), (1e-3, math.nan), (-math.inf, 1.0), ("0.001", 1.0)]
)
def test_rates_that_are_not_finite_numbers_are_refused(start_lr, end_lr):
    with pytest.raises(ValueError, match=r"start_lr|end_lr") as error:
        sweep_rates(start_lr, end_lr, 10)
    assert "finite" in str(error.value)
