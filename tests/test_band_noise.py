"""The band closures against independent sources: the per-sample gradient covariance of the real
symmetrised losses (Monte-Carlo, exact per-sample calculus, no concentration), the Jacobian against
finite differences of the matrix-level expected gradient along an off-diagonal direction, the
heavy-ball covariance recursion against simulated chains, the Langevin map's noise against the
band closure."""
import math

import numpy as np
import pytest

from dynamics.band_noise import band_jacobian, band_noise, band_of
from dynamics.band_spread import goe_order_statistics, spread_recursion
from dynamics.sgd_mean_field import cosine_gradient, l2_gradient
from test_sgd_mean_field import cosine_half


def _band_state(rng, h=128, r=100, pb=0.08, qb=0.085, sigma2=0.5):
    """A state after the lift: r band modes at (pb, qb), the rest nearly collapsed."""
    p = np.concatenate([np.full(r, pb), rng.uniform(0.0, 0.01, h - r)])
    q = np.concatenate([np.full(r, qb), rng.uniform(0.01, 0.03, h - r)])
    U = np.linalg.qr(rng.normal(size=(h, h)))[0]
    V = np.linalg.qr(rng.normal(size=(h, h)))[0]
    return U @ np.diag(p) @ U.T, U @ np.diag(q) @ V.T, p, q, U, V


def _directions(rng, r, K):
    """K unit symmetric traceless r x r matrices."""
    out = []
    for _ in range(K):
        A = rng.normal(size=(r, r))
        E = A + A.T
        E -= np.trace(E) / r * np.eye(r)
        out.append(E / np.linalg.norm(E))
    return out


def _per_sample(W, Phi, loss, sigma2, n, rng):
    """Per-sample (f, u, x) of the two halves: grad_W = -(f1 u1^T + f2 u2^T)/2,
    grad_Phi = -W^T (f1 x1^T + f2 x2^T)/2."""
    d = Phi.shape[1]
    x = rng.normal(size=(n, d))
    x1 = x + math.sqrt(sigma2) * rng.normal(size=x.shape)
    x2 = x + math.sqrt(sigma2) * rng.normal(size=x.shape)

    def half(xa, xb):
        if loss == "cosine":
            return cosine_half(W, Phi, xa, xb)
        u = xa @ Phi.T
        return -(u @ W.T - xb @ Phi.T), u

    f1, u1 = half(x1, x2)
    f2, u2 = half(x2, x1)
    return (f1, u1, x1), (f2, u2, x2)


def _projections(W, Phi, U, V, r, dirs, loss, sigma2, n, rng, chunk=5000):
    """Per-sample projections <g_W, U_r E U_r^T> and <g_Phi, U_r E V_r^T> for each direction E."""
    Ur, Vr = U[:, :r], V[:, :r]
    rows = []
    for _ in range(n // chunk):
        halves = _per_sample(W, Phi, loss, sigma2, chunk, rng)
        cols_w, cols_p = [], []
        for E in dirs:
            gw = gp = 0.0
            for f, u, x in halves:
                fr, ur, xr = f @ Ur, u @ Ur, x @ Vr
                gw = gw - 0.5 * np.sum((fr @ E) * ur, 1)
                gp = gp - 0.5 * np.sum(((f @ W) @ Ur @ E) * xr, 1)
            cols_w.append(gw)
            cols_p.append(gp)
        rows.append(np.stack(cols_w + cols_p, 1))
    return np.concatenate(rows)


@pytest.mark.slow
@pytest.mark.parametrize("loss, pb, qb", [("cosine", 0.08, 0.085), ("l2", 0.55, 0.3)])
def test_band_noise_covariance_matches_monte_carlo(loss, pb, qb):
    """Every entry of the 16 x 16 covariance of 8 W- and 8 Phi-directions within 5 standard errors
    on >= 95% of the entries at h = d = 128 (the concentration of the norms is the only
    approximation; the real per-sample gradient is used). A closure without the cosine's
    beta term (or with a 10% larger variance) fails the diagonal."""
    rng = np.random.default_rng(7)
    r, sigma2, K, n = 100, 0.5, 8, 40_000
    W, Phi, p, q, U, V = _band_state(rng, r=r, pb=pb, qb=qb, sigma2=sigma2)
    dirs = _directions(rng, r, K)
    z = _projections(W, Phi, U, V, r, dirs, loss, sigma2, n, rng)
    zc = z - z.mean(0)
    cov = zc.T @ zc / n
    prod = zc[:, :, None] * zc[:, None, :]
    se = prod.std(0) / math.sqrt(n)
    band = band_of(p, q * q, sigma2)
    S = band_noise(band, sigma2, 1, loss)
    want = np.kron(S, np.eye(K))
    ok = np.abs(cov - want) < 5 * se
    assert ok.mean() >= 0.95, (cov.diagonal(), want.diagonal())
    diag = np.diag_indices(2 * K)
    assert np.all(np.abs(cov[diag] - want[diag]) < 5 * se[diag])
    assert not np.all(np.abs(cov[diag] - 1.1 * want[diag]) < 5 * se[diag])
    if loss == "cosine":     # beta = 0: the projection of z_1 on z_2 dropped
        a = 1.0 + sigma2
        kq = band.q ** 2 / (a * band.n_phi * band.n_psi)
        wrong = kq * kq * (1.0 + a * a)
        assert np.mean(np.abs(cov.diagonal()[:K] - wrong) < 5 * se[diag][:K]) < 0.5


@pytest.mark.parametrize("loss", ["cosine", "l2"])
def test_band_jacobian_matches_matrix_gradient_off_diagonal(loss):
    """The 2x2 Jacobian (derived on the diagonal, sums fixed) against central finite differences of
    the matrix-level expected gradient plus decay along an off-diagonal symmetric direction: the
    rotation-invariance claim of the module docstring. 1e-4 relative: the O(eps^2) of central
    differences and the O(1/r) collective change of a traceless perturbation."""
    rng = np.random.default_rng(8)
    h, r, sigma2, rho = 64, 56, 0.5, 0.03
    W, Phi, p, q, U, V = _band_state(rng, h=h, r=r, pb=0.08 if loss == "cosine" else 0.55,
                                     qb=0.085 if loss == "cosine" else 0.3)
    grad = cosine_gradient if loss == "cosine" else l2_gradient
    E = np.zeros((h, h))
    E[0, 1] = E[1, 0] = 1 / math.sqrt(2)
    DW = U @ E @ U.T
    DP = U @ E @ V.T
    eps = 1e-6

    def force(Wx, Px):
        gW, gP = grad(Wx, Px, sigma2)
        return np.sum((gW + rho * Wx) * DW), np.sum((gP + rho * Px) * DP)

    fd = np.zeros((2, 2))
    for j, (dW, dP) in enumerate(((DW, 0 * DP), (0 * DW, DP))):
        fp, fm = force(W + eps * dW, Phi + eps * dP), force(W - eps * dW, Phi - eps * dP)
        fd[:, j] = (np.array(fp) - np.array(fm)) / (2 * eps)
    J = band_jacobian(band_of(p, q * q, sigma2), sigma2, rho, loss)
    assert np.allclose(J, fd, rtol=1e-3, atol=1e-4 * np.abs(fd).max())


def test_spread_recursion_matches_simulated_heavy_ball_chains():
    """Heavy ball (m = 0.9) on a 2x2 linear system with rank-one noise: the recursion's variance
    against 4000 simulated chains over 300 steps of a varying lr, within 5 standard errors."""
    rng = np.random.default_rng(9)
    K, m, chains = 300, 0.9, 4000
    lrs = 0.1 * (1 + np.cos(np.linspace(0, 2, K))) / 2 + 0.01
    J = np.tile(np.array([[0.9, 0.3], [0.2, 0.05]]), (K, 1, 1))
    S = np.tile(np.outer([1.0, 0.8], [1.0, 0.8]) * 1e-3, (K, 1, 1))
    var = spread_recursion(lrs, m, J, S)
    z = np.zeros((chains, 2))
    u = np.zeros((chains, 2))
    for k in range(K):
        xi = rng.normal(size=(chains, 1)) * math.sqrt(1e-3) * np.array([1.0, 0.8])
        g = z @ J[k].T + xi
        u = g if k == 0 else m * u + g
        z = z - lrs[k] * u
    emp = (z ** 2).mean(0)
    se = (z ** 2).std(0) / math.sqrt(chains)
    assert np.all(np.abs(emp - var[-1]) < 5 * se)


def test_goe_order_statistics_approach_the_semicircle_quantiles():
    """The top order statistics of a standardised r = 200 GOE spectrum against the semicircle's
    classical locations (radius 2): within 0.05 below the edge region (edge: Tracy-Widom shifts it)."""
    from scipy.optimize import brentq

    r = 200
    o = goe_order_statistics(r, 20)
    mass = lambda x: (x * math.sqrt(4 - x * x) / 2 + 2 * math.asin(x / 2)) / (2 * math.pi)  # noqa: E731
    for j in range(4, 20):
        gamma = brentq(lambda x: 0.5 - mass(x) - (j + 0.5) / r, -2, 2)
        assert o[j] == pytest.approx(gamma, abs=0.05)


def test_langevin_noise_has_the_band_covariance():
    """The Langevin map's noise draw (virtual samples, concentrated norms) along band directions
    against the band closure, per batch B: same variance within 5 standard errors."""
    from dynamics.langevin_map import _noise

    rng = np.random.default_rng(10)
    h, r, sigma2, B, K = 96, 80, 0.5, 512, 4
    W, Phi, p, q, U, V = _band_state(rng, h=h, r=r)
    dirs = _directions(rng, r, K)
    Ur, Vr = U[:, :r], V[:, :r]
    z = []
    for _ in range(600):
        gW, gP = _noise(W, Phi, sigma2, "cosine", 64, B, rng)
        z.append([np.sum(gW * (Ur @ E @ Ur.T)) for E in dirs] + [np.sum(gP * (Ur @ E @ Vr.T)) for E in dirs])
    z = np.array(z)
    emp = (z ** 2).mean(0)
    se = (z ** 2).std(0) / math.sqrt(z.shape[0])
    S = band_noise(band_of(p, q * q, sigma2), sigma2, B)
    want = np.concatenate([np.full(K, S[0, 0]), np.full(K, S[1, 1])])
    assert np.all(np.abs(emp - want) < 5 * se)
    assert np.all(np.abs(z.mean(0)) < 5 * z.std(0) / math.sqrt(z.shape[0]))
