r"""SSL loss landscapes (Ziyin et al. 2022/2023): the per-mode landscape and its minimiser, derived.

For a linear model with data covariance :math:`A_0`, augmented covariance :math:`\Sigma=A_0+C`
and a loss whose quadratic part is :math:`B` (Prop. 4), the effective landscape is
:math:`L=-\mathrm{Tr}[WBW^\top]+\mathrm{Tr}[W\Sigma W^\top W\Sigma W^\top]`. When everything commutes
and :math:`W^\top W=\mathrm{diag}(\lambda)`, it splits into modes,
:math:`L=\sum_i(-b_i\lambda_i+s_i^2\lambda_i^2)`, minimised over :math:`\lambda_i\ge0` at
:math:`\lambda_i=\max(b_i,0)/(2s_i^2)` (Theorem 1, commuting case). The collapse condition of
weighted InfoNCE (paper eq. 4) gives :math:`N_{crit}=(1-\alpha)c_i/a_i`; the appendix's eq. 12
prints it inverted.

``B`` per loss (theory notes): InfoNCE :math:`A_0`; weighted InfoNCE as in the paper's eq. 4
:math:`A_0-\frac{1-\alpha}{N}C`; weighted InfoNCE exactly as its printed eq. 3 implies
:math:`\frac{N}{N-1+\alpha}A_0` (the :math:`C` term cancels at quadratic order); Barlow Twins
:math:`2\Sigma`; spectral contrastive :math:`2C` as printed (independently noised views give
:math:`2A_0`: the text is ambiguous); VICReg model :math:`-A_0`. Weight decay:
:math:`B\to B-\gamma I`.
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

a, c, alpha, N, gamma = sp.symbols("a c alpha N gamma", real=True)
b, s, lam = sp.symbols("b s lambda", real=True)

LOSSES = ("infonce", "weighted-infonce-paper", "weighted-infonce-exact", "barlow-twins", "spectral", "vicreg")


def b_of(loss: str) -> sp.Expr:
    """The per-mode quadratic coefficient b_i of ``loss`` (data a_i, augmentation c_i), weight decay included."""
    base = {
        "infonce": a,
        "weighted-infonce-paper": a - (1 - alpha) / N * c,
        "weighted-infonce-exact": N / (N - 1 + alpha) * a,
        "barlow-twins": 2 * (a + c),
        "spectral": 2 * c,
        "vicreg": -a,
    }[loss]
    return base - gamma


@lru_cache(maxsize=None)
def b_function(loss: str):
    """:func:`b_of` as a NumPy function ``b(a, c, alpha, N, gamma)`` (``sympy.lambdify``, made once
    per loss): the one definition :func:`dynamics.landscape.b_vector` evaluates."""
    return sp.lambdify((a, c, alpha, N, gamma), b_of(loss), "numpy")


def mode_landscape() -> sp.Expr:
    """One mode of the commuting landscape: :math:`-b\\lambda+s^2\\lambda^2`."""
    return -b * lam + s**2 * lam**2


def mode_minimiser() -> sp.Expr:
    """The stationary point of :func:`mode_landscape` (a minimum for s != 0): b / (2 s^2)."""
    (root,) = sp.solve(sp.diff(mode_landscape(), lam), lam)
    return sp.simplify(root)


def n_crit() -> sp.Expr:
    """Dataset size below which mode i of weighted InfoNCE (eq. 4) collapses, without decay."""
    (root,) = sp.solve(sp.Eq(b_of("weighted-infonce-paper").subs(gamma, 0), 0), N)
    return sp.simplify(root)
