"""Equilibria, stability and critical decay against the theory notes, closed forms and numpy."""
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp

from dynamics.equilibria import critical_value, find_eigen_equilibria, find_equilibria
from dynamics.params import CosineParams, L2Params
from dynamics.roots import real_roots_of
from oracles import cosine_eq7, l2_roots
from symbolic.codegen import load_kernels
from symbolic.errors import ParameterError

WORKED = [-1.09644864526, 0.0, 0.0454594076241, 0.955393937315]   # theory notes, section 5


def test_cosine_worked_example():
    eq = find_equilibria(CosineParams(rho=0.01, sigma2=0.5, n_phi=2, n_psi=1.5, trace=0.5))
    np.testing.assert_allclose(eq.p, WORKED, atol=1e-10)          # the notes print 12 digits
    assert eq.stability == ("unstable", "stable", "unstable", "stable")
    assert eq.regime == "Acute"
    assert eq.critical_name == "rho_c" and abs(eq.critical_value - 0.10080523326) < 1e-10
    for p in eq.p:
        assert abs(cosine_eq7(p, 0.01, 0.5, 2, 1.5, 0.5)) < 1e-13


@pytest.mark.parametrize("sigma2,n_phi,n_psi", [(0.5, 2.0, 1.5), (0.0, 0.3, 5.0), (2.0, 10.0, 0.2)])
def test_rho_c_closed_form_at_T0(sigma2, n_phi, n_psi):
    # theory notes: K_c = 4/5 10^{-1/4} N_Psi^{5/2} => rho_c = 0.8 10^{-1/4} / ((1+s2) N_Phi sqrt(N_Psi))
    want = 0.8 * 10 ** -0.25 / ((1 + sigma2) * n_phi * np.sqrt(n_psi))
    got = critical_value(CosineParams(rho=0.01, sigma2=sigma2, n_phi=n_phi, n_psi=n_psi, trace=0.0))
    assert abs(got - want) < 1e-13 * want


def test_stable_limit_roots():
    # K = 0, T = 0: roots 0 (double) and +-(N_Psi^2/2)^{1/4}
    eq = find_equilibria(CosineParams(rho=0.0, n_psi=1.5, trace=0.0))
    r = (1.5**2 / 2) ** 0.25
    np.testing.assert_allclose(eq.p, [-r, 0.0, r], atol=1e-13)
    assert eq.stability == ("unstable", "semi-stable", "stable") and eq.regime == "Stable"


@pytest.mark.parametrize("eta,sigma2,tau", [(0.05, 0.5, 1.0), (0.10, 1.0, 1.0), (0.01, 0.2, 0.7)])
def test_l2_closed_forms(eta, sigma2, tau):
    eq = find_equilibria(L2Params(eta=eta, sigma2=sigma2, tau=tau))
    lo, hi = l2_roots(eta, sigma2, tau)
    np.testing.assert_allclose(eq.p, [0.0, lo, hi], rtol=1e-14, atol=1e-16)
    assert eq.stability == ("stable", "unstable", "stable") and eq.regime == "Acute"
    assert eq.critical_value == pytest.approx(tau**2 / (4 * (1 + sigma2)), rel=1e-15)


def test_l2_collapse_and_boundary():
    eq = find_equilibria(L2Params(eta=0.2, sigma2=0.5))
    assert eq.regime == "Collapse" and list(eq.p) == [0.0]
    eq = find_equilibria(L2Params(eta=1 / 6, sigma2=0.5))           # eta = eta_c exactly
    assert eq.regime == "Boundary"
    assert "semi-stable" in eq.stability


def test_real_roots_against_numpy_and_sympy():
    rng = np.random.default_rng(0)
    for _ in range(500):
        deg = int(rng.integers(1, 10))
        c = rng.normal(size=deg + 1) * 10 ** rng.uniform(-2, 2, size=deg + 1)
        r, _ = real_roots_of(c)
        ref = np.roots(c)
        ref = np.sort(ref[np.abs(ref.imag) < 1e-7 * np.maximum(1, np.abs(ref))].real)
        assert len(r) == len(ref)
        np.testing.assert_allclose(r, ref, rtol=1e-7, atol=1e-9)      # numpy.roots is the weaker side
    # exact multiple roots from SymPy
    x = sp.Symbol("x")
    for roots in ([1, 1, 2, -3], [0, 0, sp.Rational(1, 2)], [sp.Rational(-7, 3), 5, 5, 5, 0]):
        poly = sp.Poly(sp.prod([x - q for q in roots]), x)
        r, m = real_roots_of([float(a) for a in poly.all_coeffs()])
        distinct = sorted(set(float(q) for q in roots))
        assert len(r) == len(distinct)
        np.testing.assert_allclose(r, distinct, atol=2e-5)              # triple roots: cube-root accuracy


def test_no_spurious_roots_from_complex_pairs():
    # (x^2 + 1e-12)(x - 1): a complex pair next to the real axis is not reported as real
    r, _ = real_roots_of(np.polymul([1, 0, 1e-12], [1, -1]))
    np.testing.assert_allclose(r, [1.0])


def test_eigen_equilibria_lie_on_the_parabola_with_transverse_rate():
    params = CosineParams()
    ee = find_eigen_equilibria(params)
    np.testing.assert_allclose(ee.s, ee.p**2)
    k = load_kernels("cosine-simsiam", "reduced")
    for pv, ev in zip(ee.p, ee.jacobian_eigenvalues):
        ev = np.sort(ev.real)
        # one eigenvalue is -2 rho (transverse), the other the reduced flow's slope
        slope = k.jac_p_p(pv, *params.as_array(k.PARAMS))
        got = sorted([-2 * params.rho, slope]) if pv != 0 else sorted([-2 * params.rho, -params.rho])
        np.testing.assert_allclose(ev, got, atol=1e-10)


@pytest.mark.parametrize("kw,word", [({"rho": -0.1}, "rho"), ({"sigma2": -1}, "sigma2"), ({"n_psi": 0.0}, "n_psi"),
                                     ({"n_phi": float("nan")}, "n_phi"), ({"trace": float("inf")}, "trace")])
def test_bad_parameters(kw, word):
    with pytest.raises(ParameterError, match=word):
        CosineParams(**kw)


@pytest.mark.slow
@pytest.mark.parametrize("argv", [["--rho", "-1"], ["--sigma2", "-0.5"], ["--n-psi", "0"], ["--n-phi", "nan"],
                                  ["--eta", "0.1"]])
def test_cli_bad_input(argv):
    r = subprocess.run([sys.executable, "-m", "sims.cli", "equilibria", "--model", "cosine-simsiam", *argv, "--json"],
                       capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_cli_json_contract():
    import json

    r = subprocess.run([sys.executable, "-m", "sims.cli", "equilibria", "--model", "l2-byol", "--eta", "0.05",
                        "--sigma2", "0.5", "--json"], capture_output=True, text=True, check=True)
    d = json.loads(r.stdout)
    assert [e["p"] for e in d["equilibria"]] == pytest.approx([0, 0.0544466578, 0.6122200088], abs=1e-10)
    assert d["critical"] == {"name": "eta_c", "value": pytest.approx(1 / 6, rel=1e-15)}


def test_cosine_boundary_at_rho_c():
    # at rho = rho_c the two positive roots merge: Q = Q' = 0 with Q' = 10p^4 + 2Tp - N_Psi^2 (notes sec. 5)
    base = CosineParams()
    rc = critical_value(base)
    eq = find_equilibria(CosineParams(rho=rc, sigma2=0.5, n_phi=2.0, n_psi=1.5, trace=0.5))
    assert eq.regime == "Boundary"
    assert eq.stability == ("unstable", "stable", "semi-stable")
    pf = eq.p[2]
    # |Q'| at an exact double root found to ~sqrt(eps) accuracy: Q'(p) ~ Q'' * 1e-8 ~ 1e-7
    assert abs(10 * pf**4 + 2 * 0.5 * pf - 1.5**2) < 1e-6
    assert abs(cosine_eq7(pf, rc, 0.5, 2.0, 1.5, 0.5)) < 1e-14


def _scan_roots(f, lo, hi, n=200001):
    """Oracle: sign changes of f on a dense grid, refined by brentq (independent of dynamics.roots)."""
    from scipy.optimize import brentq

    x = np.linspace(lo, hi, n)
    y = f(x)
    out = [float(a) for a, v in zip(x, y) if v == 0.0]
    for i in np.flatnonzero(np.sign(y[:-1]) * np.sign(y[1:]) < 0):
        out.append(brentq(f, x[i], x[i + 1], xtol=1e-15, rtol=1e-15))
    return np.sort(out)


@pytest.mark.slow
@pytest.mark.parametrize("sums", [(0.0, 0.0, 0.0, 0.0, 0.0), (0.4, 0.1, 0.2, 0.05, 0.1), (2.0, -0.3, 0.5, -0.1, 0.3)])
def test_delta_model_equilibria_against_scan(sums):
    from dynamics.params import CosineDeltaParams

    params = CosineDeltaParams(rho=0.02, sigma2=0.5, n_phi=2.0, n_psi=1.5, trace=0.4, sum_p0s2=sums[0],
                               sum_p1s2=sums[1], sum_p2s2=sums[2], sum_p3s2=sums[3], sum_p4s2=sums[4])
    eq = find_equilibria(params)
    k = load_kernels("cosine-simsiam-delta", "reduced")
    theta = params.as_array(k.PARAMS)
    rhs = np.vectorize(lambda p: k.rhs_p(p, *theta))
    bound = 1.1 * max(2.0, np.max(np.abs(eq.p)))
    want = _scan_roots(rhs, -bound, bound)
    assert len(eq.p) == len(want)
    np.testing.assert_allclose(eq.p, want, atol=1e-12)               # both refine simple roots to rounding
    # stability: sign of the rhs just right of each root (slope sign)
    for pv, st in zip(eq.p, eq.stability):
        slope = k.rhs_p(pv + 1e-6, *theta) - k.rhs_p(pv - 1e-6, *theta)
        assert st == ("stable" if slope < 0 else "unstable")
    # the eigen (p, s) system of one mode vanishes at (p, p^2), Jacobian stability agrees
    ke = load_kernels("cosine-simsiam-delta", "eigen")
    ee = find_eigen_equilibria(params)
    the = params.as_array(ke.PARAMS)
    out = np.empty(2)
    for pv, sv, st in zip(ee.p, ee.s, ee.stability):
        ke.rhs(np.array([pv, sv]), the, out)
        assert np.max(np.abs(out)) < 1e-12
    assert ee.stability == eq.stability


def test_equilibria_batch_matches_pointwise():
    rng = np.random.default_rng(3)
    n = 200
    theta = np.column_stack([10 ** rng.uniform(-3, 0, n), rng.uniform(0, 2, n), rng.uniform(0.2, 5, n),
                             rng.uniform(0.2, 5, n), rng.normal(0, 1, n)])
    from dynamics.equilibria import equilibria_batch

    roots, count = equilibria_batch("cosine-simsiam", theta)
    for i in range(n):
        eq = find_equilibria(CosineParams(*theta[i]))
        assert count[i] == len(eq.p)
        # same algorithm compiled in two functions: LLVM may contract differently (an ulp or two)
        np.testing.assert_allclose(roots[i, :count[i]], eq.p, rtol=1e-15, atol=1e-300)
        assert np.all(np.isnan(roots[i, count[i]:]))
        # the oracle: numpy.roots of p Q(p) (notes sec. 4), real parts of numerically real roots
        rho, s2, nphi, npsi, T = theta[i]
        K = rho * (1 + s2) * nphi * npsi**3
        ref = np.roots([2, 0, 0, T, -npsi**2, K])
        ref = np.sort(np.append(ref[np.abs(ref.imag) < 1e-7].real, 0.0))
        np.testing.assert_allclose(roots[i, :count[i]], ref, atol=1e-7)   # numpy.roots: ~1e-8 near close pairs


def test_cli_eigen_jacobian_against_notes():
    # (p, s) system of one mode (Bao eq. 5, notes sec. 3) at frozen N_Phi, N_Psi, T: equilibria on the
    # parabola s = p^2 and Jacobian eigenvalues {-2 rho, d/dp of eq. 7}, both from the notes' formulas
    # by central differences (step 1e-6: error ~1e-12 * third derivative, well inside 1e-8)
    import json

    from oracles import cosine_eq5

    r = subprocess.run([sys.executable, "-m", "sims.cli", "equilibria", "--model", "cosine-simsiam", "--rho", "0.01",
                        "--sigma2", "0.5", "--n-phi", "2", "--n-psi", "1.5", "--trace", "0.5", "--eigen", "--json"],
                       capture_output=True, text=True, check=True)
    d = json.loads(r.stdout)
    args = (0.01, 0.5, 2.0, 1.5, 0.5)
    assert [e["stability"] for e in d["eigen"]] == ["unstable", "stable", "unstable", "stable"]
    h = 1e-6
    for e in d["eigen"]:
        p, s = e["p"], e["s"]
        assert s == pytest.approx(p * p, abs=1e-15)
        assert max(abs(v) for v in cosine_eq5(p, s, *args)) < 1e-14
        J = np.array([[(a - b) / (2 * h) for a, b in zip(cosine_eq5(p + h, s, *args), cosine_eq5(p - h, s, *args))],
                      [(a - b) / (2 * h) for a, b in zip(cosine_eq5(p, s + h, *args), cosine_eq5(p, s - h, *args))]]).T
        want = np.sort(np.linalg.eigvals(J).real)
        got = np.sort([z[0] for z in e["jacobian_eigenvalues"]])
        np.testing.assert_allclose(got, want, atol=1e-8)
        assert np.min(np.abs(got + 0.02)) < 1e-8                           # the transverse rate -2 rho


def test_l2_eigen_equilibria_notes_worked_run():
    # notes (Tian): sigma2 = 0.5, eta = 0.04, alpha_p = 1, beta = 0.4, the 3-D run converges to
    # (0.623927, 0.389284, 1) (6 printed digits); collapsed state tau = beta / (beta - eta)
    ee = find_eigen_equilibria(L2Params(eta=0.04, sigma2=0.5, alpha_p=1.0, beta=0.4))
    np.testing.assert_allclose(ee.p[-1], 0.623927, atol=1e-6)
    np.testing.assert_allclose(ee.s[-1], 0.389284, atol=1e-6)
    assert ee.tau[-1] == 1.0 and ee.stability[-1] == "stable"
    lo, hi = l2_roots(0.04, 0.5)
    np.testing.assert_allclose(ee.p, [0.0, lo, hi], rtol=1e-14)
    assert ee.tau[0] == pytest.approx(0.4 / 0.36, rel=1e-15) and ee.s[0] == 0.0
    assert ee.stability == ("stable", "unstable", "stable")
    # one eigenvalue -2 eta at the non-collapsed points (transverse to the parabola, notes)
    for ev in ee.jacobian_eigenvalues[1:]:
        assert np.min(np.abs(ev + 0.08)) < 1e-12
    # alpha_p != 1 moves s = p^2 / alpha_p only
    ee2 = find_eigen_equilibria(L2Params(eta=0.04, sigma2=0.5, alpha_p=2.0, beta=0.4))
    np.testing.assert_allclose(ee2.s, ee.p**2 / 2, rtol=1e-14)
    with pytest.raises(ParameterError, match="beta"):
        find_eigen_equilibria(L2Params(eta=0.04, beta=0.0))
