"""Coupled h-mode eigen system and matrix flows: scipy, invariants, and matrix-vs-eigen agreement."""
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from dynamics.systems import cosine_matrix_rhs, integrate_coupled, integrate_matrix, matrix_rhs
from oracles import cosine_eq5, two_layer_closed_form
from symbolic.errors import ParameterError

RHO, S2 = 0.02, 0.5


def _coupled_ref(p0, s0, t_end, t_eval=None):
    h = p0.size

    def f(t, y):
        p, s = y[:h], y[h:]
        dp, ds = cosine_eq5(p, s, RHO, S2, np.sqrt(s.sum()), np.sqrt((p * p * s).sum()), (p * s).sum())
        return np.concatenate([dp, ds])
    return solve_ivp(f, (0, t_end), np.concatenate([p0, s0]), method="DOP853", rtol=1e-12, atol=1e-14, t_eval=t_eval)


def _init(h, seed=0):
    rng = np.random.default_rng(seed)
    p0 = rng.uniform(0.3, 1.0, h)
    return p0, p0**2 + rng.uniform(0.0, 0.3, h)


def test_coupled_matches_scipy_and_invariant():
    h = 16
    p0, s0 = _init(h)
    t_eval = np.array([1.0, 2.0, 4.0])
    r = integrate_coupled("cosine-simsiam", RHO, S2, p0, s0, 4.0, rtol=1e-10, atol=1e-13, t_eval=t_eval)
    assert r.status[0] == 0
    ref = _coupled_ref(p0, s0, 4.0, t_eval)
    np.testing.assert_allclose(r.ys[:, 0, :].T, ref.y, rtol=1e-7)
    # eq. 6: s_j - p_j^2 decays exactly like exp(-2 rho t)
    for k, t in enumerate(t_eval):
        p, s = r.ys[k, 0, :h], r.ys[k, 0, h:]
        np.testing.assert_allclose(s - p**2, (s0 - p0**2) * np.exp(-2 * RHO * t), rtol=1e-7, atol=1e-12)


@pytest.mark.slow
def test_coupled_batch_and_singular_status():
    h = 8
    P = np.stack([_init(h, s)[0] for s in range(3)])
    S = np.stack([_init(h, s)[1] for s in range(3)])
    batch = integrate_coupled("cosine-simsiam", RHO, S2, P, S, 3.0)
    for i in range(3):
        one = integrate_coupled("cosine-simsiam", RHO, S2, P[i], S[i], 3.0)
        # same steps; the mode sums are vectorised reductions (fastmath reassoc), whose summation
        # order may depend on the arrays' alignment: equal to a few ulps, not bitwise
        np.testing.assert_array_equal(one.nsteps[0], batch.nsteps[i])
        np.testing.assert_allclose(one.final[0], batch.final[i], rtol=1e-14)
    # uniform-ish positive spectra collapse together (the self-term makes the drive negative), until
    # N_Psi -> 0 makes the right-hand side singular: reported as status 3, never a silent NaN
    r = integrate_coupled("cosine-simsiam", RHO, S2, P[0], S[0], 20.0)
    assert r.status[0] == 3 and np.isfinite(r.t_event[0]) and np.all(np.isfinite(r.final))
    d = integrate_coupled("cosine-simsiam-delta", RHO, S2, P[0], S[0], 1.0)
    assert d.status[0] == 0


def test_coupled_bad_input():
    with pytest.raises(ParameterError, match="s0"):
        integrate_coupled("cosine-simsiam", RHO, S2, [0.5, 0.5], [-1.0, 1.0], 1.0)
    with pytest.raises(ParameterError, match="rho"):
        integrate_coupled("cosine-simsiam", -1.0, S2, [0.5], [1.0], 1.0)


def test_matrix_flow_commuting_start_follows_eigen_system():
    # the matrix RHS (from the matrix derivation) and the eigen system (per-mode derivation) agree
    h = 12
    p0, s0 = _init(h, 3)
    rng = np.random.default_rng(5)
    U, _ = np.linalg.qr(rng.normal(size=(h, h)))
    V, _ = np.linalg.qr(rng.normal(size=(h + 4, h + 4)))
    Phi = U @ np.hstack([np.diag(np.sqrt(s0)), np.zeros((h, 4))]) @ V.T       # d = h + 4
    W = U @ np.diag(p0) @ U.T
    m = integrate_matrix("cosine-simsiam", {"W": W, "Phi": Phi}, {"rho": RHO, "sigma2": S2}, 2.0, dt=2e-3,
                         t_eval=[2.0])
    Wf, Pf = m.final["W"], m.final["Phi"]
    assert np.abs(Wf - Wf.T).max() < 1e-12                                 # stays symmetric
    F = Pf @ Pf.T
    assert np.abs(Wf @ F - F @ Wf).max() < 1e-10                           # stays commuting
    ref = _coupled_ref(p0, s0, 2.0).y[:, -1]
    np.testing.assert_allclose(np.sort(np.linalg.eigvalsh(Wf)), np.sort(ref[:h]), rtol=1e-9)


@pytest.mark.slow
def test_two_layer_matrix_flow_aligned_matches_closed_form():
    a = np.array([1.3, 0.9, 0.6])
    b = np.array([0.7, 0.8, 0.5])
    lam = np.array([0.5, -0.2, 0.3])
    rng = np.random.default_rng(7)
    Q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    R, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    S, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    W1, W2, X = Q @ np.diag(a) @ R.T, S @ np.diag(b) @ Q.T, R @ np.diag(lam) @ R.T   # aligned: V2 = U1
    m = integrate_matrix("two-layer", {"W_1": W1, "W_2": W2}, {"X": X}, 0.5, dt=1e-3, method="tsit5")
    sv1 = np.linalg.svd(m.final["W_1"], compute_uv=False)
    want = np.array([two_layer_closed_form(0.5, ai, bi, li)[0] for ai, bi, li in zip(a, b, lam)])
    np.testing.assert_allclose(np.sort(sv1), np.sort(want), rtol=1e-10)


def test_closed_form_cosine_matrix_rhs_equals_sympy_derivation():
    # the hand-grouped closed form (five products) against the expression printed from the SymPy
    # matrix derivation, on non-commuting, non-symmetric random matrices (h != d); 1e-12: both
    # are the same rational function evaluated in another order, entries of order 1
    rng = np.random.default_rng(11)
    W, Phi = rng.normal(size=(7, 7)), rng.normal(size=(7, 10)) / 3
    got = cosine_matrix_rhs(W, Phi, 0.03, 0.4)
    want = matrix_rhs("cosine-simsiam").rhs(W, Phi, 0.03, 0.4)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12 * np.abs(w).max())
    m1 = integrate_matrix("cosine-simsiam", {"W": W, "Phi": Phi}, {"rho": 0.03, "sigma2": 0.4}, 0.5, dt=0.01)
    m2 = integrate_matrix("cosine-simsiam", {"W": W, "Phi": Phi}, {"rho": 0.03, "sigma2": 0.4}, 0.5, dt=0.01, rhs="sympy")
    np.testing.assert_allclose(m1.final["W"], m2.final["W"], rtol=1e-10, atol=1e-12)
