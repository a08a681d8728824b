r"""DirectSet(alpha) / IsoLoss: a closed-form predictor set from the representation (Wang, Chen, Du &
Tian 2021; Halvagal, Laborieux & Zenke, NeurIPS 2023).

Model (the toy of Halvagal et al. Sec. 3 / Fig. 2): inputs :math:`x\sim\mathcal N(0,I_m)`, views
:math:`x_{1,2}=x+\epsilon_{1,2}`, :math:`\epsilon\sim\mathcal N(0,\sigma^2I)`; online net :math:`W\in\mathbb R^{n\times m}`,
target :math:`\mathrm{sg}(W)` (no EMA), predictor not trained but set to a power of the representation's
correlation, :math:`W_P=(WW^\top)^\alpha` (eigenvalues :math:`\lambda^\alpha`; DirectPred is
:math:`\alpha=\tfrac12`, DirectCopy :math:`\alpha=1`), held constant in the gradient.

* Euclidean loss :math:`\mathcal L=\tfrac12\mathbb E\|W_PWx_1-\mathrm{sg}(Wx_2)\|^2`:
  :math:`\dot W=-W_P\big((1+\sigma^2)W_PW-W\big)-\eta W`;
* IsoLoss (Halvagal et al. eq. 9, Euclidean) :math:`\tfrac12\mathbb E\|Wx_1-\mathrm{sg}(Wx_1+Wx_2-W_PWx_1)\|^2`:
  :math:`\dot W=-\big((1+\sigma^2)W_PW-W\big)-\eta W` (the factor :math:`W_P` is gone).

Both are derived by SymPy's matrix calculus with the stop-gradients as separate symbols; ``iso``
(0 or 1) selects the variant in one expression. Since :math:`\dot W=f(WW^\top)W`, :math:`WW^\top` evolves
in its own eigenbasis from any initialisation: the eigenvalue flow is exact, not an alignment
assumption. Eigen form, :math:`\lambda` an eigenvalue of :math:`WW^\top`, :math:`p=\lambda^\alpha`:

.. math:: \dot\lambda=2\lambda\big[\mu(p)\,(1-(1+\sigma^2)p)-\eta\big],\qquad
          \mu=p\ \text{(Euclidean)},\quad\mu=1\ \text{(IsoLoss)}

(the eigenvalue :math:`p` acts as a learning-rate multiplier; Halvagal et al. eqs. 6-8). Reduced
form in the predictor eigenvalue :math:`p=\lambda^\alpha`, polynomial for every :math:`\alpha`:

.. math:: \dot p=2\alpha p\,\big[\mu(p)(1-(1+\sigma^2)p)-\eta\big].

Relation to :mod:`symbolic.l2_byol` (proved by SymPy in the tests): the Euclidean reduced form is
:math:`2\alpha` times the ``l2-byol`` reduced form at :math:`\tau=1`, i.e. the same flow with time
:math:`t\to2\alpha t`. It is identical at :math:`\alpha=\tfrac12` (DirectPred: :math:`p=\sqrt\lambda` is
Tian et al.'s invariant parabola :math:`s=p^2`); at :math:`\alpha=1` (DirectCopy) it is ``l2-byol`` run
twice as fast. Equilibria: Euclidean :math:`p_\pm=\frac{1\pm\sqrt{1-4\eta(1+\sigma^2)}}{2(1+\sigma^2)}`,
:math:`\eta_c=\frac1{4(1+\sigma^2)}` (saddle-node); IsoLoss :math:`p^*=\frac{1-\eta}{1+\sigma^2}`,
:math:`\eta_c=1` (transcritical). In :math:`\lambda`: :math:`\lambda=p^{1/\alpha}`.
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from .derivation import Derivation
from .params import DirectSetParams  # noqa: F401  (defined there: the registry loads without SymPy)
from .gaussian import view_second_moments

lam, p = sp.symbols("lam p", positive=True)
alpha = sp.Symbol("alpha", positive=True)
eta = sp.Symbol("eta", nonnegative=True)
sigma2 = sp.Symbol("sigma2", nonnegative=True)
iso = sp.Symbol("iso", nonnegative=True)
PARAMS = ("alpha", "sigma2", "eta", "iso")
DEFINITIONS = {"lam": "eigenvalue of W W^T", "p": "eigenvalue of the predictor W_P = (W W^T)^alpha, p = lam^alpha",
               "alpha": "predictor power", "eta": "weight decay",
               "iso": "0: Euclidean BYOL/SimSiam loss, 1: IsoLoss (Halvagal et al. 2023)"}


def _grad(L, X):
    # SymPy differentiates each trace term correctly but can drop an Add of them: use linearity.
    return sp.Add(*[term.diff(X) for term in sp.Add.make_args(sp.expand(L))])


def _matrices():
    n, m = sp.symbols("n m", integer=True, positive=True)
    return sp.MatrixSymbol("W", n, m), sp.MatrixSymbol("W_P", n, n), sp.MatrixSymbol("W_sg", n, m)


@lru_cache(maxsize=None)
def matrix_form() -> Derivation:
    r"""Matrix flow of both losses, :math:`W_P` and the stop-gradient copy ``W_sg`` constant in the gradient."""
    W, P, T = _matrices()
    mom = view_second_moments(sigma2)          # E[x1 x1^T] = (1+sigma2) I, E[x1 x2^T] = I
    # 1/2 E|P W x1 - T x2|^2 = 1/2 (1+s2) tr(P W W^T P^T) - tr(P W T^T) + const
    L_euc = mom[0, 0] / 2 * sp.trace(P * W * W.T * P.T) - mom[0, 1] * sp.trace(P * W * T.T)
    # 1/2 E|W x1 - A x1 - T x2|^2, A = T - P T: 1/2 (1+s2) tr(W W^T) - (1+s2) tr(W A^T) - tr(W T^T) + const
    A = T - P * T
    L_iso = (mom[0, 0] / 2 * sp.trace(W * W.T) - mom[0, 0] * sp.trace(W * A.T) - mom[0, 1] * sp.trace(W * T.T))
    sym = {P.T: P}
    W_dot = ((1 - iso) * (-_grad(L_euc, W)) + iso * (-_grad(L_iso, W))).subs(sym).subs(T, W).doit() - eta * W
    return Derivation("directset", "matrix", ("W",), ("alpha", "sigma2", "eta", "iso"), {"W": W_dot},
                      definitions={**DEFINITIONS, "W_P": "predictor (W W^T)^alpha, constant in the gradient"},
                      notes="x ~ N(0, I), views x + N(0, sigma2 I); target sg(W); W_P = (W W^T)^alpha.")


@lru_cache(maxsize=None)
def eigen_form() -> Derivation:
    r"""Eigenvalue flow: :math:`W=\mathrm{diag}(\sqrt\lambda,\cdot)`, :math:`W_P=\mathrm{diag}(\lambda^\alpha,\cdot)`,
    :math:`\dot\lambda=(\dot WW^\top+W\dot W^\top)_{00}`."""
    d = matrix_form()
    W, P, _ = _matrices()
    r_ = sp.Symbol("r", positive=True)
    Wv, Pv = sp.diag(sp.sqrt(lam), r_), sp.diag(lam**alpha, r_**(2 * alpha))
    sub = {sp.MatrixSymbol("W", 2, 2): Wv, sp.MatrixSymbol("W_P", 2, 2): Pv}
    expr = d.rhs["W"]
    n, m = W.shape
    expr = expr.subs({n: 2, m: 2})
    Wd = sp.Matrix(expr.subs(sub).doit())
    lamdot = sp.expand(sp.powsimp(sp.expand((Wd * Wv.T + Wv * Wd.T)[0, 0])))
    return Derivation("directset", "eigen", ("lam",), PARAMS, {"lam": lamdot}, definitions=dict(DEFINITIONS))


@lru_cache(maxsize=None)
def reduced_form() -> Derivation:
    r"""The predictor eigenvalue :math:`p=\lambda^\alpha`: :math:`\dot p=\alpha(p/\lambda)\dot\lambda`,
    then :math:`\lambda^\alpha\to p`."""
    lamdot = eigen_form().rhs["lam"]
    pdot = sp.expand(sp.powsimp(sp.expand(alpha * lam**alpha / lam * lamdot)))
    pdot = sp.expand(pdot.replace(lambda e: e.is_Pow and e.base == lam,
                                  lambda e: p ** sp.simplify(e.exp / alpha)))
    if lam in pdot.free_symbols:
        raise AssertionError(f"p-flow still depends on lam: {pdot}")
    return Derivation("directset", "reduced", ("p",), PARAMS, {"p": sp.factor(pdot)},
                      equilibrium_polynomial=pdot, definitions=dict(DEFINITIONS),
                      notes="p = lam^alpha; iso in {0, 1}; the decay enters as -2 alpha eta p.")


def equilibria(variant: str):
    r"""Non-zero roots of the reduced form and the critical decay, for ``variant`` 'euclidean' or 'iso'.

    Returns ``(roots, eta_c)``: roots ascending (``p_-, p_+`` or ``p^*``) as SymPy expressions.
    """
    i = {"euclidean": 0, "iso": 1}[variant]
    q = sp.cancel(reduced_form().rhs["p"].subs(iso, i) / p)
    roots = sp.solve(q, p)
    roots = sorted(roots, key=lambda r: sp.N(r.subs({eta: sp.Rational(1, 100), sigma2: 1, alpha: 1})))
    if len(roots) == 2:
        (eta_c,) = sp.solve(sp.discriminant(sp.Poly(q, p)), eta)
    else:
        (eta_c,) = sp.solve(roots[0], eta)
    return tuple(sp.simplify(r) for r in roots), sp.simplify(eta_c)


# ---- numbers (float), checked against the SymPy expressions above in the tests ----

def critical_decay(sigma2_: float, iso_: int) -> float:
    r""":math:`\eta_c=\max_{p>0}\mu(p)(1-(1+\sigma^2)p)`: :math:`1/(4(1+\sigma^2))` Euclidean, 1 IsoLoss."""
    return 1.0 if iso_ else 1.0 / (4.0 * (1.0 + sigma2_))


def flow_lam(lam_, alpha_: float, sigma2_: float, eta_: float, iso_: int):
    r"""Eigen form :math:`\dot\lambda` (numpy, elementwise)."""
    import numpy as np

    lam_ = np.asarray(lam_, float)
    pp = np.power(lam_, alpha_)
    mu = 1.0 if iso_ else pp
    return 2.0 * lam_ * (mu * (1.0 - (1.0 + sigma2_) * pp) - eta_)
