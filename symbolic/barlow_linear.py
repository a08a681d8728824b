r"""Stepwise Barlow Twins, linear model (Simon, Knutins, Ziyin, Geisz, Fetterman, Albrecht, ICML 2023).

Loss (Simon et al. eq. 1 with off-diagonal weight :math:`\lambda=1` and no batch normalisation):
for a linear embedding :math:`f(x)=Wx`, :math:`W\in\mathbb R^{d\times m}`, and positive pairs
:math:`(x,x')`, the embedding cross-correlation is :math:`C=W\Gamma W^\top` with the data's symmetrised
cross-correlation :math:`\Gamma=\tfrac12\mathbb E[xx'^\top+x'x^\top]`, and

.. math:: \mathcal L=\|C-I_d\|_F^2,\qquad \dot W=-\nabla_W\mathcal L-\rho W=-4(W\Gamma W^\top-I)W\Gamma-\rho W

(gradient flow; a step of gradient descent with learning rate :math:`\eta` is :math:`\Delta t=\eta`,
the paper's :math:`t=\mathrm{lr}\times\mathrm{step}`; :math:`\rho` is the weight decay).

* matrix form: derived by SymPy's matrix calculus from :math:`\mathcal L` written with traces;
* eigen form: aligned modes, :math:`W=U\,\mathrm{diag}(w_j)V^\top` with :math:`V` the eigenvectors of
  :math:`\Gamma` (eigenvalues :math:`\gamma_j`): :math:`\dot w=4\gamma w(1-\gamma w^2)-\rho w`;
* reduced form in the embedding eigenvalue :math:`c=\gamma w^2` (the eigenvalue of :math:`C` along the
  mode): :math:`\dot c=8\gamma c(1-c)-2\rho c=2c\,(G(c)-\rho)`, :math:`G(c)=4\gamma(1-c)`;
* equilibria :math:`c=0` and :math:`c^*=1-\rho/(4\gamma)`; the mode is switched off (transcritical
  bifurcation, :math:`c^*` crosses 0) at :math:`\rho_c=\max_{c>0}G(c)=4\gamma`;
* closed form (logistic): :math:`c(t)=\frac{ac_0}{c_0+(a-c_0)e^{-8\gamma at}}`, :math:`a=1-\rho/(4\gamma)`,
  and the step time (half the plateau) :math:`t_{1/2}=\frac{\ln(a/c_0-1)}{8\gamma a}`, which from small
  initialisation is :math:`\approx\ln(a/c_0)/(8\gamma a)`: modes are learned one at a time in the order of
  :math:`\gamma_j` (Simon et al. Sec. 4, eqs. 6-8, here with weight decay).
"""
from __future__ import annotations

import math
from functools import lru_cache

import sympy as sp

from .derivation import Derivation
from .params import BarlowParams  # noqa: F401  (defined there: the registry loads without SymPy)

w, c, t = sp.symbols("w c t", nonnegative=True)
gamma = sp.Symbol("gamma", positive=True)
rho = sp.Symbol("rho", nonnegative=True)
c0 = sp.Symbol("c_0", positive=True)
PARAMS = ("gamma", "rho")
DEFINITIONS = {"w": "singular value of W along the mode (aligned with an eigenvector of Gamma)",
               "c": "eigenvalue of the embedding cross-correlation C = W Gamma W^T along the mode",
               "gamma": "eigenvalue of the data's symmetrised cross-correlation Gamma",
               "rho": "weight decay"}


def _grad(L, X):
    # SymPy differentiates each trace term correctly but can drop an Add of them: use linearity.
    return sp.Add(*[term.diff(X) for term in sp.Add.make_args(sp.expand(L))])


def _matrices():
    d, m = sp.symbols("d m", integer=True, positive=True)
    return sp.MatrixSymbol("W", d, m), sp.MatrixSymbol("Gamma", m, m), d


@lru_cache(maxsize=None)
def matrix_form() -> Derivation:
    r"""Matrix flow :math:`\dot W=-\nabla_W\|W\Gamma W^\top-I\|_F^2-\rho W` (Gamma symmetric)."""
    W, G, d = _matrices()
    # ||W G W^T - I||_F^2 = tr(W G W^T W G W^T) - 2 tr(W G W^T) + d
    L = sp.trace(W * G * W.T * W * G * W.T) - 2 * sp.trace(W * G * W.T)
    W_dot = (-_grad(L, W)).subs({G.T: G}).doit() - rho * W
    return Derivation("barlow-linear", "matrix", ("W",), ("Gamma", "rho"), {"W": W_dot},
                      definitions=dict(DEFINITIONS),
                      notes="L = ||W Gamma W^T - I||_F^2, Gamma = E[x x'^T + x' x^T]/2; lambda = 1, no batch norm.")


@lru_cache(maxsize=None)
def eigen_form() -> Derivation:
    """Aligned modes: diagonal :math:`W,\\Gamma` (two modes, mode 0 read off) in :func:`matrix_form`."""
    d = matrix_form()
    W, G, _ = _matrices()
    q, g2 = sp.symbols("q g_2", positive=True)
    sub = {sp.MatrixSymbol("W", *d.rhs["W"].shape): sp.diag(w, q), G: sp.diag(gamma, g2)}
    W_dot = sp.Matrix(d.rhs["W"].subs(sub).doit())
    return Derivation("barlow-linear", "eigen", ("w",), PARAMS, {"w": sp.factor(sp.expand(W_dot[0, 0]))},
                      definitions=dict(DEFINITIONS))


@lru_cache(maxsize=None)
def reduced_form() -> Derivation:
    r"""The embedding eigenvalue :math:`c=\gamma w^2`: :math:`\dot c=2\gamma w\dot w` on :func:`eigen_form`."""
    wd = eigen_form().rhs["w"]
    cdot = sp.expand(sp.expand(2 * gamma * w * wd).subs(w**2, c / gamma))
    if w in cdot.free_symbols:
        raise AssertionError("c-flow still depends on w")
    return Derivation("barlow-linear", "reduced", ("c",), PARAMS, {"c": sp.factor(cdot)},
                      equilibrium_polynomial=cdot, definitions=dict(DEFINITIONS),
                      notes="c = gamma w^2; decay enters as -2 rho c.")


def equilibria():
    r"""``(c_star, rho_c)``: the non-zero root of the reduced form and the decay where it reaches 0."""
    rhs = reduced_form().rhs["c"]
    (c_star,) = sp.solve(sp.cancel(rhs / c), c)
    (rho_c,) = sp.solve(c_star, rho)
    return sp.simplify(c_star), rho_c


def closed_form():
    r""":math:`c(t)=ac_0/(c_0+(a-c_0)e^{-8\gamma at})`, :math:`a=c^*`, with its residual on the reduced form.

    Returns ``(c(t), residual, initial_error)``; SymPy simplifies both the residual
    :math:`\dot c(t)-F(c(t))` and :math:`c(0)-c_0` to zero (the tests check it).
    """
    a, _ = equilibria()
    ct = a * c0 / (c0 + (a - c0) * sp.exp(-8 * gamma * a * t))
    F = reduced_form().rhs["c"]
    return ct, sp.simplify(ct.diff(t) - F.subs(c, ct)), sp.simplify(ct.subs(t, 0) - c0)


def step_time():
    r""":math:`t_{1/2}=\ln((a-c_0)/c_0)/(8\gamma a)` and the residual :math:`c(t_{1/2})-a/2` (zero)."""
    a, _ = equilibria()
    th = sp.log((a - c0) / c0) / (8 * gamma * a)
    ct, _, _ = closed_form()
    return th, sp.simplify(ct.subs(t, th) - a / 2)


# ---- numbers (float), checked against the SymPy expressions above in the tests ----

def plateau(gamma_j: float, rho_: float) -> float:
    r""":math:`c^*=\max(0,1-\rho/(4\gamma))`."""
    return max(0.0, 1.0 - rho_ / (4.0 * gamma_j))


def critical_decay(gamma_j: float) -> float:
    r""":math:`\rho_c=4\gamma`."""
    return 4.0 * gamma_j


def trajectory(tt, gamma_j: float, rho_: float, c_init: float):
    """Closed-form :math:`c(t)` at times ``tt`` (numpy), any decay (also past the switch-off)."""
    import numpy as np

    tt = np.asarray(tt, float)
    a = 1.0 - rho_ / (4.0 * gamma_j)
    if a == 0.0:
        return c_init / (1.0 + 8.0 * gamma_j * c_init * tt)
    e = np.exp(-8.0 * gamma_j * a * tt)
    return a * c_init / (c_init + (a - c_init) * e)


def half_time(gamma_j: float, rho_: float, c_init: float) -> float:
    r""":math:`t_{1/2}=\ln(a/c_0-1)/(8\gamma a)` (inf for a switched-off mode)."""
    a = 1.0 - rho_ / (4.0 * gamma_j)
    if a <= 0 or c_init >= a / 2:
        return math.inf if a <= 0 else 0.0
    return math.log(a / c_init - 1.0) / (8.0 * gamma_j * a)
