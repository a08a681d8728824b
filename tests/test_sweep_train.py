"""The train sweep task (issue #21): recipes checked before anything runs; each cell is one training
run whose stored outcome equals a direct run's; a SIGKILLed sweep resumes and merges bitwise equal to
an uninterrupted one, on the process pool and on a real Dask scheduler."""
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")

from sims.sweep import merge, run_sweep  # noqa: E402
from sims.sweep.config import parse_config as parse_sweep_config  # noqa: E402
from symbolic.errors import ParameterError  # noqa: E402
from oracles import assert_bitwise_equal, free_port, npz_arrays, port_open, wait_until  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

TINY = """model = "linear"
task = "train"
[params]
loss = "l2"
d = 6
h = 6
epochs = 4
steps_per_epoch = 2
batch = 32
[grid]
rho_factor = [0.5, 3.0]
seed = [0, 1, 2, 3]
"""


_arrays, _same = npz_arrays, assert_bitwise_equal


@pytest.mark.parametrize("edit,words", [
    ('model = "resnet18"', "trains the linear model"),
    ('model = "linear"\nform = "x"', "takes model, task"),
    ("[grid]\nfoo = [1]", "unknown recipe axis"),
    ("[grid]\nrho = [0.1]\nrho_factor = [1.0]", "give it once"),
    ("[grid]\nlr = [0.1, -1.0]", "lr must be in (0, inf)"),
    ("[grid]\nmomentum = [0.5, 1.0]", "momentum must be in [0, 1)"),
    ("[grid]\nbatch = [0]", "batch must be an integer"),
    ("[params]\nloss = \"x\"\n[grid]\nlr = [0.1]", "must be \"cosine\" or \"l2\""),
])
def test_bad_train_configs_are_refused_before_running(edit, words):
    head = 'model = "linear"\ntask = "train"\n'
    if edit.startswith("model"):
        text = edit + '\ntask = "train"\n[grid]\nlr = [0.1]\n'
    else:
        text = head + edit + "\n"
    with pytest.raises(ParameterError, match=words.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")):
        parse_sweep_config(text)


def test_cells_equal_direct_runs(tmp_path):
    """A cell's measured outcome and prediction are those of training its recipe directly."""
    import torch

    from dynamics.recipe_outcome import OUTCOMES, predict_outcome
    from sims.commands.predict import exact_initial_weights
    from sims.sweep.train_task import recipe_of_point
    from sims.train import TrainConfig, summarize
    from sims.train.trainer import train

    cfg_path = tmp_path / "t.toml"
    cfg_path.write_text(TINY.replace("seed = [0, 1, 2, 3]", "seed = [5]"))
    run_sweep(cfg_path, tmp_path / "sw", workers=1, progress=False)
    merge(tmp_path / "sw", tmp_path / "m.npz")
    z = _arrays(tmp_path / "m.npz")
    cfg = parse_sweep_config(cfg_path.read_text())
    torch.set_num_threads(1)
    for i in range(2):
        r, factor = recipe_of_point(cfg, i)
        W0, Phi0, _ = exact_initial_weights(r)
        assert r.rho == pytest.approx(factor * r.critical_init(W0, Phi0))
        tc = TrainConfig(mode="linear", loss=r.loss, rho=r.rho, sigma2=r.sigma2, epochs=r.epochs,
                         steps_per_epoch=r.steps_per_epoch, batch=r.batch, lr=r.lr, momentum=r.momentum, d=r.d,
                         h=r.h, device="cpu", seed=r.seed, overlay=False)
        s = summarize(tc, train(tc, tmp_path / f"direct{i}"), "test")
        assert OUTCOMES[z["measured_outcome"].ravel()[i]] == s["measured_outcome"]
        assert z["surviving_modes"].ravel()[i] == s["surviving_modes"]
        assert OUTCOMES[z["predicted_outcome"].ravel()[i]] == predict_outcome(r, W0, Phi0).outcome
        stored = json.loads(bytes(z["summary"].ravel()[i]).decode())
        assert stored["p_final"] == pytest.approx(s["p_final"], rel=1e-6, abs=1e-9)
        assert "images_per_s" not in stored


def _cli(*args, env=None):
    return subprocess.Popen([sys.executable, "-m", "sims.cli", *map(str, args)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)


def _n_chunks(out):
    from sims.sweep.manifest import recorded_chunks
    try:
        return len(recorded_chunks(out))
    except Exception:          # not yet written, or half written
        return 0


_wait = wait_until


@pytest.mark.slow
def test_sigkilled_train_sweep_resumes_bitwise(tmp_path):
    cfg = tmp_path / "t.toml"
    cfg.write_text(TINY)
    ref = _cli("sweep", cfg, "--out", tmp_path / "ref", "--workers", 2, "--no-progress")
    _, err = ref.communicate(timeout=600)
    assert ref.returncode == 0, err
    out = tmp_path / "killed"
    p = _cli("sweep", cfg, "--out", out, "--workers", 2, "--no-progress")
    try:
        _wait(lambda: _n_chunks(out) >= 2 or p.poll() is not None, 300, "two chunks")
        assert p.poll() is None and _n_chunks(out) < 8, "the sweep ended before it was killed"
        os.killpg(p.pid, signal.SIGKILL)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
        p.communicate()                   # reaps it and closes its pipes
    again = _cli("sweep", cfg, "--out", out, "--workers", 2, "--no-progress")
    text, err = again.communicate(timeout=600)
    assert again.returncode == 0, err
    assert "skipped" in text
    merge(out, tmp_path / "k.npz")
    merge(tmp_path / "ref", tmp_path / "r.npz")
    _same(_arrays(tmp_path / "k.npz"), _arrays(tmp_path / "r.npz"))


_free_port = free_port


@pytest.mark.slow
def test_train_sweep_on_a_dask_scheduler_with_a_killed_worker(tmp_path):
    pytest.importorskip("distributed")
    from distributed import Client

    cfg = tmp_path / "t.toml"
    cfg.write_text(TINY)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    port = _free_port()
    addr = f"tcp://127.0.0.1:{port}"
    logs = open(tmp_path / "cluster.log", "w")
    procs = []
    try:
        procs.append(subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1",
                                       "--port", str(port), "--no-dashboard"], env=env, cwd=tmp_path,
                                      stdout=logs, stderr=logs))
        _wait(lambda: port_open(port), 60, "the scheduler")
        workers = [subprocess.Popen([sys.executable, "-m", "distributed.cli.dask_worker", addr, "--nthreads", "1",
                                     "--no-nanny", "--no-dashboard", "--host", "127.0.0.1"], env=env, cwd=tmp_path,
                                    stdout=logs, stderr=logs) for _ in range(2)]
        procs += workers
        out = tmp_path / "dask"
        sweep = _cli("sweep", cfg, "--out", out, "--scheduler", addr, "--no-progress", env=env)
        procs.append(sweep)
        with Client(addr, timeout=60) as c:
            c.wait_for_workers(2, timeout=120)
            _wait(lambda: _n_chunks(out) >= 1 or sweep.poll() is not None, 300, "a chunk")
            if sweep.poll() is None and _n_chunks(out) < 8:
                os.kill(workers[0].pid, signal.SIGKILL)
                workers[0].wait()
        _, err = sweep.communicate(timeout=600)
        assert sweep.returncode == 0, err
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.kill()
                p.wait()
        logs.close()
    ref = _cli("sweep", cfg, "--out", tmp_path / "pool", "--workers", 2, "--no-progress")
    _, err = ref.communicate(timeout=600)
    assert ref.returncode == 0, err
    merge(out, tmp_path / "d.npz")
    merge(tmp_path / "pool", tmp_path / "p.npz")
    _same(_arrays(tmp_path / "d.npz"), _arrays(tmp_path / "p.npz"))
