"""``ssldyn derive``'s LaTeX and Python output, and the compile message of a first use.

The LaTeX of every built-in model and form renders with matplotlib's mathtext and names the
states as LaTeX (:math:`\\dot\\tau`, :math:`\\dot\\Phi`, :math:`\\dot\\sigma_1`); its simplified
forms equal the derived expressions at random points; the Python module imports and agrees with
the generated numba kernels (scalar forms) or SymPy's explicit evaluation (matrix forms).
"""
from __future__ import annotations

import importlib.util
import io
import sys

import numpy as np
import pytest
import sympy as sp

from sims.cli import main
from symbolic.derivation import readable
from symbolic.models import derive

from symbolic.registry import BUILTIN, get_model  # noqa: E402

CASES = [(m, f) for m in BUILTIN for f in ("matrix", "eigen", "reduced") if f in get_model(m).forms]
SCALAR = [(m, f) for m, f in CASES if f != "matrix"]


def derive_out(capsys, *argv):
    capsys.readouterr()
    assert main(["derive", *argv]) == 0
    return capsys.readouterr().out


@pytest.mark.slow
@pytest.mark.parametrize("model, form", CASES)
def test_latex_renders_with_mathtext(model, form, capsys):
    from matplotlib import mathtext

    out = derive_out(capsys, "--model", model, "--form", form)
    eqs = [line for line in out.splitlines() if line and not line.startswith("%")]
    d = derive(model, form)
    assert len(eqs) == len(d.state) + len(d.invariants)
    for line in eqs:
        assert "**" not in line and "sigma_1" not in line and "{tau}" not in line
        mathtext.math_to_image(f"${line}$", io.BytesIO(), format="png")


def test_latex_state_names(capsys):
    assert r"\dot{\tau} = " in derive_out(capsys, "--model", "l2-byol", "--form", "eigen")
    assert r"\dot{\Phi} = " in derive_out(capsys, "--model", "cosine-simsiam", "--form", "matrix")
    out = derive_out(capsys, "--model", "two-layer")
    assert r"\dot{\sigma}_{1} = \lambda \sigma_{1} \sigma_{2}^{2}" in out.splitlines()
    assert r"\frac{d}{dt}\left(\sigma_{1}^{2} - \sigma_{2}^{2}\right) = 0" in out.splitlines()
    out = derive_out(capsys, "--model", "cosine-simsiam", "--form", "eigen")
    assert r"\frac{d}{dt}\left(- p^{2} + s\right) = - 2 \rho \left(- p^{2} + s\right)" in out.splitlines()
    # the decay term split off (Bao eq. 8 at tau = alpha_p = 1 reads p^2 (1 - (1+s2) p) - rho p)
    out = derive_out(capsys, "--model", "l2-byol")
    assert r"\dot{p} = - \eta p - p^{2} \left(p \sigma^{2} + p - \tau\right)" in out.splitlines()


@pytest.mark.parametrize("model, form", [c for c in SCALAR if c[0] != "cosine-simsiam-delta"])
def test_simplified_equals_derived(model, form):
    d = derive(model, form)
    rng = np.random.default_rng(0)
    for e in d.rhs.values():
        syms = sorted(e.free_symbols, key=str)
        f, g = sp.lambdify(syms, e), sp.lambdify(syms, readable(e, "rho" if "cosine" in model else "eta"))
        for _ in range(20):
            x = rng.uniform(0.2, 2.0, len(syms))
            assert g(*x) == pytest.approx(f(*x), rel=1e-12, abs=1e-14)


def _import(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.slow
@pytest.mark.parametrize("model, form", SCALAR)
def test_python_module_matches_numba_kernel(model, form, tmp_path, capsys):
    from symbolic.codegen import load_kernels

    path = tmp_path / "derived.py"
    path.write_text(derive_out(capsys, "--model", model, "--form", form, "--format", "python"))
    mod = _import(path, f"derived_{model.replace('-', '_')}_{form}")
    text = path.read_text()
    assert "import math" in text and "numba" not in text and "numpy" not in text
    k = load_kernels(model, form)
    assert mod.STATE == tuple(k.STATE) and mod.PARAMS == tuple(k.PARAMS)
    rng = np.random.default_rng(1)
    for _ in range(25):
        x = rng.uniform(0.1, 2.0, len(mod.STATE) + len(mod.PARAMS))
        got = mod.rhs(x[:len(mod.STATE)], x[len(mod.STATE):])
        for name, v in zip(mod.STATE, got):
            ref = getattr(k, f"rhs_{name}")(*x)
            assert v == pytest.approx(ref, rel=1e-9, abs=1e-12), (name, x)
            assert getattr(mod, f"rhs_{name}")(*x) == v


@pytest.mark.slow
@pytest.mark.parametrize("model", ["cosine-simsiam", "l2-byol", "two-layer"])
def test_python_module_matrix_form(model, tmp_path, capsys):
    path = tmp_path / "derived_matrix.py"
    path.write_text(derive_out(capsys, "--model", model, "--form", "matrix", "--format", "python"))
    mod = _import(path, f"derived_matrix_{model.replace('-', '_')}")
    d = derive(model, "matrix")
    rng = np.random.default_rng(2)
    mats = {m.name: m for e in d.rhs.values() for m in e.atoms(sp.MatrixSymbol)}
    dims = {s: n for s, n in zip(sorted({x for m in mats.values() for x in m.shape if isinstance(x, sp.Symbol)},
                                        key=str), (3, 4, 5, 6))}
    values = {}
    for name in list(d.state) + list(d.params):
        if name in mats:
            shape = tuple(int(sp.sympify(x).subs(dims)) for x in mats[name].shape)
            values[name] = rng.normal(size=shape)
        else:
            values[name] = float(rng.uniform(0.5, 2.0))
    args = [values[n] for n in list(d.state) + list(d.params)]
    for k, e in d.rhs.items():
        e = e.subs(dims)                  # matrix symbols of numeric shape, then their values
        sub = {m: sp.Matrix(values[m.name]) for m in e.atoms(sp.MatrixSymbol)}
        sub.update({s: values[s.name] for s in e.free_symbols if isinstance(s, sp.Symbol) and s.name in values})
        ref = np.array(e.subs(sub).doit().as_explicit(), dtype=float)
        np.testing.assert_allclose(getattr(mod, f"rhs_{k}")(*args), ref, rtol=1e-10, atol=1e-12)


def test_compile_message_once_on_first_use(tmp_path, monkeypatch, capsys):
    """The message on a kernel module's generation (SSLDYN_VERBOSE=1: stderr is not a terminal
    here), none when it is loaded from the cache, none without SSLDYN_VERBOSE off a terminal."""
    from symbolic import codegen, registry, user_models

    p, a, b = sp.symbols("p a b")
    monkeypatch.setenv("SSLDYN_CACHE_DIR", str(tmp_path / "cache"))
    user_models.register_model("ux-msg", state=[p], rhs=[-a * p + b], params={"a": 1.0, "b": 0.5})
    try:
        def load(verbose):
            monkeypatch.setenv("SSLDYN_VERBOSE", verbose)
            codegen.load_kernels.cache_clear()
            for name in [n for n in sys.modules if n.startswith("ssldyn_k_ux_msg")]:
                del sys.modules[name]
            capsys.readouterr()
            k = codegen.load_kernels("ux-msg", "reduced")
            return k, capsys.readouterr().err

        k, err = load("1")
        assert err == "ssldyn: compiling ux-msg/reduced (first use, cached afterwards)\n"
        assert k.rhs_p(2.0, 3.0, 0.5) == -5.5
        assert load("1")[1] == ""                           # from the cache: no message
        for f in (tmp_path / "cache" / "kernels").glob("ssldyn_k_ux_msg*.py"):
            f.unlink()
        assert load("")[1] == ""                            # generated again, but not asked for
    finally:
        registry._REGISTRY.pop("ux-msg", None)
        user_models._USER_ARGS.pop("ux-msg", None)
        codegen.load_kernels.cache_clear()
