"""The Isserlis engine against brute-force pairings and a Monte-Carlo estimate."""
import itertools

import numpy as np
import sympy as sp

from symbolic.gaussian import gaussian_expectation, view_second_moments


def _pairings(items):
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for i in range(len(rest)):
        for tail in _pairings(rest[:i] + rest[i + 1:]):
            yield [(first, rest[i])] + tail


def _isserlis_bruteforce(indices, C):
    # sum over all perfect matchings of prod C[i, j] (Isserlis' theorem as printed)
    if len(indices) % 2:
        return 0
    return sum(np.prod([C[i, j] for i, j in m]) for m in _pairings(list(indices)))


def test_moments_match_bruteforce_pairings():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((3, 3))
    C = A @ A.T + 0.5 * np.eye(3)
    xs = sp.symbols("x0:3")
    Cs = sp.Matrix(C.tolist())
    for exps in itertools.product(range(4), repeat=3):
        idx = [i for i, e in enumerate(exps) for _ in range(e)]
        mono = sp.Mul(*[xs[i] ** e for i, e in enumerate(exps)])
        got = float(gaussian_expectation(mono, xs, Cs))
        want = _isserlis_bruteforce(idx, C)
        assert abs(got - want) <= 1e-10 * max(1.0, abs(want))   # exact up to float rounding


def test_nonzero_mean_against_monte_carlo():
    x, y = sp.symbols("x y")
    mean = [0.3, -1.2]
    C = [[1.0, 0.4], [0.4, 2.0]]
    expr = x**3 * y + 2 * x * y**2
    exact = float(gaussian_expectation(expr, [x, y], C, mean=mean))
    rng = np.random.default_rng(0)
    z = rng.multivariate_normal(mean, C, size=2_000_000)
    f = z[:, 0] ** 3 * z[:, 1] + 2 * z[:, 0] * z[:, 1] ** 2
    se = f.std() / np.sqrt(len(f))
    assert abs(f.mean() - exact) < 5 * se      # 5 standard errors


def test_view_second_moments():
    s2 = sp.Symbol("sigma2")
    assert view_second_moments(s2) == sp.Matrix([[1 + s2, 1], [1, 1 + s2]])
