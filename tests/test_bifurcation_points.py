"""Branches and special points against oracles that share no code with the finder.

* folds of every built-in model with folds and of the quartic user model: the real roots of the
  SymPy discriminant (in the decay) of the derived equilibrium polynomial, at 30 digits;
* the quartic :math:`\\dot p=ap^3-p^5-\\rho p`: folds at :math:`\\rho=a^2/4`, :math:`p=\\pm\\sqrt{a/2}`,
  branches :math:`p^2=(a\\pm\\sqrt{a^2-4\\rho})/2`, eigenvalue :math:`3ap^2-5p^4-\\rho`;
* textbook normal forms registered as user models (Kuznetsov, Elements of Applied Bifurcation
  Theory, ch. 3; Strogatz, Nonlinear Dynamics and Chaos, ch. 3 and 8), shifted by ``c`` so that
  the point is off the grid: saddle-node :math:`\\dot x=(r-c)+x^2`, transcritical
  :math:`\\dot x=(r-c)x-x^2`, pitchfork :math:`\\dot x=(r-c)x-x^3`, Hopf
  :math:`\\dot z=(\\mu-c+i\\omega)z-|z|^2z` (eigenvalues :math:`\\mu-c\\pm i\\omega` at the origin).
"""
import json
import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import sympy as sp

from dynamics import branches_of, equilibrium_branches, system_branches
from sims.cli import main
from symbolic import model_files, registry, user_models
from symbolic.errors import ParameterError

NORMAL_FORMS = textwrap.dedent('''
    import sympy as sp
    from symbolic import register_model
    x, y, r, mu, om, c, a, rho = sp.symbols("x y r mu omega c a rho")
    register_model("nf-saddle-node", [x], [(r - c) + x**2], {"r": 0.0, "c": 0.3})
    register_model("nf-transcritical", [x], [(r - c) * x - x**2], {"r": 0.0, "c": 0.3})
    register_model("nf-pitchfork", [x], [(r - c) * x - x**3], {"r": 0.0, "c": 0.3})
    register_model("nf-hopf", [x, y], [(mu - c) * x - om * y - x * (x**2 + y**2),
                                       om * x + (mu - c) * y - y * (x**2 + y**2)],
                   {"mu": 0.0, "omega": 2.0, "c": 0.3})
    register_model("nf-quartic", [x], [a * x**3 - x**5 - rho * x], {"a": 1.0, "rho": 0.1}, "rho")
''')
NAMES = ("nf-saddle-node", "nf-transcritical", "nf-pitchfork", "nf-hopf", "nf-quartic")
FOLD_MODELS = ("cosine-simsiam", "cosine-simsiam-delta", "l2-byol", "directset", "nf-quartic")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    f = tmp_path_factory.mktemp("user") / "normal_forms.py"
    f.write_text(NORMAL_FORMS)
    before, args = dict(registry._REGISTRY), dict(user_models._USER_ARGS)
    model_files.load_model_file(f)
    yield f
    registry._REGISTRY.clear()
    registry._REGISTRY.update(before)
    user_models._USER_ARGS.clear()
    user_models._USER_ARGS.update(args)


def _discriminant_folds(model):
    """Real roots of disc_p(P / p^k) in the decay (the other parameters at their defaults, exact
    rationals), 30 digits, and the polynomial P(p, decay) as a NumPy function."""
    from symbolic.models import derive

    spec = registry.get_model(model)
    par = spec.params_class()
    P = derive(model, "reduced").equilibrium_polynomial
    p = next(s for s in P.free_symbols if s.name == derive(model, "reduced").state[0])
    lam = next(s for s in P.free_symbols if par.KERNEL_NAMES.get(s.name) == spec.decay)
    subs = {s: sp.Rational(repr(getattr(par, par.KERNEL_NAMES[s.name]))) for s in P.free_symbols
            if s not in (p, lam)}
    Q = sp.Poly(sp.expand(P.subs(subs)), p)
    low = min(e for (e,) in Q.monoms())
    Q = sp.Poly(sp.expand(sp.cancel(Q.as_expr() / p**low)), p)
    roots = sp.Poly(sp.discriminant(Q), lam).sqf_part().nroots(n=30, maxsteps=200)
    return sorted(float(z) for z in roots if z.is_real and z > 0), sp.lambdify((p, lam), P.subs(subs), "numpy")


def _check_grid(model, lo, hi, n, folds, P):
    spec = registry.get_model(model)
    fixed = {k: v for k, v in spec.defaults.items() if k != spec.decay}
    b = equilibrium_branches(model, spec.decay, np.linspace(lo, hi, n), fixed)
    want = [f for f in folds if lo <= f <= hi]
    got = sorted({round(float(v), 6): float(v) for v in b.folds[:, 0]}.values())   # symmetric folds share a value
    assert len(got) == len(want), (model, lo, hi, n, b.folds, want)
    assert np.all(np.abs(np.array(got) - want) <= 1e-8), (model, lo, hi, n, b.folds, want)
    assert not b.warnings
    on = {(float(v), float(x)) for br in b.branches for v, x in zip(br.values, br.p)}
    for s in b.special_points:                                   # no point off a branch
        assert (s.param_value, s.state[0]) in on, (model, s)
        assert abs(P(s.state[0], s.param_value)) <= 1e-9 * max(1.0, abs(s.state[0])) ** 6
    for br in b.branches:                                        # every branch point is a root of P
        scale = np.maximum(1.0, np.abs(br.p)) ** 13
        assert np.all(np.abs(P(br.p, br.values)) <= 1e-8 * scale), model
    fold_ends = [sum((br.values[e], br.p[e]) == (f[0], f[1]) for br in b.branches for e in (0, -1))
                 for f in b.folds]
    assert all(k == 2 for k in fold_ends), (model, fold_ends)   # a fold ends two branches


def _random_grids(models, count):
    rng = np.random.default_rng(20260724)
    for model in FOLD_MODELS:
        folds, P = _discriminant_folds(model)
        rc = folds[0]
        for _ in range(count):
            lo = 0.0 if rng.random() < 0.5 else float(rng.uniform(0.0, 0.9)) * rc
            _check_grid(model, lo, float(rng.uniform(1.01, 3.0)) * rc, int(rng.integers(51, 2002)), folds, P)


@pytest.mark.slow
def test_folds_on_random_grids_match_the_discriminant(models):
    _random_grids(models, 20)


@pytest.mark.slow
def test_folds_on_200_random_grids_per_model(models):
    _random_grids(models, 200)


def test_the_issue_grid_has_one_fold_and_no_phantom():
    from dynamics.params import CosineParams

    b = equilibrium_branches("cosine-simsiam", "rho", np.linspace(0, 0.14112732655740784, 701),
                             CosineParams().to_dict())
    assert b.folds.shape == (1, 2)
    # the double root solves Q' = 10 p^4 + 2 T p - N_Psi^2 = 0 (T = 0.5, N_Psi = 1.5)
    pf = [float(z) for z in sp.Poly(10 * sp.Symbol("p")**4 + sp.Symbol("p") - sp.Rational(9, 4)).nroots(n=30)
          if z.is_real and z > 0][0]
    assert abs(b.folds[0, 1] - pf) < 1e-8
    assert [s.type for s in b.special_points] == ["transcritical", "fold"]
    assert b.special_points[0].param_value == 0.0 and b.special_points[0].state == (0.0,)    # not 2e-17


def test_quartic_branches_eigenvalues_and_both_folds(models):
    a = 1.0
    b = equilibrium_branches("nf-quartic", "rho", np.linspace(0.01, 1.0, 801), {"a": a})
    assert sorted(b.folds[:, 1].tolist()) == pytest.approx([-math.sqrt(0.5), math.sqrt(0.5)], abs=1e-8)
    assert np.allclose(b.folds[:, 0], 0.25, atol=1e-12)
    assert len(b.branches) == 5
    for br in b.branches:
        p, rho = br.p, br.values
        want = 3 * a * p**2 - 5 * p**4 - rho
        np.testing.assert_allclose(br.eigenvalues[:, 0].real, want, atol=1e-10)
        if np.all(p == 0):
            continue
        sign = np.sign(p[len(p) // 2])
        big = np.abs(p[len(p) // 2]) > math.sqrt(0.5)
        d = np.sqrt(np.clip(a * a - 4 * rho, 0, None))
        closed = sign * np.sqrt((a + d) / 2 if big else (a - d) / 2)
        np.testing.assert_allclose(p, closed, atol=1e-7)          # sqrt-sensitive at the fold
        assert rho.max() == 0.25 and np.all(np.diff(rho) > 0)    # ends at the fold, never crosses it


@pytest.mark.slow
@pytest.mark.parametrize("n", [100, 101])
def test_normal_forms_python_api(models, n):
    c = 0.3
    vals = np.linspace(-0.7, 1.3, n)                              # c on the grid for n = 101 only
    sn = equilibrium_branches("nf-saddle-node", "r", vals).special_points
    assert [(s.type) for s in sn] == ["fold"]
    assert abs(sn[0].param_value - c) < 1e-8 and abs(sn[0].state[0]) < 1e-8
    tc = equilibrium_branches("nf-transcritical", "r", vals)
    assert [(s.type) for s in tc.special_points] == ["transcritical"]
    assert abs(tc.special_points[0].param_value - c) < 1e-8 and abs(tc.special_points[0].state[0]) < 1e-8
    # branch switching: the two branches are the lines x = 0 and x = r - c across the whole range
    assert len(tc.branches) == 2
    for br in tc.branches:
        assert br.values[0] == vals[0] and br.values[-1] == vals[-1]
        line = br.p if abs(br.p[0]) < 1e-12 else br.p - (br.values - c)
        assert np.all(np.abs(line) < 1e-9)
        assert set(br.stability[[0, -1]].tolist()) == {0, 1}      # exchange of stability
    pf = equilibrium_branches("nf-pitchfork", "r", vals)
    assert [(s.type) for s in pf.special_points] == ["pitchfork"]
    assert abs(pf.special_points[0].param_value - c) < 1e-8 and abs(pf.special_points[0].state[0]) < 1e-8
    trivial = [br for br in pf.branches if np.all(br.p == 0)]
    assert len(trivial) == 1 and trivial[0].values[0] == vals[0] and trivial[0].values[-1] == vals[-1]
    for br in pf.branches:
        if br is not trivial[0]:
            assert abs(br.values[0] - c) < 1e-8
            np.testing.assert_allclose(np.abs(br.p), np.sqrt(br.values - br.values[0]), atol=1e-7)
    h = system_branches("nf-hopf", "mu", vals)
    assert [(s.type) for s in h.special_points] == ["hopf"]
    s = h.special_points[0]
    assert abs(s.param_value - c) < 1e-6 and np.allclose(s.state, 0, atol=1e-8)
    assert sorted(z.imag for z in s.eigenvalues) == pytest.approx([-2.0, 2.0], abs=1e-6)
    (br,) = h.branches
    want = br.values - c                                         # eigenvalues mu - c +- 2i along the branch
    np.testing.assert_allclose(np.sort(br.eigenvalues.real, axis=1), np.column_stack([want, want]), atol=1e-9)
    assert br.stability[0] == 0 and br.stability[-1] == 1


def test_normal_forms_from_the_cli(models, capsys):
    want = {"nf-saddle-node": ("r", "fold"), "nf-transcritical": ("r", "transcritical"),
            "nf-pitchfork": ("r", "pitchfork"), "nf-hopf": ("mu", "hopf")}
    for model, (param, kind) in want.items():
        rc = main(["--models", str(models), "bifurcation", "--model", model, "--param", f"{param}:-0.7:1.3",
                   "--n", "100", "--json"])
        out = capsys.readouterr().out
        assert rc == 0
        res = json.loads(out)
        (sp_,) = res["special_points"]
        assert sp_["type"] == kind
        assert abs(sp_["param_value"] - 0.3) < (1e-6 if kind == "hopf" else 1e-8)
        assert np.allclose(sp_["state"], 0.0, atol=1e-8)
        assert all(set(br) >= {"values", "states", "eigenvalues", "stability"} for br in res["branches"])


def test_branches_of_any_parameter(models):
    # the quartic along a (not its decay): folds where a^2 = 4 rho, i.e. a = 2 sqrt(0.1)
    b = branches_of("nf-quartic", "a", np.linspace(0.1, 2.0, 301), {"rho": 0.1})
    assert np.allclose(b.folds[:, 0], 2 * math.sqrt(0.1), atol=1e-8) and b.folds.shape == (2, 2)


def test_eigen_form_fold_matches_the_discriminant():
    folds, _ = _discriminant_folds("cosine-simsiam")
    b = system_branches("cosine-simsiam", "rho", np.linspace(0.01, 0.14, 61))
    (f,) = [s for s in b.special_points if s.type == "fold"]
    assert abs(f.param_value - folds[0]) < 1e-8
    assert abs(f.state[1] - f.state[0] ** 2) < 1e-10              # s = p^2 (Bao eq. 6)


def _labels(x, y, a=1.0):
    """Which closed-form quartic branch each point is on: 0, or (sign, big) of p^2 = (a +- d) / 2."""
    d = np.sqrt(np.clip(a * a - 4 * x, 0, None))
    out = []
    for xi, yi, di in zip(x, y, d):
        if abs(yi) < 1e-9:
            out.append({"zero"})
            continue
        lab = set()
        for big, r in ((True, math.sqrt((a + di) / 2)), (False, math.sqrt((a - di) / 2))):
            if abs(abs(yi) - r) < 1e-6:
                lab.add((np.sign(yi), big))
        out.append(lab)
    return out


def test_drawn_lines_never_join_two_branches(models):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from figures.bifurcation import draw_branches

    b = equilibrium_branches("nf-quartic", "rho", np.linspace(0.01, 1.0, 801), {"a": 1.0})
    fig = draw_branches(b)
    ax = fig.axes[0]
    drawn = 0
    for ln in ax.get_lines():
        x, y = np.asarray(ln.get_xdata(), float), np.asarray(ln.get_ydata(), float)
        if ln.get_marker() not in ("None", "", None) or x.size < 2:
            continue                                             # the special points' markers
        common = set.intersection(*_labels(x, y))                # (the p = 0 axis line is on "zero")
        assert common, f"a line joins two branches: {list(zip(x, y))[:3]} ..."
        drawn += 1
    assert drawn >= 5
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "fold (LP)" in legend
    plt.close(fig)


@pytest.mark.slow
def test_bad_input_is_one_line_and_exit_2(models):
    cases = [["bifurcation", "--model", "nf-pitchfork", "--param", "r:1:1", "--json"],        # no point
             ["bifurcation", "--model", "nf-pitchfork", "--param", "zeta:0:1", "--json"],     # not a parameter
             ["bifurcation", "--model", "nf-pitchfork", "--param", "r:0:1"],                  # no --out, no --json
             ["regime-map", "--model", "nf-pitchfork", "--x", "r:0:1:3", "--y", "c:0:1:3", "--out", "m.npz"]]
    for argv in cases:
        r = subprocess.run([sys.executable, "-m", "sims.cli", "--models", str(models), *argv],
                           capture_output=True, text=True)
        assert r.returncode == 2, (argv, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("ssldyn: error:") and "Traceback" not in r.stderr, argv
    with pytest.raises(ParameterError, match="zeta"):
        equilibrium_branches("nf-pitchfork", "zeta", [0.0, 1.0])
