"""Models from a user's own file (symbolic.register_model / ssldyn --models FILE): every command.

The model is a 1-D polynomial flow with a decay parameter, written to a temporary folder outside
the package: :math:`\\dot p=a p^3-p^5-\\rho p`. Its non-zero equilibria solve
:math:`p^4-ap^2+\\rho=0`, so :math:`p^2=(a\\pm\\sqrt{a^2-4\\rho})/2`, and they exist iff
:math:`\\rho\\le\\rho_c=a^2/4` (:math:`G(p)=ap^2-p^4`, maximal at :math:`p^2=a/2`): closed forms
the tests compare with.
"""
import json
import math
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import sympy as sp

from sims.cli import main
from symbolic import registry, user_models
from symbolic.errors import ParameterError

MODEL = textwrap.dedent('''
    import sympy as sp
    from symbolic import register_model
    p, a, rho = sp.symbols("p a rho")
    register_model("test-quartic", state=[p], rhs=[a*p**3 - p**5 - rho*p],
                   params={"a": 1.0, "rho": 0.1}, decay="rho")
''')


@pytest.fixture
def model_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SSLDYN_CACHE_DIR", str(tmp_path / "cache"))
    f = tmp_path / "user" / "my_models.py"
    f.parent.mkdir()
    f.write_text(MODEL)
    yield f
    registry._REGISTRY.pop("test-quartic", None)
    user_models._USER_ARGS.pop("test-quartic", None)


def _run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out


def _positive_roots(a, rho):
    d = math.sqrt(a * a - 4 * rho)
    return sorted([math.sqrt((a - d) / 2), math.sqrt((a + d) / 2)])


def test_register_model_capabilities_from_the_expressions():
    p, a, rho, b = sp.symbols("p a rho b")
    try:
        s = user_models.register_model("test-quartic", [p], [a * p**3 - p**5 - rho * p], {"a": 1.0, "rho": 0.1}, "rho")
        assert {"reduced", "eigen", "equilibria", "regimes", "folds"} <= s.supports
        assert s.critical == "rho_c" and s.fields == ("a", "rho") and s.user
        # decay entering nonlinearly: equilibria, but no regimes
        s = user_models.register_model("test-quartic", [p], [a * p**3 - p**5 - rho**2 * p], {"a": 1.0, "rho": 0.1}, "rho")
        assert "equilibria" in s.supports and "regimes" not in s.supports
        # a state-dependent denominator: no equilibrium polynomial, but integrable
        s = user_models.register_model("test-quartic", [p], [a * p / (1 + p**2) - rho * p], {"a": 1.0, "rho": 0.1})
        assert "equilibria" not in s.supports and "reduced" in s.supports
        # two states: eigen form only
        q = sp.Symbol("q")
        s = user_models.register_model("test-quartic", [p, q], [q, -a * p], {"a": 1.0})
        assert s.supports == {"eigen"}
    finally:
        registry._REGISTRY.pop("test-quartic", None)
        user_models._USER_ARGS.pop("test-quartic", None)


@pytest.mark.parametrize("args, match", [
    (("Bad Name", [sp.Symbol("p")], [sp.Symbol("p")], {}), "lower-case words"),
    (("cosine-simsiam", [sp.Symbol("p")], [sp.Symbol("p")], {}), "built-in"),
    (("test-quartic", [sp.Symbol("p")], [sp.Symbol("p") * sp.Symbol("c")], {}), "neither state nor params"),
    (("test-quartic", [sp.Symbol("p")], [sp.Symbol("p")], {"n": 1.0}), "taken by a command option"),
    (("test-quartic", [sp.Symbol("p")], [sp.Symbol("p")], {"a": float("nan")}), "finite"),
    (("test-quartic", [sp.Symbol("p")], [sp.Symbol("p")], {"a": 1.0}, "rho"), "decay must be one of"),
    (("test-quartic", ["p"], [sp.Symbol("p")], {}), "SymPy symbols"),
    (("test-quartic", [sp.Symbol("p")], [], {}), "one expression per state"),
])
def test_register_model_refuses_bad_definitions(args, match):
    with pytest.raises(ParameterError, match=match):
        user_models.register_model(*args)
    assert "test-quartic" not in registry._REGISTRY


def test_reserved_names_cover_every_command_option():
    # a user parameter becomes a --flag of the model commands: it must not clash with an option
    from sims.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    params = {f.replace("-", "_") for f in registry.param_fields()}
    model_commands = [p for p in sub.choices.values()
                      if any(g.title and g.title.startswith("model parameters") for g in p._action_groups)]
    assert len(model_commands) >= 4                  # equilibria, regime-map, bifurcation, integrate
    for p in [parser, *model_commands]:
        name = p.prog
        for act in p._actions:
            for opt in act.option_strings:
                key = opt.lstrip("-").replace("-", "_").lower()
                if key and key not in params:
                    assert key in registry.RESERVED, f"{name} {opt} is not in symbolic.registry.RESERVED"


@pytest.mark.slow
def test_every_command_runs_a_user_model_file(model_file, tmp_path, capsys):
    m = str(model_file)
    # derive: the expression as given, with its equilibrium polynomial
    d = json.loads(_run(capsys, "--models", m, "derive", "--model", "test-quartic", "--format", "json"))
    p, a, rho = sp.symbols("p a rho")
    assert sp.simplify(sp.sympify(d["equilibrium_polynomial"]) - (a * p**3 - p**5 - rho * p)) == 0
    # equilibria --json against the closed form
    out = json.loads(_run(capsys, "--models", m, "equilibria", "--model", "test-quartic", "--a", "1.0",
                          "--rho", "0.1", "--json"))
    ps = [e["p"] for e in out["equilibria"]]
    r1, r2 = _positive_roots(1.0, 0.1)
    np.testing.assert_allclose(ps, [-r2, -r1, 0.0, r1, r2], atol=1e-12)
    assert [e["stability"] for e in out["equilibria"]] == ["stable", "unstable", "stable", "unstable", "stable"]
    assert out["regime"] == "Acute" and out["critical"]["name"] == "rho_c"
    assert abs(out["critical"]["value"] - 0.25) < 1e-12                  # a^2 / 4
    # regime-map: Collapse exactly where rho > a^2/4
    _run(capsys, "--models", m, "regime-map", "--model", "test-quartic", "--x", "rho:0.01:0.3:12",
         "--y", "a:0.5:2:9", "--out", str(tmp_path / "m.npz"))
    z = np.load(tmp_path / "m.npz")
    want = np.where(z["x"][None, :] > z["y"][:, None] ** 2 / 4, 0, 1)
    np.testing.assert_array_equal(z["regime"], want)
    np.testing.assert_allclose(z["critical"], np.broadcast_to(z["y"][:, None] ** 2 / 4, z["critical"].shape),
                               rtol=1e-12)
    # bifurcation: the fold at rho = a^2/4, p^2 = a/2
    txt = _run(capsys, "--models", m, "bifurcation", "--model", "test-quartic", "--a", "1.5", "--param",
               "rho:0.01:1", "--out", str(tmp_path / "b.npz"))
    b = np.load(tmp_path / "b.npz")
    assert "fold at rho" in txt
    assert np.any(np.abs(b["folds"][:, 0] - 1.5**2 / 4) < 1e-9)
    assert np.any(np.abs(np.abs(b["folds"][:, 1]) - math.sqrt(0.75)) < 1e-6)
    # integrate: every start ends on the equilibrium its basin predicts
    _run(capsys, "--models", m, "integrate", "--model", "test-quartic", "--p0", "0.05:1.5:15", "--t-end", "200",
         "--out", str(tmp_path / "i.npz"))
    z = np.load(tmp_path / "i.npz")
    fin = z["final"]
    assert np.all(z["status"] == 0)
    np.testing.assert_allclose(fin[z["p0"] > r1 + 1e-3], r2, atol=1e-6)
    assert np.all(np.abs(fin[z["p0"] < r1 - 1e-3]) < 1e-6)
    # sweep: the regime task over the same plane
    cfg = tmp_path / "s.toml"
    cfg.write_text('model = "test-quartic"\ntask = "regime"\n[grid]\nrho = [0.1, 0.3]\na = [1.0, 2.0]\n')
    _run(capsys, "--models", m, "sweep", str(cfg), "--out", str(tmp_path / "sw"), "--workers", "1")
    _run(capsys, "--models", m, "sweep", "--merge", str(tmp_path / "sw"), "--out", str(tmp_path / "sw.npz"))
    z = np.load(tmp_path / "sw.npz")
    np.testing.assert_array_equal(z["regime"], [[1, 1], [0, 1]])     # (rho, a): collapse iff rho > a^2/4


@pytest.mark.slow
def test_a_user_model_sweeps_on_the_process_pool_and_an_edit_is_refused_on_resume(model_file, tmp_path, capsys):
    # spawned workers start without the user's registration: the pool's initializer repeats it
    m = str(model_file)
    cfg = tmp_path / "s.toml"
    cfg.write_text('model = "test-quartic"\ntask = "regime"\nchunk_size = 2\n[grid]\nrho = [0.1, 0.3]\na = [1.0, 2.0]\n')
    _run(capsys, "--models", m, "sweep", str(cfg), "--out", str(tmp_path / "sw"), "--workers", "2")
    _run(capsys, "--models", m, "sweep", "--merge", str(tmp_path / "sw"), "--out", str(tmp_path / "sw.npz"))
    np.testing.assert_array_equal(np.load(tmp_path / "sw.npz")["regime"], [[1, 1], [0, 1]])
    manifest = json.loads((tmp_path / "sw" / "manifest.json").read_text())
    assert manifest["model_fingerprint"] == registry.get_model("test-quartic").fingerprint
    model_file.write_text(MODEL.replace("a*p**3", "2*a*p**3"))
    assert main(["--models", m, "sweep", str(cfg), "--out", str(tmp_path / "sw"), "--workers", "1"]) == 2
    err = capsys.readouterr().err
    assert "sweep of model test-quartic as it was defined before" in err and err.count("\n") == 1


@pytest.mark.slow
def test_editing_the_file_changes_the_next_result(model_file, capsys):
    m = str(model_file)
    args = ("--models", m, "equilibria", "--model", "test-quartic", "--json")
    first = json.loads(_run(capsys, *args))
    assert abs(first["critical"]["value"] - 0.25) < 1e-12
    model_file.write_text(MODEL.replace("a*p**3", "2*a*p**3"))          # rho_c = (2a)^2/4 = 1
    second = json.loads(_run(capsys, *args))
    assert abs(second["critical"]["value"] - 1.0) < 1e-12
    # and in a fresh process (the kernels on disk are keyed by the expressions)
    r = subprocess.run([sys.executable, "-m", "sims.cli", *args], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert abs(json.loads(r.stdout)["critical"]["value"] - 1.0) < 1e-12


@pytest.mark.parametrize("text, match", [
    ("raise RuntimeError('boom')\n", r"my_models.py line 1: RuntimeError: boom"),
    ("import sympy as sp\nfrom symbolic import register_model\nregister_model('x y', [], [], {})\n",
     "lower-case words"),
    ("def f(:\n", "SyntaxError"),
])
def test_a_broken_model_file_is_one_line(model_file, capsys, text, match):
    model_file.write_text(text)
    assert main(["--models", str(model_file), "equilibria", "--model", "cosine-simsiam"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ssldyn: error: --models") and err.count("\n") == 1
    assert __import__("re").search(match, err), err


@pytest.mark.slow
def test_a_one_parameter_user_model_compiles(tmp_path, monkeypatch, capsys):
    # the generated parameter unpacking of a single parameter was "a, = theta[0]" (a numba error)
    monkeypatch.setenv("SSLDYN_CACHE_DIR", str(tmp_path / "cache"))
    f = tmp_path / "one.py"
    f.write_text("import sympy as sp\nfrom symbolic import register_model\np, r = sp.symbols('p r')\n"
                 "register_model('test-one', [p], [p**2 - p**3 - r*p], {'r': 0.1}, 'r')\n")
    try:
        out = json.loads(_run(capsys, "--models", str(f), "equilibria", "--model", "test-one", "--json"))
        ps = sorted(e["p"] for e in out["equilibria"])       # p^2 - p + r = 0: (1 +- sqrt(0.6)) / 2, and 0
        np.testing.assert_allclose(ps, [0.0, (1 - math.sqrt(0.6)) / 2, (1 + math.sqrt(0.6)) / 2], atol=1e-12)
        assert abs(out["critical"]["value"] - 0.25) < 1e-12
    finally:
        registry._REGISTRY.pop("test-one", None)
        user_models._USER_ARGS.pop("test-one", None)


def test_a_missing_model_file_is_one_line(tmp_path, capsys):
    assert main(["--models", str(tmp_path / "nope.py"), "derive", "--model", "cosine-simsiam"]) == 2
    err = capsys.readouterr().err
    assert "--models must be a Python file" in err and err.count("\n") == 1


def test_library_calls_work_on_a_user_model(model_file):
    from dynamics.continuation import saddle_node_curve
    from dynamics.equilibria import find_equilibria
    from dynamics.regimes import basins
    from dynamics.params import params_class
    from symbolic.model_files import load_model_file

    assert load_model_file(model_file) == ("test-quartic",)
    P = params_class("test-quartic")
    eq = find_equilibria(P(a=1.0, rho=0.1))
    np.testing.assert_allclose(eq.p[eq.p > 0], _positive_roots(1.0, 0.1), atol=1e-12)
    assert [f for *_, f in basins(P(a=1.0, rho=0.1))][-2:] == ["converge", "converge"]
    fc = saddle_node_curve("test-quartic", "rho", "a", {}, (0.05, 0.5), (0.5, 1.4))
    np.testing.assert_allclose(fc.x, fc.y**2 / 4, rtol=1e-8)
