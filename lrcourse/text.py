"""A character-level language model on text that ships with Python: no download needed.

The corpus is CPython's own help text (``pydoc_data.topics``, what ``help("assert")`` prints):
about 465,000 characters of technical English. :class:`Vocabulary` maps characters to ids,
:func:`windows` cuts training examples from the id sequence, and :class:`CharTransformer` is a
tiny causal Transformer whose loss is measured in bits per character.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from lrcourse import seeding


def corpus(max_chars: int | None = None) -> str:
    """CPython's help topics (``pydoc_data.topics``), joined in the order of their names.

    >>> text = corpus()
    >>> len(text) > 100_000, text[:10]
    (True, 'The "asser')
    >>> len(corpus(max_chars=500))
    500
    """
    from pydoc_data.topics import topics

    text = "".join(topics[name] for name in sorted(topics))
    return text if max_chars is None else text[:max_chars]


class Vocabulary:
    """The sorted set of characters of a text; ``encode`` and ``decode`` map to and from ids.

    >>> vocab = Vocabulary("hello")
    >>> len(vocab), vocab.encode("hole").tolist(), vocab.decode(vocab.encode("hole"))
    (4, [1, 3, 2, 0], 'hole')
    """

    def __init__(self, text: str) -> None:
        self.chars = sorted(set(text))
        self.index = {c: i for i, c in enumerate(self.chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> torch.Tensor:
        """The ids of ``text`` as a long tensor (a character outside the vocabulary raises ``KeyError``)."""
        return torch.tensor([self.index[c] for c in text], dtype=torch.long)

    def decode(self, ids: torch.Tensor) -> str:
        """The text of a sequence of ids."""
        return "".join(self.chars[i] for i in ids.tolist())


def windows(ids: torch.Tensor, length: int, n: int, *, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` random windows of ``length`` ids and the same windows shifted by one (the next characters).

    Returns ``(X, Y)``, both ``(n, length)``: ``Y[k, t]`` is the character that follows ``X[k, t]``.

    >>> X, Y = windows(torch.arange(10), length=4, n=3)
    >>> X.shape, bool(torch.equal(Y, X + 1))
    (torch.Size([3, 4]), True)
    """
    if not 0 < length < len(ids):
        raise ValueError(f"length must be in [1, {len(ids) - 1}], not {length!r}")
    g = seeding.generator(seed, "text windows")
    start = torch.randint(0, len(ids) - length, (n, 1), generator=g)
    positions = start + torch.arange(length)
    return ids[positions], ids[positions + 1]


def sequence_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy (in nats) of ``(n, length, vocab)`` logits against ``(n, length)`` targets.

    >>> logits = torch.zeros(2, 3, 4)              # a uniform guess over 4 characters
    >>> round(sequence_loss(logits, torch.zeros(2, 3, dtype=torch.long)).item(), 4) == round(math.log(4), 4)
    True
    """
    return nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten())


def bits_per_char(loss_nats: float) -> float:
    """Convert a cross-entropy in nats per character to bits per character.

    >>> bits_per_char(math.log(2))
    1.0
    """
    return loss_nats / math.log(2)


class CharTransformer(nn.Module):
    """A causal Transformer over characters: embeddings, ``layers`` encoder blocks, a linear read-out.

    The blocks are ``nn.TransformerEncoderLayer``; ``norm_first=False`` (the default here, as in the
    original Transformer) puts layer normalization *after* each residual addition ("post-LN"),
    ``True`` before it ("pre-LN"). ``final_norm=True`` adds a layer normalization after the last
    block (``blocks.norm``), as GPT-2's pre-LN does; by default there is none, as in PyTorch's
    encoder. A causal mask lets position ``t`` see only positions ``<= t``.

    >>> model = CharTransformer(vocab_size=10, length=8, dim=16, heads=2, layers=1)
    >>> model(torch.zeros(3, 8, dtype=torch.long)).shape
    torch.Size([3, 8, 10])
    >>> x = torch.randint(0, 10, (1, 8)); y = x.clone(); y[0, 5:] = 0   # change only the end
    >>> _ = model.eval()
    >>> bool(torch.allclose(model(x)[0, :5], model(y)[0, :5], atol=1e-6))   # the past cannot see it
    True
    """

    mask: torch.Tensor  # the causal mask, a buffer

    def __init__(
        self,
        vocab_size: int,
        length: int,
        dim: int = 64,
        heads: int = 4,
        layers: int = 2,
        *,
        norm_first: bool = False,
        final_norm: bool = False,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.position = nn.Parameter(0.02 * torch.randn(length, dim))
        block = nn.TransformerEncoderLayer(dim, heads, 4 * dim, dropout, batch_first=True, norm_first=norm_first)
        norm = nn.LayerNorm(dim) if final_norm else None  # draws no random numbers
        self.blocks = nn.TransformerEncoder(block, layers, norm=norm, enable_nested_tensor=False)
        self.out = nn.Linear(dim, vocab_size)
        self.register_buffer("mask", nn.Transformer.generate_square_subsequent_mask(length), persistent=False)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        t = ids.shape[1]
        h = self.embed(ids) + self.position[:t]
        h = self.blocks(h, mask=self.mask[:t, :t], is_causal=True)
        return self.out(h)


def unigram_bits(ids: torch.Tensor, vocab_size: int) -> float:
    """Entropy in bits of the character frequencies: the loss of a model that ignores the context.

    >>> unigram_bits(torch.tensor([0, 1, 0, 1]), 2)
    1.0
    >>> unigram_bits(torch.tensor([0, 0, 0, 0]), 3)
    0.0
    """
    p = torch.bincount(ids, minlength=vocab_size).double() / len(ids)
    p = p[p > 0]
    return float(-(p * p.log2()).sum()) + 0.0  # + 0.0 turns -0.0 into 0.0
