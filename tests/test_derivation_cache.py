"""The derivation cache: parsed (never evaluated), checksummed, keyed by the sources, and exact."""
import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from symbolic import models
from symbolic.models import derive, parse_srepr
from symbolic.registry import BUILTIN, get_model

CASES = [(m, f, "frobenius") for m in BUILTIN for f in ("matrix", "eigen", "reduced")] + \
        [(m, f, "feature-norm") for m in BUILTIN if "feature-norm" in get_model(m).conventions
         for f in ("eigen", "reduced")]
SYMBOLIC = Path(models.__file__).parent


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SSLDYN_CACHE_DIR", str(tmp_path))
    derive.cache_clear()
    yield tmp_path
    derive.cache_clear()


def _entry(cache, m, f, c):
    return cache / "derivations" / f"{m}-{f}-{c}-{models.source_hash()}.json"


def _same(a, b):
    assert (a.model, a.form, a.state, a.params, a.definitions, a.notes) == \
           (b.model, b.form, b.state, b.params, b.definitions, b.notes)
    assert a.rhs.keys() == b.rhs.keys() and all(a.rhs[k] == b.rhs[k] for k in a.rhs)   # structural ==
    assert a.invariants == b.invariants
    assert a.equilibrium_polynomial == b.equilibrium_polynomial


@pytest.mark.parametrize("m, f, c", CASES)
def test_loaded_derivation_equals_fresh(cache, m, f, c):
    fresh = derive(m, f, c)                                # derives and writes the entry
    path = _entry(cache, m, f, c)
    loaded = models._read_entry(path)                      # raises if the entry would be re-derived
    _same(loaded, fresh)
    derive.cache_clear()
    _same(derive(m, f, c), fresh)


def test_edited_entry_is_rederived(cache):
    fresh = derive("l2-byol", "reduced")
    path = _entry(cache, "l2-byol", "reduced", "frobenius")
    obj = json.loads(path.read_text())
    rhs = obj["payload"]["rhs"]["p"]
    assert "Integer(2)" in rhs
    obj["payload"]["rhs"]["p"] = rhs.replace("Integer(2)", "Integer(3)", 1)   # valid, but not what was derived
    path.write_text(json.dumps(obj))
    with pytest.raises(ValueError, match="checksum"):
        models._read_entry(path)
    derive.cache_clear()
    _same(derive("l2-byol", "reduced"), fresh)
    _same(models._read_entry(path), fresh)                 # and rewritten intact


def test_malicious_entry_runs_nothing(cache):
    marker = cache / "ran"
    derive("two-layer", "reduced")
    path = _entry(cache, "two-layer", "reduced", "frobenius")
    obj = json.loads(path.read_text())
    obj["payload"]["rhs"]["sigma_1"] = f"__import__('os').system('touch {marker}')"
    obj["hmac"] = models._payload_hash(obj["payload"], path.name)   # even signed (the key's owner), parsed only
    path.write_text(json.dumps(obj))
    derive.cache_clear()
    d = derive("two-layer", "reduced")
    assert not marker.exists()
    assert d.rhs["sigma_1"] == derive("two-layer", "reduced", use_cache=False).rhs["sigma_1"]


@pytest.mark.parametrize("text", [
    "__import__('os').system('true')",
    "Symbol('x').__class__",
    "Add(Symbol('x'), '1+1')",                  # a string where an expression belongs (sympify evals)
    "Mul(Integer(2), x)",
    "Symbol('x', evaluate=True)",
    "sympify('x')",
    "Function('f')(Symbol('x'))",
    "Integer(2.5)",
    "Symbol('x', positive='yes')",
    "(lambda: 1)()",
])
def test_parse_srepr_refuses(text):
    with pytest.raises(ValueError):
        parse_srepr(text)


def test_parse_srepr_builds_what_srepr_printed():
    x, y = sp.symbols("x y", positive=True)
    W = sp.MatrixSymbol("W", 3, 3)
    for e in [x ** 2 - sp.Rational(3, 7) * x * y + sp.Float("0.25") - 1, sp.exp(-x) * sp.log(y),
              W * W.T + sp.Identity(3), (W ** 2).T]:
        assert parse_srepr(sp.srepr(e, order="none")) == e
    assert parse_srepr("0") == 0 and parse_srepr("-3") == -3


_SYMS = [sp.Symbol("p", positive=True), sp.Symbol("eta", nonnegative=True), sp.Symbol("lam", real=True),
         sp.Symbol("n", integer=True)]
_EXPRS = st.recursive(
    st.one_of(st.sampled_from(_SYMS), st.integers(-50, 50).map(sp.Integer),
              st.tuples(st.integers(-9, 9), st.integers(1, 9)).map(lambda t: sp.Rational(*t))),
    lambda sub: st.one_of(st.lists(sub, min_size=2, max_size=4).map(lambda a: sp.Add(*a)),
                          st.lists(sub, min_size=2, max_size=4).map(lambda a: sp.Mul(*a)),
                          st.tuples(sub, st.integers(-3, 4)).map(lambda t: sp.Pow(t[0], t[1]) if t[0] != 0 else t[0])),
    max_leaves=12)


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(_EXPRS)
def test_parse_srepr_round_trip_is_exact(e):
    # SymPy's own evaluated construction is the oracle: rebuilt unevaluated, the tree is the same
    back = parse_srepr(sp.srepr(e, order="none"))
    assert back == e and sp.srepr(back) == sp.srepr(e)


def _symbolic_imports(name, seen):
    seen.add(name)
    tree = ast.parse((SYMBOLIC / name).read_text())
    for node in ast.walk(tree):
        mods = []
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            mods = [node.module] if node.module else [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("symbolic."):
            mods = [node.module.split(".", 1)[1]]
        for mod in mods:
            f = mod.split(".")[0] + ".py"
            if (SYMBOLIC / f).exists() and f not in seen:
                _symbolic_imports(f, seen)
    return seen


def test_cache_key_covers_every_source_of_a_derivation():
    closure = _symbolic_imports("models.py", set()) | _symbolic_imports("codegen.py", set())
    assert closure <= set(models.DERIVATION_SOURCES), closure - set(models.DERIVATION_SOURCES)


@pytest.mark.slow
def test_editing_a_model_changes_the_key(tmp_path):
    def key(root):
        r = subprocess.run([sys.executable, "-c", "from symbolic.models import source_hash; print(source_hash())"],
                           cwd=root, capture_output=True, text=True, check=True)
        return r.stdout.strip()

    shutil.copytree(SYMBOLIC, tmp_path / "a" / "symbolic", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(SYMBOLIC, tmp_path / "b" / "symbolic", ignore=shutil.ignore_patterns("__pycache__"))
    f = tmp_path / "b" / "symbolic" / "l2_byol.py"
    f.write_text(f.read_text() + "\n# an edit\n")
    ka, kb = key(tmp_path / "a"), key(tmp_path / "b")
    assert ka == models.source_hash() and kb != ka


# --- generated kernels: a damaged or edited file is regenerated ---------------------------------
def test_damaged_generated_module_is_regenerated(cache):
    from symbolic.codegen import import_source

    name = "ssldyn_t_probe_regenerate"
    src = '"""probe"""\nVALUE = 42\n'
    try:
        assert import_source(name, lambda: src).VALUE == 42
        path = cache / "kernels" / f"{name}.py"
        header = path.read_text().split("\n", 1)[0] + "\n"
        for damaged in ("VALUE = 4", header + "VALUE = 41\n", header + src[:9]):   # no header, edited, cut
            path.write_text(damaged)
            sys.modules.pop(name)
            assert import_source(name, lambda: src).VALUE == 42
            assert path.read_text() == header + src
    finally:
        sys.modules.pop(name, None)


_PROBE = """
import numpy as np
from symbolic.codegen import load_kernels
k = load_kernels("l2-byol", "reduced")
print(k.__file__)
print(repr(k.rhs_p(0.3, 0.05, 0.5, 1.0, 2.0)))
"""


def _probe(cache):
    r = subprocess.run([sys.executable, "-c", _PROBE], cwd=SYMBOLIC.parent, capture_output=True, text=True,
                       env={**__import__("os").environ, "SSLDYN_CACHE_DIR": str(cache)}, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    path, value = r.stdout.split()
    return Path(path), float(value)


@pytest.mark.slow
def test_corrupted_kernel_file_is_regenerated(tmp_path):
    from oracles import l2_reduced

    want = l2_reduced(0.3, 0.05, 0.5)                   # Tian eq. 16, written independently
    path, got = _probe(tmp_path)
    assert got == pytest.approx(want, rel=1e-14)
    good = path.read_text()
    path.write_text(good[: len(good) // 2])             # a write cut short: a syntax error
    assert _probe(tmp_path)[1] == pytest.approx(want, rel=1e-14) and path.read_text() == good
    edited = good.replace("+ eta - p*tau)", "+ eta + p*tau)", 1)   # one sign in rhs_p
    assert edited != good
    path.write_text(edited)                             # valid Python, wrong kernel
    assert _probe(tmp_path)[1] == pytest.approx(want, rel=1e-14) and path.read_text() == good
