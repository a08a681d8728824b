"""Two-layer singular-value flow (Jing et al. 2022) against its closed form and finite differences."""
import numpy as np
import sympy as sp
from scipy.integrate import solve_ivp

from oracles import two_layer_closed_form
from symbolic import two_layer as tl
from symbolic.cosine_simsiam import invariant_residual
from symbolic.models import derive


def test_closed_form_solves_the_ode():
    u1, u2 = tl.closed_form()
    d = derive("two-layer", "reduced")
    s1, s2 = sp.sqrt(u1), sp.sqrt(u2)
    rhs1 = d.rhs["sigma_1"]
    rhs1 = rhs1.subs({x: {"sigma_1": s1, "sigma_2": s2, "lam": tl.lam}[x.name] for x in rhs1.free_symbols})
    # d/dt sigma_1 - rhs, checked at random numeric points (exact simplification is slow)
    expr = sp.diff(s1, tl.t) - rhs1
    f = sp.lambdify([tl.t, tl.a0, tl.b0, tl.lam], expr)
    g = sp.lambdify([tl.t, tl.a0, tl.b0, tl.lam], s1)
    rng = np.random.default_rng(0)
    for _ in range(20):
        a0, b0, lam, t = rng.uniform(0.5, 2), rng.uniform(0.2, 1.5), rng.uniform(-1, 1), rng.uniform(0, 0.2)
        scale = g(t, a0, b0, lam) ** 3          # the rhs is cubic in the singular values
        assert abs(f(t, a0, b0, lam)) < 1e-10 * (1 + scale)


def test_closed_form_matches_notes_and_integration():
    u1, _ = tl.closed_form()
    f = sp.lambdify([tl.t, tl.a0, tl.b0, tl.lam], sp.sqrt(u1))
    for a0, b0, lam in [(1.3, 0.7, 0.5), (1.0, 1.4, -0.3)]:
        ts = np.linspace(0, 0.9, 7)
        np.testing.assert_allclose(f(ts, a0, b0, lam), two_layer_closed_form(ts, a0, b0, lam)[0], rtol=1e-12)
        sol = solve_ivp(lambda t, y: [lam * y[0] * y[1] ** 2, lam * y[1] * y[0] ** 2], (0, 0.9), [a0, b0],
                        t_eval=ts, method="DOP853", rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(sol.y[0], two_layer_closed_form(ts, a0, b0, lam)[0], rtol=1e-9)


def test_blowup_time_example():
    tstar = tl.blowup_time()
    assert abs(float(tstar.subs({tl.a0: 1.3, tl.b0: 0.7, tl.lam: 0.5})) - 1.031732) < 5e-7


def test_conserved_quantities():
    assert tl.balance_residual().is_ZeroMatrix   # SymPy cancels the four matrix products exactly
    assert invariant_residual(derive("two-layer", "eigen")) == {"balance": 0}
    assert tl.one_layer_solution()[1] == sp.zeros(2, 2)


def test_matrix_flow_is_minus_gradient():
    rng = np.random.default_rng(4)
    n = 3
    W1, W2 = rng.standard_normal((n, n)), rng.standard_normal((n, n))
    X = rng.standard_normal((n, n))
    X = X + X.T

    def loss(W1, W2):
        W = W2 @ W1
        return -0.5 * np.trace(W @ X @ W.T)

    eps = 1e-6
    G1 = np.zeros((n, n))
    for idx in np.ndindex(n, n):
        E = np.zeros((n, n))
        E[idx] = eps
        G1[idx] = -(loss(W1 + E, W2) - loss(W1 - E, W2)) / (2 * eps)
    d = derive("two-layer", "matrix")
    M = {k: sp.MatrixSymbol(k, *d.rhs["W_1"].shape) for k in ("W_1", "W_2", "X")}
    sub = {M["W_1"]: sp.Matrix(W1), M["W_2"]: sp.Matrix(W2), M["X"]: sp.Matrix(X)}
    got = np.array(sp.Matrix(d.rhs["W_1"].subs(sub).doit()), dtype=float)
    np.testing.assert_allclose(got, G1, atol=1e-6)
