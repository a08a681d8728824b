"""The quartic term of the (weighted) InfoNCE landscape against a Monte-Carlo estimate of the exact
per-sample t^4 coefficient, against autograd, and the commuting QP against a bounded L-BFGS."""
import numpy as np
import pytest

from dynamics.infonce_quartic import atom_weights, coupled_lambda, quartic_coefficient, quartic_matrix
from symbolic.errors import ParameterError


def _sample_t4(W, A, C, n, variant, alpha, samples, rng):
    """Exact t^4 coefficient of L(tW) per sample (Var_p D / 8, averaged over anchors), for fresh
    population draws x_hat ~ N(0, A), views x_hat + N(0, C); returns one value per sample."""
    d = A.shape[0]
    LA, LC = np.linalg.cholesky(A), np.linalg.cholesky(C)
    xh = rng.normal(size=(samples, n, d)) @ LA.T
    x1 = xh + rng.normal(size=(samples, n, d)) @ LC.T
    x2 = xh + rng.normal(size=(samples, n, d)) @ LC.T
    z1, z2 = x1 @ W.T, x2 @ W.T
    D = ((z1[:, :, None, :] - z2[:, None, :, :]) ** 2).sum(-1)            # (samples, anchor i, atom j)
    r, pi, Z = atom_weights(variant, n, alpha)
    w = np.ones((n, n))
    np.fill_diagonal(w, pi * Z)                                             # positive atom weight alpha
    m1 = (w * D).sum(-1) / Z                                                # the self atom has D = 0
    m2 = (w * D * D).sum(-1) / Z
    return (m2 - m1**2).mean(-1) / 8


@pytest.mark.slow
@pytest.mark.parametrize("variant,alpha", [("infonce", 1.0), ("weighted-self", 0.3), ("weighted-printed", 0.3)])
def test_quartic_matches_monte_carlo(variant, alpha):
    rng = np.random.default_rng(1)
    n, d = 6, 3
    W = rng.normal(size=(2, d))                                              # non-square, non-commuting
    G = rng.normal(size=(d, d))
    A = G @ G.T / d + 0.2 * np.eye(d)
    C = np.diag([0.5, 1.5, 3.0])
    q = _sample_t4(W, A, C, n, variant, alpha, 400_000, rng)
    se = q.std() / np.sqrt(q.size)
    want = quartic_coefficient(W, A, C, n, variant, alpha)
    assert abs(q.mean() - want) < 4 * se                                    # measured: within 1-2 SE
    # the test can tell: Theorem 1's quartic Tr[(W Sigma W^T)^2] is many standard errors off
    P = W @ (A + C) @ W.T
    assert abs(q.mean() - np.sum(P * P)) > 20 * se
    assert abs(q.mean() - 0.75 * np.sum(P * P)) > 20 * se                  # and so are the 1/N terms


@pytest.mark.parametrize("variant,alpha,self_term", [("weighted-self", 0.2, True), ("weighted-printed", 0.2, False)])
def test_cumulant_coefficient_is_the_fourth_derivative(variant, alpha, self_term):
    """The per-sample t^4 coefficient used above is exactly (1/24) d^4 L(tW)/dt^4 at t = 0 (autograd)."""
    torch = pytest.importorskip("torch")
    from sims.reproductions._torch import weighted_infonce

    rng = np.random.default_rng(2)
    n, d = 5, 3
    W = rng.normal(size=(d, d))
    A, C = np.eye(d), np.diag([0.3, 1.0, 2.0])
    want = _sample_t4(W, A, C, n, variant, alpha, 1, np.random.default_rng(7))[0]
    r2 = np.random.default_rng(7)                                           # the same draws again
    xh = r2.normal(size=(1, n, d)) @ np.linalg.cholesky(A).T
    x1 = xh + r2.normal(size=(1, n, d)) @ np.linalg.cholesky(C).T
    x2 = xh + r2.normal(size=(1, n, d)) @ np.linalg.cholesky(C).T
    t = torch.zeros((), dtype=torch.float64, requires_grad=True)
    Wt = torch.tensor(W)
    L = weighted_infonce(torch.tensor(x1[0]) @ (t * Wt).T, torch.tensor(x2[0]) @ (t * Wt).T, alpha, self_term)
    g = L
    for _ in range(4):
        (g,) = torch.autograd.grad(g, t, create_graph=True)
    assert g.item() / 24 == pytest.approx(want, rel=1e-8)


def test_commuting_matrix_equals_general_form():
    rng = np.random.default_rng(3)
    a, c, lam = rng.uniform(0.2, 2, 5), rng.uniform(0.1, 3, 5), rng.uniform(0, 1, 5)
    for variant in ("infonce", "weighted-self", "weighted-printed"):
        M = quartic_matrix(a, c, 12, variant, 0.4)
        want = quartic_coefficient(np.diag(np.sqrt(lam)), np.diag(a), np.diag(c), 12, variant, 0.4)
        assert lam @ M @ lam == pytest.approx(want, rel=1e-13)
        # large N: the coupling fades and Q -> (3/4) Tr[(W Sigma W^T)^2] (the conditional variance)
        Mbig = quartic_matrix(a, c, 1e9, variant, 0.4)
        assert lam @ Mbig @ lam == pytest.approx(0.75 * np.sum((a + c) ** 2 * lam**2), rel=1e-6)


def test_coupled_lambda_is_the_constrained_minimum():
    from scipy.optimize import minimize

    rng = np.random.default_rng(4)
    a = np.sort(rng.uniform(0.1, 2.0, 12))
    c = np.full(12, 9.0)
    n, alpha = 40, 0.1
    b = a - (1 - alpha) / n * c                                             # eq. 4
    M = quartic_matrix(a, c, n, "weighted-self", alpha)
    lam = coupled_lambda(b, M)
    res = minimize(lambda x: -b @ x + x @ M @ x, np.full(12, 1e-3), jac=lambda x: -b + 2 * M @ x,
                   bounds=[(0, None)] * 12, method="L-BFGS-B", options=dict(ftol=1e-15, gtol=1e-13, maxiter=5000))
    np.testing.assert_allclose(lam, res.x, atol=1e-9 * lam.max())
    grad = -b + 2 * M @ lam                                                 # KKT: 0 on the support, >= 0 off it
    assert np.all(np.abs(grad[lam > 0]) < 1e-10) and np.all(grad[lam == 0] > -1e-12)
    # the coupling collapses modes that eq. 4 with the decoupled quartic keeps
    assert np.sum(lam == 0) > np.sum(b <= 0)


def test_bad_input():
    with pytest.raises(ParameterError, match="variant"):
        atom_weights("nce", 10)
    with pytest.raises(ParameterError, match="alpha"):
        atom_weights("weighted-self", 10, 1.5)
    with pytest.raises(ParameterError, match="n must be"):
        quartic_matrix([1.0], [1.0], 1)
    with pytest.raises(ParameterError, match="same length"):
        quartic_matrix([1.0, 2.0], [1.0], 10)


def test_landscape_cli_derived_quartic():
    import json
    import subprocess
    import sys

    from dynamics.landscape import b_vector

    argv = [sys.executable, "-m", "sims.cli", "landscape", "--loss", "weighted-infonce-paper", "--a", "1,0.5,0.2",
            "--c", "3,3,3", "--alpha", "0.1", "--n", "20", "--json"]
    d = json.loads(subprocess.run(argv + ["--quartic", "derived"], capture_output=True, text=True, check=True).stdout)
    b = b_vector("weighted-infonce-paper", [1, 0.5, 0.2], [3, 3, 3], 0.1, 20)
    want = coupled_lambda(b, quartic_matrix([1, 0.5, 0.2], [3, 3, 3], 20, "weighted-self", 0.1))
    np.testing.assert_allclose(d["lambda"], want, rtol=1e-12)
    assert d["quartic"] == "derived" and d["collapsed"] == [False, False, False] and "n_crit" in d
    for extra, word in [(["--quartic", "cubic"], "--quartic must be one of"),
                        (["--quartic", "derived", "--normalize", "1"], "takes neither")]:
        r = subprocess.run(argv + extra, capture_output=True, text=True)
        assert r.returncode == 2 and word in r.stderr and r.stderr.count("\n") == 1
