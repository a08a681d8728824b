"""Linear Barlow Twins (Simon et al. 2023): the derived flows against torch autograd of the loss,
closed-form equilibria, critical decay and step times against SymPy / scipy references."""
import math

import numpy as np
import pytest
import sympy as sp
from scipy.integrate import solve_ivp
from scipy.optimize import brentq

from symbolic import barlow_linear as bl
from symbolic.errors import ParameterError
from symbolic.barlow_linear import BarlowParams

torch = pytest.importorskip("torch")
D, M = 4, 6


def _pairs(rng, n=200):
    x = rng.normal(size=(n, M)) * np.linspace(2.0, 0.5, M)
    return x + 0.3 * rng.normal(size=(n, M)), x + 0.3 * rng.normal(size=(n, M))


def _autograd_flow(W, x1, x2, rho):
    """-dL/dW - rho W for L = ||C - I||_F^2, C the symmetrised sample cross-correlation of W x, W x'."""
    Wt = torch.tensor(W, dtype=torch.float64, requires_grad=True)
    z1, z2 = torch.tensor(x1) @ Wt.T, torch.tensor(x2) @ Wt.T
    C = (z1.T @ z2 + z2.T @ z1) / (2 * len(x1))
    L = ((C - torch.eye(W.shape[0], dtype=torch.float64)) ** 2).sum()
    L.backward()
    return -Wt.grad.numpy() - rho * W


def _gamma(x1, x2):
    return (x1.T @ x2 + x2.T @ x1) / (2 * len(x1))


def test_matrix_form_equals_autograd():
    rng = np.random.default_rng(0)
    x1, x2 = _pairs(rng)
    d = bl.matrix_form()
    dd, mm = sp.Symbol("d", integer=True, positive=True), sp.Symbol("m", integer=True, positive=True)
    expr = d.rhs["W"].subs({dd: D, mm: M})
    f = sp.lambdify([sp.MatrixSymbol("W", D, M), sp.MatrixSymbol("Gamma", M, M), bl.rho], expr)
    for rho in (0.0, 0.7):
        W = 0.5 * rng.normal(size=(D, M))
        np.testing.assert_allclose(f(W, _gamma(x1, x2), rho), _autograd_flow(W, x1, x2, rho), rtol=1e-10, atol=1e-12)


def test_eigen_form_is_the_aligned_autograd_flow():
    rng = np.random.default_rng(1)
    x1, x2 = _pairs(rng)
    g, V = np.linalg.eigh(_gamma(x1, x2))
    U = np.linalg.qr(rng.normal(size=(D, D)))[0]
    ws = rng.uniform(0.1, 1.0, size=D)
    Vd = V[:, ::-1][:, :D]                      # the D largest modes
    gd = g[::-1][:D]
    W = U @ np.diag(ws) @ Vd.T
    rho = 0.3
    G = U.T @ _autograd_flow(W, x1, x2, rho) @ V[:, ::-1]
    f = sp.lambdify([bl.w, bl.gamma, bl.rho], bl.eigen_form().rhs["w"])
    np.testing.assert_allclose(np.diag(G[:, :D]), f(ws, gd, rho), rtol=1e-10)
    off = G.copy()
    off[np.arange(D), np.arange(D)] = 0
    assert np.abs(off).max() < 1e-10 * np.abs(G).max()      # the flow keeps the modes aligned


def test_reduced_form_is_the_chain_rule_of_the_eigen_form():
    fw = sp.lambdify([bl.w, bl.gamma, bl.rho], bl.eigen_form().rhs["w"])
    fc = sp.lambdify([bl.c, bl.gamma, bl.rho], bl.reduced_form().rhs["c"])
    rng = np.random.default_rng(2)
    for _ in range(20):
        w, g, r = rng.uniform(0.01, 2), rng.uniform(0.05, 3), rng.uniform(0, 2)
        assert fc(g * w * w, g, r) == pytest.approx(2 * g * w * fw(w, g, r), rel=1e-12)


def test_equilibria_and_critical_decay_to_1e12():
    c_star, rho_c = bl.equilibria()
    assert sp.simplify(c_star - (1 - bl.rho / (4 * bl.gamma))) == 0 and sp.simplify(rho_c - 4 * bl.gamma) == 0
    poly = bl.reduced_form().equilibrium_polynomial
    rng = np.random.default_rng(3)
    for _ in range(20):
        g, r = rng.uniform(0.05, 3), rng.uniform(0, 1)
        coeffs = [float(k) for k in sp.Poly(poly.subs({bl.gamma: g, bl.rho: r}), bl.c).all_coeffs()]
        roots = np.sort(np.roots(coeffs).real)
        np.testing.assert_allclose(roots, np.sort([0.0, bl.plateau(g, r) if r < 4 * g else 1 - r / (4 * g)]),
                                   atol=1e-12)
        # critical decay: where the non-zero root meets 0, by root finding on the polynomial's coefficients
        ref = brentq(lambda rr: coeffs_root(g, rr), 0.0, 100.0, xtol=1e-15, rtol=1e-15)
        assert abs(bl.critical_decay(g) - ref) <= 1e-12 * ref


def coeffs_root(g, r):
    c2, c1, _ = sp.Poly(bl.reduced_form().equilibrium_polynomial.subs({bl.gamma: g, bl.rho: r}), bl.c).all_coeffs()
    return -float(c1) / float(c2)


def test_closed_form_and_step_time():
    _, res, init = bl.closed_form()
    th, res_t = bl.step_time()
    assert res == 0 and init == 0 and res_t == 0
    f = sp.lambdify([bl.c, bl.gamma, bl.rho], bl.reduced_form().rhs["c"])
    for g, r, c0 in ((1.0, 0.0, 1e-6), (0.3, 0.5, 1e-4), (2.0, 7.0, 1e-3)):
        sol = solve_ivp(lambda t, y: [f(y[0], g, r)], (0, 40 / g), [c0], rtol=1e-12, atol=1e-16, dense_output=True)
        tt = np.linspace(0, 40 / g, 50)
        np.testing.assert_allclose(bl.trajectory(tt, g, r, c0), sol.sol(tt)[0], rtol=1e-8, atol=1e-14)
        t_half = bl.half_time(g, r, c0)
        assert float(th.subs({bl.gamma: g, bl.rho: r, bl.c0: c0})) == pytest.approx(t_half, rel=1e-12)
        assert sol.sol(t_half)[0] == pytest.approx(bl.plateau(g, r) / 2, rel=1e-7)


def test_switched_off_mode_decays():
    assert bl.plateau(1.0, 4.5) == 0.0 and math.isinf(bl.half_time(1.0, 4.5, 1e-3))
    assert bl.trajectory([50.0], 1.0, 4.5, 1e-3)[0] < 1e-3 * 1e-3


@pytest.mark.parametrize("kw, msg", [({"gamma": 0.0}, "gamma must be in"), ({"rho": -0.1}, "rho must be in"),
                                     ({"gamma": math.inf}, "gamma must be in")])
def test_params_reject_bad_input(kw, msg):
    with pytest.raises(ParameterError, match=msg):
        BarlowParams(**kw)


def test_training_on_digits_follows_the_steps():
    # reduced run of sims.reproductions.simon (the committed full run: sims/results/families)
    from sims.reproductions import simon

    x1, x2 = simon.digit_pairs(pairs_per_image=1)
    run = simon.train(x1, x2, dim=6, steps=2500, record_every=5)
    c = simon.compare(run, x1, x2, modes=6)
    assert len(c["learned"]) >= 3
    assert c["median_step_time_rel_error"] <= 0.10 and c["median_plateau_rel_error"] <= 0.05
    # the measured step times are ordered like the gammas: the steps come one at a time
    assert np.all(np.diff(c["measured_step_time"][c["learned"]]) > 0)


@pytest.mark.parametrize("kw, msg", [({"dim": 65}, r"dim \(embedding modes\) must be an integer in \[1, 64\]"),
                                     ({"rho": -0.1}, "rho must be in"), ({"lr": 0}, "lr must be in")])
def test_training_rejects_bad_input(kw, msg):
    from sims.reproductions import simon

    x = np.zeros((4, 64))
    with pytest.raises(ParameterError, match=msg):
        simon.train(x, x, **kw)


# ---- every command through the registry ----

def _cli(argv, capsys):
    from sims.cli import main

    rc = main(argv)
    return rc, capsys.readouterr()


@pytest.mark.parametrize("form", ("matrix", "eigen", "reduced"))
def test_cli_derive(form, capsys):
    import json

    rc, out = _cli(["derive", "--model", "barlow-linear", "--form", form, "--format", "json"], capsys)
    d = json.loads(out.out)
    assert rc == 0 and d["model"] == "barlow-linear" and d["state"] == {"matrix": ["W"], "eigen": ["w"],
                                                                       "reduced": ["c"]}[form]


@pytest.mark.slow
def test_cli_equilibria_json(capsys):
    import json

    rc, out = _cli(["equilibria", "--model", "barlow-linear", "--gamma", "0.3", "--rho", "0.5", "--json"], capsys)
    d = json.loads(out.out)
    assert rc == 0 and d["critical"]["name"] == "rho_c"
    assert abs(d["critical"]["value"] - 1.2) <= 1e-12
    ps = sorted(e["p"] for e in d["equilibria"])
    np.testing.assert_allclose(ps, [0.0, 1 - 0.5 / 1.2], atol=1e-12)
    assert [e["stability"] for e in sorted(d["equilibria"], key=lambda e: e["p"])] == ["unstable", "stable"]


@pytest.mark.slow
def test_cli_regime_map_bifurcation_integrate_sweep(tmp_path, capsys):
    rc, _ = _cli(["regime-map", "--model", "barlow-linear", "--x", "rho:0.1:8:9", "--y", "gamma:0.5:2:4",
                  "--out", str(tmp_path / "rm.npz")], capsys)
    d = np.load(tmp_path / "rm.npz", allow_pickle=False)
    g = d["y"][:, None] * np.ones((1, 9))
    np.testing.assert_allclose(d["critical"], 4 * g, rtol=1e-12)
    assert rc == 0 and np.all(d["regime"][d["x"][None, :] > 4 * g + 1e-9] == 0)      # Collapse past rho_c
    rc, _ = _cli(["bifurcation", "--model", "barlow-linear", "--gamma", "0.5", "--param", "rho:0:4",
                  "--out", str(tmp_path / "b.npz")], capsys)
    b = np.load(tmp_path / "b.npz", allow_pickle=False)
    assert rc == 0 and len(b["folds"]) == 0 and np.allclose(b["transcritical"][:, 0], 2.0, atol=1e-9)
    rc, _ = _cli(["integrate", "--model", "barlow-linear", "--gamma", "0.7", "--rho", "1", "--p0", "1e-4:0.5:3",
                  "--t-end", "3", "--rtol", "1e-11", "--atol", "1e-14", "--out", str(tmp_path / "i.npz")], capsys)
    i = np.load(tmp_path / "i.npz", allow_pickle=False)
    want = [bl.trajectory(3.0, 0.7, 1.0, c) for c in np.linspace(1e-4, 0.5, 3)]
    assert rc == 0 and np.allclose(i["final"].ravel(), want, rtol=1e-7)
    (tmp_path / "s.toml").write_text('model = "barlow-linear"\ntask = "regime"\n[params]\n[grid]\n'
                                     'rho = {lo = 0.1, hi = 8.0, n = 5}\ngamma = {lo = 0.5, hi = 2.0, n = 3}\n')
    assert _cli(["sweep", str(tmp_path / "s.toml"), "--out", str(tmp_path / "sw"), "--workers", "1",
                 "--no-progress"], capsys)[0] == 0
    assert _cli(["sweep", "--merge", str(tmp_path / "sw"), "--out", str(tmp_path / "sw.npz")], capsys)[0] == 0
    s = np.load(tmp_path / "sw.npz", allow_pickle=False)
    np.testing.assert_allclose(s["critical"], 4 * np.ones((5, 1)) * s["axis_gamma"][None, :], rtol=1e-12)


@pytest.mark.parametrize("flag, value, msg", [("--rho", "-1", "rho must be in [0, inf); got -1.0"),
                                              ("--gamma", "0", "gamma must be in (0, inf); got 0.0")])
def test_cli_bad_input_is_one_line(flag, value, msg, capsys):
    rc, out = _cli(["equilibria", "--model", "barlow-linear", flag, value], capsys)
    assert rc == 2 and out.err.strip() == f"ssldyn: error: {msg}"


def test_python_api_through_the_registry():
    from dynamics.equilibria import find_equilibria
    from symbolic.registry import field_name, get_model, model_names

    spec = get_model("barlow-linear")
    assert set(spec.forms) == {"matrix", "eigen", "reduced"} and spec.params_class is BarlowParams
    assert (spec.decay, spec.critical) == ("rho", "rho_c") and "barlow-linear" in model_names(supports="regimes")
    assert field_name("barlow-linear", "Gamma") == "gamma"
    e = find_equilibria(spec.params_class(gamma=0.3, rho=0.5))
    np.testing.assert_allclose(np.sort(e.p), [0.0, 1 - 0.5 / 1.2], atol=1e-12)
    assert abs(e.critical_value - 1.2) <= 1e-12 and BarlowParams(gamma=0.3).rho_c == pytest.approx(1.2, rel=1e-15)
