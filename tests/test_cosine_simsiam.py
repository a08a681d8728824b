"""Cosine-loss SimSiam derivations against the theory notes and Monte-Carlo estimates."""
import numpy as np
import pytest
import sympy as sp

from oracles import cosine_delta_notes, cosine_eq5, cosine_eq7
from symbolic import cosine_simsiam as cs
from symbolic.gradient_check import check_gradient, closed_forms, draw_spectrum
from symbolic.models import derive

p, s, rho, s2, A, B, T = cs.p, cs.s, cs.rho, cs.sigma2, cs.N_Phi, cs.N_Psi, cs.T


def _plain(e):
    return e.subs({x: sp.Symbol(x.name) for x in e.free_symbols})


def test_reduced_equals_eq7_exactly():
    pp, rr, ss, AA, BB, TT = sp.symbols("p rho sigma2 N_Phi N_Psi T")
    ref = pp**2 * (BB**2 - TT * pp - 2 * pp**4) / ((1 + ss) * AA * BB**3) - rr * pp
    got = _plain(derive("cosine-simsiam", "reduced").rhs["p"])
    assert sp.simplify(got - ref) == 0


def test_eigen_equals_eq5_numerically():
    d = derive("cosine-simsiam", "eigen")
    f = sp.lambdify([p, s, rho, s2, A, B, T], [d.rhs["p"], d.rhs["s"]])
    rng = np.random.default_rng(0)
    for _ in range(20):
        args = (rng.normal(), rng.uniform(0.1, 3), rng.uniform(0, 0.1), rng.uniform(0, 2),
                rng.uniform(0.5, 3), rng.uniform(0.5, 3), rng.normal())
        np.testing.assert_allclose(f(*args), cosine_eq5(*args), rtol=1e-12)


def test_matrix_form_diagonalises_to_eigen_form():
    # two derivation routes (matrix-level Isserlis identity vs per-mode Isserlis) must agree
    d = cs.matrix_form(h=3)
    W, Phi = (sp.MatrixSymbol(n, 3, 3) for n in ("W", "Phi"))
    ps = sp.symbols("p q r", real=True)
    ss = sp.symbols("s t u", positive=True)
    sub = {W: sp.diag(*ps), Phi: sp.diag(*[sp.sqrt(x) for x in ss])}
    Wdot = sp.Matrix(d.rhs["W"].subs(sub).doit())
    eig = derive("cosine-simsiam", "eigen").rhs["p"].subs({p: ps[0], s: ss[0]})
    assert sp.simplify(Wdot[0, 0] - eig) == 0
    assert Wdot[0, 1] == 0                      # stays diagonal: commuting is preserved


def test_isserlis_tensor_identity_monte_carlo():
    c0, c1, c2, c3 = [float(c.subs(s2, 0.5)) for c in cs.isserlis_tensor_identity()]
    rng = np.random.default_rng(3)
    n, N = 3, 400_000
    M = rng.standard_normal((n, n))
    x = rng.standard_normal((N, n))
    x1 = x + np.sqrt(0.5) * rng.standard_normal((N, n))
    x2 = x + np.sqrt(0.5) * rng.standard_normal((N, n))
    q = np.einsum("ni,ij,nj->n", x1, M, x2)
    samples = np.einsum("ni,n,nl->nil", x1, q, x1)
    mc, se = samples.mean(0), samples.std(0) / np.sqrt(N)
    want = c1 * M + c2 * M.T + c3 * np.trace(M) * np.eye(n)
    assert np.max(np.abs(mc - want) / se) < 5   # every entry within 5 Monte-Carlo standard errors
    assert abs(c0 - 1) < 1e-15


@pytest.mark.parametrize("model", ["cosine-simsiam", "cosine-simsiam-delta"])
def test_invariant_parabola(model):
    res = cs.invariant_residual(derive(model, "eigen"))
    assert res == {"parabola": 0}


def test_equilibrium_polynomial_is_p_times_Q():
    pp = derive("cosine-simsiam", "reduced").equilibrium_polynomial
    Q = 2 * p**5 + T * p**2 - B**2 * p + rho * (1 + s2) * A * B**3
    assert sp.expand(pp + p * Q) == 0          # sign(rhs) = sign(-p Q)


def test_worked_example_roots():
    num = derive("cosine-simsiam", "reduced").equilibrium_polynomial
    vals = {rho: 0.01, s2: 0.5, A: 2, B: 1.5, T: 0.5}
    roots = sorted(float(r) for r in sp.Poly(num.subs(vals), p).nroots(n=30) if abs(sp.im(r)) < 1e-20)
    want = [-1.09644864526, 0.0, 0.0454594076241, 0.955393937315]
    np.testing.assert_allclose(roots, want, atol=1e-11)
    for r in roots:                             # and they are zeros of the notes' eq. 7
        assert abs(cosine_eq7(r, 0.01, 0.5, 2, 1.5, 0.5)) < 1e-12


def test_feature_norm_convention():
    d = derive("cosine-simsiam", "reduced", "feature-norm")
    f = sp.lambdify([p, rho, s2, A, B, T], d.rhs["p"])
    a = 1.5
    # feature norms are sqrt(1 + sigma2) times the Frobenius ones
    assert np.isclose(f(0.3, 0.01, 0.5, 2 * np.sqrt(a), 1.5 * np.sqrt(a), 0.5),
                      cosine_eq7(0.3, 0.01, 0.5, 2, 1.5, 0.5), rtol=1e-13)


def test_third_order_drops_only_p6():
    g3 = cs.third_order_drive()
    g = cs._paper_mode_drive()
    assert sp.simplify(g - g3 + 2 * p**2 * s**2 / ((1 + s2) * A * B**3)) == 0


def test_delta_form_agrees_with_notes_to_higher_order():
    # the notes print one second-order expansion; ours keeps own-mode terms exactly, so the two may
    # differ at O(1/h^2) and beyond; the paper form differs at O(1/h)
    errs = []
    for h in (64, 256):
        rng = np.random.default_rng(0)
        pv, sv = draw_spectrum(h, h, "init", rng)
        f = closed_forms(pv, sv, 0.5)
        ref = cosine_delta_notes(pv, sv, 0.5)
        errs.append(np.median(np.abs(f["delta"] - ref) / np.abs(ref)))
        assert errs[-1] < 0.1 * np.median(np.abs(f["paper"] - ref) / np.abs(ref))
    assert errs[1] < errs[0] / 10               # shrinks faster than 1/h (4x in h -> > 10x)


def test_monte_carlo_gradient_small():
    # h = 64: paper form is off by O(1/h) ~ 6%, the delta form by O(1/h^2) < 1.5%
    r = check_gradient(h=64, samples=40_000, seed=0)
    summ = r.summary()["forms"]
    assert 0.02 < summ["paper"]["median_rel_error"] < 0.12
    assert summ["delta"]["median_rel_error"] < 0.015
    assert summ["delta"]["median_rel_error"] < summ["paper"]["median_rel_error"] / 4


def test_monte_carlo_low_rank_breaks_paper_form():
    r = check_gradient(h=32, samples=20_000, seed=1, spectrum="low-rank")
    dominant = r.rel_error("paper")[:4]
    assert np.median(dominant) > 0.1            # the concentrated-norm form fails on dominant modes
