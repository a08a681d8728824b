r"""L2-loss BYOL / SimSiam with linear online net, linear predictor and EMA target (Tian et al. 2021).

Derived from the model: the expected loss :math:`\tfrac12\mathbb E\|W_pWx_1-\mathrm{sg}(W_ax_2)\|^2` is
written with the views' second moments (computed by :mod:`symbolic.gaussian`), differentiated by
SymPy's matrix calculus, and reduced under the commuting assumption.

* matrix form (Tian Lemma 1, eqs. 2-4), with :math:`R=-W_pW(X+X')+W_aX`:
  :math:`\dot W_p=\alpha_pRW^\top-\eta W_p`, :math:`\dot W=W_p^\top R-\eta W`, :math:`\dot W_a=\beta(W-W_a)`;
* eigen form (eqs. 11-13), :math:`X=I`, :math:`X'=\sigma^2I`, :math:`W_a=\tau W`:
  :math:`\dot p=\alpha_ps[\tau-(1+\sigma^2)p]-\eta p`, :math:`\dot s=2ps[\tau-(1+\sigma^2)p]-2\eta s`,
  :math:`\dot\tau=\beta(1-\tau)-\tau\dot s/(2s)`;
* invariant (eq. 14): :math:`\frac{d}{dt}(s-p^2/\alpha_p)=-2\eta(s-p^2/\alpha_p)`. The main text of the
  paper prints the opposite sign of the constant :math:`c_j`; the appendix and SymPy agree with
  :math:`c_j=s_j(0)-p_j(0)^2/\alpha_p`;
* reduced form (eq. 16): :math:`\dot p=p^2[\tau-(1+\sigma^2)p]-\eta p` (:math:`\alpha_p` drops out; the
  paper's Fig. 4 caption drops the factor :math:`1+\sigma^2`). Equilibria :math:`0,p_\pm`,
  :math:`p_\pm=\frac{\tau\pm\sqrt{\tau^2-4\eta(1+\sigma^2)}}{2(1+\sigma^2)}`, real iff
  :math:`\eta\le\eta_c=\tau^2/(4(1+\sigma^2))`.

Bao et al. (2023) eq. 8 is the reduced form with :math:`\tau=\alpha_p=1`, :math:`\eta=\rho`
(:func:`bao_eq8`).
"""
from __future__ import annotations

import sympy as sp

from .derivation import Derivation
from .gaussian import view_second_moments

p, s, tau = sp.symbols("p s tau", real=True)
eta = sp.Symbol("eta", nonnegative=True)
sigma2 = sp.Symbol("sigma2", nonnegative=True)
alpha_p = sp.Symbol("alpha_p", positive=True)
beta = sp.Symbol("beta", nonnegative=True)
EIGEN_PARAMS = ("alpha_p", "beta", "eta", "sigma2")
REDUCED_PARAMS = ("eta", "sigma2", "tau", "alpha_p")
DEFINITIONS = {
    "p": "eigenvalue of the predictor W_p",
    "s": "eigenvalue of W W^T in the same eigenvector",
    "tau": "target/online ratio W_a = tau W along the mode (tau = 1: SimSiam, no EMA)",
    "alpha_p": "predictor learning-rate ratio", "beta": "EMA rate", "eta": "weight decay",
}


def _grad(L, X):
    # SymPy differentiates each trace term correctly but can drop an Add of them: use linearity.
    return sp.Add(*[t.diff(X) for t in sp.Add.make_args(sp.expand(L))])


def matrix_form() -> Derivation:
    """Matrix flow of Tian et al. Lemma 1, derived by matrix calculus on the expected loss."""
    n = sp.Symbol("n", integer=True, positive=True)
    Wp, W, Wa = (sp.MatrixSymbol(k, n, n) for k in ("W_p", "W", "W_a"))
    m = view_second_moments(sigma2)          # [[E x1x1, E x1x2], [E x2x1, E x2x2]] per coordinate
    # 1/2 E|Wp W x1 - Wa x2|^2 = 1/2 tr(Wp W E[x1x1^T] W^T Wp^T) - tr(Wa E[x2x1^T] W^T Wp^T) + const
    L = m[0, 0] / 2 * sp.trace(Wp * W * W.T * Wp.T) - m[1, 0] * sp.trace(Wa * W.T * Wp.T)
    Wp_dot = -alpha_p * _grad(L, Wp) - eta * Wp
    W_dot = -_grad(L, W) - eta * W
    Wa_dot = beta * (W - Wa)
    return Derivation("l2-byol", "matrix", ("W_p", "W", "W_a"), EIGEN_PARAMS,
                      {"W_p": Wp_dot, "W": W_dot, "W_a": Wa_dot}, definitions=dict(DEFINITIONS),
                      notes="X = I, X' = sigma2 I (isotropic data and augmentation).")


def eigen_form() -> Derivation:
    r"""Eigen system (eqs. 11-13) by substituting commuting diagonal matrices in :func:`matrix_form`.

    Two explicit modes are used (mode 0 is read off); :math:`W=\mathrm{diag}(\sqrt s,\cdot)`,
    :math:`W_p=\mathrm{diag}(p,\cdot)`, :math:`W_a=\tau W`.
    """
    d = matrix_form()
    r_, q_ = sp.symbols("r q", positive=True)
    Wv = sp.diag(sp.sqrt(s), r_)
    Wpv = sp.diag(p, q_)
    Wav = tau * Wv
    sub = {}
    for name, val in (("W", Wv), ("W_p", Wpv), ("W_a", Wav)):
        sub[sp.MatrixSymbol(name, *d.rhs[name].shape)] = val
    ev = {k: sp.Matrix(v.subs(sub).doit()) for k, v in d.rhs.items()}
    pdot = sp.simplify(ev["W_p"][0, 0])
    Wdot = ev["W"]
    sdot = sp.simplify((Wdot * Wv.T + Wv * Wdot.T)[0, 0])
    # W_a = tau W  =>  tau' W = W_a' - tau W'
    taudot = sp.simplify(((ev["W_a"] - tau * Wdot)[0, 0]) / Wv[0, 0])
    return Derivation("l2-byol", "eigen", ("p", "s", "tau"), EIGEN_PARAMS,
                      {"p": pdot, "s": sdot, "tau": taudot},
                      invariants={"parabola": (s - p**2 / alpha_p, -2 * eta)},
                      definitions=dict(DEFINITIONS))


def reduced_form() -> Derivation:
    r"""Third-order ODE on the invariant parabola (eq. 16): substitute :math:`s=p^2/\alpha_p`."""
    d = eigen_form()
    pdot = sp.factor(sp.simplify(d.rhs["p"].subs(s, p**2 / alpha_p)))
    poly = sp.expand(pdot)
    return Derivation("l2-byol", "reduced", ("p",), REDUCED_PARAMS, {"p": pdot},
                      equilibrium_polynomial=poly, definitions=dict(DEFINITIONS),
                      notes="tau frozen; alpha_p drops out.")


def bao_eq8() -> Derivation:
    r"""Bao (2023) eq. 8: :math:`\dot p=p^2(1-(1+\sigma^2)p)-\rho p` (reduced form, :math:`\tau=\alpha_p=1`)."""
    d = reduced_form()
    rho = sp.Symbol("rho", nonnegative=True)
    pdot = d.rhs["p"].subs({tau: 1, alpha_p: 1, eta: rho})
    return Derivation("l2-simsiam", "reduced", ("p",), ("rho", "sigma2"), {"p": pdot},
                      equilibrium_polynomial=sp.expand(pdot), definitions=dict(DEFINITIONS))


def nontrivial_equilibria():
    r"""The non-zero roots :math:`p_\pm` of the reduced form and the critical decay :math:`\eta_c`."""
    d = reduced_form()
    q = sp.cancel(d.rhs["p"] / p)
    roots = sp.solve(q, p)
    roots = sorted(roots, key=lambda r: sp.N(r.subs({tau: 1, eta: sp.Rational(1, 100), sigma2: 1})))
    disc = sp.discriminant(sp.Poly(q, p))
    eta_c = sp.solve(disc, eta)[0]
    return roots[0], roots[1], eta_c
