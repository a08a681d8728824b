"""Sweeps: resume after SIGKILL (bitwise), corrupted chunks, Dask equals the process pool, bad configs."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from sims.sweep import ConfigError, load_config, merge, run_sweep
from sims.sweep.manifest import recorded_chunks
from oracles import assert_bitwise_equal, integrate_sweep_config, npz_arrays

CFG = integrate_sweep_config(40, 40, "tsit5")


def _write(tmp_path, text, name="c.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


_arrays, _same = npz_arrays, assert_bitwise_equal


def test_sigkill_then_resume_is_bitwise_identical(tmp_path):
    cfg = _write(tmp_path, CFG)
    ref_dir, ref = tmp_path / "ref", tmp_path / "ref.npz"
    run_sweep(cfg, ref_dir, workers=1, progress=False)
    merge(ref_dir, ref)
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "sims.cli", "sweep", str(cfg), "--out", str(out), "--workers", "1"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    done = 0
    while time.time() < deadline:
        try:
            done = len(recorded_chunks(out))
        except (OSError, ValueError, KeyError):
            done = 0
        if done >= 3:
            break
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    n_chunks = load_config(cfg).n_chunks
    done = len(recorded_chunks(out))                      # the manifest's table and the journal
    assert 0 < done < n_chunks                               # killed midway
    with pytest.raises(Exception, match="missing or corrupted"):
        merge(out, tmp_path / "partial.npz")                 # never merges a partial sweep
    (out / "chunk_00019.npz.abc.tmp").write_bytes(b"half a chunk")   # as a kill during a write leaves it
    run_sweep(cfg, out, workers=1, progress=False)           # resume
    assert not list(out.glob("*.tmp"))
    merge(out, tmp_path / "resumed.npz")
    _same(_arrays(ref), _arrays(tmp_path / "resumed.npz"))


def test_corrupted_chunk_is_recomputed(tmp_path):
    cfg = _write(tmp_path, CFG.replace("n = 40}", "n = 8}"))
    out = tmp_path / "s"
    run_sweep(cfg, out, workers=1, progress=False)
    merge(out, tmp_path / "a.npz")
    victim = out / "chunk_00001.npz"
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])                # truncated
    (out / "chunk_00002.npz").write_bytes(b"garbage")         # corrupted
    with pytest.raises(Exception, match="chunk 1 is missing or corrupted"):
        merge(out, tmp_path / "b.npz")
    run_sweep(cfg, out, workers=1, progress=False)
    merge(out, tmp_path / "b.npz")
    _same(_arrays(tmp_path / "a.npz"), _arrays(tmp_path / "b.npz"))


@pytest.mark.slow
def test_dask_equals_process_pool(tmp_path):
    pytest.importorskip("dask.distributed")
    text = CFG.replace("n = 40}", "n = 8}")
    cfg = _write(tmp_path, text)
    run_sweep(cfg, tmp_path / "pool", workers=2, progress=False)
    merge(tmp_path / "pool", tmp_path / "pool.npz")
    run_sweep(cfg, tmp_path / "dask", dask_local=2, progress=False)
    merge(tmp_path / "dask", tmp_path / "dask.npz")
    _same(_arrays(tmp_path / "pool.npz"), _arrays(tmp_path / "dask.npz"))
    # and the values are the integrator's, point by point
    z = _arrays(tmp_path / "pool.npz")
    from dynamics.integrate import integrate
    from dynamics.params import CosineParams

    i, j = 7, 5
    one = integrate("cosine-simsiam", CosineParams(rho=float(z["axis_rho"][i])), z["axis_p0"][j:j + 1], 400.0, rtol=1e-10)
    assert one.final[0] == z["final"][i, j] and one.status[0] == z["status"][i, j]


@pytest.mark.slow
@pytest.mark.parametrize("edit,key,line", [
    (lambda t: t.replace('task = "integrate"', 'task = "integrate"\ncolour = "blue"'), "colour", 3),
    (lambda t: t.replace("chunk_size = 40", 'chunk_size = "forty"'), "chunk_size", 3),
    (lambda t: t.replace('model = "cosine-simsiam"', 'model = "no-such-model"'), "model", 1),
    (lambda t: t.replace("rho = {lo = 0.001, hi = 0.2, n = 20, log = true}", ""), "grid", 11),
    (lambda t: t.replace("sigma2 = 0.5", "sigma2 = -0.5"), "sigma2", 6),
    (lambda t: t.replace("sigma2 = 0.5", 'sigma2 = "half"'), "sigma2", 6),
    (lambda t: t.replace("trace = 0.5", "trace = 0.5\nrho = 0.1"), "grid.rho", 13),
    (lambda t: t.replace("[grid]", "[grid]\ncolour = [1.0]"), "grid.colour", 12),
    (lambda t: t.replace('method = "tsit5"', 'method = "euler"'), "integrate.method", 19),
    (lambda t: t.replace("n = 20, log", "n = 0, log"), "grid.rho", 12),
    (lambda t: t.replace("t_end = 400.0", "t_end = -1.0"), "integrate.t_end", 18),
])
def test_malformed_config_fails_before_work(tmp_path, edit, key, line):
    cfg = _write(tmp_path, edit(CFG))
    out = tmp_path / "never"
    with pytest.raises(ConfigError) as e:
        run_sweep(cfg, out, workers=1, progress=False)
    msg = str(e.value)
    assert key in msg
    if line:
        assert f"c.toml:{line}:" in msg
    assert not out.exists()                                   # no work started, nothing written
    r = subprocess.run([sys.executable, "-m", "sims.cli", "sweep", str(cfg), "--out", str(out)], capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr and key in r.stderr


def test_examples_are_valid():
    root = Path(__file__).resolve().parents[1] / "sims" / "examples"
    files = sorted(root.glob("*.toml"))
    assert len(files) >= 2
    for f in files:
        assert load_config(f).n_points > 0


def test_netcdf_merge_equals_npz(tmp_path):
    xr = pytest.importorskip("xarray")
    cfg = _write(tmp_path, CFG.replace("n = 40}", "n = 4}").replace("n = 20, log", "n = 6, log"))
    run_sweep(cfg, tmp_path / "s", workers=1, progress=False)
    merge(tmp_path / "s", tmp_path / "m.npz")
    merge(tmp_path / "s", tmp_path / "m.nc")
    z = _arrays(tmp_path / "m.npz")
    with xr.open_dataset(tmp_path / "m.nc") as d:
        for k in ("final", "status", "t_event"):
            np.testing.assert_array_equal(d[k].values, z[k])


RHS_CFG = """model = "cosine-simsiam"
task = "rhs"
chunk_size = 700

[params]
sigma2 = 0.5
n_phi = 2.0
trace = 0.5

[grid]
rho = {lo = 0.0, hi = 0.2, n = 30}
n_psi = [0.5, 1.0, 1.5, 3.0]

[initial]
p0 = {lo = -1.5, hi = 1.5, n = 25}
"""


def test_rhs_task_is_eq7(tmp_path):
    cfg = _write(tmp_path, RHS_CFG)
    assert load_config(cfg).n_chunks == 5                    # 3000 points in chunks of 700
    run_sweep(cfg, tmp_path / "s", workers=1, progress=False)
    merge(tmp_path / "s", tmp_path / "m.npz")
    z = _arrays(tmp_path / "m.npz")
    assert z["rhs"].shape == (30, 4, 25)                    # (rho, n_psi, p0), first axis slowest
    rho, npsi, p = np.meshgrid(z["axis_rho"], z["axis_n_psi"], z["axis_p0"], indexing="ij")
    # oracle: Bao eq. 7 as written in the theory notes, pdot = p^2 (N_Psi^2 - T p - 2 p^4) / ((1+s2) N_Phi N_Psi^3) - rho p
    want = p**2 * (npsi**2 - 0.5 * p - 2 * p**4) / (1.5 * 2.0 * npsi**3) - rho * p
    # a few ulp of the largest term (the kernel is a rearranged, fastmath-compiled form)
    scale = np.abs(p**2 * npsi**2 / (3.0 * npsi**3)) + np.abs(2 * p**6 / (3.0 * npsi**3)) + np.abs(rho * p)
    assert np.all(np.abs(z["rhs"] - want) <= 1e-14 * (scale + 1.0))
