"""``ssldyn sweep`` as a user meets it: what a resume says it did, one line when NetCDF output lacks
xarray, and one line naming the key and its line for every bad value of the newer config keys."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sims.sweep import ConfigError, parse_config
from oracles import integrate_sweep_config
from test_sweep_faults import SMALL, _one_line_error   # 60 points of the rhs task in 3 chunks

ROOT = Path(__file__).resolve().parents[1]

def _cli(*args, pre=""):
    """``python -m sims.cli ARGS`` in a fresh process (``pre``: Python run first, e.g. a shim)."""
    code = f"import sys\n{pre}\nfrom sims.cli import main\nsys.exit(main(sys.argv[1:]))"
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], capture_output=True, text=True, cwd=ROOT)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    d = tmp_path_factory.mktemp("small")
    cfg = d / "c.toml"
    cfg.write_text(SMALL)
    return cfg


@pytest.mark.slow
def test_resume_says_what_it_did(small, tmp_path):
    out = tmp_path / "s"
    r = _cli("sweep", small, "--out", out, "--workers", 1, "--no-progress")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[:4] == ["chunk 0/3: computed", "chunk 1/3: computed", "chunk 2/3: computed",
                                         "chunks: 3 computed, 0 skipped (checksum ok)"]
    (out / "chunk_00001.npz").write_bytes(b"garbage")
    r = _cli("sweep", small, "--out", out, "--workers", 1, "--no-progress")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["resumed: 2 of 3 chunks already done, 1 to run",
                                     "chunk 1/3: computed", "chunks: 1 computed, 2 skipped (checksum ok)",
                                     f"3 of 3 chunks done in {out} (60 points, task rhs)"]
    r = _cli("sweep", small, "--out", out, "--workers", 1, "--no-progress")
    assert r.stdout.splitlines()[-2] == "chunks: 0 computed, 3 skipped (checksum ok)"
    # without xarray, a .nc merge is one line naming the package and the extra, and writes nothing
    r = _cli("sweep", "--merge", out, "--out", tmp_path / "m.nc", pre="sys.modules['xarray'] = None")
    _one_line_error(r, "xarray", "pip install ssldyn[sweep]", "m.nc")
    assert not (tmp_path / "m.nc").exists()
    r = _cli("sweep", "--merge", out, "--out", tmp_path / "m.npz", pre="sys.modules['xarray'] = None")
    assert r.returncode == 0 and (tmp_path / "m.npz").exists(), r.stderr


def test_extra_sweep_lists_dask_and_xarray():
    import configparser

    cp = configparser.ConfigParser()
    cp.read(ROOT / "setup.cfg")
    reqs = [ln.split(">")[0].strip() for ln in cp["options.extras_require"]["sweep"].strip().splitlines()]
    assert reqs == ["dask[distributed]", "xarray"]


INTEG = integrate_sweep_config(40, 8, "tsit5")     # [integrate] starts at line 17: t_end 18, method 19, rtol 20


def _p0(spec: str) -> str:
    return INTEG.replace("p0 = {lo = -2.0, hi = 1.5, n = 8}", f"p0 = {{{spec}}}")


EIGEN = (INTEG.replace('task = "integrate"', 'task = "integrate"\nform = "eigen"')
         .replace("p0 = {lo = -2.0, hi = 1.5, n = 8}", "p = [0.5, 1.0]\ns = [1.0]"))


@pytest.mark.parametrize("text,key,line,words", [
    (INTEG + "t_eval = [1.0, 0.5]\n", "integrate.t_eval", 21, "strictly increasing"),
    (INTEG + "t_eval = [1.0, 500.0]\n", "integrate.t_eval", 21, "in [0, t_end = 400.0]"),
    (INTEG + "t_eval = [-1.0, 5.0]\n", "integrate.t_eval", 21, "in [0, t_end"),
    (INTEG + "t_eval = []\n", "integrate.t_eval", 21, "list of 1 to"),
    (INTEG + 't_eval = ["a"]\n', "integrate.t_eval", 21, "finite numbers"),
    (INTEG + "t_eval = [1.0, nan]\n", "integrate.t_eval", 21, "finite numbers"),
    (INTEG + "t_eval = 5.0\n", "integrate.t_eval", 21, "wrong type"),
    (INTEG + "converge_tol = 0.0\n", "integrate.converge_tol", 21, "must be in (0, inf)"),
    (INTEG + "converge_tol = inf\n", "integrate.converge_tol", 21, "must be in (0, inf)"),
    (INTEG + "converge_tol = true\n", "integrate.converge_tol", 21, "wrong type"),
    (INTEG.replace("rtol = 1e-10", "rtol = 2.0"), "integrate.rtol", 20, "must be in [1e-15, 1)"),
    (INTEG + "atol = -1.0\n", "integrate.atol", 21, "must be in [0, inf)"),
    (INTEG.replace("t_end = 400.0", "t_end = inf"), "integrate.t_end", 18, "must be in (0, inf)"),
    (INTEG.replace("chunk_size = 40", "chunk_size = 40\nseed = 3"), "seed", 4, "removed"),
    (INTEG.replace('task = "integrate"', 'task = "integrate"\nform = "matrix"'), "form", 3, "reduced or eigen"),
    (INTEG.replace('task = "integrate"', 'task = "integrate"\nform = 1'), "form", 3, "must be a string"),
    (SMALL.replace('task = "rhs"', 'task = "rhs"\nform = "eigen"'), "form", 3, "task rhs takes form reduced"),
    (EIGEN.replace("s = [1.0]", "s = [1.0]\np0 = [1.0]"), "initial.p0", 18, "allowed: p, s"),
    (EIGEN.replace("\ns = [1.0]", ""), "initial", 0, "missing s"),
    (_p0('random = "normal", lo = 0.0, hi = 1.0, n = 3, seed = 1'),
     "initial.p0", 15, "random must be one of uniform"),
    (_p0('random = "uniform", lo = 0.0, hi = 1.0, n = 3'),
     "initial.p0", 15, "need seed"),
    (_p0('random = "uniform", lo = 1.0, hi = 1.0, n = 3, seed = 1'),
     "initial.p0", 15, "lo < hi"),
    (_p0('random = "uniform", lo = 0.0, hi = 1.0, n = 3, seed = -1'),
     "initial.p0", 15, "seed must be an integer in [0, 2**63)"),
    (_p0('random = "uniform", lo = 0.0, hi = 1.0, n = 3, seed = 1, log = true'),
     "initial.p0", 15, "unknown field 'log'"),
    (_p0('random = "uniform", lo = 0.0, hi = 1.0, n = 0, seed = 1'),
     "initial.p0", 15, "n must be an integer >= 1"),
    (INTEG.replace("rho = {lo = 0.001, hi = 0.2, n = 20, log = true}", 'rho = {random = "uniform", lo = 0.0, hi = 1.0, n = 3, seed = 1}'),
     "grid.rho", 12, "for [initial] only"),
])
def test_bad_new_keys_name_the_key_and_line(text, key, line, words):
    with pytest.raises(ConfigError) as e:
        parse_config(text, "c.toml")
    msg = str(e.value)
    assert "\n" not in msg and words in msg, msg
    assert (f"c.toml:{line}: {key}:" if line else f"c.toml: [{key}]:") in msg, msg


def test_l2_eigen_tau_is_a_state_variable():
    text = """model = "l2-byol"
task = "integrate"
form = "eigen"

[params]
sigma2 = 0.5

[grid]
tau = [0.5, 1.0]

[initial]
p = [0.5]
s = [1.0]
tau = [1.0]

[integrate]
t_end = 5.0
"""
    with pytest.raises(ConfigError, match=r"c.toml:9: grid.tau: is a state variable of the eigen form"):
        parse_config(text, "c.toml")
    cfg = parse_config(text.replace("tau = [0.5, 1.0]", "eta = [0.1, 0.2]"), "c.toml")
    assert [n for n, _ in cfg.initial] == ["p", "s", "tau"] and cfg.shape == (2, 1, 1, 1)


@pytest.mark.slow
def test_grid_axis_the_kernel_does_not_take(tmp_path):
    """beta is a field of L2Params but not a parameter of the reduced form (Tian eq. 16): refused
    with the key and its line before anything is written (it was an internal error)."""
    cfg = tmp_path / "c.toml"
    cfg.write_text('model = "l2-byol"\ntask = "regime"\n\n[params]\nsigma2 = 0.5\n\n[grid]\nbeta = [0.5, 1.0]\n')
    _one_line_error(_cli("sweep", cfg, "--out", tmp_path / "never"),
                    "c.toml:8: grid.beta: the reduced form of l2-byol does not depend on it (it takes eta, sigma2, tau, alpha_p)")
    assert not (tmp_path / "never").exists()
    cfg.write_text(cfg.read_text().replace("beta =", "Beta ="))       # the key as written, also when spelled otherwise
    _one_line_error(_cli("sweep", cfg, "--out", tmp_path / "never"), "c.toml:8: grid.Beta: the reduced form")


def test_parameter_spellings_are_the_registry_s():
    """symbolic.registry.field_name: n-phi and the kernel name N_Psi mean the fields n_phi and n_psi
    (the same config, the same hash); two spellings of one field are refused."""
    spelled = SMALL.replace("n_phi = 2.0", "n-phi = 2.0").replace("n_psi = [1.0, 1.5]", "N_Psi = [1.0, 1.5]")
    cfg = parse_config(spelled)
    assert cfg.params == parse_config(SMALL).params and [n for n, _ in cfg.axes] == ["rho", "n_psi"]
    assert cfg.hash == parse_config(SMALL).hash
    with pytest.raises(ConfigError, match=r"c.toml:13: grid.N_Psi: gives the axis n_psi a second time"):
        parse_config(SMALL.replace("n_psi = [1.0, 1.5]", "n_psi = [1.0, 1.5]\nN_Psi = [2.0]"), "c.toml")
    with pytest.raises(ConfigError, match=r"c.toml:8: params.N_Phi: gives n_phi a second time"):
        parse_config(SMALL.replace("n_phi = 2.0", "n_phi = 2.0\nN_Phi = 3.0"), "c.toml")


def test_new_key_error_on_the_cli_is_one_line(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text(INTEG + "t_eval = [1.0, 0.5]\n")
    _one_line_error(_cli("sweep", cfg, "--out", tmp_path / "never"), "c.toml:21: integrate.t_eval")
    assert not (tmp_path / "never").exists()


def test_configs_without_the_new_keys_keep_their_hash():
    """The hash of a config is what it was before form, t_eval, converge_tol and random values existed
    (value written down from the code at 51de79b), so sweep folders written then still resume."""
    assert parse_config(SMALL).hash == "d4061b9315b34da4d5eea93354e15345e0e309e74900db76c7ad144dd28d6a0a"
    np.testing.assert_array_equal(parse_config(SMALL).p0, np.linspace(-1.5, 1.5, 5))
