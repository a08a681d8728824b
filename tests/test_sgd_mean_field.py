"""The training-matched map (dynamics.sgd_mean_field) against independent sources: the exact
scale-invariance identity, Monte-Carlo gradients of the real symmetrised cosine loss, closed forms
of the time map, the eigen reduction against the matrix map, and SymPy's residues."""
import math

import numpy as np
import pytest

from dynamics.sgd_mean_field import (Recipe, cosine_gradient, cosine_sample_moments, eigen_gradient, epoch_lrs,
                                     flow_time, matrix_traces, sgd_mean_field)
from dynamics.trajectory_errors import legacy_eq5, trajectory_errors
from symbolic.errors import ParameterError


def _aligned_state(rng, h, d):
    W = rng.normal(size=(h, h)) / math.sqrt(h)
    W = 0.5 * (W + W.T)
    p, U = np.linalg.eigh(W)
    V = np.linalg.qr(rng.normal(size=(d, d)))[0][:, :h]
    q = rng.uniform(0.5, 1.5, h)
    return W, U @ np.diag(q) @ V.T, p, q, U


def cosine_half(W, Phi, xa, xb):
    """One half of the symmetrised cosine loss, per sample: (f, u), f = -dl/dz1, u = Phi xa;
    grad_W = -f u^T, grad_Phi = -W^T f xa^T (exact per-sample calculus, no concentration)."""
    u = xa @ Phi.T
    z1, z2 = u @ W.T, xb @ Phi.T
    n1 = np.linalg.norm(z1, axis=1, keepdims=True)
    n2 = np.linalg.norm(z2, axis=1, keepdims=True)
    c = np.sum(z1 * z2, 1, keepdims=True) / (n1 * n2)
    return (z2 / n2 - c * z1 / n1) / n1, u


def _mc(W, Phi, U, sigma2, n, rng, chunk=4000):
    """Per-sample Monte-Carlo of the symmetrised cosine loss -(cos(W Phi x1, Phi x2) + cos(W Phi x2, Phi x1))/2:
    per-mode diagonals of U^T grad_W U and the squared norms of the per-sample W and Phi gradients
    (all from the exact per-sample calculus, no concentration)."""
    d = Phi.shape[1]
    modes, ew, ep = [], [], []
    for _ in range(n // chunk):
        x = rng.normal(size=(chunk, d))
        x1 = x + math.sqrt(sigma2) * rng.normal(size=x.shape)
        x2 = x + math.sqrt(sigma2) * rng.normal(size=x.shape)

        f1, u1 = cosine_half(W, Phi, x1, x2)
        f2, u2 = cosine_half(W, Phi, x2, x1)
        modes.append(-0.5 * ((f1 @ U) * (u1 @ U) + (f2 @ U) * (u2 @ U)))
        ew.append(0.25 * (np.sum(f1 * f1, 1) * np.sum(u1 * u1, 1) + np.sum(f2 * f2, 1) * np.sum(u2 * u2, 1)
                          + 2 * np.sum(f1 * f2, 1) * np.sum(u1 * u2, 1)))
        g1, g2 = f1 @ W, f2 @ W
        ep.append(0.25 * (np.sum(g1 * g1, 1) * np.sum(x1 * x1, 1) + np.sum(g2 * g2, 1) * np.sum(x2 * x2, 1)
                          + 2 * np.sum(g1 * g2, 1) * np.sum(x1 * x2, 1)))
    return np.concatenate(modes), np.concatenate(ew), np.concatenate(ep)


def test_identity_exact_for_any_weights():
    rng = np.random.default_rng(1)
    for h, d in ((5, 7), (40, 30), (64, 64)):
        W = rng.normal(size=(h, h))          # not symmetric
        Phi = rng.normal(size=(h, d))
        gW, gP = cosine_gradient(W, Phi, 0.5)
        assert abs(np.sum(gW * W)) < 1e-12 * np.linalg.norm(gW) * np.linalg.norm(W)
        assert abs(np.sum(gP * Phi)) < 1e-12 * np.linalg.norm(gP) * np.linalg.norm(Phi)


def test_symbolic_residues():
    from symbolic.scale_invariant import identity_residuals, mode_symbols

    r = identity_residuals(2)
    assert r["projected"] == 0
    ps, ss = mode_symbols(2)
    vals = {ps[0]: 0.7, ps[1]: -0.3, ss[0]: 1.2, ss[1]: 0.4, __import__("sympy").Symbol("sigma2", nonnegative=True): 0.5}
    a, nphi = 1.5, math.sqrt(1.6)
    npsi = math.sqrt(0.49 * 1.2 + 0.09 * 0.4)
    want = -2 * (0.343 * 1.44 + (-0.027) * 0.16) / (a * nphi * npsi ** 3)
    assert float(r["paper"].subs(vals)) == pytest.approx(want, rel=1e-12)


def test_eigen_gradient_is_the_diagonal_of_the_matrix_gradient():
    rng = np.random.default_rng(2)
    W, Phi, p, q, U = _aligned_state(rng, 12, 20)
    gW, gP = cosine_gradient(W, Phi, 0.3)
    ep, eq = eigen_gradient(p, q, 0.3, "cosine")
    Wt = U.T @ gW @ U
    assert np.allclose(np.diag(Wt), ep, rtol=1e-10, atol=1e-14)
    assert np.allclose(Wt - np.diag(np.diag(Wt)), 0, atol=1e-12)
    Phi_mode = np.sum((U.T @ gP) * (U.T @ Phi), axis=1) / q      # component along each mode's direction
    assert np.allclose(Phi_mode, eq, rtol=1e-10, atol=1e-14)


def test_expected_gradient_matches_monte_carlo_per_mode():
    """Within 5 standard errors on >= 95% of the modes at h = d = 128; the form without the
    self-pairing terms (the other identity-keeping choice) fails the same check."""
    rng = np.random.default_rng(3)
    h = d = 128
    W, Phi, p, q, U = _aligned_state(rng, h, d)
    modes, _, _ = _mc(W, Phi, U, 0.5, 40_000, rng)
    m = modes.mean(0)
    se = modes.std(0) / math.sqrt(modes.shape[0])
    gW, _ = cosine_gradient(W, Phi, 0.5)
    ours = np.diag(U.T @ gW @ U)
    assert np.mean(np.abs(ours - m) < 5 * se) >= 0.95
    A = W @ Phi
    nphi, npsi2, T = np.linalg.norm(Phi), np.sum(A * A), np.sum(A * Phi)
    G0 = (Phi - T * A / npsi2) / (1.5 * nphi * math.sqrt(npsi2))
    dropped = np.diag(U.T @ (-G0 @ Phi.T) @ U)
    assert np.mean(np.abs(dropped - m) < 5 * se) < 0.9


def test_gradient_second_moments_match_monte_carlo():
    """E||g_W,i||^2 to 1% and E||g_Phi,i||^2 to 3% (the neglected correlation of ||x||^2 with
    ||z_1||^2 is O(2/d)) at h = d = 128, on an aligned and on a generic state."""
    rng = np.random.default_rng(4)
    h = d = 128
    W, Phi, _, _, U = _aligned_state(rng, h, d)
    W2 = rng.normal(size=(h, h)) / math.sqrt(h)
    Phi2 = rng.normal(size=(h, d)) / math.sqrt(d)
    for Wx, Px in ((W, Phi), (W2, Phi2)):
        _, ew, ep = _mc(Wx, Px, U, 0.5, 8000, rng)
        tw, tp = cosine_sample_moments(*matrix_traces(Wx, Px), 0.5, d)
        assert tw == pytest.approx(ew.mean(), rel=0.01)
        assert tp == pytest.approx(ep.mean(), rel=0.03)


def test_flow_time_closed_form_for_constant_lr():
    lr, m = 0.07, 0.9
    t = flow_time([lr] * 50, m)
    k = np.arange(51)
    assert np.allclose(t, lr * (k - m * (1 - m ** k) / (1 - m)) / (1 - m), rtol=1e-12)


def test_norm_law_without_momentum():
    """m = 0, no noise: ||W_{k+1}||^2 = (1 - lr rho)^2 ||W_k||^2 + lr^2 ||grad||^2 (the gradient is
    orthogonal to W); checked on the matrix map over 30 steps."""
    rng = np.random.default_rng(5)
    h = d = 16
    W0 = rng.normal(size=(h, h)) / 4
    Phi0 = rng.normal(size=(h, d)) / 4
    lr, rho = 0.05, 0.02
    rec = Recipe(lrs=(lr,) * 30, momentum=0.0, rho=rho, batch=64, sigma2=0.5, d=d)
    pr = sgd_mean_field(W0, Phi0, rec, np.arange(31), level="matrix", noise=False)
    W = W0.copy()
    Phi = Phi0.copy()
    for k in range(30):
        gW, gP = cosine_gradient(W, Phi, 0.5)
        want = (1 - lr * rho) ** 2 * np.sum(W * W) + lr ** 2 * np.sum(gW * gW)
        W, Phi = W - lr * (gW + rho * W), Phi - lr * (gP + rho * Phi)
        assert np.sum(W * W) == pytest.approx(want, rel=1e-12)
        assert pr.norm_w[k + 1] == pytest.approx(math.sqrt(want), rel=1e-10)


def test_eigen_map_equals_matrix_map_on_an_aligned_start():
    rng = np.random.default_rng(6)
    W, Phi, _, _, _ = _aligned_state(rng, 24, 24)
    rec = Recipe(lrs=epoch_lrs(0.1, 3, 40), rho=0.03, batch=256, sigma2=0.5, d=24)
    steps = np.array([0, 10, 60, 120])
    a = sgd_mean_field(W, Phi, rec, steps, level="eigen")
    b = sgd_mean_field(W, Phi, rec, steps, level="matrix")
    assert a.status == b.status == 0
    for x, y in zip(a.p, b.p):
        assert np.allclose(x, y, rtol=1e-7, atol=1e-10)
    assert np.allclose(a.n_psi, b.n_psi, rtol=1e-7)


def test_map_survives_where_the_flow_dies():
    """From a random start at rho ~ 3 rho_c the legacy eq. 5 flow reaches N_Psi -> 0 in finite time
    (status 3); the map runs to the end with N_Psi at a plateau."""
    rng = np.random.default_rng(7)
    h = d = 64
    W = rng.normal(size=(h, h)) / math.sqrt(h)
    W = 0.5 * (W + W.T)
    Phi = rng.normal(size=(h, d)) / math.sqrt(d)
    rec = Recipe(lrs=epoch_lrs(0.1, 8, 100), rho=0.05, batch=512, sigma2=0.5, d=d)
    steps = np.arange(0, 801, 50)
    pr = sgd_mean_field(W, Phi, rec, steps)
    assert pr.status == 0 and len(pr.p) == steps.size
    assert min(pr.n_psi[-6:]) > 0.2 * max(pr.n_psi[-6:]) > 0
    p0, U = np.linalg.eigh(W)
    leg = legacy_eq5(p0, np.sum((U.T @ Phi) ** 2, 1), flow_time(rec.lrs, 0.9)[steps], 0.05, 0.5)
    assert leg["status"] == 3 and leg["p"][-1] is None


def test_trajectory_errors_by_hand():
    pred = {"p": [[1.0, 0.5], [2.0, 1.0], None], "n_phi": [1.0, 2.0, None], "n_psi": [1.0, 1.0, None],
            "trace": [0.1, 0.2, None]}
    meas = [{"p_top": [1.0, 0.5], "n_phi": 1.0, "n_psi": 1.0, "trace": 0.1},
            {"p_top": [1.0, 2.0], "n_phi": 1.0, "n_psi": 2.0, "trace": 0.2},
            {"p_top": [1.0, 1.0], "n_phi": 1.0, "n_psi": 1.0, "trace": 0.1}]
    e = trajectory_errors(pred, meas, [0, 1, 2], 0.0, 0.5, loss="l2", top=2)
    assert e["per_checkpoint"][1]["rel_err_top8"] == pytest.approx(0.75)     # median of 1.0 and 0.5
    assert e["median_rel_err_top8"] == pytest.approx(0.375)
    assert e["max_rel_err_top8"] == pytest.approx(0.75)
    assert e["checkpoints_predicted"] == 2 and e["rel_err_n_phi_final"] is None
    # mean over the surviving modes (p > 0.2 max): measured [1.0, 0.5, 0.1 (collapsed)] -> 0.75
    meas[0]["p"] = [0.1, 1.0, 0.5]
    pred["p"][0] = [0.9, 0.3, 0.0]
    e = trajectory_errors(pred, meas, [0, 1, 2], 0.0, 0.5, loss="l2", top=2)
    assert e["per_checkpoint"][0]["rel_err_mean_surviving"] == pytest.approx(abs(0.6 - 0.75) / 0.75)
    assert e["per_checkpoint"][1]["rel_err_mean_surviving"] is None


@pytest.mark.parametrize("kw, name", [({"lrs": (-0.1,)}, "lrs"), ({"lrs": (0.1,), "momentum": 1.0}, "momentum"),
                                      ({"lrs": (0.1,), "momentum": -0.1}, "momentum"),
                                      ({"lrs": (0.1,), "loss": "mse"}, "loss"), ({"lrs": ()}, "lrs")])
def test_recipe_rejects_bad_input(kw, name):
    with pytest.raises(ParameterError, match=name):
        Recipe(**kw)


def test_map_rejects_bad_shapes_and_steps():
    rec = Recipe(lrs=(0.1,) * 5, d=4)
    with pytest.raises(ParameterError, match="W0"):
        sgd_mean_field(np.eye(3), np.ones((4, 4)), rec, [0, 1])
    with pytest.raises(ParameterError, match="steps"):
        sgd_mean_field(np.eye(4), np.ones((4, 4)), rec, [0, 9])
    with pytest.raises(ParameterError, match="finite"):
        sgd_mean_field(np.full((4, 4), np.nan), np.ones((4, 4)), rec, [0, 1])


def test_lift_level_is_the_matrix_map_then_the_eigen_map():
    """level='lift' equals the matrix map until it switches, and the eigen map's dynamics after:
    on aligned weights it switches at the first check (step 10) and agrees with the eigen map to
    1e-10; on generic weights its records before the switch equal the matrix map's bitwise."""
    from dynamics.sgd_mean_field import alignment

    rng = np.random.default_rng(12)
    h = d = 12
    rec = Recipe(lrs=epoch_lrs(0.05, 4, 10), momentum=0.9, rho=0.02, batch=64, sigma2=0.5, d=d)
    W, Phi, p, q, U = _aligned_state(rng, h, d)
    lift = sgd_mean_field(W, Phi, rec, [0, 10, 20, 40], level="lift")
    eig = sgd_mean_field(W, Phi, rec, [0, 10, 20, 40], level="eigen")
    assert lift.switched_at == 10 and np.allclose(lift.p, eig.p, rtol=1e-10, atol=1e-13)
    W2 = rng.normal(size=(h, h)) / math.sqrt(h)
    Phi2 = rng.normal(size=(h, d)) / math.sqrt(d)
    assert max(alignment(W2, Phi2)) > 0.1
    lift = sgd_mean_field(W2, Phi2, rec, np.arange(0, 41, 10), level="lift")
    mat = sgd_mean_field(W2, Phi2, rec, np.arange(0, 41, 10), level="matrix")
    n = (lift.switched_at or 41) // 10
    assert lift.p[:n] == mat.p[:n]
