"""DirectSet(alpha) / IsoLoss: the derived flows against torch autograd on moment-exact samples, the
l2-byol relation proved by SymPy, closed-form equilibria and critical decays to 1e-12."""
import numpy as np
import pytest
import sympy as sp
from scipy.optimize import brentq, minimize_scalar

from symbolic import directset as ds
from symbolic import l2_byol
from symbolic.errors import ParameterError
from symbolic.directset import DirectSetParams

torch = pytest.importorskip("torch")
NOUT, NIN, S2 = 4, 6, 0.04


def _views(rng, n=64):
    """Samples whose empirical moments are exact: Y1'Y1/n = (1+s2) I, Y1'Y2/n = I (QR then a Cholesky factor)."""
    Q = np.linalg.qr(rng.normal(size=(n, 2 * NIN)))[0]
    I = np.eye(NIN)
    L = np.linalg.cholesky(np.block([[(1 + S2) * I, I], [I, (1 + S2) * I]]))
    Y = np.sqrt(n) * Q @ L.T
    return Y[:, :NIN], Y[:, NIN:]


def _pred(W, alpha):
    lam, U = np.linalg.eigh(W @ W.T)
    return U @ np.diag(lam**alpha) @ U.T


def _autograd_flow(W, y1, y2, alpha, eta, iso):
    """-grad of the sample loss (stop-gradients by detach, predictor (W W^T)^alpha held constant) - eta W."""
    Wt = torch.tensor(W, requires_grad=True)
    P = torch.tensor(_pred(W, alpha))
    z1, z2 = torch.tensor(y1) @ Wt.T, torch.tensor(y2) @ Wt.T
    if iso:      # Halvagal et al.: |z1 - sg(z1 + z2 - W_P z1)|^2 / 2
        L = 0.5 * ((z1 - (z1 + z2 - z1 @ P.T).detach()) ** 2).sum(1).mean()
    else:        # |W_P z1 - sg(z2)|^2 / 2
        L = 0.5 * ((z1 @ P.T - z2.detach()) ** 2).sum(1).mean()
    L.backward()
    return -Wt.grad.numpy() - eta * W


def _matrix_numeric(alpha, eta, iso):
    d = ds.matrix_form()
    n, m = sp.Symbol("n", integer=True, positive=True), sp.Symbol("m", integer=True, positive=True)
    expr = d.rhs["W"].subs({n: NOUT, m: NIN})
    f = sp.lambdify([sp.MatrixSymbol("W", NOUT, NIN), sp.MatrixSymbol("W_P", NOUT, NOUT), ds.sigma2, ds.eta, ds.iso],
                    expr)
    return lambda W: f(W, _pred(W, alpha), S2, eta, iso)


@pytest.mark.slow
@pytest.mark.parametrize("alpha, eta, iso", [(0.5, 0.0, 0), (1.0, 0.1, 0), (0.5, 0.05, 1), (1.0, 0.0, 1)])
def test_matrix_form_equals_autograd(alpha, eta, iso):
    rng = np.random.default_rng(0)
    y1, y2 = _views(rng)
    W = 0.6 * rng.normal(size=(NOUT, NIN))
    np.testing.assert_allclose(_matrix_numeric(alpha, eta, iso)(W), _autograd_flow(W, y1, y2, alpha, eta, iso),
                               rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("alpha, iso", [(0.5, 0), (1.0, 0), (0.5, 1), (1.0, 1)])
def test_eigen_form_is_the_exact_eigenvalue_flow_of_autograd(alpha, iso):
    # no alignment assumed: a random W; d lam_j/dt = u_j^T (dW W^T + W dW^T) u_j (first-order perturbation)
    rng = np.random.default_rng(1)
    y1, y2 = _views(rng)
    W = 0.6 * rng.normal(size=(NOUT, NIN))
    Wd = _autograd_flow(W, y1, y2, alpha, 0.07, iso)
    lam, U = np.linalg.eigh(W @ W.T)
    Md = U.T @ (Wd @ W.T + W @ Wd.T) @ U
    f = sp.lambdify([ds.lam, ds.alpha, ds.sigma2, ds.eta, ds.iso], ds.eigen_form().rhs["lam"])
    np.testing.assert_allclose(np.diag(Md), f(lam, alpha, S2, 0.07, iso), rtol=1e-9)
    np.testing.assert_allclose(Md - np.diag(np.diag(Md)), 0, atol=1e-10)     # W W^T keeps its eigenbasis
    np.testing.assert_allclose(ds.flow_lam(lam, alpha, S2, 0.07, iso), np.diag(Md), rtol=1e-9)


def test_reduced_form_is_the_chain_rule_of_the_eigen_form():
    fl = sp.lambdify([ds.lam, ds.alpha, ds.sigma2, ds.eta, ds.iso], ds.eigen_form().rhs["lam"])
    fp = sp.lambdify([ds.p, ds.alpha, ds.sigma2, ds.eta, ds.iso], ds.reduced_form().rhs["p"])
    rng = np.random.default_rng(2)
    for _ in range(20):
        lam, a, s2, e, i = rng.uniform(0.01, 2), rng.uniform(0.1, 2), rng.uniform(0, 1), rng.uniform(0, 0.3), rng.integers(2)
        assert fp(lam**a, a, s2, e, i) == pytest.approx(a * lam ** (a - 1) * fl(lam, a, s2, e, i), rel=1e-11)


def _plain(e):
    return e.subs({x: sp.Symbol(x.name) for x in e.free_symbols})


def test_euclidean_reduced_form_is_l2_byol_with_time_scaled_by_2_alpha():
    pp, a = sp.Symbol("p"), sp.Symbol("alpha")
    mine = _plain(ds.reduced_form().rhs["p"]).subs(sp.Symbol("iso"), 0)
    byol = _plain(l2_byol.reduced_form().rhs["p"]).subs(sp.Symbol("tau"), 1)
    assert sp.simplify(mine - 2 * a * byol) == 0                          # every alpha: t -> 2 alpha t
    assert sp.simplify(mine.subs(a, sp.Rational(1, 2)) - byol) == 0       # DirectPred: identical
    assert sp.simplify(mine.subs(a, 1) - 2 * byol) == 0                   # DirectCopy: twice as fast
    assert sp.simplify(mine.subs(a, 1) - byol) != 0                       # ... so not identical at alpha = 1
    assert pp in byol.free_symbols


def test_equilibria_and_critical_decays_to_1e12():
    (pm, pp_), eta_c = ds.equilibria("euclidean")
    (pstar,), eta_c_iso = ds.equilibria("iso")
    s2, e = ds.sigma2, ds.eta
    assert sp.simplify(eta_c - 1 / (4 * (1 + s2))) == 0 and eta_c_iso == 1
    assert sp.simplify(pstar - (1 - e) / (1 + s2)) == 0
    poly = ds.reduced_form().equilibrium_polynomial
    rng = np.random.default_rng(3)
    for _ in range(20):
        a, sg, i = rng.uniform(0.1, 2), rng.uniform(0, 1), int(rng.integers(2))
        ev = rng.uniform(0, 0.99 * ds.critical_decay(sg, i))
        coeffs = [float(k) for k in sp.Poly(poly.subs({ds.alpha: a, ds.sigma2: sg, ds.eta: ev, ds.iso: i}),
                                            ds.p).all_coeffs()]
        got = np.sort(np.roots(coeffs).real)
        want = [pstar.subs({s2: sg, e: ev})] if i else [pm.subs({s2: sg, e: ev}), pp_.subs({s2: sg, e: ev})]
        np.testing.assert_allclose(got[got > 1e-9] if i else got[1:], np.array(want, float), rtol=1e-12, atol=1e-14)
        # critical decay = max_{p>0} mu(p)(1-(1+s2)p), found numerically
        G = (lambda q: -(q * (1 - (1 + sg) * q))) if i == 0 else (lambda q: -(1 - (1 + sg) * q))
        ref = -minimize_scalar(G, bounds=(0, 1), method="bounded", options={"xatol": 1e-14}).fun
        assert abs(ds.critical_decay(sg, i) - ref) <= 1e-12


def test_critical_decay_is_where_the_roots_merge():
    sg = 0.3
    disc = lambda ev: 1 - 4 * ev * (1 + sg)
    assert brentq(disc, 0, 1, xtol=1e-16) == pytest.approx(ds.critical_decay(sg, 0), rel=1e-12)


@pytest.mark.parametrize("kw, msg", [({"alpha": 0.0}, "alpha must be in"), ({"alpha": -1}, "alpha must be in"),
                                     ({"eta": -0.1}, "eta must be in"), ({"iso": 0.5}, "iso must be 0"),
                                     ({"sigma2": float("nan")}, "sigma2 must be in")])
def test_params_reject_bad_input(kw, msg):
    with pytest.raises(ParameterError, match=msg):
        DirectSetParams(**kw)


@pytest.mark.slow
@pytest.mark.parametrize("alpha, iso", [(0.5, 0), (1.0, 1)])
def test_training_follows_the_derived_flow(alpha, iso):
    # reduced run of sims.reproductions.directset (the committed full run: sims/results/families)
    from sims.reproductions import directset

    c = directset.compare(directset.train(alpha, iso, steps=300, samples=2048))
    assert c["median_rel_error"] <= 0.02


@pytest.mark.parametrize("kw, msg", [({"alpha": 0.0}, "alpha must be in"), ({"eta": -1.0}, "eta must be in"),
                                     ({"out_dim": 16}, r"out_dim \(modes\) must be an integer in \[1, 15\]")])
def test_training_rejects_bad_input(kw, msg):
    from sims.reproductions import directset

    args = {"alpha": 1.0, "iso": 0, **kw}
    with pytest.raises(ParameterError, match=msg):
        directset.train(args.pop("alpha"), args.pop("iso"), **args)


# ---- every command through the registry ----

def _cli(argv, capsys):
    from sims.cli import main

    rc = main(argv)
    return rc, capsys.readouterr()


@pytest.mark.parametrize("form", ("matrix", "eigen", "reduced"))
def test_cli_derive(form, capsys):
    import json

    rc, out = _cli(["derive", "--model", "directset", "--form", form, "--format", "json"], capsys)
    d = json.loads(out.out)
    assert rc == 0 and d["state"] == {"matrix": ["W"], "eigen": ["lam"], "reduced": ["p"]}[form]


@pytest.mark.slow
@pytest.mark.parametrize("iso", (0, 1))
def test_cli_equilibria_json(iso, capsys):
    import json

    rc, out = _cli(["equilibria", "--model", "directset", "--alpha", "0.5", "--sigma2", "0.2", "--eta", "0.1",
                    "--iso", str(iso), "--json"], capsys)
    d = json.loads(out.out)
    ps = sorted(e["p"] for e in d["equilibria"])
    if iso:
        want, crit = [0.0, 0.9 / 1.2], 1.0
    else:
        r = np.sqrt(1 - 4 * 0.1 * 1.2)
        want, crit = [0.0, (1 - r) / 2.4, (1 + r) / 2.4], 1 / 4.8
    assert rc == 0 and d["critical"]["name"] == "eta_c" and abs(d["critical"]["value"] - crit) <= 1e-12
    np.testing.assert_allclose(ps, want, rtol=1e-12, atol=1e-14)


@pytest.mark.slow
def test_cli_regime_map_bifurcation_integrate_sweep(tmp_path, capsys):
    rc, _ = _cli(["regime-map", "--model", "directset", "--x", "eta:0:0.5:6", "--y", "sigma2:0:1:3",
                  "--out", str(tmp_path / "rm.npz")], capsys)
    d = np.load(tmp_path / "rm.npz", allow_pickle=False)
    np.testing.assert_allclose(d["critical"], 1 / (4 * (1 + d["y"][:, None])) * np.ones((1, 6)), rtol=1e-12)
    rc2, _ = _cli(["bifurcation", "--model", "directset", "--sigma2", "0.25", "--param", "eta:0:0.4",
                   "--out", str(tmp_path / "b.npz")], capsys)
    b = np.load(tmp_path / "b.npz", allow_pickle=False)
    assert rc == 0 and rc2 == 0 and np.allclose(b["folds"], [[0.2, 0.4]], rtol=1e-9)      # eta_c, p = 1/(2(1+s2))
    # integrate the reduced form; its end state is p_+ (Euclidean) from above the unstable p_-
    rc, _ = _cli(["integrate", "--model", "directset", "--alpha", "1", "--eta", "0.1", "--p0", "0.3:2:3",
                  "--t-end", "200", "--rtol", "1e-10", "--out", str(tmp_path / "i.npz")], capsys)
    i = np.load(tmp_path / "i.npz", allow_pickle=False)
    p_plus = (1 + np.sqrt(1 - 0.4 * 1.01)) / 2.02
    assert rc == 0 and np.allclose(i["final"].ravel(), p_plus, rtol=1e-7)
    (tmp_path / "s.toml").write_text('model = "directset"\ntask = "regime"\n[params]\niso = 1\n[grid]\n'
                                     'eta = {lo = 0.0, hi = 2.0, n = 5}\nsigma2 = {lo = 0.0, hi = 1.0, n = 3}\n')
    assert _cli(["sweep", str(tmp_path / "s.toml"), "--out", str(tmp_path / "sw"), "--workers", "1",
                 "--no-progress"], capsys)[0] == 0
    assert _cli(["sweep", "--merge", str(tmp_path / "sw"), "--out", str(tmp_path / "sw.npz")], capsys)[0] == 0
    s = np.load(tmp_path / "sw.npz", allow_pickle=False)
    np.testing.assert_allclose(s["critical"], 1.0, rtol=1e-12)           # IsoLoss: eta_c = 1 for every sigma2
    assert np.all(s["regime"][s["axis_eta"] > 1.0] == 0)


@pytest.mark.parametrize("flag, value, msg", [("--alpha", "0", "alpha must be in (0, inf); got 0.0"),
                                              ("--alpha", "-0.5", "alpha must be in (0, inf); got -0.5"),
                                              ("--eta", "-0.1", "eta must be in [0, inf); got -0.1"),
                                              ("--iso", "0.5", "iso must be 0 (Euclidean loss) or 1 (IsoLoss); got 0.5")])
def test_cli_bad_input_is_one_line(flag, value, msg, capsys):
    rc, out = _cli(["equilibria", "--model", "directset", flag, value], capsys)
    assert rc == 2 and out.err.strip() == f"ssldyn: error: {msg}"


@pytest.mark.slow
def test_python_api_through_the_registry():
    from dynamics.equilibria import find_equilibria
    from symbolic.registry import field_name, get_model, model_names

    spec = get_model("directset")
    assert set(spec.forms) == {"matrix", "eigen", "reduced"} and spec.params_class is DirectSetParams
    assert (spec.decay, spec.critical) == ("eta", "eta_c") and "directset" in model_names(supports="folds")
    assert field_name("directset", "ISO") == "iso"
    for iso, crit in ((0, 1 / (4 * 1.2)), (1, 1.0)):
        e = find_equilibria(DirectSetParams(alpha=2.0, sigma2=0.2, eta=0.1, iso=iso))
        assert abs(e.critical_value - crit) <= 1e-12 and DirectSetParams(sigma2=0.2, iso=iso).eta_c == crit
        assert abs(max(e.p) - ((0.9 / 1.2) if iso else (1 + np.sqrt(1 - 0.48)) / 2.4)) <= 1e-12
