"""Provenance of every output (issue #25, item 3): integrate NPZ / NetCDF and merged sweeps re-load
with their model, parameters, p0 / axes, method and version; ``integrate --from`` reruns bit for
bit; "defaults used" on every command with model parameters; a resume says so in one line.

Oracles: the values given on the command line and in configs (the files must hand back exactly
those), the parameter dataclasses' declared defaults (``dataclasses.fields``), the closed-form
equilibria of the L2 flow (Tian et al. 2021: :math:`p^*=(1+\\sqrt{1-4\\eta(1+\\sigma^2)})/(2(1+\\sigma^2))`
for :math:`\\tau=1`), and a second, independent run of the same integration.
"""
import dataclasses
import math
import re
import shlex
from dataclasses import replace

import numpy as np
import pytest

import symbolic
from dynamics import L2Params, integrate
from dynamics.integrate import rerun
from dynamics.results import BatchResult
from sims.cli import main
from sims.outputs import load_result
from sims.sweep import merge, run_sweep
from symbolic.errors import ParameterError

ARRAYS = ("final", "status", "t_event", "nsteps", "t", "ys", "p0")
L2_DEFAULTS = {f.name: f.default for f in dataclasses.fields(L2Params)}


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out


def _fails(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    assert code == 2 and len(out.err.strip().splitlines()) == 1, (code, out.err)
    return out.err


def _same_arrays(a, b):
    for k in ARRAYS:
        x, y = getattr(a, k), getattr(b, k)
        assert (x is None) == (y is None), k
        if x is not None:
            assert x.dtype == y.dtype or k == "status", (k, x.dtype, y.dtype)
            assert np.array_equal(x, y, equal_nan=True), k


def _stable_l2(eta, sigma2):
    return (1 + math.sqrt(1 - 4 * eta * (1 + sigma2))) / (2 * (1 + sigma2))


def _defaults_line(out):
    line, = [x for x in out.splitlines() if x.startswith("defaults used:")]
    body = line.removeprefix("defaults used: ").split(" (")[0]
    return {} if body == "none" else {k: float(v) for k, v in (kv.split("=") for kv in body.split(", "))}


@pytest.mark.parametrize("suffix", ["npz", "nc"])
def test_integrate_file_reloads_and_reruns_bit_for_bit(tmp_path, capsys, suffix):
    run, again = tmp_path / f"run.{suffix}", tmp_path / f"again.{suffix}"
    argv = ["integrate", "--model", "l2-byol", "--eta", "0.1", "--sigma2", "0.3", "--p0", "0.05,0.3,0.9",
            "--t-end", "400", "--t-eval", "0:400:9", "--rtol", "1e-9", "--out", run]
    out = _run(capsys, *argv)
    given = {"eta": 0.1, "sigma2": 0.3}
    assert _defaults_line(out) == {k: v for k, v in L2_DEFAULTS.items() if k not in given}
    res = load_result(run)
    assert isinstance(res, BatchResult)
    assert res.model == "l2-byol" and res.form == "reduced" and res.convention == "frobenius"
    assert res.params == {**L2_DEFAULTS, **given}
    assert set(res.defaulted) == set(L2_DEFAULTS) - set(given)
    assert res.p0.tolist() == [0.05, 0.3, 0.9] and res.t.tolist() == np.linspace(0, 400, 9).tolist()
    assert res.method == "tsit5" and res.options["rtol"] == 1e-9 and res.options["atol"] == 1e-10
    assert res.options["t_end"] == 400.0 and res.options["fixed_step"] is False and res.options["dt"] is None
    assert res.version == symbolic.__version__
    assert shlex.split(res.command) == ["ssldyn"] + [str(a) for a in argv]
    # the trajectories above the unstable root settle on the closed-form stable equilibrium
    np.testing.assert_allclose(res.final[1:], _stable_l2(0.1, 0.3), rtol=1e-6)
    assert abs(res.final[0]) < 1e-3
    out = _run(capsys, "integrate", "--from", run, "--out", again)
    assert f"rerun of {run}" in out and _defaults_line(out) == _defaults_line(_run(capsys, *argv))
    back = load_result(again)
    _same_arrays(res, back)
    assert back.params == res.params and back.options == res.options and back.defaulted == res.defaulted
    assert shlex.split(back.command)[1:4] == ["integrate", "--from", str(run)]


def test_fixed_step_eigen_run_reruns_across_formats(tmp_path, capsys):
    """rk4 on the eigen form (state p, s, tau), NPZ -> NetCDF -> NPZ: every array identical."""
    _run(capsys, "integrate", "--model", "l2-byol", "--form", "eigen", "--beta", "0.5", "--method", "rk4",
         "--dt", "0.05", "--p0", _npy(tmp_path, [[0.4, 0.2, 1.0], [0.9, 0.5, 0.8]]), "--t-end", "20",
         "--t-eval", "0:20:5", "--out", tmp_path / "a.npz")
    _run(capsys, "integrate", "--from", tmp_path / "a.npz", "--out", tmp_path / "b.nc")
    _run(capsys, "integrate", "--from", tmp_path / "b.nc", "--out", tmp_path / "c.npz")
    a, b, c = (load_result(tmp_path / n) for n in ("a.npz", "b.nc", "c.npz"))
    assert a.state == b.state == c.state == ("p", "s", "tau") and a.ys.shape == (5, 2, 3)
    assert a.options["dt"] == 0.05 and a.options["fixed_step"] is True and a.method == "rk4"
    assert a.p0.tolist() == [[0.4, 0.2, 1.0], [0.9, 0.5, 0.8]]
    _same_arrays(a, b)
    _same_arrays(a, c)
    assert a.params == b.params == c.params == {**L2_DEFAULTS, "beta": 0.5}


def _npy(tmp_path, rows):
    path = tmp_path / "p0.npy"
    np.save(path, np.array(rows))
    return path


def test_xarray_dataset_fields_equal_the_npz_arrays(tmp_path):
    params = L2Params(eta=0.08, tau=0.9)
    res = integrate("l2-byol", params, [0.1, 0.6], 30.0, t_eval=[0.0, 7.5, 30.0], method="dopri5")
    assert res.command == "python API" and res.defaulted is None
    res.to_npz(tmp_path / "r.npz")
    res.to_netcdf(tmp_path / "r.nc")
    xr = pytest.importorskip("xarray")
    ds = xr.load_dataset(tmp_path / "r.nc")
    with np.load(tmp_path / "r.npz", allow_pickle=False) as z:
        for nc_name, npz_name in (("y", "ys"), ("t", "t"), ("final", "final"), ("status", "status"),
                                  ("t_event", "t_event"), ("nsteps", "nsteps"), ("p0", "p0")):
            assert np.array_equal(ds[nc_name].values, z[npz_name], equal_nan=True), nc_name
        for k in ("model", "form", "convention", "method", "version", "command", "defaulted"):
            assert ds.attrs[k] == str(z[k]), k
        assert all(ds.attrs[f"param_{k}"] == float(z[f"param_{k}"]) == v for k, v in params.to_dict().items())
    assert ds["y"].dims == ("t", "traj") and ds.attrs["message"] == res.message
    # from Python, "defaulted" names the parameters equal to the dataclass's defaults
    assert ds.attrs["defaulted"] == ",".join(k for k, v in params.to_dict().items() if v == L2_DEFAULTS[k])
    assert ds.attrs["command"] == "python API" and ds.attrs["version"] == symbolic.__version__
    _same_arrays(res, rerun(BatchResult.from_netcdf(tmp_path / "r.nc")))


def test_from_refuses_conflicting_flags_and_missing_inputs(tmp_path, capsys):
    run = tmp_path / "run.npz"
    _run(capsys, "integrate", "--model", "l2-byol", "--p0", "0.5", "--t-end", "5", "--out", run)
    err = _fails(capsys, "integrate", "--from", run, "--out", tmp_path / "x.npz", "--eta", "0.2", "--method", "rk4")
    assert "--eta" in err and "--method" in err and "drop" in err
    err = _fails(capsys, "integrate", "--from", run, "--out", tmp_path / "x.npz", "--method", "tsit5")
    assert "--method" in err                   # a flag given with its default value still conflicts
    err = _fails(capsys, "integrate", "--from", run, "--out", tmp_path / "x.npz", "--model", "l2-byol", "--p0", "1")
    assert "--model" in err and "--p0" in err
    assert "--p0 is required" in _fails(capsys, "integrate", "--model", "l2-byol", "--t-end", "5", "--out", run)
    assert "--from" in _fails(capsys, "integrate", "--from", tmp_path / "none.npz", "--out", tmp_path / "x.npz")
    assert "--out" in _fails(capsys, "integrate", "--from", run, "--out", run)
    assert not (tmp_path / "x.npz").exists()


def test_loading_executes_nothing(tmp_path):
    np.savez(tmp_path / "evil.npz", final=np.array([object()], dtype=object), status=np.zeros(1, np.int8))
    with pytest.raises(ParameterError, match="evil.npz.*cannot be read as an NPZ file.*allow_pickle"):
        BatchResult.from_npz(tmp_path / "evil.npz")
    (tmp_path / "junk.nc").write_text("junk")
    with pytest.raises(ParameterError, match="junk.nc.*cannot be read as a NetCDF file"):
        load_result(tmp_path / "junk.nc")
    np.savez(tmp_path / "other.npz", x=np.zeros(2))
    with pytest.raises(ParameterError, match="not an integrate result.*final"):
        load_result(tmp_path / "other.npz")


def test_rerun_refuses_a_changed_model_and_missing_provenance():
    res = integrate("l2-byol", L2Params(), [0.5], 1.0)
    with pytest.raises(ParameterError, match="differs from the one of the run"):
        rerun(replace(res, fingerprint="f" * 64))
    with pytest.raises(ParameterError, match="rerun needs"):
        rerun(replace(res, p0=None))


SWEEP = '''model = "l2-byol"
task = "integrate"
[params]
sigma2 = 0.3
[grid]
eta = [0.05, 0.1]
[initial]
p0 = [0.05, 0.6]
[integrate]
t_end = 50.0
method = "dopri5"
rtol = 1e-9
'''


def test_merged_sweep_reloads_with_fixed_parameters_axes_method_and_version(tmp_path):
    cfg = tmp_path / "s.toml"
    cfg.write_text(SWEEP)
    lines = []
    run_sweep(cfg, tmp_path / "sweep", workers=1, progress=False, report=lines.append)
    merge(tmp_path / "sweep", tmp_path / "m.npz", command="ssldyn sweep --merge sweep --out m.npz")
    loaded = [load_result(tmp_path / "m.npz")]
    if _has_xarray():
        merge(tmp_path / "sweep", tmp_path / "m.nc")
        loaded.append(load_result(tmp_path / "m.nc"))
    for m in loaded:
        assert m.model == "l2-byol" and m.task == "integrate" and m.form == "reduced" and m.method == "dopri5"
        # the fixed parameters: the config's sigma2 and the defaults of all but the axis eta
        assert m.params == {"sigma2": 0.3, **{k: v for k, v in L2_DEFAULTS.items() if k not in ("eta", "sigma2")}}
        assert set(m.defaulted) == {"tau", "alpha_p", "beta"}
        assert list(m.axes) == ["eta", "p0"] and m.axes["eta"].tolist() == [0.05, 0.1]
        assert m.axes["p0"].tolist() == [0.05, 0.6]
        assert m.integrate == {"t_end": 50.0, "method": "dopri5", "rtol": 1e-9}
        assert m.version == symbolic.__version__ and m.config == SWEEP
        np.testing.assert_allclose(m.arrays["final"][:, 1], [_stable_l2(e, 0.3) for e in (0.05, 0.1)], rtol=1e-6)
    assert loaded[0].command == "ssldyn sweep --merge sweep --out m.npz"
    if len(loaded) == 2:
        assert loaded[1].command == "python API"
        assert np.array_equal(loaded[0].arrays["final"], loaded[1].arrays["final"])


def _has_xarray():
    try:
        import xarray  # noqa: F401
    except ImportError:
        return False
    return True


def test_resume_says_one_line(tmp_path):
    cfg = tmp_path / "s.toml"
    cfg.write_text('model = "l2-byol"\ntask = "regime"\nchunk_size = 2\n[grid]\neta = [0.0, 0.1, 0.2, 0.3, 0.4]\n')
    out, lines = tmp_path / "sweep", []
    run_sweep(cfg, out, workers=1, progress=False, report=lines.append)
    assert lines == [f"chunk {i}/3: computed" for i in range(3)] + ["chunks: 3 computed, 0 skipped (checksum ok)"]
    (out / "chunk_00001.npz").write_bytes(b"garbage")
    lines.clear()
    run_sweep(cfg, out, workers=1, progress=False, report=lines.append)
    assert lines == ["resumed: 2 of 3 chunks already done, 1 to run", "chunk 1/3: computed",
                     "chunks: 1 computed, 2 skipped (checksum ok)"]
    lines.clear()
    run_sweep(cfg, out, workers=1, progress=False, report=lines.append)
    assert lines == ["resumed: 3 of 3 chunks already done, 0 to run", "chunks: 0 computed, 3 skipped (checksum ok)"]


def test_regime_map_and_bifurcation_name_their_defaults(tmp_path, capsys):
    out = _run(capsys, "regime-map", "--model", "l2-byol", "--x", "eta:0.01:0.3:4", "--y", "sigma2:0.1:1:3",
               "--tau", "0.9", "--out", tmp_path / "m.npz")
    assert _defaults_line(out) == {"alpha_p": 1.0, "beta": 0.0}           # neither given nor an axis
    with np.load(tmp_path / "m.npz", allow_pickle=False) as z:
        assert str(z["defaulted"]) == "alpha_p,beta" and float(z["param_tau"]) == 0.9
        assert str(z["version"]) == symbolic.__version__ and str(z["command"]).startswith("ssldyn regime-map")
    out = _run(capsys, "bifurcation", "--model", "l2-byol", "--param", "eta:0:0.3", "--n", "61", "--sigma2", "0.4",
               "--out", tmp_path / "b.npz")
    assert _defaults_line(out) == {"tau": 1.0, "alpha_p": 1.0, "beta": 0.0}
    # the fold of the L2 flow at eta_c = tau^2 / (4 (1 + sigma2)), stated at the defaults it names
    fold = re.search(r"fold at eta = ([0-9.e-]+)", out)
    assert abs(float(fold.group(1)) - 1 / (4 * 1.4)) < 1e-9
    import json

    doc = json.loads(_run(capsys, "bifurcation", "--model", "l2-byol", "--param", "eta:0:0.3", "--n", "61",
                          "--tau", "0.8", "--json"))
    assert doc["defaults_used"] == ["sigma2", "alpha_p", "beta"]          # as equilibria --json
    assert doc["params"] == {"tau": 0.8, **{k: L2_DEFAULTS[k] for k in doc["defaults_used"]}}
    assert doc["version"] == symbolic.__version__ and doc["command"].endswith("--tau 0.8 --json")


def test_demo_writes_into_a_new_temporary_folder_or_the_stated_one(tmp_path, capsys, monkeypatch):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    out = _run(capsys, "demo")
    folder = re.search(r"output folder \(new, temporary\): (\S+)", out).group(1)
    import pathlib
    import shutil

    made = pathlib.Path(folder)
    try:
        assert sorted(p.name for p in made.iterdir()) == ["demo_phase_line.pdf", "demo_phase_line.png"]
        assert made.resolve() != cwd.resolve() and list(cwd.iterdir()) == []
    finally:
        shutil.rmtree(made)
    stated = tmp_path / "stated"
    stated.mkdir()
    (stated / "mine.txt").write_text("keep")
    out = _run(capsys, "demo", "--out", stated)
    assert "temporary" not in out and (stated / "mine.txt").read_text() == "keep"
    assert sorted(p.name for p in stated.iterdir()) == ["demo_phase_line.pdf", "demo_phase_line.png", "mine.txt"]


USER = '''
import sympy as sp
from symbolic import register_model
p, a, rho = sp.symbols("p a rho")
register_model("test-prov", state=[p], rhs=[a*p**3 - p**5 - rho*p], params={"a": 1.0, "rho": 0.1}, decay="rho")
'''


@pytest.mark.slow
def test_user_model_run_reruns_only_with_its_file(tmp_path, capsys):
    """A user model's run records its fingerprint: --from needs the same file loaded again (its
    kernels are cached under that fingerprint, in the cache the other tests use)."""
    from symbolic import registry, user_models

    f = tmp_path / "mine.py"
    f.write_text(USER)
    try:
        _run(capsys, "--models", f, "integrate", "--model", "test-prov", "--a", "1.5", "--p0", "0.2,1.2",
             "--t-end", "200", "--out", tmp_path / "u.npz")
        res = load_result(tmp_path / "u.npz")
        assert res.fingerprint == registry.get_model("test-prov").fingerprint != ""
        assert res.params == {"a": 1.5, "rho": 0.1} and res.defaulted == ("rho",)
        # p^4 - a p^2 + rho = 0: the stable root p^2 = (a + sqrt(a^2 - 4 rho)) / 2
        np.testing.assert_allclose(res.final[1], math.sqrt((1.5 + math.sqrt(1.5**2 - 0.4)) / 2), rtol=1e-6)
        registry._REGISTRY.pop("test-prov")
        user_models._USER_ARGS.pop("test-prov", None)
        err = _fails(capsys, "integrate", "--from", tmp_path / "u.npz", "--out", tmp_path / "v.npz")
        assert "--models" in err and "test-prov" in err
        _run(capsys, "--models", f, "integrate", "--from", tmp_path / "u.npz", "--out", tmp_path / "v.npz")
        _same_arrays(res, load_result(tmp_path / "v.npz"))
    finally:
        registry._REGISTRY.pop("test-prov", None)
        user_models._USER_ARGS.pop("test-prov", None)


def test_netcdf_out_without_xarray_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "xarray", None)          # import xarray raises ImportError
    err = _fails(capsys, "integrate", "--model", "l2-byol", "--p0", "0.5", "--t-end", "5", "--out", tmp_path / "r.nc")
    assert "xarray" in err and "pip install ssldyn[sweep]" in err and "r.nc" in err
    assert list(tmp_path.iterdir()) == []
