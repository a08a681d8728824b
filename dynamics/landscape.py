r"""Stationary points of SSL loss landscapes (Ziyin et al.), numerically.

* :func:`stationary_point`: Theorem 1, general (non-commuting) form
  :math:`W^\top W=\tfrac12\Sigma^{-1/2}UM\Lambda U^\top\Sigma^{-1/2}` with :math:`U\Lambda U^\top` the
  eigendecomposition of :math:`\Sigma^{-1/2}B\Sigma^{-1/2}` and the mask :math:`M` keeping the
  largest positive :math:`\Lambda_{ii}`, at most ``d_star`` of them (local minima have rank
  :math:`\min(m,d^*)`). The proof names the eigenvalues of :math:`\Sigma^{1/2}B^{-1}\Sigma^{1/2}`: a slip;
  the theorem's form is the right one (tests: L-BFGS on the quartic landscape).
* :func:`commuting_lambda`: the per-mode form :math:`\lambda_i=\max(b_i,0)/(2s_i^2)` (symbolic.landscape).
* :func:`normalized_lambda`: the normalised landscape (Props. 2-3, eqs. 8, 9, 19) with
  :math:`\kappa` finite or infinite and the self-consistent survival mask (drop the worst violator
  and repeat).
"""
from __future__ import annotations

import math

import numpy as np

from symbolic.errors import ParameterError, check_choice, check_range
from symbolic.landscape import LOSSES, b_function

NEEDS_N = ("weighted-infonce-paper", "weighted-infonce-exact")


def b_vector(loss: str, a, c, alpha: float = 0.0, n: float | None = None, gamma: float = 0.0) -> np.ndarray:
    """Per-mode b_i for data eigenvalues ``a`` and augmentation eigenvalues ``c`` (commuting case):
    :func:`symbolic.landscape.b_of`, the one definition, evaluated."""
    check_choice("loss", loss, LOSSES)
    a, c = np.asarray(a, float), np.asarray(c, float)
    if loss in NEEDS_N:
        if n is None:
            raise ParameterError(f"n (dataset size) is required for loss {loss}")
        n = check_range("n", n, 0.0, math.inf, lo_open=True)
    a, c = np.broadcast_arrays(a, c)
    with np.errstate(divide="ignore", invalid="ignore"):         # n is used only by the losses that need it
        out = b_function(loss)(a, c, float(alpha), np.nan if n is None else float(n), float(gamma))
    return np.asarray(out, dtype=float) * np.ones(a.shape)


def commuting_lambda(b, s, d_star: int | None = None) -> np.ndarray:
    r"""Eigenvalues of :math:`W^\top W` per mode: :math:`\max(b_i,0)/(2s_i^2)`, keeping the ``d_star``
    modes of largest :math:`b_i/s_i` (the local minima's rank)."""
    b, s = np.asarray(b, float), np.asarray(s, float)
    lam = np.maximum(b, 0.0) / (2 * s * s)
    if d_star is not None and np.count_nonzero(lam) > d_star:
        order = np.argsort(-(b / s))
        lam[order[d_star:]] = 0.0
    return lam


def stationary_point(B, Sigma, d_star: int | None = None) -> np.ndarray:
    """Theorem 1: the global-minimum :math:`W^\\top W` for symmetric B and positive-definite Sigma."""
    B, Sigma = np.asarray(B, float), np.asarray(Sigma, float)
    w, V = np.linalg.eigh(Sigma)
    if np.any(w <= 0):
        raise ParameterError("Sigma must be positive definite")
    S_mhalf = V @ np.diag(w ** -0.5) @ V.T
    lam, U = np.linalg.eigh(S_mhalf @ B @ S_mhalf)
    keep = lam > 0
    if d_star is not None and keep.sum() > d_star:
        keep &= lam >= np.sort(lam[keep])[-d_star]
    M = np.where(keep, lam, 0.0)
    return 0.5 * S_mhalf @ U @ np.diag(M) @ U.T @ S_mhalf


def landscape_loss(W, B, Sigma) -> float:
    """:math:`-\\mathrm{Tr}[WBW^\\top]+\\mathrm{Tr}[W\\Sigma W^\\top W\\Sigma W^\\top]`."""
    WS = W @ Sigma @ W.T
    return float(-np.trace(W @ B @ W.T) + np.trace(WS @ WS))


def normalized_lambda(b, s, c_norm: float, kappa: float = math.inf):
    r"""Normalised landscape, commuting case: returns ``(lambda, mask)``.

    :math:`\ell_i=b_i/s_i`; with :math:`\kappa=\infty`,
    :math:`\lambda_i=\frac1{2s_i}\big(\ell_i+\frac{2c-\sum_{k\in M}\ell_k}{d_M}\big)` on the surviving set
    :math:`M`; finite :math:`\kappa`: :math:`\lambda_i=(b_i+2\kappa(c-\rho)s_i)/(2s_i^2)` with
    :math:`c-\rho=(c-\tfrac12\sum_{k\in M}\ell_k)/(1+\kappa d_M)`. Modes whose :math:`\lambda_i` would be
    negative leave :math:`M` one at a time (the worst first) until the mask is self-consistent.
    """
    b, s = np.asarray(b, float), np.asarray(s, float)
    ell = b / s
    M = np.ones(b.size, bool)
    while M.any():
        dM = M.sum()
        if math.isinf(kappa):
            shift = (2 * c_norm - ell[M].sum()) / dM
            lam = np.where(M, (ell + shift) / (2 * s), 0.0)
        else:
            cr = (c_norm - 0.5 * ell[M].sum()) / (1 + kappa * dM)
            lam = np.where(M, (b + 2 * kappa * cr * s) / (2 * s * s), 0.0)
        bad = M & (lam < 0)
        if not bad.any():
            return lam, M
        M[np.argmin(np.where(bad, lam, np.inf))] = False
    return np.zeros(b.size), M


def n_crit(a, c, alpha: float) -> np.ndarray:
    r""":math:`N_{crit}=(1-\alpha)c_i/a_i` (weighted InfoNCE, eq. 4): mode i collapses for :math:`N\le N_{crit}`.

    Follows from eq. 4's condition :math:`\frac{1-\alpha}{N}c_i\ge a_i`. The appendix's eq. (12) prints
    the inverse, :math:`N>a_i/(c_i(1-\alpha))`: a slip (it also flips the inequality's direction).
    """
    return (1 - alpha) * np.asarray(c, float) / np.asarray(a, float)
