"""Landscape stationary points: SymPy, the theory notes' worked examples, L-BFGS on the quartic."""
import json
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp
from scipy.optimize import minimize

from dynamics.landscape import (b_vector, commuting_lambda, landscape_loss, n_crit, normalized_lambda,
                                stationary_point)
from symbolic import landscape as sl


def test_symbolic_minimiser_and_n_crit():
    assert sp.simplify(sl.mode_minimiser() - sl.b / (2 * sl.s**2)) == 0
    assert sp.simplify(sl.n_crit() - (1 - sl.alpha) * sl.c / sl.a) == 0
    # b_i of every loss against the theory notes' table, written out by hand (B -> B - gamma I)
    a, c, alpha, n, gamma = np.array([1.0, 0.5]), np.array([0.3, 2.0]), 0.1, 64.0, 0.05
    table = {"infonce": a, "weighted-infonce-paper": a - (1 - alpha) / n * c,
             "weighted-infonce-exact": n / (n - 1 + alpha) * a, "barlow-twins": 2 * (a + c),
             "spectral": 2 * c, "vicreg": -a}
    assert set(table) == set(sl.LOSSES)
    for loss, want in table.items():
        np.testing.assert_allclose(b_vector(loss, a, c, alpha, n, gamma), want - gamma, rtol=1e-15)


def test_commuting_worked_example():
    b, s = np.array([1, 0.5, -0.2, 0.1]), np.array([1.5, 1, 0.8, 2])
    np.testing.assert_allclose(commuting_lambda(b, s), [0.222222, 0.25, 0, 0.0125], atol=1e-6)
    np.testing.assert_allclose(commuting_lambda(b, s, d_star=2), [0.222222, 0.25, 0, 0], atol=1e-6)


def test_normalized_worked_example_and_finite_kappa():
    a = np.array([1, 0.5, 0.2])
    s = a + 0.3
    lam, M = normalized_lambda(a, s, 1.0)
    np.testing.assert_allclose(lam, [0.322239, 0.433494, 0.468590], atol=1e-6)
    for kappa in (0.5, 3.0, 50.0):
        lk, Mk = normalized_lambda(a, s, 1.0, kappa)
        rho = np.sum(s * lk)
        grad = -a + 2 * s**2 * lk + 2 * kappa * (rho - 1.0) * s        # d/dlambda_i of the normalised loss
        np.testing.assert_allclose(grad[Mk], 0, atol=1e-12)
    np.testing.assert_allclose(normalized_lambda(a, s, 1.0, 1e9)[0], lam, rtol=1e-7)


def test_mask_drops_violators():
    lam, M = normalized_lambda(np.array([2.0, 1.0, 0.01]), np.array([1.0, 1.0, 1.0]), 0.1)
    assert not M[2] and np.all(lam >= 0) and lam[2] == 0


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_general_form_matches_lbfgs(seed):
    rng = np.random.default_rng(seed)
    d = 4
    Bh = rng.normal(size=(d, d))
    B = (Bh + Bh.T) / 2
    Sh = rng.normal(size=(d, d))
    Sigma = Sh @ Sh.T + 0.5 * np.eye(d)
    want = stationary_point(B, Sigma)

    def f(x):
        W = x.reshape(d, d)
        WS = W @ Sigma @ W.T
        g = -2 * W @ B + 4 * WS @ W @ Sigma
        return landscape_loss(W, B, Sigma), g.ravel()

    best = None
    for r in range(6):
        res = minimize(f, rng.normal(size=d * d), jac=True, method="L-BFGS-B",
                       options={"gtol": 1e-13, "ftol": 1e-16, "maxiter": 20000})
        if best is None or res.fun < best.fun:
            best = res
    W = best.x.reshape(d, d)
    np.testing.assert_allclose(W.T @ W, want, atol=1e-6)


def test_n_crit_is_the_collapse_threshold():
    a, c, alpha = np.array([1.0, 0.5, 0.2]), np.array([3.0, 3.0, 3.0]), 0.1
    nc = n_crit(a, c, alpha)
    for N in (2.0, 5.0, 14.0, 64.0):
        b = b_vector("weighted-infonce-paper", a, c, alpha, N)
        np.testing.assert_array_equal(b <= 0, N <= nc)


@pytest.mark.parametrize("argv,word", [(["--a", "1,2", "--c", "1"], "same length"),
                                       (["--a", "1,-2", "--c", "1,1"], "--a"),
                                       (["--a", "1,2", "--c", "1,-1"], "--c"),
                                       (["--a", "1", "--c", "1", "--alpha", "1.5"], "--alpha")])
def test_cli_bad_input(argv, word):
    r = subprocess.run([sys.executable, "-m", "sims.cli", "landscape", "--loss", "infonce", *argv, "--json"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and word in r.stderr and "Traceback" not in r.stderr


def test_cli_weighted_infonce():
    r = subprocess.run([sys.executable, "-m", "sims.cli", "landscape", "--loss", "weighted-infonce-paper", "--a",
                        "1,0.5,0.2", "--c", "3,3,3", "--alpha", "0.1", "--n", "5", "--json"],
                       capture_output=True, text=True, check=True)
    d = json.loads(r.stdout)
    assert d["collapsed"] == [False, True, True]
    np.testing.assert_allclose(d["n_crit"], [2.7, 5.4, 13.5])
