"""The cache's trust boundary (issue #23 S1-S3, M7): nothing planted in a cache folder runs.

Every command loads generated modules by file from bytes checked against an HMAC under a
per-user key kept outside the cache; the cache folders are never on ``sys.path``; numba's
index and data files of generated modules are signed too; a cache folder that others can write
is refused. The planted files' payloads append to a marker file: the oracle is that the marker
never appears, and that the results equal values known independently (the roots in
:func:`symbolic.codegen.load_kernels`' docstring, Bao 2023 eq. 7 at the defaults).
"""
import hashlib
import importlib._bootstrap_external as bx
import json
import os
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from symbolic import models, trust
from symbolic.codegen import _HEADER, import_source
from symbolic.errors import ParameterError

ROOT = Path(__file__).resolve().parents[1]
#: cosine-simsiam at its defaults (rho 0.01, sigma2 0.5, N_Phi 2, N_Psi 1.5, T 0.5): the real roots of
#: Bao eq. 7's numerator, as load_kernels' docstring gives them (and the findings' report)
COSINE_ROOTS = [-1.09644864526, 0.0, 0.0454594076241, 0.955393937315]


class _Payload:
    """Unpickling it appends to the marker file: a planted pickle that ran."""

    def __init__(self, marker, tag):
        self.marker, self.tag = str(marker), tag

    def __reduce__(self):
        return exec, (f"open({self.marker!r}, 'a').write({self.tag!r} + '\\n')",)


def _planted_source(marker, tag) -> str:
    return f"open({str(marker)!r}, 'a').write({tag!r} + '\\n')\n"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    monkeypatch.setenv("SSLDYN_CACHE_DIR", str(root))
    models.derive.cache_clear()
    yield root
    models.derive.cache_clear()


_PROBE = '"""probe"""\nfrom numba import njit\n\n\n@njit("float64(float64)", cache=True)\ndef twice(x):\n    return 2.0 * x\n'


def _probe(name):
    sys.modules.pop(name, None)
    try:
        return import_source(name, lambda: _PROBE).twice(21.0)
    finally:
        sys.modules.pop(name, None)


def test_generated_modules_load_by_file_never_from_sys_path(cache):
    before = list(sys.path)
    name = "ssldyn_t_probe_by_file"
    assert _probe(name) == 42.0
    assert sys.path == before and not any(str(cache) in p for p in sys.path)
    (cache / "kernels" / f"{name}.py").unlink()
    # a planted module named like a stdlib one in the kernel folder is never imported from there
    (cache / "kernels" / "unittest.py").write_text(_planted_source(cache.parent / "ran", "unittest"))
    (cache / "kernels" / "colorsys.py").write_text(_planted_source(cache.parent / "ran", "colorsys"))
    assert _probe(name) == 42.0
    sys.modules.pop("colorsys", None)
    __import__("colorsys")
    assert not (cache.parent / "ran").exists()


def test_edited_kernel_with_recomputed_sha256_header_or_foreign_key_is_regenerated(cache, tmp_path, monkeypatch):
    marker = tmp_path / "ran"
    name = "ssldyn_t_probe_edit"
    assert _probe(name) == 42.0
    path = cache / "kernels" / f"{name}.py"
    head, body = path.read_text().split("\n", 1)
    # (a) appended code with the old, unkeyed header recomputed (what anyone who can write could do)
    evil = body + _planted_source(marker, "appended")
    path.write_text("# ssldyn generated file; sha256 of the text below: " + hashlib.sha256(evil.encode()).hexdigest()
                    + "\n" + evil)
    assert _probe(name) == 42.0 and not marker.exists()
    assert path.read_text() == head + "\n" + body                  # rewritten, signed again
    # a module signed under another user's key (a copied cache) is regenerated, not run
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "other-user"))
    path.write_bytes(trust.signed("kernel:" + name, _HEADER.encode(), evil.encode()))
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert _probe(name) == 42.0 and not marker.exists()


def test_byte_code_and_numba_index_planted_in_the_cache_never_run(cache, tmp_path):
    marker = tmp_path / "ran"
    name = "ssldyn_t_probe_pyc"
    assert _probe(name) == 42.0
    src = cache / "kernels" / f"{name}.py"
    pycache = cache / "kernels" / "__pycache__"
    # (b) a .pyc matching the genuine source's mtime and size
    st = src.stat()
    code = compile(_planted_source(marker, "pyc") + "def twice(x):\n    return 0.0\n", str(src), "exec")
    Path(bx.cache_from_source(str(src))).write_bytes(bx._code_to_timestamp_pyc(code, int(st.st_mtime), st.st_size))
    # (c) numba's index: a pickle in numba's format (version, then the payload), unsigned
    indexes = sorted(pycache.glob(f"{name}.*.nbi"))
    assert indexes, sorted(p.name for p in pycache.iterdir())
    import numba

    for nbi in indexes:
        nbi.write_bytes(pickle.dumps(numba.__version__) + pickle.dumps(_Payload(marker, "nbi")))
    for nbc in pycache.glob(f"{name}.*.nbc"):
        nbc.write_bytes(pickle.dumps(_Payload(marker, "nbc")))
    assert _probe(name) == 42.0
    assert not marker.exists()
    # the index numba wrote again is signed, and a signed index is a cache hit in a new module
    assert all(p.read_bytes().startswith(b"ssldyn-hmac-sha256 ") for p in indexes)


@pytest.mark.parametrize("mode", [0o777, 0o770, 0o757])
def test_a_cache_folder_others_can_write_is_refused(cache, mode):
    cache.mkdir()
    os.chmod(cache, mode)
    with pytest.raises(ParameterError, match="SSLDYN_CACHE_DIR must not be writable by group or others"):
        models.cache_dir()
    if mode == 0o777:                # the CLI, in a fresh process (this one keeps its loaded kernels)
        r = subprocess.run([sys.executable, "-m", "sims.cli", "equilibria", "--model", "cosine-simsiam"],
                           capture_output=True, text=True, cwd=ROOT, timeout=600)
        assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
        assert r.stderr.startswith("ssldyn: error: SSLDYN_CACHE_DIR must not be writable")
    os.chmod(cache, 0o700)


def test_a_cache_folder_of_another_user_or_a_file_is_refused(cache, tmp_path, monkeypatch):
    cache.mkdir(mode=0o700)
    if os.getuid() == 0:
        os.chown(cache, 4242, -1)
        with pytest.raises(ParameterError, match="SSLDYN_CACHE_DIR must be owned by you"):
            models.cache_dir()
        os.chown(cache, 0, -1)
    sub = cache / "kernels"
    sub.mkdir(mode=0o777)
    os.chmod(sub, 0o777)
    with pytest.raises(ParameterError, match="must not be writable by group or others"):
        import_source("ssldyn_t_probe_shared", lambda: "X = 1\n")
    f = tmp_path / "cfile"
    f.write_text("")
    monkeypatch.setenv("SSLDYN_CACHE_DIR", str(f))          # M7
    with pytest.raises(ParameterError, match=r"SSLDYN_CACHE_DIR must be a folder; got .*cfile' \(a file\)"):
        models.cache_dir()


def _signed_by_attacker(path, obj):
    """What someone who can write the cache can do: recompute the old SHA-256 and sign under a key
    of their own (a copied cache)."""
    blob = json.dumps(obj["payload"], sort_keys=True).encode()
    obj["sha256"] = hashlib.sha256(blob).hexdigest()
    import hmac

    obj["hmac"] = hmac.new(b"k" * 32, b"derivation:" + path.name.encode() + b"\0" + blob, hashlib.sha256).hexdigest()
    path.write_text(json.dumps(obj))


def test_edited_derivation_with_recomputed_checksums_is_rederived(cache):
    models.derive("two-layer", "eigen")
    path = cache / "derivations" / f"two-layer-eigen-frobenius-{models.source_hash()}.json"
    obj = json.loads(path.read_text())
    rhs = obj["payload"]["rhs"]["sigma_1"]
    obj["payload"]["rhs"]["sigma_1"] = rhs.replace("Integer(2)", "Integer(3)", 1)     # valid, and wrong
    assert obj["payload"]["rhs"]["sigma_1"] != rhs
    _signed_by_attacker(path, obj)
    with pytest.raises(ValueError, match="HMAC"):
        models._read_entry(path)
    models.derive.cache_clear()
    got = models.derive("two-layer", "eigen")
    # Jing et al. 2022 Thm. 3: d sigma_1/dt = sigma_1 sigma_2^2 lambda, at a point
    at = {got.symbol("sigma_1"): 1.3, got.symbol("sigma_2"): 0.7, got.symbol("lam"): 0.5}
    assert float(got.rhs["sigma_1"].subs(at)) == pytest.approx(1.3 * 0.7**2 * 0.5, rel=1e-15)


@pytest.mark.parametrize("where", ["rhs", "params"])
def test_a_symbol_name_carrying_code_never_reaches_generated_code(cache, tmp_path, where):
    """S2: even signed with the user's own key, a name that is not an identifier is refused."""
    from symbolic.derivation import Derivation

    marker = tmp_path / "ran"
    payload = f'q"""\nopen({str(marker)!r}, "w").close()\n"""'
    models.derive("two-layer", "eigen")
    path = cache / "derivations" / f"two-layer-eigen-frobenius-{models.source_hash()}.json"
    obj = json.loads(path.read_text())
    if where == "rhs":
        obj["payload"]["rhs"]["sigma_1"] = f"Add({obj['payload']['rhs']['sigma_1']}, Mul(Integer(0), Symbol({payload!r})))"
    else:
        obj["payload"]["params"].append("x); import os; os.system('true'); (y")
    obj["hmac"] = models._payload_hash(obj["payload"], path.name)
    path.write_text(json.dumps(obj))
    with pytest.raises(ValueError, match="identifiers"):
        models._read_entry(path)
    with pytest.raises(ValueError, match="identifiers"):
        Derivation("m", "reduced", ("p",), ("a",), {"p": __import__("sympy").Symbol(payload)})
    models.derive.cache_clear()
    d = models.derive("two-layer", "eigen")            # re-derived
    assert d.params == ("lam",)
    ns = {}
    exec(compile(d.python(), "derived.py", "exec"), ns)  # the `derive --format python` module
    assert not marker.exists() and ns["PARAMS"] == d.params


# --- every command, with everything planted at once -------------------------------------------
_RUNNER = """
import os, sys
from sims.cli import main
rc = main(sys.argv[1:])
roots = os.environ["CHECK_ROOTS"].split(os.pathsep)
bad = [p for p in sys.path if p and any(os.path.abspath(p).startswith(r) for r in roots)]
if bad:
    sys.stderr.write(f"on sys.path: {bad}\\n")
    rc = 99
sys.exit(rc)
"""
#: the cosine model's files: every generated module of it (kernels, loops, bound kernels) and derivations
_COSINE = "*cosine_simsiam_*"


def _cmd(args, env, cwd):
    return subprocess.run([sys.executable, "-P", "-c", _RUNNER, *args], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=600)


def _plant(cache, out, marker):
    import numba

    names = set(sys.stdlib_module_names) | {m.split(".")[0] for m in list(sys.modules)} | {
        "numba", "numpy", "sympy", "scipy", "matplotlib", "fontTools", "PIL", "llvmlite", "figures", "dynamics",
        "sims", "symbolic", "xarray", "dask", "distributed", "tomllib", "mpmath", "cloudpickle"}
    names = {n for n in names if n.isidentifier()}
    pycache = cache / "kernels" / "__pycache__"
    for folder in (cache, cache / "kernels", pycache, cache / "derivations", out):
        for n in names:
            (folder / f"{n}.py").write_text(_planted_source(marker, f"{folder.name}/{n}.py"))
    planted = {"pyc": 0, "nbi": 0, "derivation": 0}
    for src in (cache / "kernels").glob("ssldyn_*.py"):              # byte code next to each genuine module
        planted["pyc"] += 1
        st = src.stat()
        code = compile(_planted_source(marker, f"pyc {src.name}"), str(src), "exec")
        Path(bx.cache_from_source(str(src))).write_bytes(bx._code_to_timestamp_pyc(code, int(st.st_mtime), st.st_size))
    for nbi in pycache.glob("ssldyn_k_cosine_simsiam_reduced_*.nbi"):  # numba's index of the kernels
        planted["nbi"] += 1
        nbi.write_bytes(pickle.dumps(numba.__version__) + pickle.dumps(_Payload(marker, f"nbi {nbi.name}")))
    for entry in (cache / "derivations").glob("cosine-simsiam-*.json"):   # edited, checksums recomputed
        obj = json.loads(entry.read_text())
        if "rhs" in obj.get("payload", {}):
            first = next(iter(obj["payload"]["rhs"]))
            obj["payload"]["rhs"][first] = f"Mul(Integer(2), Symbol({_planted_source(marker, 'derivation')!r}))"
            _signed_by_attacker(entry, obj)
            planted["derivation"] += 1
    assert all(planted.values()), planted


@pytest.mark.slow
def test_nothing_planted_in_the_cache_runs_in_any_command(tmp_path):
    """S1, S3 (b, c, e) and sys.path, for equilibria, integrate, regime-map --plot and a sweep
    with two spawned workers, planted afresh before each command."""
    src = models.cache_root()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    warm = tmp_path / "warm"
    warm.mkdir()
    # the session's cache, warmed for these commands (compiled once per session, as other tests do)
    for args in (["integrate", "--model", "cosine-simsiam", "--p0", "0.5,1.5", "--t-end", "5", "--out", "w.npz"],
                 ["regime-map", "--model", "cosine-simsiam", "--x", "rho:0:0.2:5", "--y", "n-psi:0.5:3:4",
                  "--out", "w2.npz"]):
        r = _cmd(args, {**env, "CHECK_ROOTS": str(src)}, warm)
        assert r.returncode == 0, r.stderr[-2000:]
    cache, out, run, marker = tmp_path / "c", tmp_path / "out", tmp_path / "run", tmp_path / "ran"
    cache.mkdir(mode=0o700)
    (cache / models.CACHE_TAG).write_text(models.CACHE_TAG_TEXT)
    for sub in ("kernels", "kernels/__pycache__", "derivations"):
        (cache / sub).mkdir(mode=0o700)
        for f in (src / sub).glob(_COSINE.replace("_", "-") if sub == "derivations" else _COSINE):
            shutil.copy2(f, cache / sub / f.name)                     # keeps mtimes: numba's stamps hold
    out.mkdir()
    run.mkdir()
    cfg = run / "s.toml"
    cfg.write_text('model = "cosine-simsiam"\ntask = "regime"\nchunk_size = 2\n[grid]\nrho = [0.001, 0.05, 0.3]\n'
                   'n_psi = [0.5, 2.0]\n')
    env = {**env, "SSLDYN_CACHE_DIR": str(cache), "CHECK_ROOTS": os.pathsep.join([str(cache), str(out)])}
    commands = {
        "equilibria": ["equilibria", "--model", "cosine-simsiam", "--json"],
        "integrate": ["integrate", "--model", "cosine-simsiam", "--p0", "0.5,1.5", "--t-end", "5",
                      "--out", str(out / "i.npz")],
        "regime-map": ["regime-map", "--model", "cosine-simsiam", "--x", "rho:0:0.2:5", "--y", "n-psi:0.5:3:4",
                       "--out", str(out / "m.npz"), "--plot", str(out / "m.png")],
        "sweep": ["sweep", str(cfg), "--out", str(out / "sw"), "--workers", "2", "--no-progress"],
    }
    results = {}
    for what, args in commands.items():
        _plant(cache, out, marker)
        r = _cmd(args, env, run)
        assert r.returncode == 0, (what, r.stderr[-3000:])
        assert not marker.exists(), (what, marker.read_text())
        results[what] = r.stdout
    eq = json.loads(results["equilibria"])
    np.testing.assert_allclose([e["p"] for e in eq["equilibria"]], COSINE_ROOTS, atol=1e-9)
    from oracles import cosine_eq7
    from scipy.integrate import solve_ivp

    z = np.load(out / "i.npz")                       # against scipy's DOP853 on Bao eq. 7 (the theory notes)
    theta = (0.01, 0.5, 2.0, 1.5, 0.5)
    want = [solve_ivp(lambda t, y: [cosine_eq7(y[0], *theta)], (0, 5), [p0], method="DOP853", rtol=1e-11,
                      atol=1e-13).y[0, -1] for p0 in (0.5, 1.5)]
    np.testing.assert_allclose(z["final"], want, rtol=1e-6)   # the CLI's tolerances: rtol 1e-8
    assert (out / "m.png").stat().st_size > 0
