"""A sweep on a real Dask cluster (a scheduler and two workers, separate processes on 127.0.0.1)
survives SIGKILL of one worker mid-sweep and merges to the process pool's result, bitwise."""
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sims.sweep import merge
from sims.sweep.manifest import recorded_chunks
from oracles import free_port, integrate_sweep_config, npz_arrays, port_open, wait_until

pytest.importorskip("distributed")

ROOT = Path(__file__).resolve().parents[1]

# 24 chunks of about 0.1 s each (one core)
CFG = integrate_sweep_config(200, 240)


_free_port, _wait = free_port, wait_until


_listening = port_open


def _n_chunks(out):
    try:
        return len(recorded_chunks(out))
    except (OSError, ValueError, KeyError):
        return 0


_arrays = npz_arrays


def _cli(*args, env):
    return subprocess.Popen([sys.executable, "-m", "sims.cli", *map(str, args)], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.mark.slow
def test_worker_killed_mid_sweep(tmp_path):
    from distributed import Client

    cfg = tmp_path / "c.toml"
    cfg.write_text(CFG)
    # the workers import this checkout's code, as the sweep processes do
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    port = _free_port()
    addr = f"tcp://127.0.0.1:{port}"
    logs = open(tmp_path / "cluster.log", "w")
    procs = []
    try:
        pool = _cli("sweep", cfg, "--out", tmp_path / "pool", "--workers", 2, "--no-progress", env=env)   # the reference
        procs.append(pool)
        procs.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                       "--port", str(port), "--no-dashboard"], env=env, cwd=tmp_path,
                                      stdout=logs, stderr=logs))
        _wait(lambda: _listening(port), 30, "the scheduler")
        workers = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", addr, "--nthreads", "1",
                                     "--no-nanny", "--no-dashboard", "--host", "127.0.0.1"], env=env, cwd=tmp_path,
                                    stdout=logs, stderr=logs) for _ in range(2)]
        procs += workers
        out = tmp_path / "dask"
        sweep = _cli("sweep", cfg, "--out", out, "--scheduler", addr, "--no-progress", env=env)
        procs.append(sweep)
        with Client(addr, timeout=30) as c:
            c.wait_for_workers(2, timeout=40)
            _wait(lambda: _n_chunks(out) >= 2 or sweep.poll() is not None, 40, "two chunks")
            assert sweep.poll() is None and _n_chunks(out) < 24, "the sweep ended before a worker was killed"
            assert len(c.scheduler_info()["workers"]) == 2
            os.kill(workers[0].pid, signal.SIGKILL)
            workers[0].wait()
        _, err = sweep.communicate(timeout=40)
        assert sweep.returncode == 0, err
        _, err = pool.communicate(timeout=40)
        assert pool.returncode == 0, err
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.kill()
                p.wait()
        logs.close()
    merge(out, tmp_path / "dask.npz")
    merge(tmp_path / "pool", tmp_path / "pool.npz")
    a, b = _arrays(tmp_path / "dask.npz"), _arrays(tmp_path / "pool.npz")
    assert set(a) == set(b)
    for k in a:
        assert np.array_equal(a[k], b[k], equal_nan=a[k].dtype.kind == "f"), k
        assert a[k].dtype == b[k].dtype and a[k].tobytes() == b[k].tobytes(), k      # bitwise
