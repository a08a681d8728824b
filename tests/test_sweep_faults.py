"""Sweeps under faults: edited manifests, a second sweep into the same folder, oversized or malformed
configs, SIGKILL of the parent of pool workers, Ctrl-C of a pool or Dask sweep."""
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import namedtuple
from pathlib import Path

import numpy as np
import pytest

from sims.sweep import ConfigError, load_config, merge, parse_config, run_sweep
from sims.sweep.manifest import recorded_chunks
from symbolic.errors import ParameterError
from oracles import integrate_sweep_config

ROOT = Path(__file__).resolve().parents[1]
Usage = namedtuple("Usage", "total used free")

# 60 points in 3 chunks of the cheap rhs task
SMALL = """model = "cosine-simsiam"
task = "rhs"
chunk_size = 20

[params]
sigma2 = 0.5
n_phi = 2.0
trace = 0.5

[grid]
rho = {lo = 0.0, hi = 0.2, n = 6}
n_psi = [1.0, 1.5]

[initial]
p0 = {lo = -1.5, hi = 1.5, n = 5}
"""

# 120 chunks of about 0.2 s each (one core): still running when killed
LONG = integrate_sweep_config(400, 9600)


def _write(tmp_path, text, name="c.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def _cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "sims.cli", *map(str, args)], capture_output=True, text=True,
                          cwd=ROOT, **kw)


def _one_line_error(r, *words):
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ssldyn: error: "), r.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])


def _arrays(path):
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


@pytest.fixture(scope="module")
def done_sweep(tmp_path_factory):
    """A finished sweep of SMALL and its merged result."""
    d = tmp_path_factory.mktemp("done")
    cfg = _write(d, SMALL)
    run_sweep(cfg, d / "s", workers=1, progress=False)
    merge(d / "s", d / "ref.npz")
    return cfg, d / "s", _arrays(d / "ref.npz")


def _copy(done_sweep, tmp_path):
    cfg, src, ref = done_sweep
    out = tmp_path / "s"
    shutil.copytree(src, out)
    return cfg, out, ref


def _edit_manifest(out, fn):
    p = out / "manifest.json"
    m = json.loads(p.read_text())
    fn(m)
    p.write_text(json.dumps(m))


def _set(key, value):
    return lambda m: m.__setitem__(key, value)


def _swap_chunks(out, i, j):
    a, b = out / f"chunk_{i:05d}.npz", out / f"chunk_{j:05d}.npz"
    tmp = out / "swap"
    a.rename(tmp)
    b.rename(a)
    tmp.rename(b)
    _edit_manifest(out, lambda m: m["chunks"].update({str(i): m["chunks"][str(j)], str(j): m["chunks"][str(i)]}))


MANIFEST_EDITS = [
    ("axes", lambda m: m["axes"].__setitem__(0, "sigma2")),
    ("axes", lambda m: m["axes"].reverse()),
    ("shape", _set("shape", [5, 2, 6])),
    ("n_chunks", _set("n_chunks", 2)),
    ("n_points", _set("n_points", 40)),
    ("model", _set("model", "l2-byol")),
    ("task", _set("task", "fate")),
    ("format", _set("format", 1)),
    ("config_hash", lambda m: m.__setitem__("config", m["config"].replace("n = 6}", "n = 3}"))),
    ("chunks", lambda m: m["chunks"].__setitem__("7", m["chunks"]["0"])),
]


@pytest.mark.parametrize("what,edit", MANIFEST_EDITS, ids=[f"{w}-{i}" for i, (w, _) in enumerate(MANIFEST_EDITS)])
def test_edited_manifest_is_refused_by_merge_and_resume(done_sweep, tmp_path, what, edit):
    cfg, out, _ = _copy(done_sweep, tmp_path)
    _edit_manifest(out, edit)
    with pytest.raises(ParameterError, match=what):
        merge(out, tmp_path / "m.npz")
    assert not (tmp_path / "m.npz").exists()
    with pytest.raises(ParameterError, match="config_hash|different config" if what == "config_hash" else what):
        run_sweep(cfg, out, workers=1, progress=False)


@pytest.mark.slow
def test_edited_manifest_merge_cli_is_one_line(done_sweep, tmp_path):
    _, out, _ = _copy(done_sweep, tmp_path)
    _edit_manifest(out, _set("shape", [2, 6, 5]))
    _one_line_error(_cli("sweep", "--merge", out, "--out", tmp_path / "m.npz"), "shape")


def test_forged_config_is_caught_by_the_chunks(done_sweep, tmp_path):
    """Config, hash and every field rewritten consistently: the chunks still name the old config."""
    _, out, _ = _copy(done_sweep, tmp_path)
    from sims.sweep import _manifest_fields

    forged = parse_config(SMALL.replace("hi = 0.2", "hi = 0.4"))

    def forge(m):
        m.update(_manifest_fields(forged))
        m["config"] = forged.text

    _edit_manifest(out, forge)
    with pytest.raises(ParameterError, match="chunk 0 was computed for another config"):
        merge(out, tmp_path / "m.npz")


def test_chunks_swapped_with_their_checksums(done_sweep, tmp_path):
    cfg, out, ref = _copy(done_sweep, tmp_path)
    _swap_chunks(out, 0, 1)
    with pytest.raises(ParameterError, match="chunk 0 holds the points of chunk 1"):
        merge(out, tmp_path / "m.npz")
    run_sweep(cfg, out, workers=1, progress=False)            # resume recomputes both
    merge(out, tmp_path / "m.npz")
    got = _arrays(tmp_path / "m.npz")
    assert set(got) == set(ref) and all(np.array_equal(got[k], ref[k]) for k in ref)


def test_short_chunk_with_a_matching_checksum(done_sweep, tmp_path):
    _, out, _ = _copy(done_sweep, tmp_path)
    from sims.io import write_npz

    z = _arrays(out / "chunk_00001.npz")
    z["rhs"] = z["rhs"][:10]
    digest = write_npz(out / "chunk_00001.npz", z)
    _edit_manifest(out, lambda m: m["chunks"].__setitem__("1", digest))
    with pytest.raises(ParameterError, match=r"chunk 1 has rhs of shape \(10,\); chunk 1 has 20 points"):
        merge(out, tmp_path / "m.npz")


# --- the folder lock and temporary files -------------------------------------------------------
@pytest.mark.slow
def test_locked_folder_is_refused_and_foreign_temp_files_survive(done_sweep, tmp_path):
    cfg, out, _ = _copy(done_sweep, tmp_path)
    own = out / "chunk_00001.npz.k2j3.tmp"                    # a kill during our write leaves this
    foreign = [out / "other.npz.ab12.tmp", out / "chunk_00099.npz.x.tmp", out / "notes.tmp"]
    for p in [own, *foreign]:
        p.write_bytes(b"half a file")
    fd = os.open(out / ".lock", os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)         # as a running sweep holds it
        with pytest.raises(ParameterError, match=f"another sweep holds {out}"):
            run_sweep(cfg, out, workers=1, progress=False)
        assert own.exists()                                    # nothing touched without the lock
        _one_line_error(_cli("sweep", cfg, "--out", out, "--workers", 1), "another sweep holds")
    finally:
        os.close(fd)
    run_sweep(cfg, out, workers=1, progress=False)
    assert not own.exists()
    assert all(p.exists() for p in foreign)


# --- sizes and malformed configs, refused before anything is written ----------------------------
BIG = [
    pytest.param(lambda t: t.replace("rho = {lo = 0.0, hi = 0.2, n = 6}", "rho = {lo = 0.0, hi = 0.2, n = 1000000}")
     .replace("p0 = {lo = -1.5, hi = 1.5, n = 5}", "p0 = {lo = -1.5, hi = 1.5, n = 500000}"), "grid.rho", 11, "points",
     id="1e12-points"),
    pytest.param(lambda t: t.replace("n_psi = [1.0, 1.5]", "n_psi = {lo = 1.0, hi = 2.0, n = 1000000}")
     .replace("rho = {lo = 0.0, hi = 0.2, n = 6}", "rho = {lo = 0.0, hi = 0.2, n = 1000000}")
     .replace("p0 = {lo = -1.5, hi = 1.5, n = 5}", "p0 = {lo = -1.5, hi = 1.5, n = 1000000}"), "grid.rho", 11, "points",
     id="1e18-points"),
    # one axis of 1e12 values (never allocated)
    pytest.param(lambda t: t.replace("n = 6}", "n = 1000000000000}"), "grid.rho", 11, "limit", id="1e12-axis"),
    # 1e7 points in chunks of 20
    pytest.param(lambda t: t.replace("n = 6}", "n = 1000000}"), "chunk_size", 3, "chunks", id="5e5-chunks"),
    pytest.param(lambda t: t.replace("chunk_size = 20", "chunk_size = 100000000"), "chunk_size", 3, "must be in",
                 id="huge-chunk"),
    pytest.param(lambda t: t.replace("n = 6}", "n = true}"), "grid.rho", 11, "n must be an integer", id="bool-n"),
    pytest.param(lambda t: t.replace("lo = 0.0, hi = 0.2", "lo = false, hi = 0.2"), "grid.rho", 11, "lo must be",
                 id="bool-lo"),
    pytest.param(lambda t: t.replace("n = 6}", "n = 6, log = 1}"), "grid.rho", 11, "log must be true or false",
                 id="int-log"),
    pytest.param(lambda t: t.replace("lo = -1.5", "lo = nan"), "initial.p0", 15, "lo must be a finite number",
                 id="nan-lo"),
    pytest.param(lambda t: t.replace('task = "rhs"', 'task = "regime"'), "initial.p0", 15, "does not use [initial]",
                 id="unused-initial"),
    pytest.param(lambda t: t + "\n[integrate]\nt_end = 5.0\n", "integrate.t_end", 18, "does not use [integrate]",
                 id="unused-integrate"),
    pytest.param(lambda t: t + "\n[integrate]\n", "integrate", 17, "does not use [integrate]", id="empty-unused"),
]


@pytest.mark.parametrize("edit,key,line,words", BIG)
def test_oversized_or_malformed_config_fails_at_load(tmp_path, edit, key, line, words):
    cfg = _write(tmp_path, edit(SMALL))
    out = tmp_path / "never"
    t = time.monotonic()
    with pytest.raises(ConfigError) as e:
        run_sweep(cfg, out, workers=1, progress=False)
    assert time.monotonic() - t < 5
    msg = str(e.value)
    assert f"c.toml:{line}: {key}" in msg and "\n" not in msg
    if words:
        assert words in msg
    assert not out.exists()


def test_not_enough_disk_space(tmp_path, monkeypatch):
    cfg = _write(tmp_path, SMALL)
    out = tmp_path / "never"
    monkeypatch.setattr(shutil, "disk_usage", lambda p: Usage(10**12, 10**12 - 100, 100))
    with pytest.raises(ConfigError, match=r"c.toml:10: grid: the sweep needs about .* and .* has 100 B free"):
        run_sweep(cfg, out, workers=1, progress=False)
    assert not out.exists()


def _not_utf8(tmp_path):
    p = tmp_path / "c.toml"
    p.write_bytes(SMALL.encode().replace(b"cosine", b"cos\xffine"))
    return p


def _folder(tmp_path):
    p = tmp_path / "c.toml"
    p.mkdir()
    return p


@pytest.mark.slow
@pytest.mark.parametrize("make,words", [
    (_not_utf8, "UTF-8"),
    (_folder, "is a folder"),
    (lambda tmp: _write(tmp, SMALL.replace("[grid]", "[grid")), "not valid TOML"),
    (lambda tmp: _write(tmp, SMALL + "\n[grid]\n"), "not valid TOML"),
])
def test_unreadable_config_is_one_line(tmp_path, make, words):
    cfg = make(tmp_path)
    with pytest.raises(ConfigError, match=words):
        load_config(cfg)
    _one_line_error(_cli("sweep", cfg, "--out", tmp_path / "never"), words)
    assert not (tmp_path / "never").exists()


def test_unreadable_file(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root reads any file")
    cfg = _write(tmp_path, SMALL)
    cfg.chmod(0)
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(cfg)


@pytest.mark.slow
def test_workers_capped(tmp_path):
    cfg = _write(tmp_path, SMALL.replace("chunk_size = 20", "chunk_size = 100"))   # one chunk
    cap = 4 * os.cpu_count()
    _one_line_error(_cli("sweep", cfg, "--out", tmp_path / "never", "--workers", 1024), f"[1, {cap}]", "--workers")
    assert not (tmp_path / "never").exists()
    with pytest.raises(ParameterError, match=rf"--dask-local must be an integer in \[1, {cap}\]"):
        run_sweep(cfg, tmp_path / "never", dask_local=cap + 1, progress=False)


# --- processes ------------------------------------------------------------------------------------
def _children(pid):
    """Live (not zombie) processes whose parent is ``pid``, from /proc."""
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                state, ppid = (d / "stat").read_text().rsplit(")", 1)[1].split()[:2]
            except (OSError, ValueError):
                continue
            if int(ppid) == pid and state != "Z":
                out.append(int(d.name))
    return out


def _alive(pid):
    try:
        os.kill(pid, 0)
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, ProcessLookupError):
        return False
    return state != "Z"


def _wait_chunks(out, n, proc, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the sweep ended early"
        try:
            if len(recorded_chunks(out)) >= n:
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.05)
    raise AssertionError(f"fewer than {n} chunks after {timeout} s")


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
def test_sigkill_of_the_parent_ends_the_pool_workers(tmp_path):
    cfg = _write(tmp_path, LONG)
    out = tmp_path / "s"
    proc = subprocess.Popen([sys.executable, "-m", "sims.cli", "sweep", str(cfg), "--out", str(out), "--workers", "2"],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kids = []
    try:
        _wait_chunks(out, 1, proc)                             # the workers are computing
        kids = _children(proc.pid)
        assert len(kids) >= 2
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(k) for k in kids):
            time.sleep(0.1)
        assert not [k for k in kids if _alive(k)]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for k in kids:
            if _alive(k):
                os.kill(k, signal.SIGKILL)


def _default_sigint():
    """In the child before exec: SIGINT back to its default. A disposition ignored anywhere up the
    chain (a runner, a library's C code) is inherited, and Python then never raises
    KeyboardInterrupt: the sweep would not see the Ctrl-C this test sends (seen once in CI)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
@pytest.mark.parametrize("how", ["--dask-local", "--workers"])
def test_ctrl_c_is_one_line_and_keeps_finished_chunks(tmp_path, how):
    if how == "--dask-local":
        pytest.importorskip("dask.distributed")
    cfg = _write(tmp_path, LONG)
    out = tmp_path / "s"
    proc = subprocess.Popen([sys.executable, "-m", "sims.cli", "sweep", str(cfg), "--out", str(out), how, "2",
                             "--no-progress"], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, preexec_fn=_default_sigint)
    try:
        _wait_chunks(out, 2, proc)
        os.killpg(proc.pid, signal.SIGINT)                     # what Ctrl-C in a terminal does: the whole group
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130
    assert err.strip().splitlines() == ["ssldyn: interrupted"], err
    m = json.loads((out / "manifest.json").read_text())
    assert 2 <= len(m["chunks"]) < m["n_chunks"]              # partial results kept, and they verify
    from sims.io import sha256
    for i, digest in m["chunks"].items():
        assert sha256((out / f"chunk_{int(i):05d}.npz").read_bytes()) == digest
