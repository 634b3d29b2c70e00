"""lrcourse.recommender: data from the stated model, predictions by hand, sparse rows, buckets, training."""

import math

import pytest
import torch

from lrcourse import recommender as rec
from lrcourse.optim import SGD, Adagrad


def test_zipf_weights_by_hand():
    w = rec.zipf_weights(4, 2.0)
    total = 1 + 1 / 4 + 1 / 9 + 1 / 16
    assert w.tolist() == pytest.approx([1 / total, 0.25 / total, (1 / 9) / total, (1 / 16) / total])
    assert rec.zipf_weights(5, 0.0).tolist() == pytest.approx([0.2] * 5)
    with pytest.raises(ValueError):
        rec.zipf_weights(3, -1.0)


def test_ratings_noise_free_are_the_clean_model_and_popularity_follows_zipf():
    data = rec.ratings(40, 30, 20000, noise=0.0, skew=1.0, seed=1)
    assert torch.equal(data.rating, data.clean)
    share = rec.counts(data.pairs[:, 1], 30)[0].item() / len(data)
    assert share == pytest.approx(rec.zipf_weights(30, 1.0)[0].item(), abs=0.01)
    noisy = rec.ratings(40, 30, 20000, noise=0.5, skew=1.0, seed=1)
    assert (noisy.rating - noisy.clean).std().item() == pytest.approx(0.5, rel=0.05)


def test_split_is_a_partition():
    data = rec.ratings(10, 10, 50, seed=0)
    a, b = data.split(0.6, seed=3)
    assert len(a) == 30 and len(b) == 20
    both = torch.cat([a.rating, b.rating]).sort().values
    assert torch.equal(both, data.rating.sort().values)


def test_prediction_by_hand():
    model = rec.MatrixFactorization(2, 2, dim=2, mean=3.0)
    with torch.no_grad():
        model.user_factors.weight.copy_(torch.tensor([[1.0, 2.0], [0.0, -1.0]]))
        model.item_factors.weight.copy_(torch.tensor([[0.5, 0.5], [2.0, 1.0]]))
        model.user_bias.weight.copy_(torch.tensor([[0.1], [0.2]]))
        model.item_bias.weight.copy_(torch.tensor([[-1.0], [1.0]]))
    pred = model(torch.tensor([[0, 1], [1, 0]]))
    # 3 + 0.1 + 1 + (1*2 + 2*1) = 8.1 ; 3 + 0.2 - 1 + (0*0.5 - 1*0.5) = 1.7
    assert pred.tolist() == pytest.approx([8.1, 1.7])


def test_sparse_gradient_touches_only_batch_rows():
    model = rec.MatrixFactorization(50, 40, dim=3)
    model(torch.tensor([[3, 7], [3, 9], [10, 7]])).sum().backward()
    rows = model.item_factors.weight.grad.coalesce().indices()[0].tolist()
    assert sorted(rows) == [7, 9]
    assert sorted(model.user_bias.weight.grad.coalesce().indices()[0].tolist()) == [3, 10]


def test_rmse_by_count_by_hand():
    out = rec.rmse_by_count(
        torch.tensor([3.0, 0.0, 1.0, 5.0]), torch.zeros(4), torch.tensor([0, 2, 7, 100]), edges=[0, 5, 50, 1000]
    )
    assert out[0] == pytest.approx(math.sqrt(9 / 2))
    assert out[1] == pytest.approx(1.0) and out[2] == pytest.approx(5.0)
    assert math.isnan(rec.rmse_by_count(torch.zeros(1), torch.zeros(1), torch.tensor([1]), [5, 9])[0])


def test_sgd_bound_one_over_pmax():
    """One rate for all rows must stay below 1 / p_max (the chapter's derivation)."""
    data = rec.ratings(300, 100, 6000, skew=1.0, seed=0)
    limit = 1 / rec.zipf_weights(100, 1.0)[0].item()
    _, low = rec.fit_factorization(data, SGD, 0.6 * limit, epochs=1, batch_size=256)
    _, high = rec.fit_factorization(data, SGD, 1.5 * limit, epochs=1, batch_size=256)
    assert low.diverged is None and high.diverged is not None


def test_adagrad_fits_better_than_the_mean():
    data = rec.ratings(100, 80, 5000, seed=2)
    model, _ = rec.fit_factorization(data, Adagrad, lr=0.3, epochs=5, batch_size=256)
    with torch.no_grad():
        err = ((model(data.pairs) - data.clean) ** 2).mean().item()
    assert err < 0.5 * data.clean.var().item()
