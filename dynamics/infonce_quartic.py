r"""The fourth-order term of the (weighted) InfoNCE landscape, with its :math:`1/N` mode coupling.

Ziyin et al. (2022), Theorem 1, keep the quadratic part :math:`-\mathrm{Tr}[WBW^\top]` of the expected
loss and a quartic :math:`\mathrm{Tr}[W\Sigma W^\top W\Sigma W^\top]`, which decouples the modes. Here the
quartic is derived for the Gaussian-kernel losses that the reproductions train
(:mod:`sims.reproductions._torch`). For one anchor :math:`i` the loss is
:math:`-\ell_{ii}+\log\sum_k w_k e^{-t^2D_k/2}` over *atoms* :math:`k`: the :math:`N-1` negatives
(weight 1, :math:`D_j=|W(x_i-x'_j)|^2`), the positive (weight :math:`\alpha`, :math:`D=d_{ii}=|W(x_i-x'_i)|^2`)
and a zero-distance self atom (weight :math:`\beta`), with total weight :math:`Z=N-1+\alpha+\beta`:

* ``infonce``: :math:`\alpha=1,\ \beta=0` (Ziyin eq. 1);
* ``weighted-self``: :math:`\beta=1-\alpha` (eq. 3 plus the self term, whose quadratic part is eq. 4);
* ``weighted-printed``: :math:`\beta=0` (eq. 3 as printed).

With :math:`p_k=w_k/Z`, the cumulant expansion of :math:`\log\mathbb E_pe^{-t^2D/2}` gives

.. math:: L(tW)=L_0+\tfrac{t^2}2\big(d_{ii}-\mathbb E_pD\big)+\tfrac{t^4}8\operatorname{Var}_pD+O(t^6).

Averaging over data :math:`\hat x\sim\mathcal N(0,A)` and views :math:`x=\hat x+\epsilon`,
:math:`\epsilon\sim\mathcal N(0,C)` (population draws, :math:`\Sigma=A+C`), with :math:`r=(N-1)/Z`,
:math:`\pi=\alpha/Z`, :math:`m=\mathbb E[D_j\mid x_i]`, :math:`V=\operatorname{Var}[D_j\mid x_i]`:

.. math::
    \mathbb E\operatorname{Var}_pD=r(1-r)\,\mathbb Em^2+r(1-\tfrac1Z)\,\mathbb EV+\pi(1-\pi)\,\mathbb Ed_{ii}^2
    -2r\pi\,\mathbb E[m\,d_{ii}],

and with :math:`T=\mathrm{Tr}[W\Sigma W^\top]`, :math:`S=\mathrm{Tr}[(W\Sigma W^\top)^2]`,
:math:`T_C=\mathrm{Tr}[WCW^\top]`, :math:`S_C=\mathrm{Tr}[(WCW^\top)^2]` (Isserlis):
:math:`\mathbb Em^2=4T^2+2S`, :math:`\mathbb EV=6S`, :math:`\mathbb Ed_{ii}^2=4T_C^2+8S_C`,
:math:`\mathbb E[m\,d_{ii}]=4TT_C+2S_C`. So the quartic coefficient is

.. math::
    Q(W)=\tfrac18\Big[r(1-r)(4T^2+2S)+6r(1-\tfrac1Z)S+\pi(1-\pi)(4T_C^2+8S_C)-2r\pi(4TT_C+2S_C)\Big].

Two departures from Theorem 1 follow. (i) At large N, :math:`Q\to\tfrac34S`: the conditional
variance over negatives (anchor fixed) is 3/4 of the unconditional one that the paper's quartic
uses, so the minimiser is :math:`4/3` of Theorem 1's. (ii) The :math:`T^2`, :math:`TT_C`, :math:`T_C^2` terms
couple the modes at order :math:`1/N`. For ``weighted-self`` they are about
:math:`\tfrac{1-\alpha}{2N}T_C^2`, with :math:`T_C=\sigma^2\sum_i\lambda_i` for :math:`C=\sigma^2I`: strong modes
raise the cost of weak ones, and modes near eq. 4's threshold collapse where Theorem 1 keeps them.
For ``infonce`` the coupling is :math:`\tfrac1{2N}\mathrm{Tr}[WAW^\top]^2`, without the :math:`\sigma^4`.

Checked by Monte-Carlo against the exact per-sample :math:`t^4` coefficient and by autograd
(tests/test_infonce_quartic.py). With a fixed training set the data moments are the empirical
ones; the formula then holds up to :math:`O(1/N)` corrections in the data terms.

In the commuting case (:math:`W^\top W=U\operatorname{diag}(\lambda)U^\top`, :math:`A, C` diagonal in the
same basis, :math:`s_i=a_i+c_i`) the expected loss is :math:`-b\cdot\lambda+\lambda^\top M\lambda`, a convex
quadratic programme in :math:`\lambda\ge0`: :func:`quartic_matrix` builds :math:`M`, :func:`coupled_lambda`
solves it.
"""
from __future__ import annotations

import numpy as np

from symbolic.errors import ParameterError, check_choice, check_range

VARIANTS = ("infonce", "weighted-self", "weighted-printed")


def atom_weights(variant: str, n: float, alpha: float = 1.0) -> tuple[float, float, float]:
    r"""``(r, pi, Z)``: total negative mass :math:`(N-1)/Z`, positive mass :math:`\alpha/Z`, total weight Z."""
    check_choice("variant", variant, VARIANTS)
    n = check_range("n", n, 2.0, hi_open=True)
    alpha = 1.0 if variant == "infonce" else check_range("alpha", alpha, 0.0, 1.0, hi_open=False)
    beta = 1.0 - alpha if variant == "weighted-self" else 0.0
    z = n - 1 + alpha + beta
    return (n - 1) / z, alpha / z, z


def _coefficients(variant, n, alpha):
    r, pi, z = atom_weights(variant, n, alpha)
    return r * (1 - r), 6 * r * (1 - 1 / z), pi * (1 - pi), 2 * r * pi


def quartic_coefficient(W, A, C, n: float, variant: str = "infonce", alpha: float = 1.0) -> float:
    r"""The :math:`t^4` coefficient :math:`Q(W)` of the data- and view-averaged loss :math:`L(tW)` (module
    docstring), for general (non-commuting) :math:`W` (m x d), data covariance ``A`` and augmentation
    covariance ``C`` (d x d)."""
    W, A, C = (np.atleast_2d(np.asarray(x, float)) for x in (W, A, C))
    if A.shape != C.shape or A.shape[0] != W.shape[1]:
        raise ParameterError(f"A and C must be {W.shape[1]}x{W.shape[1]} for W of shape {W.shape}; "
                             f"got {A.shape} and {C.shape}")
    k_m2, k_v, k_d2, k_md = _coefficients(variant, n, alpha)
    P, PC = W @ (A + C) @ W.T, W @ C @ W.T
    T, S, Tc, Sc = np.trace(P), np.sum(P * P), np.trace(PC), np.sum(PC * PC)
    return float((k_m2 * (4 * T * T + 2 * S) + k_v * S + k_d2 * (4 * Tc * Tc + 8 * Sc)
                  - k_md * (4 * T * Tc + 2 * Sc)) / 8)


def quartic_matrix(a, c, n: float, variant: str = "infonce", alpha: float = 1.0) -> np.ndarray:
    r"""M with :math:`Q=\lambda^\top M\lambda` in the commuting case (data eigenvalues ``a``, augmentation
    eigenvalues ``c`` in the same basis, :math:`\lambda` the eigenvalues of :math:`W^\top W`)."""
    a, c = np.asarray(a, float), np.asarray(c, float)
    if a.shape != c.shape or a.ndim != 1:
        raise ParameterError(f"a and c must be 1-D of the same length; got {a.shape} and {c.shape}")
    k_m2, k_v, k_d2, k_md = _coefficients(variant, n, alpha)
    s = a + c
    # T = s.lam, S = s^2.lam^2, Tc = c.lam, Sc = c^2.lam^2; T Tc -> symmetrised outer product
    M = (k_m2 * (4 * np.outer(s, s) + 2 * np.diag(s * s)) + k_v * np.diag(s * s)
         + k_d2 * (4 * np.outer(c, c) + 8 * np.diag(c * c))
         - k_md * (2 * (np.outer(s, c) + np.outer(c, s)) + 2 * np.diag(c * c)))
    return M / 8


def coupled_lambda(b, M) -> np.ndarray:
    r"""The minimiser of :math:`-b\cdot\lambda+\lambda^\top M\lambda` over :math:`\lambda\ge0` (M positive
    definite): non-negative least squares on the Cholesky factor, :math:`2M=R^\top R`,
    :math:`\min\tfrac12\|R\lambda-R^{-\top}b\|^2`."""
    from scipy.linalg import solve_triangular
    from scipy.optimize import nnls

    b, M = np.asarray(b, float), np.asarray(M, float)
    try:
        R = np.linalg.cholesky(2 * M).T                     # upper: 2M = R^T R
    except np.linalg.LinAlgError:
        raise ParameterError("M must be positive definite (the quartic form of a loss)") from None
    y = solve_triangular(R, b, trans="T")
    lam, _ = nnls(R, y, maxiter=50 * b.size)
    return lam
