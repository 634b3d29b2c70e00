"""Muon: momentum, orthogonalised, so that the rate is a step length in the spectral norm."""

from __future__ import annotations

import math

import torch

from lrcourse.optim.base import Optimizer, check_lr, check_nonnegative, zeros_like

# Keller Jordan's quintic: the coefficients torch.optim.Muon uses (its DEFAULT_A, _B, _C)
NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)
ADJUST_LR_FNS = (None, "original", "match_rms_adamw", "spectral_unclamped")


class Muon(Optimizer):
    r"""Muon (Jordan et al., 2024), as ``torch.optim.Muon``: for the 2-D weights of hidden layers.

    For a weight matrix :math:`W` of shape :math:`A \times B` (fan-out by fan-in) with gradient
    :math:`G_t`, momentum :math:`\mu`, weight decay :math:`\lambda` and rate :math:`\eta`, step
    :math:`t = 1, 2, \dots` does:

    .. math::

        B_t &= \mu\, B_{t-1} + (1 - \mu)\, G_t \\
        M_t &= \begin{cases} (1 - \mu)\, G_t + \mu\, B_t & \text{Nesterov} \\
                             B_t & \text{otherwise} \end{cases} \\
        O_t &= \mathrm{NS}_k(M_t) \approx U V^\top
            \quad\text{where } M_t = U \Sigma V^\top \\
        W_t &= (1 - \eta \lambda)\, W_{t-1} - \eta\, s(A, B)\, O_t

    :math:`\mathrm{NS}_k` is :func:`~lrcourse.optim.muon.newton_schulz`: ``ns_steps``
    iterations of an odd quintic that push every singular value of
    :math:`M_t / \lVert M_t \rVert_F` towards 1, in bfloat16 as torch does. The update keeps
    the directions of the momentum and drops its magnitudes: :math:`U V^\top` (the polar
    factor, :func:`~lrcourse.optim.muon.polar_factor`) has every singular value 1, so its
    spectral norm is 1 and :math:`\eta\, s(A, B)` is the length of the step *in the spectral
    norm*, the norm that bounds how much a layer can change its output. (The quintic is tuned
    for speed, not convergence: the singular values it gives land between about 0.7 and 1.2,
    unless they started below about 1/500 of the largest.) The factor :math:`s(A, B)` is ``adjust_lr_fn``'s:

    * ``None`` or ``"original"`` (Keller Jordan's): :math:`\sqrt{\max(1, A / B)}`;
    * ``"spectral_unclamped"`` (Bernstein's): :math:`\sqrt{A / B}`, the spectral norm scaled to
      the ratio of output to input RMS norms;
    * ``"match_rms_adamw"`` (Moonshot's): :math:`0.2 \sqrt{\max(A, B)}`. The entries of
      :math:`U V^\top` have RMS :math:`1 / \sqrt{\max(A, B)}`, so this makes the update's RMS
      :math:`0.2\,\eta`, about AdamW's, and lets Muon reuse AdamW's rate and weight decay.

    The momentum buffer is an average, not a sum (torch's code, whose docstring writes
    :math:`B_t = \mu B_{t-1} + G_t`; the scale cancels in the orthogonalisation anyway). The
    decay uses the plain :math:`\eta`. The state of a parameter is ``b``, the buffer
    :math:`B_t`. Only 2-D parameters are taken (a ``ValueError`` at construction, as in torch):
    give embeddings, the output head, biases and norms to AdamW, in one optimizer with
    :class:`~lrcourse.optim.MuonAdamW`. Complex parameters are refused at construction (torch
    refuses them at the first step), sparse gradients at the step; there is no ``maximize``,
    as in torch. A zero-size matrix is left as it is. With bfloat16 parameters and
    ``nesterov=False``, torch's orthogonalisation divides the momentum buffer in place (it
    converts to bfloat16 without a copy); ours leaves it alone.

    >>> import torch
    >>> W = torch.nn.Parameter(torch.zeros(3, 2))
    >>> opt = Muon([W], lr=0.1, weight_decay=0.0)
    >>> W.grad = torch.tensor([[3.0, 0.0], [0.0, 0.5], [0.0, 0.0]])
    >>> opt.step()
    >>> W.detach()   # 0.1 sqrt(3 / 2) = 0.1225 times U V^T = [[1, 0], [0, 1], [0, 0]], whose 1s NS makes 0.73 and 1.05
    tensor([[-0.0895,  0.0000],
            [ 0.0000, -0.1282],
            [ 0.0000,  0.0000]])
    """

    def __init__(
        self,
        params,
        lr: float = 1e-3,
        weight_decay: float = 0.1,
        momentum: float = 0.95,
        nesterov: bool = True,
        ns_coefficients: tuple[float, float, float] = NS_COEFFICIENTS,
        eps: float = 1e-7,
        ns_steps: int = 5,
        adjust_lr_fn: str | None = None,
    ) -> None:
        defaults = _check_hyperparameters(
            lr, weight_decay, momentum, nesterov, ns_coefficients, eps, ns_steps, adjust_lr_fn
        )
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict) -> None:
        """``torch.optim.Optimizer.add_param_group``, refusing (and not adding) what is not a real 2-D matrix."""
        super().add_param_group(param_group)
        _take_back_unless(self, _check_matrices)

    def update(self, theta, g, state, group):
        lr, mu, wd = group["lr"], group["momentum"], group["weight_decay"]
        if not state:
            state["b"] = zeros_like(theta)
        if theta.numel() == 0:  # nothing to orthogonalise (torch divides by a zero width)
            return
        b = state["b"]
        b.lerp_(g, 1 - mu)  # B_t = mu B_{t-1} + (1 - mu) G_t
        M = g.lerp(b, mu) if group["nesterov"] else b  # M_t = (1 - mu) G_t + mu B_t, or B_t
        O_t = newton_schulz(M, group["ns_coefficients"], group["ns_steps"], group["eps"])  # O_t = NS_k(M_t)
        theta.mul_(1 - lr * wd)  # W <- (1 - lr lambda) W
        theta.add_(O_t, alpha=-adjusted_lr(lr, group["adjust_lr_fn"], theta.shape))  # W_t = W - lr s(A, B) O_t


def newton_schulz(
    G: torch.Tensor,
    ns_coefficients: tuple[float, float, float] = NS_COEFFICIENTS,
    ns_steps: int = 5,
    eps: float = 1e-7,
    dtype: torch.dtype = torch.bfloat16,
) -> torch.Tensor:
    r"""The Newton-Schulz approximation of the polar factor :math:`U V^\top` of a matrix ``G``, in ``dtype``.

    With :math:`(a, b, c)` = ``ns_coefficients``, starting from :math:`X_0 = G / \max(\lVert G
    \rVert_F, \epsilon)` (every singular value at most 1), each of the ``ns_steps`` steps is

    .. math::

        X_{j+1} = a\, X_j + (b\, X_j X_j^\top + c\, (X_j X_j^\top)^2)\, X_j,

    which keeps the singular vectors and maps each singular value :math:`\sigma` to
    :math:`a \sigma + b \sigma^3 + c \sigma^5`. A wide matrix is worked on as it is and a tall one
    transposed, so that :math:`X X^\top` is the smaller Gram matrix. Only matrix products: fast on
    a GPU, and exact enough in bfloat16, which is what :class:`~lrcourse.optim.Muon` uses (the operations of
    ``torch.optim.Muon``, in its order, so the result is the same to the bit). The input is not
    changed. Compare with :func:`~lrcourse.optim.muon.polar_factor` to measure the error: a singular value of ``G``
    of at least about 1/500 of its Frobenius norm ends between about 0.68 and 1.2, in
    ``polar_factor``'s directions; a smaller one is multiplied by about :math:`a^5` (485).

    >>> import torch
    >>> G = torch.diag(torch.tensor([4.0, 1.0, 0.1]))
    >>> torch.linalg.svdvals(newton_schulz(G, dtype=torch.float32))   # polar_factor(G)'s are all 1
    tensor([0.8835, 0.7431, 0.7377])
    """
    if G.ndim != 2:
        raise ValueError(f"G must be a matrix (2-D), got shape {list(G.shape)}")
    a, b, c = ns_coefficients
    X = G.to(dtype, copy=True)
    tall = G.size(0) > G.size(1)
    if tall:
        X = X.T
    X.div_(X.norm().clamp(min=eps))  # X_0 = G / ||G||_F: singular values in [0, 1]
    for _ in range(ns_steps):
        A = X @ X.T  # A = X X^T
        B = torch.addmm(A, A, A, beta=b, alpha=c)  # B = b A + c A^2
        X = torch.addmm(X, B, X, beta=a)  # X <- a X + B X: sigma -> a sigma + b sigma^3 + c sigma^5
    return X.T if tall else X


def polar_factor(G: torch.Tensor) -> torch.Tensor:
    r"""The exact polar factor :math:`U V^\top` of a matrix :math:`G = U \Sigma V^\top` (thin SVD), in ``G``'s dtype.

    The nearest matrix to :math:`G` with orthonormal rows or columns (whichever are fewer), what
    :func:`~lrcourse.optim.muon.newton_schulz` approximates: every singular value set to 1 (those of a rank-deficient
    ``G`` that are 0 as well, along the directions the SVD picks). For teaching and for measuring
    the Newton-Schulz error; an SVD costs far more than five matrix products on a GPU.

    >>> import torch
    >>> G = torch.tensor([[3.0, 0.0], [0.0, -0.5]])
    >>> polar_factor(G)
    tensor([[ 1.,  0.],
            [ 0., -1.]])
    """
    U, _, Vh = torch.linalg.svd(G, full_matrices=False)
    return U @ Vh


def adjusted_lr(lr, adjust_lr_fn: str | None, shape: torch.Size | tuple[int, ...]):
    """The rate times ``adjust_lr_fn``'s factor s(A, B) for a weight of ``shape`` (A, B) (torch's ``_adjust_lr``).

    >>> adjusted_lr(0.02, None, (1024, 256)), adjusted_lr(0.02, "match_rms_adamw", (1024, 256))
    (0.04, 0.128)
    """
    A, B = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        ratio = math.sqrt(max(1, A / B))  # s = sqrt(max(1, A / B))
    elif adjust_lr_fn == "match_rms_adamw":
        ratio = 0.2 * math.sqrt(max(A, B))  # s = 0.2 sqrt(max(A, B))
    elif adjust_lr_fn == "spectral_unclamped":
        ratio = math.sqrt(A / B)  # s = sqrt(A / B)
    else:
        raise ValueError(f"adjust_lr_fn must be one of {list(ADJUST_LR_FNS)}, got {adjust_lr_fn!r}")
    return lr * ratio


def _check_hyperparameters(lr, weight_decay, momentum, nesterov, ns_coefficients, eps, ns_steps, adjust_lr_fn) -> dict:
    """Muon's hyperparameters checked, as the defaults of a group; a bad one raises naming it."""
    check_lr(lr)
    check_nonnegative(weight_decay=weight_decay, momentum=momentum, eps=eps)
    if len(ns_coefficients) != 3:
        raise ValueError(f"ns_coefficients must be three numbers (a, b, c), got {ns_coefficients!r}")
    if isinstance(ns_steps, bool) or not isinstance(ns_steps, int) or not 0 <= ns_steps < 100:
        raise ValueError(f"ns_steps must be an int in [0, 100) (torch's limit), got {ns_steps!r}; the usual is 5")
    if adjust_lr_fn not in ADJUST_LR_FNS:
        raise ValueError(f"adjust_lr_fn must be one of {list(ADJUST_LR_FNS)}, got {adjust_lr_fn!r}")
    return dict(
        lr=lr,
        weight_decay=weight_decay,
        momentum=momentum,
        nesterov=nesterov,
        ns_coefficients=tuple(ns_coefficients),
        eps=eps,
        ns_steps=ns_steps,
        adjust_lr_fn=adjust_lr_fn,
    )


def _take_back_unless(optimizer: torch.optim.Optimizer, check) -> None:
    """Run ``check`` on the parameters of the group just added; if it raises, remove the group first."""
    try:
        check(optimizer.param_groups[-1]["params"])
    except ValueError:
        optimizer.param_groups.pop()
        raise


def _check_matrices(params) -> None:
    """Raise ``ValueError`` (naming ``params``) for a parameter Muon cannot take: not 2-D, or complex."""
    for p in params:
        if p.ndim != 2 or torch.is_complex(p):
            kind = "a complex" if torch.is_complex(p) else "a"
            raise ValueError(
                f"params: Muon takes real 2-D matrices only, got {kind} parameter of shape {list(p.shape)}; "
                "give embeddings, the head, biases and norms to AdamW (lrcourse.optim.MuonAdamW does both)"
            )
