"""lrcourse.text: corpus, vocabulary round trip, windows, losses by hand, causality of the model."""

import math

import pytest
import torch

from lrcourse import text


def test_corpus_is_python_help_text():
    corpus = text.corpus()
    assert len(corpus) > 400_000
    assert "assert" in corpus[:200]
    assert text.corpus(max_chars=10) == corpus[:10]


def test_vocabulary_round_trip_and_sorted_ids():
    vocab = text.Vocabulary("banana")
    assert vocab.chars == ["a", "b", "n"]
    assert vocab.encode("nab").tolist() == [2, 0, 1]
    assert vocab.decode(vocab.encode("banana")) == "banana"
    with pytest.raises(KeyError):
        vocab.encode("z")


def test_windows_are_shifted_slices():
    ids = torch.arange(100) * 3
    X, Y = text.windows(ids, length=7, n=50, seed=4)
    assert X.shape == Y.shape == (50, 7)
    assert torch.equal(Y[:, :-1], X[:, 1:])
    assert torch.equal(Y, X + 3)
    with pytest.raises(ValueError):
        text.windows(ids, length=100, n=1)


def test_losses_by_hand():
    logits = torch.tensor([[[math.log(3.0), 0.0]]])  # p = (3/4, 1/4)
    assert text.sequence_loss(logits, torch.tensor([[1]])).item() == pytest.approx(math.log(4))
    assert text.bits_per_char(math.log(8)) == pytest.approx(3.0)
    ids = torch.tensor([0, 0, 1, 2])  # p = (1/2, 1/4, 1/4): 1.5 bits
    assert text.unigram_bits(ids, 5) == pytest.approx(1.5)


@pytest.mark.parametrize("norm_first", [False, True])
def test_model_is_causal(norm_first):
    torch.manual_seed(0)
    model = text.CharTransformer(12, 10, dim=16, heads=2, layers=2, norm_first=norm_first).eval()
    x = torch.randint(0, 12, (2, 10))
    y = x.clone()
    y[:, 6] = (y[:, 6] + 1) % 12
    a, b = model(x), model(y)
    assert torch.allclose(a[:, :6], b[:, :6], atol=1e-6)
    assert not torch.allclose(a[:, 6:], b[:, 6:], atol=1e-3)


def test_model_learns_a_repeating_text():
    torch.manual_seed(0)
    ids = torch.tensor([0, 1, 2, 3] * 50)
    X, Y = text.windows(ids, length=8, n=64)
    model = text.CharTransformer(4, 8, dim=16, heads=2, layers=1)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(60):
        opt.zero_grad()
        loss = text.sequence_loss(model(X), Y)
        loss.backward()
        opt.step()
    assert loss.item() < 0.1 * math.log(4)


def test_final_norm_is_a_layer_norm_after_the_last_block():
    torch.manual_seed(0)
    plain = text.CharTransformer(12, 10, dim=16, heads=2, layers=2, norm_first=True).eval()
    torch.manual_seed(0)
    final = text.CharTransformer(12, 10, dim=16, heads=2, layers=2, norm_first=True, final_norm=True).eval()
    assert plain.blocks.norm is None and isinstance(final.blocks.norm, torch.nn.LayerNorm)
    with torch.no_grad():
        final.blocks.norm.weight.uniform_(0.5, 1.5)
        final.blocks.norm.bias.uniform_(-0.5, 0.5)
    # same seed, same weights: the option adds the norm and draws no random numbers
    shared = {k: v for k, v in final.state_dict().items() if not k.startswith("blocks.norm")}
    assert all(torch.equal(v, plain.state_dict()[k]) for k, v in shared.items())
    x = torch.randint(0, 12, (3, 10))
    h = plain.embed(x) + plain.position
    for layer in plain.blocks.layers:
        h = layer(h, src_mask=plain.mask, is_causal=True)
    by_hand = plain.out(final.blocks.norm(h))
    assert torch.allclose(final(x), by_hand, atol=1e-5)
    assert not torch.allclose(plain(x), by_hand, atol=1e-3)
