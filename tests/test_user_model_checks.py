"""What register_model and --models files accept (issue #23 T1, T2, T7, H2, R5, M6, W9): a model
either works with every command or is refused with one line; the oracles are closed forms.
"""
import json
import math

import numpy as np
import pytest
import sympy as sp

from sims.cli import main
from symbolic import model_files, registry, user_models
from symbolic.errors import ParameterError

NAMES = ("test-chk", "test-div", "test-chain", "test-euler", "test-bom", "test-latin")


@pytest.fixture(autouse=True)
def _unregister():
    yield
    for n in NAMES:
        registry._REGISTRY.pop(n, None)
        user_models._USER_ARGS.pop(n, None)


p, q, a = sp.symbols("p q a")


@pytest.mark.parametrize("state, rhs, params, why", [
    ([p], [a * p], {"math": 1.0}, "generated code uses"),                       # T1 param_math
    ([p], [a * p], {"np": 1.0}, "generated code uses"),                         # param_np
    ([sp.Symbol("math")], [-sp.Symbol("math")], {}, "generated code uses"),     # state_math
    ([sp.Symbol("lambda")], [-sp.Symbol("lambda")], {}, "keyword"),            # state_kw
    ([sp.Symbol("p q")], [-sp.Symbol("p q")], {}, "identifier"),               # state_space
    ([p], [p], {"\uff4dath": 1.0}, "NFKC"),                                    # fullwidth m: Python reads 'math'
    ([sp.Symbol("\U0001d429")], [-sp.Symbol("\U0001d429")], {}, "NFKC"),       # bold p: Python reads 'p'
    ([p], [p], {"\u00aa": 1.0}, "NFKC"),                                       # feminine ordinal: Python reads 'a'
    ([p], [p], {"numpy": 1.0}, "generated code uses"),
    ([p], [p], {"_a": 1.0}, "starts with '_'"),
    ([p], [sp.Abs(p)], {}, "cannot be compiled"),                              # its derivative has re, im
    ([p], [sp.Integral(p * sp.Symbol("x"), (sp.Symbol("x"), 0, 1))], {}, "cannot be compiled"),
    ([p], [sp.Function("f")(p)], {}, "cannot be compiled"),
])
def test_names_and_expressions_the_kernels_cannot_take_are_refused_at_registration(state, rhs, params, why):
    with pytest.raises(ParameterError, match=why):
        user_models.register_model("test-chk", state, rhs, params)
    assert "test-chk" not in registry._REGISTRY


@pytest.mark.parametrize("args, why", [
    ((p, [p], {}), "state must be a list"),
    (([p], {"p": a * p}, {"a": 1.0}), "dict is read by its keys"),              # W9: was p' = p
    (([p], "a*p", {"a": 1.0}), "rhs must be a list"),
    (([p], [True], {}), "must be a SymPy expression"),
    (([p], [sp.Eq(p, 1)], {}), "must be a SymPy expression"),
    (([p], [a * p], {"a": "1.0"}), "must be a number"),
    (([p], [a * p], {"a": True}), "must be a number"),
    (([p], ["p*c"], {}), "neither state nor params"),
    (([sp.Symbol(f"x{i}") for i in range(9)], [sp.Symbol(f"x{i}") for i in range(9)], {}), "1 to 8"),   # R5
])
def test_wrong_types_are_one_line_errors(args, why):
    with pytest.raises(ParameterError, match=why):
        user_models.register_model("test-chk", *args)


def test_a_string_rhs_binds_the_models_own_symbols():
    # W9: sympify('E*p') is Euler's number times p; with a parameter E the equilibria are +-sqrt(E)
    E = sp.Symbol("E")
    spec = user_models.register_model("test-euler", [p], ["E*p - p**3"], {"E": 5.0})
    rhs = spec.forms["reduced"]().rhs["p"]
    assert rhs.free_symbols == {p, E}
    assert rhs.subs({p: sp.sqrt(5), E: 5}) == 0 and rhs.subs({p: 1, E: 5}) == 4
    assert "equilibria" in spec.supports


@pytest.mark.slow
def test_division_by_zero_in_a_kernel_is_status_3_for_that_trajectory_only():
    """T2 (and T1 mixed_assume: ``p`` with and without an assumption is one symbol)."""
    from dynamics import integrate

    rho = sp.Symbol("rho")
    p_pos = sp.Symbol("p", positive=True)
    user_models.register_model("test-div", [p], [1 / p_pos - rho * p], {"rho": 0.5})
    r = integrate("test-div", np.array([0.5]), np.array([-1.5, 0.0, 0.5, 1.5]), 2.0)
    assert list(r.status) == [0, 3, 0, 0]
    # p' = 1/p - rho p: (p^2)' = 2 - 2 rho p^2, p(t)^2 = 1/rho + (p0^2 - 1/rho) e^{-2 rho t}
    p0 = np.array([-1.5, 0.5, 1.5])
    want = np.sign(p0) * np.sqrt(2.0 + (p0**2 - 2.0) * math.exp(-2.0))
    np.testing.assert_allclose(r.final[[0, 2, 3]], want, rtol=1e-7)        # tsit5 at rtol 1e-8
    # a built-in model's parameter row that divides by zero inside its kernel (API rows are not clamped)
    r = integrate("cosine-simsiam", [[1e300, 0.5, 1e-300, 1e-300, 1e300]], [0.5], 1.0)
    assert list(r.status) == [3]


def test_a_large_system_gets_one_vectorised_jacobian():
    """R5: a 6-state chain x_i' = -k x_i + x_{i-1}: no n^2 scalar functions, one jac, exact values."""
    from symbolic.codegen import SCALAR_JAC_MAX, load_kernels

    n, k = 6, sp.Symbol("k")
    xs = sp.symbols(f"out theta y x3:{n}")             # names the array arguments once had
    user_models.register_model("test-chain", list(xs), [-k * xs[0]] + [-k * xs[i] + xs[i - 1] for i in range(1, n)],
                            {"k": 0.7})
    assert n > SCALAR_JAC_MAX
    m = load_kernels("test-chain", "eigen")
    assert not [f for f in vars(m) if f.startswith("jac_")]
    y, theta = np.arange(1.0, n + 1), np.array([0.7])
    J, f = np.full((n, n), np.nan), np.empty(n)
    m.jac(y, theta, J)
    want = -0.7 * np.eye(n) + np.eye(n, k=-1)
    np.testing.assert_array_equal(J, want)
    m.rhs(y, theta, f)
    np.testing.assert_allclose(f, want @ y, rtol=0, atol=1e-15)   # O(1) terms, fastmath may fuse one rounding


def test_the_registration_analysis_is_cached_by_content(tmp_path, monkeypatch):
    """H2: a second registration of the same expressions reads the signed analysis, computes nothing."""
    monkeypatch.setenv("SSLDYN_CACHE_DIR", str(tmp_path / "c"))
    rho = sp.Symbol("rho")
    rhs = sp.Add(*[sp.Rational(j % 7 - 3, j + 1) * a ** (j % 5) * p ** (j % 40 + 1) for j in range(200)]) - rho * p
    first = user_models.register_model("test-chk", [p], [rhs], {"a": 0.5, "rho": 0.1}, "rho")
    assert {"equilibria", "regimes"} <= first.supports

    def boom(*args):
        raise AssertionError("analysed again")

    monkeypatch.setattr(user_models, "_equilibrium_polynomial", boom)
    monkeypatch.setattr(user_models, "_check_printable", boom)
    second = user_models.register_model("test-chk", [p], [rhs], {"a": 0.5, "rho": 0.1}, "rho")
    assert second.supports == first.supports
    assert second.forms["reduced"]().equilibrium_polynomial == first.forms["reduced"]().equilibrium_polynomial
    # an edited entry (its checksum recomputed by whoever edited it) is not trusted
    entry = next((tmp_path / "c" / "derivations").glob("test-chk-reduced-analysis-*.json"))
    obj = json.loads(entry.read_text())
    obj["payload"]["supports"] = ["eigen"]
    entry.write_text(json.dumps(obj))
    with pytest.raises(AssertionError, match="analysed again"):
        user_models.register_model("test-chk", [p], [rhs], {"a": 0.5, "rho": 0.1}, "rho")


@pytest.mark.parametrize("body, shown", [
    ("raise BaseException('stop')\n", "line 1: BaseException: stop"),
    ("import sys\nsys.exit(3)\n", "line 2: SystemExit(3)"),
    ("import sys\nsys.exit(0)\n", "line 2: SystemExit(0)"),                 # was a silent exit 0
    ("raise SystemExit('bye')\n", "line 1: SystemExit(bye)"),
])
def test_a_models_file_that_exits_is_one_line_and_exit_2(tmp_path, capsys, body, shown):
    f = tmp_path / "m.py"
    f.write_text(body)
    assert main(["--models", str(f), "equilibria", "--model", "cosine-simsiam"]) == 2     # T7
    err = capsys.readouterr().err
    assert err.startswith(f"ssldyn: error: --models {f} {shown}") and err.count("\n") == 1, err


_LOGISTIC = "import sympy as sp\nfrom symbolic import register_model\np, k = sp.symbols('p k')\n" \
            "register_model({name!r}, [p], [k * p * (1 - p)], {{'k': 1.0}}, help={help!r})\n"


def test_models_files_are_decoded_as_python_source(tmp_path):
    """M6: a UTF-8 byte-order mark, and a latin-1 coding line with a latin-1 byte."""
    bom = tmp_path / "bom.py"
    bom.write_bytes(b"\xef\xbb\xbf" + _LOGISTIC.format(name="test-bom", help="caf\u00e9").encode("utf-8"))
    latin = tmp_path / "latin.py"
    latin.write_bytes(b"# -*- coding: latin-1 -*-\n" + _LOGISTIC.format(name="test-latin", help="caf\u00e9")
                      .encode("latin-1"))
    assert model_files.load_model_file(bom) == ("test-bom",)
    assert model_files.load_model_file(latin) == ("test-latin",)
    assert registry.get_model("test-bom").help == registry.get_model("test-latin").help == "caf\u00e9"
    bad = tmp_path / "bad.py"
    bad.write_bytes(b"# -*- coding: no-such-codec -*-\nx = 1\n")
    with pytest.raises(ParameterError, match="cannot be decoded as Python source"):
        model_files.load_model_file(bad)
