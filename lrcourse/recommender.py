"""A recommender in miniature: ratings from a low-rank model with popularity skew, and matrix factorization.

Real rating data is long-tailed: a few items (and users) collect most of the ratings, and most
items are rated a handful of times. :func:`ratings` draws such data from a known low-rank model,
so the best achievable error is known; :class:`MatrixFactorization` fits it with embeddings whose
gradients are sparse (``nn.Embedding(sparse=True)``): one step touches only the rows in its batch.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch
from torch import nn

from lrcourse import seeding
from lrcourse.batching import Batches
from lrcourse.seeding import seed_everything
from lrcourse.train import fit


@dataclass(frozen=True)
class Ratings:
    """Observed ``(user, item) -> rating`` triples and the sizes of the catalogue.

    ``pairs`` is ``(n, 2)`` long (user index, item index), ``rating`` is ``(n,)`` float and
    ``clean`` the same ratings without noise (the model's prediction is best judged against it).
    """

    pairs: torch.Tensor
    rating: torch.Tensor
    clean: torch.Tensor
    n_users: int
    n_items: int

    def __len__(self) -> int:
        return len(self.rating)

    def split(self, fraction: float, seed: int = 0) -> tuple[Ratings, Ratings]:
        """A random split: the first part holds ``fraction`` of the ratings.

        >>> a, b = ratings(10, 10, 100).split(0.8)
        >>> len(a), len(b)
        (80, 20)
        """
        order = torch.randperm(len(self), generator=seeding.generator(seed, "ratings split"))
        cut = int(round(fraction * len(self)))
        parts = order[:cut], order[cut:]
        return tuple(Ratings(self.pairs[i], self.rating[i], self.clean[i], self.n_users, self.n_items) for i in parts)  # type: ignore[return-value]


def zipf_weights(n: int, skew: float) -> torch.Tensor:
    r"""Sampling probabilities :math:`p_k \propto k^{-s}` for ranks :math:`k = 1, \dots, n`.

    ``skew = 0`` is uniform; larger values concentrate the mass on the first ranks.

    >>> zipf_weights(3, 1.0).tolist() == [x / (1 + 1/2 + 1/3) for x in (1, 1/2, 1/3)]
    True
    """
    if n < 1 or skew < 0:
        raise ValueError(f"need n >= 1 and skew >= 0, got n={n!r}, skew={skew!r}")
    w = torch.arange(1, n + 1, dtype=torch.float64) ** -skew
    return w / w.sum()


def ratings(
    n_users: int, n_items: int, n: int, *, rank: int = 4, skew: float = 1.0, noise: float = 0.1, seed: int = 0
) -> Ratings:
    r"""``n`` ratings :math:`r_{ui} = \mu + b_u + c_i + p_u^\top q_i + \text{noise}` with Zipf popularity.

    Users and items are drawn independently with :func:`zipf_weights` (user 0 and item 0 are the
    most active and the most popular). The factors :math:`p_u, q_i` have ``rank`` standard normal
    entries scaled by :math:`1/\sqrt{\text{rank}}`, the biases are normal with standard deviation
    0.5, :math:`\mu = 3`. A pair may be drawn twice (with fresh noise), as a user may rate twice.

    >>> data = ratings(50, 40, 1000, skew=1.0)
    >>> data.pairs.shape, data.rating.shape
    (torch.Size([1000, 2]), torch.Size([1000]))
    >>> counts = torch.bincount(data.pairs[:, 1], minlength=40)
    >>> bool(counts[0] > counts[-1])   # item 0 is the most popular
    True
    """
    g = seeding.generator(seed, "ratings")
    users = torch.multinomial(zipf_weights(n_users, skew), n, replacement=True, generator=g)
    items = torch.multinomial(zipf_weights(n_items, skew), n, replacement=True, generator=g)
    p = torch.randn(n_users, rank, generator=g) / rank**0.5
    q = torch.randn(n_items, rank, generator=g) / rank**0.5
    b, c = 0.5 * torch.randn(n_users, generator=g), 0.5 * torch.randn(n_items, generator=g)
    clean = 3.0 + b[users] + c[items] + (p[users] * q[items]).sum(1)
    rating = clean + noise * torch.randn(n, generator=g)
    return Ratings(torch.stack([users, items], 1), rating, clean, n_users, n_items)


class MatrixFactorization(nn.Module):
    r"""Predict :math:`\hat r_{ui} = \mu + b_u + c_i + p_u^\top q_i` from embedding tables.

    The four tables (user and item factors, user and item biases) are ``nn.Embedding`` with
    ``sparse=True`` by default, so the gradient of a batch is a sparse tensor holding only the
    rows of the users and items in it. ``mean`` is :math:`\mu`, fixed (the mean training rating).
    The factors start small (standard deviation ``init``) and the biases at zero.

    >>> model = MatrixFactorization(3, 2, dim=4, mean=3.0)
    >>> model(torch.tensor([[0, 1], [2, 0]])).shape
    torch.Size([2])
    >>> loss = model(torch.tensor([[0, 1]])).sum(); loss.backward()
    >>> model.item_factors.weight.grad.is_sparse
    True
    """

    def __init__(
        self, n_users: int, n_items: int, dim: int = 8, *, mean: float = 0.0, init: float = 0.1, sparse: bool = True
    ) -> None:
        super().__init__()
        self.user_factors = nn.Embedding(n_users, dim, sparse=sparse)
        self.item_factors = nn.Embedding(n_items, dim, sparse=sparse)
        self.user_bias = nn.Embedding(n_users, 1, sparse=sparse)
        self.item_bias = nn.Embedding(n_items, 1, sparse=sparse)
        nn.init.normal_(self.user_factors.weight, std=init)
        nn.init.normal_(self.item_factors.weight, std=init)
        nn.init.zeros_(self.user_bias.weight)
        nn.init.zeros_(self.item_bias.weight)
        self.mean = mean

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        u, i = pairs[:, 0], pairs[:, 1]
        dot = (self.user_factors(u) * self.item_factors(i)).sum(1)
        return self.mean + self.user_bias(u).squeeze(1) + self.item_bias(i).squeeze(1) + dot


def rmse_by_count(prediction: torch.Tensor, target: torch.Tensor, count: torch.Tensor, edges: list[int]) -> list[float]:
    """Root mean squared error in buckets of ``count``: ``[edges[k], edges[k+1])``.

    ``count`` gives, for each test rating, how often its item (or user) was seen in training.
    An empty bucket gives ``nan``.

    >>> rmse_by_count(torch.tensor([1.0, 2.0, 0.0]), torch.tensor([0.0, 0.0, 0.0]),
    ...               torch.tensor([1, 1, 10]), edges=[0, 5, 100])
    [1.5811388492584229, 0.0]
    """
    out = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        inside = (count >= lo) & (count < hi)
        err = (prediction[inside] - target[inside]) ** 2
        out.append(err.mean().sqrt().item() if inside.any() else float("nan"))
    return out


def counts(index: torch.Tensor, n: int) -> torch.Tensor:
    """How many times each of ``n`` ids occurs in ``index`` (a user or item column).

    >>> counts(torch.tensor([0, 2, 2, 2]), 4).tolist()
    [1, 0, 3, 0]
    """
    return torch.bincount(index, minlength=n)


def fit_factorization(
    train: Ratings,
    optimizer: type,
    lr: float,
    *,
    seed: int = 0,
    epochs: int = 6,
    batch_size: int = 512,
    dim: int = 8,
    init: float = 0.1,
):
    """Train a :class:`MatrixFactorization` on ``train`` with mean squared error; return ``(model, history)``.

    ``optimizer`` is a class taking ``(params, lr=...)`` that accepts sparse gradients (``SGD``
    and ``Adagrad`` of :mod:`lrcourse.optim`, ``torch.optim.SparseAdam``). The run goes through
    :func:`lrcourse.train.fit`; a diverged run stops early and says so in ``history.diverged``
    (its warning is silenced here: in a sweep, divergence is a result).

    >>> from lrcourse.optim import Adagrad
    >>> data = ratings(30, 20, 600)
    >>> model, history = fit_factorization(data, Adagrad, lr=0.1, epochs=2, batch_size=100)
    >>> len(history.loss), history.loss[-1] < history.loss[0], history.diverged
    (12, True, None)
    """
    seed_everything(seed)
    model = MatrixFactorization(train.n_users, train.n_items, dim, mean=train.rating.mean().item(), init=init)
    batches = Batches(train.pairs, train.rating, batch_size=batch_size, seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history = fit(
            model, nn.functional.mse_loss, optimizer(model.parameters(), lr=lr), batches, epochs=epochs, progress=False
        )
    return model, history
