"""Regimes, fates and regime maps: against closed forms and against integration."""
import subprocess
import sys

import numpy as np
import pytest

from dynamics.equilibria import critical_value, find_equilibria
from dynamics.params import CosineParams
from dynamics.regimes import FATE_CODES, check_fates, integrated_fate, predict_fate, regime_map


def test_fates_worked_example():
    # notes: p < p1 diverges, p1 < p < p3 collapses, p > p3 converges to p4
    f = predict_fate(CosineParams(), [-3, -1.0965, -1.0964, -0.5, 0.0454, 0.0455, 0.5, 3])
    names = [list(FATE_CODES)[c] for c in f]
    assert names == ["diverge", "diverge", "collapse", "collapse", "collapse", "converge", "converge", "converge"]


def test_single_initial_condition():
    assert list(predict_fate(CosineParams(), [0.5])) == [FATE_CODES["converge"]]
    assert int(predict_fate(CosineParams(), 0.5)) == FATE_CODES["converge"]     # a scalar stays a scalar


def test_fates_agree_with_integration_random():
    rng = np.random.default_rng(0)
    n = 1500
    theta = np.column_stack([10 ** rng.uniform(-2, -1, n), rng.uniform(0, 2, n), 10 ** rng.uniform(-0.5, 0.5, n),
                             10 ** rng.uniform(-0.5, 0.5, n), rng.normal(0, 0.5, n)])
    c = check_fates("cosine-simsiam", theta, rng.uniform(-2, 2, n))
    assert c.fraction == 1.0
    assert set(np.unique(c.predicted)) == {0, 1, 2}              # every fate is exercised


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
