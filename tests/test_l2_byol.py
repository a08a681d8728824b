"""L2-loss BYOL/SimSiam derivations against Tian et al. closed forms and finite differences."""
import numpy as np
import pytest
import sympy as sp
from scipy.integrate import solve_ivp

from oracles import l2_reduced, l2_roots
from symbolic import l2_byol as l2
from symbolic.cosine_simsiam import invariant_residual
from symbolic.models import derive


def test_reduced_equals_eq16():
    d = derive("l2-byol", "reduced")
    f = sp.lambdify([l2.p, l2.eta, l2.sigma2, l2.tau, l2.alpha_p], d.rhs["p"])
    rng = np.random.default_rng(0)
    for _ in range(20):
        pv, e, s2, t, ap = rng.normal(), rng.uniform(0, 0.3), rng.uniform(0, 2), rng.uniform(0.5, 1.5), rng.uniform(0.1, 3)
        assert np.isclose(f(pv, e, s2, t, ap), l2_reduced(pv, e, s2, t), rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("sigma2,eta,pm,pp", [(0.5, 0.05, 0.054447, 0.612220), (1.0, 0.10, 0.138197, 0.361803)])
def test_worked_examples(sigma2, eta, pm, pp):
    lo, hi, eta_c = l2.nontrivial_equilibria()
    vals = {l2.eta: eta, l2.sigma2: sigma2, l2.tau: 1}
    assert abs(float(lo.subs(vals)) - pm) < 5e-7          # the table prints 6 decimals
    assert abs(float(hi.subs(vals)) - pp) < 5e-7
    assert np.allclose([float(lo.subs(vals)), float(hi.subs(vals))], l2_roots(eta, sigma2), rtol=1e-14)
    assert sp.simplify(eta_c - l2.tau**2 / (4 * (1 + l2.sigma2))) == 0


def test_invariant_and_bao_eq8():
    assert invariant_residual(derive("l2-byol", "eigen")) == {"parabola": 0}
    rho, s2, pp = sp.symbols("rho sigma2 p")
    got = l2.bao_eq8().rhs["p"]
    got = got.subs({x: sp.Symbol(x.name) for x in got.free_symbols})
    assert sp.expand(got - (pp**2 * (1 - (1 + s2) * pp) - rho * pp)) == 0


def test_matrix_form_is_minus_gradient_of_expected_loss():
    # finite differences of the exact expected loss written with numpy moments (independent route)
    rng = np.random.default_rng(2)
    n, s2, ap, eta, beta = 3, 0.7, 1.3, 0.05, 0.4
    Wp, W, Wa = (rng.standard_normal((n, n)) for _ in range(3))
    S11, S21 = (1 + s2) * np.eye(n), np.eye(n)

    def loss(Wp, W):   # 1/2 E|Wp W x1 - Wa x2|^2 without the constant term
        return 0.5 * np.trace(Wp @ W @ S11 @ W.T @ Wp.T) - np.trace(Wa @ S21 @ W.T @ Wp.T)

    def fd(fun, X, eps=1e-6):
        G = np.zeros_like(X)
        for idx in np.ndindex(X.shape):
            E = np.zeros_like(X)
            E[idx] = eps
            G[idx] = (fun(X + E) - fun(X - E)) / (2 * eps)
        return G

    d = derive("l2-byol", "matrix")
    syms = {x.name: x for v in d.rhs.values() for x in v.free_symbols}
    mats = {k: sp.MatrixSymbol(k, *d.rhs[k].shape) for k in ("W_p", "W", "W_a")}
    sub = {mats["W_p"]: sp.Matrix(Wp), mats["W"]: sp.Matrix(W), mats["W_a"]: sp.Matrix(Wa),
           syms["sigma2"]: s2, syms["alpha_p"]: ap, syms["eta"]: eta, syms["beta"]: beta}
    ev = {k: np.array(sp.Matrix(v.subs(sub).doit()), dtype=float) for k, v in d.rhs.items()}
    np.testing.assert_allclose(ev["W_p"], -ap * fd(lambda X: loss(X, W), Wp) - eta * Wp, atol=1e-7)
    np.testing.assert_allclose(ev["W"], -fd(lambda X: loss(Wp, X), W) - eta * W, atol=1e-7)
    np.testing.assert_allclose(ev["W_a"], beta * (W - Wa), atol=1e-14)


def test_three_dimensional_run_converges_to_notes_value():
    # notes: sigma2 0.5, eta 0.04, alpha_p 1, beta 0.4 from (0.5, 0.25, 0) -> (0.623927, 0.389284, 1)
    d = derive("l2-byol", "eigen")
    syms = [l2.p, l2.s, l2.tau, l2.alpha_p, l2.beta, l2.eta, l2.sigma2]
    f = sp.lambdify(syms, [d.rhs[k] for k in d.state])
    sol = solve_ivp(lambda t, y: f(*y, 1.0, 0.4, 0.04, 0.5), (0, 2000), [0.5, 0.25, 0.0],
                    method="DOP853", rtol=1e-11, atol=1e-12)
    np.testing.assert_allclose(sol.y[:, -1], [0.623927, 0.389284, 1.0], atol=2e-6)   # 6 printed digits
