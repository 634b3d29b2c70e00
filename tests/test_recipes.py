"""Tests of lrcourse.recipes: schedules against hand-computed rates, the stopping rule, bad input."""

import itertools
import math

import pytest
import torch

from lrcourse import recipes
from lrcourse.models import ArticleCNN
from lrcourse.recipes import ARTICLE, FAST, Recipe, check_points, collapsed, timed_train, train
from lrcourse.seeding import seed_everything
from lrcourse.train import DivergenceWarning, evaluate


@pytest.fixture
def tiny():
    """48 random 28x28 images with 10 labels, and 16 more to test on."""
    generator = torch.Generator().manual_seed(0)
    X = torch.randn(64, 1, 28, 28, generator=generator)
    y = torch.randint(0, 10, (64,), generator=generator)
    return (X[:48], y[:48]), (X[48:], y[48:])


def test_article_recipe_is_the_articles():
    assert (ARTICLE.optimizer, ARTICLE.lr, ARTICLE.batch_size, ARTICLE.epochs) == ("adam", 1e-3, 64, 10)
    assert set(ARTICLE.rates(steps_per_epoch=938)) == {1e-3}


def test_step_decay_rates_by_hand():
    r = Recipe("sgd", 0.1, batch_size=8, epochs=3, schedule="step", step_epochs=1, gamma=0.1)
    expected = [0.1] * 2 + [0.01] * 2 + [0.001] * 2
    assert r.rates(steps_per_epoch=2) == pytest.approx(expected, rel=1e-12)


def test_cosine_rates_by_hand():
    r = Recipe("sgd", 0.4, batch_size=8, epochs=2, schedule="cosine")
    # T = 4 updates: 0.2 (1 + cos(pi t / 4)) for t = 0..3
    assert r.rates(steps_per_epoch=2) == pytest.approx(
        [0.4, 0.2 * (1 + math.sqrt(0.5)), 0.2, 0.2 * (1 - math.sqrt(0.5))]
    )


def test_warmup_cosine_rates_by_hand():
    r = Recipe("adam", 1.0, batch_size=8, epochs=1, schedule="warmup_cosine", warmup=0.25)
    # 8 updates: 2 of warmup (0, 0.5), then cosine over 6: 0.5 (1 + cos(pi k / 6))
    expected = [0.0, 0.5] + [0.5 * (1 + math.cos(math.pi * k / 6)) for k in range(6)]
    assert r.rates(steps_per_epoch=8) == pytest.approx(expected)


def test_one_cycle_starts_at_a_25th_and_peaks_where_pct_start_says():
    r = Recipe("sgd", 0.2, batch_size=8, epochs=2, schedule="one_cycle", warmup=0.25, momentum=0.9)
    rates = r.rates(steps_per_epoch=10)  # T = 20, peak at 0.25 * 20 - 1 = step 4
    assert rates[0] == pytest.approx(0.2 / 25)
    assert rates.index(max(rates)) == 4 and max(rates) == pytest.approx(0.2)
    assert rates[-1] == pytest.approx(0.2 / 25 / 1e4)


def test_one_cycle_cycles_momentum_only_when_there_is_momentum():
    model = torch.nn.Linear(2, 1)
    plain = Recipe("sgd", 0.1, batch_size=8, epochs=1, schedule="one_cycle")
    opt = plain.make_optimizer(model)
    plain.attach(opt, steps_per_epoch=10)
    assert opt.param_groups[0]["momentum"] == 0.0
    opt = FAST.make_optimizer(model)
    FAST.attach(opt, steps_per_epoch=10)
    assert opt.param_groups[0]["momentum"] == pytest.approx(0.95)


def test_training_uses_exactly_the_planned_rates(tiny):
    r = Recipe("sgd", 0.05, batch_size=16, epochs=2, schedule="cosine", momentum=0.9)
    history = train(r, *tiny, seed=1)
    assert history.lr == pytest.approx(r.rates(steps_per_epoch=3), rel=1e-12)
    assert [row["epoch"] for row in history.val] == [0, 1]


def test_pieces_equal_one_run(tiny):
    """timed_train's pieces of fit give the same rates and losses as one uninterrupted fit."""
    r = Recipe("sgd", 0.05, batch_size=16, epochs=2, schedule="one_cycle", momentum=0.9)
    whole = train(r, *tiny, seed=3)
    pieces = timed_train(r, *tiny, eval_every=2, seed=3)
    assert pieces.history.lr == pytest.approx(whole.lr, rel=1e-12)
    assert pieces.history.loss == pytest.approx(whole.loss, rel=1e-5)
    assert [c[0] for c in pieces.checks] == [2, 4, 6]
    # the last check is the end of the budget, the same model that train() tested last
    assert pieces.final == pytest.approx(whole.val[-1]["accuracy"])


def test_a_channels_last_copy_of_the_seeds_network_trains_the_same_run(tiny):
    """timed_train(model=) with the seed's network stored channels-last matches the default path."""
    r = Recipe("sgd", 0.05, batch_size=16, epochs=2, schedule="one_cycle", momentum=0.9, nesterov=True)
    default = timed_train(r, *tiny, eval_every=2, seed=3)
    seed_everything(3)
    model = ArticleCNN().to(memory_format=torch.channels_last)
    last = timed_train(r, *tiny, eval_every=2, seed=3, model=model)
    assert last.history.lr == pytest.approx(default.history.lr, rel=1e-12)
    assert last.history.loss == pytest.approx(default.history.loss, rel=1e-5)
    assert [c[:2] for c in last.checks] == [c[:2] for c in default.checks]
    assert [c[2] for c in last.checks] == pytest.approx([c[2] for c in default.checks])
    # the model given is the one trained, and it keeps its layout
    assert model.conv1.weight.is_contiguous(memory_format=torch.channels_last)
    assert last.final == pytest.approx(evaluate(model, torch.nn.functional.cross_entropy, tiny[1])["accuracy"])


def test_testing_on_a_channels_last_copy_leaves_the_model_and_its_accuracy_alone(tiny):
    """timed_train tests a channels-last copy: the accuracy is the model's own, its layout unchanged."""
    seed_everything(5)
    model = ArticleCNN()
    before = [p.detach().clone() for p in model.parameters()]
    run = timed_train(ARTICLE.with_(epochs=1, batch_size=16), *tiny, eval_every=3, seed=5, model=model)
    assert all(p.is_contiguous() for p in model.parameters())
    assert any(not torch.equal(p, q) for p, q in zip(model.parameters(), before))  # trained in place
    assert run.final == pytest.approx(evaluate(model, torch.nn.functional.cross_entropy, tiny[1])["accuracy"])
    assert recipes.channels_last(model) is not model


def test_the_budget_is_trained_out_and_the_clock_counts_training_only(tiny):
    ticks = itertools.count()
    result = timed_train(ARTICLE.with_(epochs=3, batch_size=16), *tiny, eval_every=2, clock=lambda: float(next(ticks)))
    # 3 epochs of 3 updates, tested after 2, 4, 6, 8 and 9: five pieces and five evaluations, one tick each
    assert result.steps == 9 and [c[0] for c in result.checks] == [2, 4, 6, 8, 9]
    assert result.seconds == 5.0 and result.eval_seconds == 5.0
    assert result.epochs == 3.0 and result.final == result.checks[-1][2]


def test_collapse_rule():
    assert collapsed([0.5, 0.945, 0.253, 0.9686])  # seed 0 of the old FAST recipe, as reported
    assert not collapsed([0.9, 0.95, 0.93, 0.99])  # a dip of 2 points is noise, not a collapse
    assert collapsed([0.9, 0.95, 0.89]) and not collapsed([0.9, 0.95, 0.89], drop=0.07)
    assert not collapsed([])


def test_a_diverged_run_counts_as_collapsed_and_is_still_tested(tiny):
    with pytest.warns(DivergenceWarning):
        result = timed_train(Recipe("sgd", 1e4, batch_size=16, epochs=2), *tiny, eval_every=2)
    assert result.history.diverged is not None and result.collapsed
    assert len(result.checks) == 1 and result.steps < 6 and 0 <= result.final <= 1


def test_check_points():
    assert check_points(10, 4) == [4, 8, 10]
    assert check_points(3, 5) == [3]
    with pytest.raises(ValueError, match="every"):
        check_points(10, 0)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"optimizer": "lbfgs"}, "optimizer"),
        ({"schedule": "cubic"}, "schedule"),
        ({"lr": 0.0}, "lr"),
        ({"lr": float("nan")}, "lr"),
        ({"batch_size": 0}, "batch_size"),
        ({"epochs": 1.5}, "epochs"),
        ({"warmup": 1.0}, "warmup"),
        ({"momentum": 1.0}, "momentum"),
    ],
)
def test_bad_recipes_are_refused(changes, message):
    with pytest.raises(ValueError, match=message):
        ARTICLE.with_(**changes)


def test_batches_follow_the_recipe():
    b = recipes.batches(FAST, (torch.zeros(300, 1), torch.zeros(300)), seed=2)
    assert (len(b), b.batch_size, b.seed) == (3, 128, 2)


def test_only_the_first_piece_tests_the_loss_ratio(tiny, monkeypatch):
    """A later piece starts from a trained model: its first loss is no yardstick for divergence."""
    factors, real_fit = [], recipes.fit

    def spy(*args, **kwargs):
        factors.append(kwargs["divergence_factor"])
        return real_fit(*args, **kwargs)

    monkeypatch.setattr(recipes, "fit", spy)
    timed_train(ARTICLE.with_(epochs=1, batch_size=16), *tiny, eval_every=1)
    assert factors == [100.0, None, None]


def test_warmup_cosine_on_tiny_data_keeps_a_cosine_step_or_says_why():
    # one epoch of 2 updates with a warmup of 0.9 used to leave the cosine 0 updates (issue 20, defect 8)
    rates = Recipe("sgd", 0.1, batch_size=64, epochs=1, schedule="warmup_cosine", warmup=0.9).rates(2)
    assert len(rates) == 2 and rates[0] == 0.0
    with pytest.raises(ValueError, match="at least 2 updates"):
        Recipe("sgd", 0.1, batch_size=64, epochs=1, schedule="warmup_cosine").rates(1)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        Recipe("sgd", 0.1, batch_size=64, epochs=1).rates(0)
