"""Muon's parts: the Newton-Schulz iteration (torch's, to the bit), the exact polar factor it
approximates, and the per-shape rate factor. The whole optimizer against torch.optim.Muon is in
tests/test_optim_matrix.py; the hybrid with AdamW in tests/test_optim_hybrid.py."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg
import torch
from torch.optim import _muon as torch_muon

from lrcourse import optim
from lrcourse.optim.muon import NS_COEFFICIENTS, adjusted_lr, newton_schulz, polar_factor

SHAPES = [(8, 8), (16, 4), (4, 16), (96, 32), (32, 96), (1, 5), (5, 1)]


def well_conditioned(shape, condition=100.0, seed=0):
    """A random matrix whose singular values are spread evenly in log from 1 down to 1 / condition."""
    generator = torch.Generator().manual_seed(seed)
    A, B = shape
    U, _ = torch.linalg.qr(torch.randn(A, min(A, B), generator=generator, dtype=torch.float64))
    V, _ = torch.linalg.qr(torch.randn(B, min(A, B), generator=generator, dtype=torch.float64))
    sigma = torch.logspace(0, -np.log10(condition), min(A, B), dtype=torch.float64)
    return U @ torch.diag(sigma) @ V.T


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    ("coefficients", "steps", "eps"),
    [(NS_COEFFICIENTS, 5, 1e-7), ((1.5, -0.5, 0.0), 12, 1e-7), (NS_COEFFICIENTS, 0, 1.0)],
)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.bfloat16])
def test_newton_schulz_is_torchs_to_the_bit(shape, coefficients, steps, eps, dtype):
    G = torch.randn(shape, generator=torch.Generator().manual_seed(1)).to(dtype)
    before = G.clone()
    expected = torch_muon._zeropower_via_newtonschulz(G.clone(), coefficients, steps, eps)
    assert torch.equal(newton_schulz(G, coefficients, steps, eps), expected)
    assert torch.equal(G, before)  # the input is never divided in place (torch's is, in bfloat16)


@pytest.mark.parametrize("shape", SHAPES)
def test_polar_factor_is_scipys_and_has_orthonormal_rows_or_columns(shape):
    G = well_conditioned(shape)
    Q = polar_factor(G)
    if shape[0] >= shape[1]:
        expected, _ = scipy.linalg.polar(G.numpy(), side="right")  # G = Q P, Q with orthonormal columns
    else:
        expected, _ = scipy.linalg.polar(G.numpy().T, side="right")
        expected = expected.T
    np.testing.assert_allclose(Q.numpy(), expected, atol=1e-10)
    small = min(shape)
    gram = Q.T @ Q if shape[0] >= shape[1] else Q @ Q.T
    torch.testing.assert_close(gram, torch.eye(small, dtype=torch.float64), atol=1e-12, rtol=0)


@pytest.mark.parametrize("shape", [(64, 64), (128, 32), (32, 128), (256, 100)])
@pytest.mark.parametrize("seed", range(3))
def test_newton_schulz_singular_values_land_between_0_6_and_1_25(shape, seed):
    """The docstring's claim, for singular values down to 1/100 of the largest: not 1 (the quintic
    trades accuracy for speed), but within a band, in the same directions as the polar factor's."""
    G = well_conditioned(shape, condition=100.0, seed=seed)
    O_ns = newton_schulz(G).double()
    sigma = torch.linalg.svdvals(O_ns)
    assert sigma.min() > 0.6 and sigma.max() < 1.25, (sigma.min(), sigma.max())
    U, _, Vh = torch.linalg.svd(G, full_matrices=False)
    off_diagonal = U.T @ O_ns @ Vh.T - torch.diag(torch.diagonal(U.T @ O_ns @ Vh.T))
    assert off_diagonal.abs().max() < 0.05  # O is U diag(~1) V^T: the singular vectors are kept
    assert torch.linalg.matrix_norm(O_ns - polar_factor(G), ord=2) < 0.4


@pytest.mark.parametrize("fn", [None, "original", "match_rms_adamw", "spectral_unclamped"])
@pytest.mark.parametrize("shape", [(16, 4), (4, 16), (8, 8), (768, 3072)])
def test_adjusted_lr_is_torchs(fn, shape):
    assert adjusted_lr(0.02, fn, torch.Size(shape)) == torch_muon._adjust_lr(0.02, fn, torch.Size(shape))


def test_match_rms_adamw_makes_the_update_rms_a_fifth_of_the_rate():
    """The docstring's reason for Moonshot's factor: the polar factor's entries have RMS 1 / sqrt(max(A, B))."""
    for shape in [(64, 16), (16, 64), (32, 32)]:
        Q = polar_factor(well_conditioned(shape))
        rms = Q.pow(2).mean().sqrt().item()
        assert rms == pytest.approx(1 / max(shape) ** 0.5, rel=1e-12)
        assert adjusted_lr(1.0, "match_rms_adamw", shape) * rms == pytest.approx(0.2, rel=1e-12)


def test_bfloat16_without_nesterov_keeps_the_momentum_buffer_where_torchs_is_normalised():
    """torch converts the buffer to bfloat16 without a copy and divides it in place: ours copies."""
    buffers = {}
    for library in (optim, torch.optim):
        W = torch.nn.Parameter(torch.zeros(4, 3, dtype=torch.bfloat16))
        opt = library.Muon([W], nesterov=False)
        W.grad = torch.full((4, 3), 10.0, dtype=torch.bfloat16)
        opt.step()
        buffers[library.__name__] = next(iter(opt.state[W].values()))
    expected = torch.full((4, 3), 0.5, dtype=torch.bfloat16)  # (1 - 0.95) * 10
    assert torch.equal(buffers["lrcourse.optim"], expected)
    assert not torch.equal(buffers["torch.optim"], expected)
