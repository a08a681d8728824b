r"""Linear contrastive learning, one and two layers: the singular-value flow (Jing et al. 2022).

Model: the InfoNCE gradient flow of a linear map :math:`W` is :math:`\dot W = WX` with
:math:`X=\hat\Sigma_0-\hat\Sigma_1` (Jing Lemma 2, taken here as the model's effective loss
:math:`L=-\tfrac12\mathrm{tr}(WXW^\top)`, X symmetric). With two layers :math:`W=W_2W_1` SymPy's
matrix calculus gives (Jing Sec. 5)

.. math:: \dot W_1=W_2^\top W_2W_1X,\qquad \dot W_2=W_2W_1XW_1^\top,

with :math:`W_1W_1^\top-W_2^\top W_2` conserved. Aligned (:math:`V_2=U_1`), per mode with
:math:`\lambda=v^\top Xv` (Theorem 3):

.. math:: \dot\sigma_1=\sigma_1\sigma_2^2\lambda,\qquad\dot\sigma_2=\sigma_2\sigma_1^2\lambda,\qquad
          \sigma_1^2-\sigma_2^2=C,

closed form :math:`\sigma_1^2(t)=Ca_0^2/(a_0^2-b_0^2e^{2\lambda Ct})`, :math:`\sigma_2^2=\sigma_1^2-C`
(:math:`a_0,b_0` the initial values), finite-time blow-up at :math:`t^*=\ln(a_0/b_0)/(\lambda C)`
for :math:`\lambda>0`. The line after Theorem 3 in the paper is garbled; with :math:`C` as above
it reads :math:`\dot\sigma_1=\sigma_1(\sigma_1^2-C)\lambda`. One layer: :math:`W(t)=W(0)e^{Xt}`.

The 'eigen' and 'reduced' forms of this model are the same aligned pair (the reduced form adds
the conserved quantity and the closed form); state names ``sigma_1, sigma_2``, parameter ``lam``.
"""
from __future__ import annotations

import sympy as sp

from .derivation import Derivation

sigma_1, sigma_2 = sp.symbols("sigma_1 sigma_2", positive=True)
lam = sp.Symbol("lam", real=True)
t = sp.Symbol("t", nonnegative=True)
a0, b0 = sp.symbols("a_0 b_0", positive=True)
DEFINITIONS = {"sigma_1": "singular value of W_1 along the mode", "sigma_2": "singular value of W_2",
               "lam": "v^T X v along the mode (X = weighted data minus augmentation covariance)"}


def _matrices():
    n = sp.Symbol("n", integer=True, positive=True)
    return (sp.MatrixSymbol("W_1", n, n), sp.MatrixSymbol("W_2", n, n), sp.MatrixSymbol("X", n, n))


def matrix_form() -> Derivation:
    """Two-layer flow by matrix calculus on :math:`L=-\\tfrac12\\mathrm{tr}(W_2W_1XW_1^\\top W_2^\\top)`."""
    W1, W2, X = _matrices()
    L = -sp.trace(W2 * W1 * X * W1.T * W2.T) / 2
    sym = {X.T: X}
    W1dot = (-L.diff(W1)).subs(sym).doit()
    W2dot = (-L.diff(W2)).subs(sym).doit()
    return Derivation("two-layer", "matrix", ("W_1", "W_2"), ("X",), {"W_1": W1dot, "W_2": W2dot},
                      invariants={"balance": (W1 * W1.T - W2.T * W2, 0)}, definitions=dict(DEFINITIONS),
                      notes="X symmetric; W_1 W_1^T - W_2^T W_2 is conserved.")


def balance_residual():
    """Time derivative of :math:`W_1W_1^\\top-W_2^\\top W_2` along the matrix flow (proved zero)."""
    d = matrix_form()
    W1, W2, X = _matrices()
    g1, g2 = d.rhs["W_1"], d.rhs["W_2"]
    dot = g1 * W1.T + W1 * g1.T - g2.T * W2 - W2.T * g2
    return sp.expand(dot.subs({X.T: X})).doit()


def eigen_form() -> Derivation:
    """Aligned singular-value pair: diagonal :math:`W_1, W_2, X` substituted in the matrix flow."""
    d = matrix_form()
    W1, W2, X = _matrices()
    q = sp.symbols("q1 q2 mu", positive=True)
    sub = {W1: sp.diag(sigma_1, q[0]), W2: sp.diag(sigma_2, q[1]), X: sp.diag(lam, q[2])}
    rhs = {k: sp.simplify(sp.Matrix(v.subs(sub).doit())[0, 0])
           for k, v in (("sigma_1", d.rhs["W_1"]), ("sigma_2", d.rhs["W_2"]))}
    return Derivation("two-layer", "eigen", ("sigma_1", "sigma_2"), ("lam",), rhs,
                      invariants={"balance": (sigma_1**2 - sigma_2**2, 0)}, definitions=dict(DEFINITIONS))


def closed_form():
    r"""Closed-form :math:`(\sigma_1(t),\sigma_2(t))` from :math:`(a_0,b_0)` for fixed :math:`\lambda`.

    Solved by SymPy from the separable ODE on the hyperbola
    :math:`\tfrac{d}{dt}\sigma_1^2=2\lambda\sigma_1^2(\sigma_1^2-C)` (a logistic equation in
    :math:`u=\sigma_1^2`); returns the squared solutions.
    """
    C = a0**2 - b0**2
    u = sp.Function("u")
    sol = sp.dsolve(sp.Eq(u(t).diff(t), 2 * lam * u(t) * (u(t) - C)), u(t), ics={u(0): a0**2})
    u1 = sp.simplify(sol.rhs)
    return u1, sp.simplify(u1 - C)


def blowup_time():
    r"""Finite-time blow-up :math:`t^*` of the closed form (pole of :math:`\sigma_1^2(t)`), :math:`\lambda>0`."""
    u1, _ = closed_form()
    den = sp.fraction(sp.together(u1))[1]
    roots = sp.solve(den, t)
    return sp.simplify(roots[0])


def reduced_form() -> Derivation:
    """The aligned pair with its conserved quantity and closed form (Jing Theorem 3)."""
    d = eigen_form()
    return Derivation("two-layer", "reduced", d.state, d.params, d.rhs, d.invariants,
                      definitions=dict(DEFINITIONS),
                      notes="sigma_1^2 - sigma_2^2 = C; closed form in symbolic.two_layer.closed_form.")


def one_layer_solution():
    r"""One layer, :math:`\dot W=WX`: returns ``(W(t), residual)`` for a diagonal (eigenbasis) X;
    the residual :math:`\dot W-WX` simplifies to zero."""
    w0 = sp.Matrix(2, 2, sp.symbols("w00 w01 w10 w11", real=True))
    l1, l2 = sp.symbols("lambda_1 lambda_2", real=True)
    X = sp.diag(l1, l2)
    Wt = w0 * sp.exp(X * t)
    return Wt, sp.simplify(Wt.diff(t) - Wt * X)
