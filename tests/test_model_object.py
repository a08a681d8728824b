"""The model as a value: one registry lookup per command and API call, the convention carried
by the object into every path (checked against SymPy roots of Bao's eq. 7 written out here)."""
import json
import math
import sys

import numpy as np
import pytest
import sympy as sp

import dynamics as dy
from dynamics.equilibria import equilibria_batch, regimes_batch
from dynamics.params import CosineParams, L2Params
from sims.cli import main
from symbolic import registry
from symbolic.errors import ParameterError
from symbolic.model import Model, as_model

POINT = dict(rho=0.01, sigma2=0.5, n_phi=2.0, n_psi=1.5, trace=0.5)
FN = as_model("cosine-simsiam", convention="feature-norm")


# --- independent oracle: Bao 2023 eq. 7, feature-norm normalisers N -> N / sqrt(1 + sigma2) ------
def _bao_eq7(rho, sigma2, n_phi, n_psi, trace, feature_norm):
    """(p, rhs(p), the non-zero equilibria by sympy nroots) of the reduced cosine flow."""
    a = 1 + sp.nsimplify(sigma2)
    s = sp.sqrt(a) if feature_norm else sp.Integer(1)
    nphi, npsi = sp.nsimplify(n_phi) / s, sp.nsimplify(n_psi) / s
    p = sp.Symbol("p")
    Q = 2 * p**5 + sp.nsimplify(trace) * p**2 - npsi**2 * p + sp.nsimplify(rho) * a * nphi * npsi**3
    rhs = -p * Q / (a * nphi * npsi**3)
    roots = [complex(r) for r in sp.Poly(Q, p).nroots(n=40)]
    real = sorted([r.real for r in roots if abs(r.imag) < 1e-25] + [0.0])
    return p, rhs, np.array(real)


def test_bao_oracle_reproduces_the_notes_worked_example():
    # theory notes sec. 5 print these to 12 digits (Frobenius): the oracle itself is checked
    _, _, roots = _bao_eq7(**POINT, feature_norm=False)
    np.testing.assert_allclose(roots, [-1.09644864526, 0.0, 0.0454594076241, 0.955393937315], atol=1e-10)


# --- the value -------------------------------------------------------------------------------
def test_as_model_resolves_once_and_carries_form_and_convention():
    m = as_model("cosine-simsiam")
    assert isinstance(m, Model) and (m.name, m.form, m.convention) == ("cosine-simsiam", "reduced", "frobenius")
    assert as_model(m) is m and as_model(m, "reduced", "frobenius") is m
    e = m.at(form="eigen")
    assert e.form == "eigen" and e.cache is m.cache and e != m and hash(e) == hash(as_model("cosine-simsiam", "eigen"))
    assert FN.kernels().CONVENTION == "feature-norm" and FN.at(form="eigen").kernels().CONVENTION == "feature-norm"
    assert FN.kernels() is FN.kernels()                       # loaded once, cached on the value
    assert as_model(L2Params()).name == "l2-byol" and str(FN) == "cosine-simsiam"
    with pytest.raises(ParameterError, match="convention must be frobenius for model l2-byol"):
        as_model("l2-byol", convention="feature-norm")
    with pytest.raises(ParameterError, match="model must be one of cosine-simsiam"):
        as_model("cosine")
    with pytest.raises(ParameterError, match="params must be a point of model l2-byol"):
        dy.find_equilibria(CosineParams(), model="l2-byol")


def test_derivation_knows_its_decay_without_the_registry():
    d = dy.derive("cosine-simsiam", "reduced")
    assert d.decay == "rho" and dy.derive("two-layer", "reduced").decay is None
    assert as_model("l2-byol").derivation().decay == "eta"
    # the LaTeX splits the decay term off: -eta p + ...
    assert as_model("l2-byol").derivation().latex()["p"].startswith(r"- \eta p")


# --- one registry lookup per command and per API call ------------------------------------------
@pytest.fixture
def lookups(monkeypatch):
    """Count calls of the registry's lookup by name, wherever a module holds it."""
    original = registry.get_model
    calls = []

    def counted(name):
        calls.append(name)
        return original(name)

    for mod in list(sys.modules.values()):
        if getattr(mod, "get_model", None) is original:
            monkeypatch.setattr(mod, "get_model", counted)
    return calls


@pytest.mark.parametrize("argv", [
    ["equilibria", "--model", "cosine-simsiam", "--convention", "feature-norm", "--eigen", "--p0", "0.04,0.5",
     "--json"],
    ["equilibria", "--model", "l2-byol", "--beta", "0.5", "--eigen"],
    ["integrate", "--model", "l2-byol", "--p0", "0.3,0.7", "--t-end", "5", "--out", "{tmp}/i.npz"],
    ["integrate", "--model", "cosine-simsiam", "--convention", "feature-norm", "--p0", "0.5", "--t-end", "5",
     "--out", "{tmp}/f.npz"],
    ["regime-map", "--model", "l2-byol", "--x", "eta:0.01:0.3:4", "--y", "tau:0.5:2:3", "--out", "{tmp}/r.npz"],
    ["bifurcation", "--model", "l2-byol", "--param", "eta:0:0.3", "--n", "31", "--json"],
    ["bifurcation", "--model", "cosine-simsiam", "--param", "rho:0:0.2", "--n", "41", "--out", "{tmp}/b.npz"],
])
def test_one_lookup_per_command(argv, tmp_path, lookups, capsys):
    assert main([a.replace("{tmp}", str(tmp_path)) for a in argv]) == 0, capsys.readouterr().err
    assert lookups == [argv[2]]


L2 = L2Params(eta=0.05, sigma2=0.5, beta=0.5)
COS = CosineParams(**POINT)
API = {
    "find_equilibria": lambda: dy.find_equilibria(COS, "feature-norm"),
    "find_eigen_equilibria": lambda: dy.find_eigen_equilibria(L2),
    "critical_value": lambda: dy.critical_value(COS),
    "classify": lambda: dy.classify(L2),
    "predict_fate": lambda: dy.predict_fate(COS, [-2.0, 0.5]),
    "basins": lambda: dy.basins(L2),
    "integrate": lambda: dy.integrate("l2-byol", L2, [0.3, 0.7], 5.0),
    "regime_map": lambda: dy.regime_map("l2-byol", "eta", [0.1, 0.2], "tau", [1.0, 1.5]),
    "saddle_node_curve": lambda: dy.saddle_node_curve("l2-byol", "tau", "eta", {"sigma2": 0.5}, (0.5, 2.0),
                                                      (0.01, 1.0)),
    "equilibrium_branches": lambda: dy.equilibrium_branches("l2-byol", "eta", np.linspace(0, 0.3, 31)),
    "system_branches": lambda: dy.system_branches("cosine-simsiam", "rho", np.linspace(0.01, 0.2, 20), POINT),
    "regimes_batch": lambda: regimes_batch("l2-byol", [[0.1, 0.5, 1.0, 1.0], [0.2, 0.5, 1.0, 1.0]]),
    "equilibria_batch": lambda: equilibria_batch("l2-byol", [[0.1, 0.5, 1.0, 1.0]]),
}


@pytest.mark.parametrize("name", sorted(API))
def test_one_lookup_per_api_call(name, lookups):
    API[name]()
    assert len(lookups) == 1, lookups


def test_no_lookup_with_the_object(lookups):
    m = as_model("l2-byol")
    lookups.clear()
    dy.find_equilibria(L2, model=m)
    dy.predict_fate(L2, [0.1, 0.9], model=m)
    dy.critical_value(L2, m)
    dy.saddle_node_curve(m, "tau", "eta", {"sigma2": 0.5}, (0.5, 2.0), (0.01, 1.0))
    dy.integrate(m, L2, [0.5], 1.0)
    assert lookups == []


# --- the convention travels with the model --------------------------------------------------
def test_cli_feature_norm_eigen_equilibria_are_the_sympy_roots(capsys):
    assert main(["equilibria", "--model", "cosine-simsiam", "--convention", "feature-norm", "--eigen",
                 "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    p, rhs, roots = _bao_eq7(**POINT, feature_norm=True)
    _, _, frob = _bao_eq7(**POINT, feature_norm=False)
    assert np.min(np.abs(roots[2] - frob)) > 1e-3                       # the conventions differ here
    np.testing.assert_allclose([e["p"] for e in out["equilibria"]], roots, rtol=1e-12, atol=1e-14)
    eig = out["eigen"]
    np.testing.assert_allclose([e["p"] for e in eig], roots, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose([e["s"] for e in eig], roots**2, rtol=1e-12, atol=1e-14)
    # the Jacobian's eigenvalues: -2 rho across the parabola (Bao eq. 6) and d(rhs)/dp along it
    slope = sp.lambdify(p, sp.diff(rhs, p))
    for e, r in zip(eig, roots):
        got = sorted(complex(*z).real for z in e["jacobian_eigenvalues"])
        want = sorted([-2 * POINT["rho"], float(slope(r))])
        np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-12)
        assert all(abs(complex(*z).imag) < 1e-12 for z in e["jacobian_eigenvalues"])


def test_cli_p0_with_feature_norm(capsys):
    p, rhs, roots = _bao_eq7(**POINT, feature_norm=True)
    # 0.04 lies above the feature-norm unstable root (0.0303) and below the Frobenius one (0.0455)
    p0 = [-2.0, 0.02, 0.04, 0.5, 2.0]
    assert main(["equilibria", "--model", "cosine-simsiam", "--convention", "feature-norm", "--json",
                 "--p0", ",".join(map(repr, p0))]) == 0
    fates = json.loads(capsys.readouterr().out)["fates"]
    f = sp.lambdify(p, rhs)
    for x, got in zip(p0, fates):
        # the flow is monotone between equilibria: it goes to the next root in the direction of rhs
        ahead = roots[roots > x] if f(x) > 0 else roots[roots < x][::-1]
        end = float(ahead[0]) if ahead.size else (math.inf if f(x) > 0 else -math.inf)
        want = "diverge" if math.isinf(end) else ("collapse" if end == 0.0 else "converge")
        assert got["fate"] == want, (x, got)
        if math.isinf(end):
            assert got["end"] == ("inf" if end > 0 else "-inf")
        else:
            assert got["end"] == pytest.approx(end, rel=1e-12, abs=1e-15)
    assert fates[2]["fate"] == "converge"       # Frobenius would collapse: the convention is honoured


def test_api_paths_take_the_convention_through_the_model():
    a = math.sqrt(1 + POINT["sigma2"])
    fro = CosineParams(**{**POINT, "n_phi": POINT["n_phi"] / a, "n_psi": POINT["n_psi"] / a})
    # the closed form at T = 0 (theory notes): rho_c = 0.8 10^(-1/4) / ((1 + s2) N_Phi sqrt(N_Psi))
    t0 = CosineParams(**{**POINT, "trace": 0.0})
    want = 0.8 * 10 ** -0.25 / ((1 + POINT["sigma2"]) * (POINT["n_phi"] / a) * math.sqrt(POINT["n_psi"] / a))
    assert dy.critical_value(t0, FN) == pytest.approx(want, rel=1e-13)
    p0 = np.linspace(-2, 2, 41)
    np.testing.assert_array_equal(dy.predict_fate(COS, p0, model=FN), dy.predict_fate(fro, p0))
    assert dy.predict_fate(COS, [0.04], model=FN)[0] != dy.predict_fate(COS, [0.04])[0]
    got, ref = dy.basins(COS, model=FN), dy.basins(fro)
    assert [b[2] for b in got] == [b[2] for b in ref]
    np.testing.assert_allclose([b[:2] for b in got], [b[:2] for b in ref], rtol=1e-10, atol=1e-13)
    assert dy.classify(COS, model=FN) == dy.classify(fro)


# --- library math that moved out of the CLI ----------------------------------------------------
def test_slowest_rate_against_the_l2_closed_form():
    from dynamics.relaxation import slowest_rate

    eta, s2, tau = 0.05, 0.5, 1.0
    a = 1 + s2
    # Tian eq. 16: the stable equilibria 0 (rate eta) and p+; near the fold (eta_c = 1/6) p+ is slower
    for eta, tau in ((0.05, 1.0), (0.16, 1.0)):
        pp = (tau + math.sqrt(tau**2 - 4 * eta * a)) / (2 * a)
        rate, what = slowest_rate(L2Params(eta=eta, sigma2=s2, tau=tau))
        assert rate == pytest.approx(min(eta, abs(-eta + 2 * tau * pp - 3 * a * pp**2)), rel=1e-12)
    assert rate == pytest.approx(0.08, rel=1e-12) and rate < eta        # p+ = 0.4: |-0.16 + 0.8 - 0.72|
    assert slowest_rate(L2Params(eta=eta, sigma2=s2), form="eigen") == (eta, "eta")


def test_fate_ends_against_the_oracle():
    from dynamics.regimes import fate_ends

    _, _, roots = _bao_eq7(**POINT, feature_norm=False)
    codes, ends = fate_ends(dy.find_equilibria(COS), [-2.0, -0.5, 0.02, 0.2, 2.0, float(roots[3])])
    assert [dy.FATES[c] for c in codes] == ["diverge", "collapse", "collapse", "converge", "converge", "converge"]
    np.testing.assert_allclose(ends, [-np.inf, 0.0, 0.0, roots[3], roots[3], roots[3]], rtol=1e-12)
