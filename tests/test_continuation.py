"""Fold curves by continuation against the SymPy discriminant and closed forms; branches."""
import mpmath
import numpy as np
import sympy as sp

from dynamics.continuation import equilibrium_branches, saddle_node_curve
from dynamics.equilibria import critical_value
from dynamics.params import CosineParams


def test_fold_curve_rho_npsi_closed_form_T0():
    fc = saddle_node_curve("cosine-simsiam", "rho", "n_psi", {"sigma2": 0.5, "n_phi": 2.0, "trace": 0.0},
                           (1e-4, 1e-1), (0.1, 20))
    assert len(fc.x) > 20
    want = 0.8 * 10 ** -0.25 / (1.5 * 2.0 * np.sqrt(fc.y))
    np.testing.assert_allclose(fc.x, want, rtol=1e-10)
    assert fc.cusps == ()


def test_fold_curve_agrees_with_discriminant():
    # zero set of disc_p(Q) with Q = 2p^5 + T p^2 - N_Psi^2 p + rho (1+s2) N_Phi N_Psi^3 (theory notes)
    s2, nphi, T = 0.5, 2.0, 0.5
    fc = saddle_node_curve("cosine-simsiam", "rho", "n_psi", {"sigma2": s2, "n_phi": nphi, "trace": T}, (1e-3, 1e-1), (0.5, 10))
    p, rho, B = sp.symbols("p rho N_Psi")
    Q = 2 * p**5 + T * p**2 - B**2 * p + rho * (1 + s2) * nphi * B**3
    disc = sp.lambdify((rho, B), sp.discriminant(sp.Poly(Q, p)), "mpmath")
    mpmath.mp.dps = 40
    for x, y in list(zip(fc.x, fc.y))[:: max(1, len(fc.x) // 15)]:
        root = mpmath.findroot(lambda r: disc(r, mpmath.mpf(y)), mpmath.mpf(x))
        assert abs(float(root) - x) <= 1e-8 * x


def test_fold_curve_other_plane_matches_critical_value():
    fixed = {"rho": 0.05, "n_psi": 1.5, "trace": -0.3}
    fc = saddle_node_curve("cosine-simsiam", "sigma2", "n_phi", fixed, (0.0, 3.0), (0.1, 10))
    for x, y in zip(fc.x[::10], fc.y[::10]):
        rc = critical_value(CosineParams(sigma2=x, n_phi=y, **fixed))
        assert abs(rc - 0.05) < 1e-9 * 0.05


def test_no_cusp_in_cosine_model():
    # Q' = Q'' = 0 forces N_Psi^2 = 10p^4 + 2Tp = -30 p^4 < 0: no cusp anywhere
    fc = saddle_node_curve("cosine-simsiam", "trace", "n_psi", {"rho": 0.05, "sigma2": 0.5, "n_phi": 2.0}, (-2.0, 2.0), (0.2, 5.0))
    assert fc.cusps == ()


def test_branches_fold_at_rho_c():
    fixed = {"sigma2": 0.5, "n_phi": 2.0, "n_psi": 1.5, "trace": 0.5}
    b = equilibrium_branches("cosine-simsiam", "rho", np.linspace(0.001, 0.14, 301), fixed)
    assert b.folds.shape == (1, 2)
    assert abs(b.folds[0, 0] - 0.10080523326) < 1e-10
    # the double root is where Q' = 0: 10p^4 + 2Tp - N_Psi^2 = 0
    pf = b.folds[0, 1]
    assert abs(10 * pf**4 + 2 * 0.5 * pf - 1.5**2) < 1e-10
    acute = b.values < 0.1008
    assert np.all(np.sum(~np.isnan(b.p[acute]), axis=1) == 4)
    assert np.all(np.sum(~np.isnan(b.p[~acute]), axis=1) == 2)


def test_l2_fold_curve_closed_form():
    # Tian eq. 16: the fold is eta = tau^2 / (4 (1 + sigma2)), double root p = tau / (2 (1 + sigma2))
    fc = saddle_node_curve("l2-byol", "eta", "sigma2", {"tau": 0.9}, (0.01, 0.5), (0.0, 3.0))
    np.testing.assert_allclose(fc.x, 0.81 / (4 * (1 + fc.y)), rtol=1e-10)
    np.testing.assert_allclose(fc.p, 0.9 / (2 * (1 + fc.y)), rtol=1e-7)    # a double root: ~sqrt(residual)


def test_bifurcation_cli(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "b.npz"
    r = subprocess.run([sys.executable, "-m", "sims.cli", "bifurcation", "--model", "l2-byol", "--param", "eta:0:0.3",
                        "--sigma2", "0.5", "--n", "61", "--out", str(out), "--plot", str(tmp_path / "b.png")],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    z = np.load(out)
    eta = z["values"]
    # closed forms (notes): 0 always (stable for eta > 0), p_-/p_+ while eta < eta_c = 1/6
    a = 1.5
    inside = (eta < 1 / 6) & (eta > 0)          # at eta = 0, p_- merges with 0 (semi-stable)
    disc = np.sqrt(np.clip(1 - 4 * eta * a, 0, None))
    np.testing.assert_allclose(z["p"][inside, 1], (1 - disc[inside]) / (2 * a), atol=1e-12)
    np.testing.assert_allclose(z["p"][inside, 2], (1 + disc[inside]) / (2 * a), atol=1e-12)
    assert np.all(z["stability"][inside, :3] == [0, 1, 0])
    assert np.all(np.isnan(z["p"][eta > 1 / 6, 1:]))
    np.testing.assert_allclose(z["p"][0, :2], [0, 1 / a], atol=1e-15)
    assert list(z["stability"][0, :2]) == [2, 0]
    assert z["folds"].shape == (1, 2) and abs(z["folds"][0, 0] - 1 / 6) < 1e-10
    assert z["transcritical"].shape == (1, 2) and abs(z["transcritical"][0, 0]) < 1e-10     # p_- leaves 0 at eta = 0
    assert (tmp_path / "b.png").stat().st_size > 5000
    for bad in (["--param", "rho:0:0.3", "--sigma2", "-1"], ["--param", "rho:0:0.3", "--n-psi", "0"],
                ["--param", "rho:0:nan"]):
        r = subprocess.run([sys.executable, "-m", "sims.cli", "bifurcation", "--model", "cosine-simsiam", *bad,
                            "--out", str(out)], capture_output=True, text=True)
        assert r.returncode == 2 and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
