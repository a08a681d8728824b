"""Regimes, fates and regime maps: against closed forms and against integration."""
import subprocess
import sys

import numpy as np
import pytest

from dynamics.equilibria import critical_value, find_equilibria
from dynamics.params import CosineParams
from dynamics.regimes import FATE_CODES, check_fates, integrated_fate, predict_fate, regime_map
from oracles import cosine_eq7


def test_fates_worked_example():
    # notes: p < p1 diverges, p1 < p < p3 collapses, p > p3 converges to p4
    f = predict_fate(CosineParams(), [-3, -1.0965, -1.0964, -0.5, 0.0454, 0.0455, 0.5, 3])
    names = [list(FATE_CODES)[c] for c in f]
    assert names == ["diverge", "diverge", "collapse", "collapse", "collapse", "converge", "converge", "converge"]


def test_single_initial_condition():
    assert list(predict_fate(CosineParams(), [0.5])) == [FATE_CODES["converge"]]
    assert int(predict_fate(CosineParams(), 0.5)) == FATE_CODES["converge"]     # a scalar stays a scalar


def _random_cosine(rng, n):
    # rho in [1e-2, 1e-1] (horizon 60/rho stays short), norms over a decade, T of both signs:
    # covers Collapse and Acute points and all three fates
    return np.column_stack([10 ** rng.uniform(-2, -1, n), rng.uniform(0, 2, n), 10 ** rng.uniform(-0.5, 0.5, n),
                            10 ** rng.uniform(-0.5, 0.5, n), rng.normal(0, 0.5, n)])


@pytest.mark.slow
def test_fates_agree_with_integration_random():
    # the acceptance line: 10^4 random (parameter, initial condition) pairs, 100% agreement with
    # dynamics.integrate (Tsit5, rtol 1e-10; a different code path: time stepping of the generated rhs)
    rng = np.random.default_rng(0)
    n = 10_000
    c = check_fates("cosine-simsiam", _random_cosine(rng, n), rng.uniform(-2, 2, n))
    assert c.n == n and c.fraction == 1.0
    assert set(np.unique(c.predicted)) == {0, 1, 2}              # every fate is exercised
    assert min(np.sum(c.predicted == f) for f in range(3)) > 500


def test_fates_agree_with_dop853_on_the_notes_formula():
    # a fully independent oracle: scipy DOP853 (rtol 1e-10) on Bao eq. 7 typed from the notes
    from scipy.integrate import solve_ivp

    rng = np.random.default_rng(5)
    n = 150
    theta = _random_cosine(rng, n)
    p0 = rng.uniform(-2, 2, n)
    pred = check_fates("cosine-simsiam", theta, p0).predicted
    blow = lambda t, y, *a: abs(y[0]) - 1e8  # noqa: E731
    blow.terminal = True
    for i in range(n):
        f = lambda t, y: [cosine_eq7(y[0], *theta[i])]  # noqa: E731
        # stop once settled (|pdot| falls below 1e-9): near a stiff stable p4 an explicit method
        # would otherwise crawl to the horizon at its stability limit; near 0 it means
        # |p| ~ |pdot| / rho < 1e-7, inside the collapse threshold 1e-6
        settled = lambda t, y: abs(f(t, y)[0]) - 1e-9  # noqa: E731
        settled.terminal, settled.direction = True, -1
        with np.errstate(over="ignore", invalid="ignore"):          # a blow-up may overflow the last step
            sol = solve_ivp(f, (0, 60 / theta[i, 0]), [p0[i]], method="DOP853", rtol=1e-10, atol=1e-14,
                            events=[blow, settled])
        end = abs(sol.y[0, -1])
        # a finite-time blow-up (p^6 term) either hits the event or stops the step-size control
        # (status -1) far beyond every equilibrium (all |p_i| < 3 here, as N_Psi < 3.2); a failure
        # near an equilibrium would be a real disagreement. NaN: overflowed.
        diverged = (sol.status == 1 and sol.t_events[0].size > 0) or (sol.status == -1 and not end <= 30.0)
        assert diverged or sol.status in (0, 1), sol.message
        fate = 0 if diverged else (1 if end < 1e-6 else 2)
        assert pred[i] == fate, (theta[i], p0[i])


def test_fate_exactly_on_an_equilibrium():
    # an exact equilibrium stays put: non-zero -> 'converge', zero -> 'collapse' (measure zero; an
    # integrator started on an unstable root leaves it from the rounding residual, so only the
    # stable ones are compared with integration)
    from dynamics.equilibria import equilibria_batch

    params = CosineParams()
    eq = find_equilibria(params)
    th = np.array([[params.rho, params.sigma2, params.n_phi, params.n_psi, params.trace]])
    roots, count = equilibria_batch("cosine-simsiam", th)     # the batch roots predict_fate uses (bitwise)
    p = roots[0, :count[0]]
    pred = predict_fate(params, p)
    np.testing.assert_array_equal(pred, [2, 1, 2, 2])
    stable = np.array([s == "stable" for s in eq.stability])
    theta = np.repeat(th, int(stable.sum()), 0)
    np.testing.assert_array_equal(integrated_fate("cosine-simsiam", theta, p[stable], t_end=100.0), pred[stable])


def test_regime_map_decay_axis_shortcut_matches_pointwise():
    # with rho on an axis, rho_c is computed once per line of the other axis; compare with the
    # per-point batch classification on the same points (exact: same arithmetic)
    from dynamics.equilibria import regimes_batch

    rho = np.logspace(-3, 0, 41)
    npsi = np.logspace(-1, 1, 37)
    fixed = {"sigma2": 0.5, "n_phi": 2.0, "trace": 0.4}
    m = regime_map("cosine-simsiam", "rho", rho, "n_psi", npsi, fixed)
    mt = regime_map("cosine-simsiam", "n_psi", npsi, "rho", rho, fixed)
    R, P = np.meshgrid(rho, npsi)
    theta = np.column_stack([R.ravel(), np.full(R.size, 0.5), np.full(R.size, 2.0), P.ravel(), np.full(R.size, 0.4)])
    codes, crits = regimes_batch("cosine-simsiam", theta)
    np.testing.assert_array_equal(m.regime, codes.reshape(R.shape))
    np.testing.assert_array_equal(mt.regime, codes.reshape(R.shape).T)
    # the grid and the batch are separately compiled kernels: equal to rounding (a host may contract a
    # multiply-add in one and not the other; CI's did, for the roots, once)
    np.testing.assert_allclose(m.critical, crits.reshape(R.shape), rtol=1e-14, atol=0)
    assert set(np.unique(m.regime)) == {0, 1}
    # L2 with eta on the y axis: eta_c = tau^2 / (4 (1 + sigma2)) (Tian eq. 16 closed form)
    s2, tau = np.linspace(0, 2, 21), 0.8
    eta = np.linspace(0.0, 0.2, 41)
    m2 = regime_map("l2-byol", "sigma2", s2, "eta", eta, {"tau": tau})
    eta_c = tau**2 / (4 * (1 + s2))[None, :]
    np.testing.assert_allclose(m2.critical, np.broadcast_to(eta_c, m2.critical.shape), rtol=1e-15)
    want = np.where(eta[:, None] == 0, 2, np.where(np.abs(eta[:, None] - eta_c) <= 1e-12 * eta_c, 3,
                                                    np.where(eta[:, None] > eta_c, 0, 1)))
    np.testing.assert_array_equal(m2.regime, want)


def test_regime_map_reused_root_search_is_exact():
    # along sigma2 and N_Phi the decay-0 polynomial of Bao eq. 7 does not change, so the map reuses
    # its maximum; the critical values must equal the pointwise ones (same arithmetic, compiled in
    # two functions: LLVM may contract a product differently, an ulp)
    s2 = np.linspace(0, 3, 9)
    nphi = np.logspace(-1, 1, 7)
    fixed = {"rho": 0.05, "n_psi": 1.5, "trace": -0.3}
    m = regime_map("cosine-simsiam", "sigma2", s2, "n_phi", nphi, fixed)
    for i, y in enumerate(nphi):
        for j, x in enumerate(s2):
            assert m.critical[i, j] == pytest.approx(critical_value(CosineParams(sigma2=x, n_phi=y, **fixed)),
                                                     rel=1e-15, abs=0)


def test_l2_fates_agree_with_integration():
    rng = np.random.default_rng(1)
    n = 500
    theta = np.column_stack([rng.uniform(0.01, 0.3, n), rng.uniform(0, 2, n), rng.uniform(0.5, 1.5, n), np.ones(n)])
    c = check_fates("l2-byol", theta, rng.uniform(-1, 2, n))
    assert c.fraction == 1.0


@pytest.mark.parametrize("side", [-1, 1])
def test_near_fold_consistent_with_integration(side):
    base = CosineParams()
    rc = critical_value(base)
    params = CosineParams(rho=rc * (1 + side * 1e-9), sigma2=base.sigma2, n_phi=base.n_phi, n_psi=base.n_psi,
                          trace=base.trace)
    eq = find_equilibria(params)
    assert eq.regime == ("Acute" if side < 0 else "Collapse")
    k_theta = np.array([[params.rho, params.sigma2, params.n_phi, params.n_psi, params.trace]])
    p0 = np.array([0.3, 0.9, 1.5])                # below, at and above the (near-)double root ~0.634
    pred = predict_fate(params, p0)
    integ = integrated_fate("cosine-simsiam", np.repeat(k_theta, 3, 0), p0, t_end=2e6)   # slow passage
    np.testing.assert_array_equal(pred, integ)


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_near_fold_random_points_consistent_with_integration(seed):
    # K within 1e-9 relative of K_c on both sides, at random parameters; initial conditions around
    # the (near-)double root, including between p3 and p4 on the Acute side (converge) which on the
    # Collapse side is the slow bottleneck passage (collapse)
    rng = np.random.default_rng(seed)
    base = CosineParams(rho=0.05, sigma2=rng.uniform(0, 2), n_phi=10 ** rng.uniform(-0.5, 0.5),
                        n_psi=10 ** rng.uniform(-0.5, 0.5), trace=rng.normal(0, 0.5))
    rc = critical_value(base)
    for side in (-1, 1):
        params = CosineParams(rho=rc * (1 + side * 1e-9), sigma2=base.sigma2, n_phi=base.n_phi,
                              n_psi=base.n_psi, trace=base.trace)
        eq = find_equilibria(params)
        assert eq.regime == ("Acute" if side < 0 else "Collapse")
        assert len(eq.p) == (4 if side < 0 else 2)
        # the fold root: Q'(p) = 10p^4 + 2Tp - N_Psi^2 = 0, p > 0 (notes sec. 5)
        r = np.roots([10, 0, 0, 2 * base.trace, -base.n_psi**2])
        pf = float(r[(np.abs(r.imag) < 1e-12) & (r.real > 0)].real[0])
        p0 = pf * np.array([0.5, 0.999, 1.001, 1.5])
        if side < 0:
            p0 = np.append(p0, 0.5 * (eq.p[2] + eq.p[3]))
        pred = predict_fate(params, p0)
        theta = np.repeat([[params.rho, params.sigma2, params.n_phi, params.n_psi, params.trace]], p0.size, 0)
        integ = integrated_fate("cosine-simsiam", theta, p0, t_end=1e8)     # bottleneck passage ~ 1e5-1e6
        np.testing.assert_array_equal(pred, integ)
        if side < 0:
            assert list(pred) == [1, 1, 2, 2, 2]          # p3, p4 are within ~1e-4 pf of pf
        else:
            assert list(pred) == [1, 1, 1, 1]


def test_regime_map_matches_closed_form():
    rho = np.logspace(-4, -1, 60)
    npsi = np.logspace(-1, 1.3, 50)
    m = regime_map("cosine-simsiam", "rho", rho, "n_psi", npsi, {"sigma2": 0.5, "n_phi": 2.0, "trace": 0.0})
    rc = 0.8 * 10 ** -0.25 / (1.5 * 2.0 * np.sqrt(npsi))[:, None]          # closed form at T = 0
    want = np.where(rho[None, :] > rc, 0, 1)
    np.testing.assert_array_equal(m.regime, want)


def test_regime_map_matches_pointwise_classification():
    rng = np.random.default_rng(2)
    s2 = np.linspace(0, 3, 13)
    nphi = np.logspace(-1, 1, 11)
    fixed = {"rho": 0.05, "n_psi": 1.5, "trace": -0.3}
    m = regime_map("cosine-simsiam", "sigma2", s2, "n_phi", nphi, fixed)
    for i in rng.integers(0, len(nphi), 8):
        for j in rng.integers(0, len(s2), 4):
            eq = find_equilibria(CosineParams(sigma2=s2[j], n_phi=nphi[i], **fixed))
            assert m.regime[i, j] == {"Collapse": 0, "Acute": 1, "Stable": 2, "Boundary": 3}[eq.regime]
    eta = np.linspace(0.01, 0.3, 30)[None, :]
    m2 = regime_map("l2-byol", "eta", eta.ravel(), "sigma2", np.linspace(0, 1, 20), {})
    eta_c = 1 / (4 * (1 + np.linspace(0, 1, 20)))[:, None]
    fold = np.abs(eta - eta_c) <= 1e-12 * eta_c          # e.g. eta = 0.25 at sigma2 = 0: Boundary
    assert fold.any()
    np.testing.assert_array_equal(m2.regime, np.where(fold, 3, np.where(eta > eta_c, 0, 1)))


@pytest.mark.slow
def test_regime_map_cli(tmp_path):
    out = tmp_path / "m.npz"
    r = subprocess.run([sys.executable, "-m", "sims.cli", "regime-map", "--model", "cosine-simsiam",
                        "--x", "rho:1e-4:1e-1:20:log", "--y", "n-psi:0.1:20:10:log", "--sigma2", "0.5",
                        "--n-phi", "2", "--trace", "0", "--out", str(out), "--plot", str(tmp_path / "m.png"),
                        "--check", "60"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "60 of 60 predicted fates confirmed" in r.stdout
    z = np.load(out)
    assert z["regime"].shape == (10, 20) and set(np.unique(z["regime"])) <= {0, 1, 2, 3}
    assert (tmp_path / "m.png").stat().st_size > 5000
    bad = subprocess.run([sys.executable, "-m", "sims.cli", "regime-map", "--model", "cosine-simsiam",
                          "--x", "rho:-1:1:20", "--y", "n-psi:0.1:20:10", "--out", str(out)],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "rho" in bad.stderr and "Traceback" not in bad.stderr


def test_basins_worked_example_and_l2():
    from dynamics.params import L2Params
    from dynamics.regimes import basins

    b = basins(CosineParams())
    # notes sec. 5 table (Acute): p < p1 diverges, p1 < p < p3 collapses, p > p3 converges to p4
    assert [f for *_, f in b] == ["diverge", "collapse", "collapse", "converge", "converge"]
    np.testing.assert_allclose([lo for lo, *_ in b[1:]], [-1.09644864526, 0.0, 0.0454594076241, 0.955393937315],
                               atol=1e-10)
    # L2 (Tian eq. 16): collapse basin p < p_- (the negative side included), converge above
    lo, hi = (1 - np.sqrt(1 - 4 * 0.05 * 1.5)) / 3, (1 + np.sqrt(1 - 4 * 0.05 * 1.5)) / 3
    b = basins(L2Params(eta=0.05, sigma2=0.5))
    assert [f for *_, f in b] == ["collapse", "collapse", "converge", "converge"]
    np.testing.assert_allclose([b[1][1], b[2][1]], [lo, hi], rtol=1e-14)
    assert [f for *_, f in basins(L2Params(eta=0.3, sigma2=0.5))] == ["collapse", "collapse"]   # Collapse
