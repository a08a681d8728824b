"""Round-3 reliability of outputs and sweeps (issue #23): atomic writers under a full disk and
SIGTERM/SIGKILL, output paths checked before any work, sweep folders never taken over, bounded
reads, manifest size and per-chunk cost, memory and point limits before allocation, CLI options.

Each test names the finding it covers (D1 ... T6 of the round-3 findings).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

from sims.cli import main
from sims.sweep import merge, parse_config, run_sweep
from symbolic import files
from symbolic.errors import ParameterError

ROOT = Path(__file__).resolve().parents[1]
#: 6 regime points of the L2 model in 3 chunks (cheap; l2-byol's kernels are shared with other tests)
SMALL = 'model = "l2-byol"\ntask = "regime"\nchunk_size = 2\n[params]\nsigma2 = 0.5\n[grid]\neta = [0.0, 0.1, 0.2]\ntau = [0.5, 1.0]\n'
#: another config (another hash) of the same shape
OTHER = SMALL.replace("sigma2 = 0.5", "sigma2 = 0.25")
root_only = pytest.mark.skipif(os.geteuid() != 0, reason="mounts a tmpfs: needs root")


def _state(folder: Path) -> dict:
    """name -> SHA-256 of every file under ``folder`` (the .lock file aside)."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and p.name != ".lock"}


def _cli(argv, capsys):
    try:
        code = main([str(a) for a in argv])
    except SystemExit as e:
        code = e.code
    cap = capsys.readouterr()
    return code, cap.out, cap.err


def _one_line(code, err, *words):
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("ssldyn: error:"), err
    assert "internal error" not in err and "Traceback" not in err
    for w in words:
        assert w in lines[0], (w, lines[0])


@pytest.fixture(scope="module")
def done(tmp_path_factory):
    """A finished SMALL sweep, its config and its NPZ merge (the reference)."""
    d = tmp_path_factory.mktemp("ref")
    (d / "c.toml").write_text(SMALL)
    (d / "o.toml").write_text(OTHER)
    run_sweep(d / "c.toml", d / "sw", workers=1, progress=False)
    run_sweep(d / "o.toml", d / "other", workers=1, progress=False)
    merge(d / "sw", d / "ref.npz")
    return d


def _copy(done, tmp_path, name="sw"):
    shutil.copytree(done / name, tmp_path / name)
    return tmp_path / name


def _arrays(path):
    with np.load(path) as z:
        return {k: z[k] for k in z.files}


# ---------------------------------------------------------------- D1: NetCDF written atomically

@pytest.mark.slow
def test_netcdf_merge_failing_midway_keeps_the_old_file(done, tmp_path, monkeypatch):
    xr = pytest.importorskip("xarray")
    good = tmp_path / "good.nc"
    merge(done / "sw", good)
    before = good.read_bytes()
    ref = _arrays(done / "ref.npz")
    with xr.open_dataset(good) as ds:                  # the NetCDF holds the NPZ's numbers
        np.testing.assert_array_equal(ds["regime"].values, ref["regime"])

    def half(self, path, *a, **k):                     # writes part of a file, then the disk is full
        Path(path).write_bytes(b"CDF\x01" + b"\0" * 100)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(xr.Dataset, "to_netcdf", half)
    with pytest.raises(ParameterError, match="No space left on device"):
        merge(done / "sw", good)
    assert good.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["good.nc"]     # no temporary file left


@pytest.mark.slow
@root_only
@pytest.mark.parametrize("suffix", [".nc", ".npz"])
def test_merge_onto_a_full_disk_keeps_the_old_file(done, tmp_path, suffix):
    if suffix == ".nc":
        pytest.importorskip("xarray")
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)], check=True)
    try:
        good = disk / f"good{suffix}"
        merge(done / "sw", good)
        before = good.read_bytes()
        with open(disk / "filler", "wb", buffering=0) as f:      # fill the disk to the last byte
            with pytest.raises(OSError):
                while True:
                    f.write(b"\0" * 1024)
        with pytest.raises(ParameterError, match="No space left|cannot be written"):
            merge(done / "sw", good)
        assert good.read_bytes() == before
        assert sorted(os.listdir(disk)) == ["filler", good.name]
    finally:
        subprocess.run(["umount", str(disk)], check=True)


# ---------------------------------------------------------------- D2: merge into its own folder

@pytest.mark.parametrize("inside", ["manifest.json", "chunk_00000.npz", "m.npz", "sub/m.nc", "link/m.npz"])
def test_merge_out_inside_the_merged_folder_is_refused(done, tmp_path, capsys, inside):
    out = _copy(done, tmp_path)
    (tmp_path / "link").symlink_to(out)                # a path that resolves into the folder
    before = _state(out)
    target = (tmp_path / inside) if inside.startswith("link") else out / inside
    with pytest.raises(ParameterError, match="--out"):
        merge(out, target)
    code, _, err = _cli(["sweep", "--merge", out, "--out", target], capsys)
    _one_line(code, err, "--out")
    assert _state(out) == before


# ---------------------------------------------------------------- D3: --plot writes what was asked

def test_plot_writes_its_suffix_format_only(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("m.png").write_text("precious")
    Path("m.pdf").write_text("precious too")
    code, out, err = _cli(["regime-map", "--model", "l2-byol", "--x", "eta:0:0.2:3", "--y", "tau:0.5:1:2",
                           "--out", "o.npz", "--plot", "m.svg", "--no-folds"], capsys)
    assert code == 0, err
    assert Path("m.png").read_text() == "precious" and Path("m.pdf").read_text() == "precious too"
    assert b"<svg" in Path("m.svg").read_bytes()[:2000]
    assert sorted(os.listdir()) == ["m.pdf", "m.png", "m.svg", "o.npz"]


@pytest.mark.parametrize("plot,out,words", [("m.xyz", "o.npz", ["--plot", ".png"]), ("m", "o.npz", ["--plot"]),
                                            ("same.png", "same.png", ["--out", ".npz"]),
                                            ("link.pdf", "o.npz", ["--plot", "symbolic link"])])
def test_bad_plot_or_out_is_refused_before_any_work(tmp_path, capsys, monkeypatch, plot, out, words):
    monkeypatch.chdir(tmp_path)
    Path("m.png").write_text("precious")
    Path("link.pdf").symlink_to(tmp_path / "m.png")
    for argv in (["regime-map", "--model", "l2-byol", "--x", "eta:0:0.2:3", "--y", "tau:0.5:1:2"],
                 ["bifurcation", "--model", "l2-byol", "--param", "eta:0:0.3", "--n", "5"]):
        code, _, err = _cli(argv + ["--out", out, "--plot", plot], capsys)
        _one_line(code, err, *words)
        assert sorted(os.listdir()) == ["link.pdf", "m.png"] and Path("m.png").read_text() == "precious"


# ---------------------------------------------------------------- D4, M9: never take over a folder

def _write(tmp_path, text, name="c.toml"):
    (tmp_path / name).write_text(text)
    return tmp_path / name


@pytest.mark.parametrize("manifest", ['{"broken": ', "// my app manifest\n{\"name\": \"app\"}\n", '{"name": "app"}',
                                      "[1, 2]", None])
def test_folder_with_foreign_chunks_or_manifest_is_refused(done, tmp_path, capsys, manifest):
    cfg = _write(tmp_path, SMALL)
    out = _copy(done, tmp_path, "other")                # chunks of another config
    if manifest is None:
        (out / "manifest.json").unlink()
    else:
        (out / "manifest.json").write_text(manifest)
    before = _state(out)
    with pytest.raises(ParameterError, match="another --out"):
        run_sweep(cfg, out, workers=1, progress=False)
    assert _state(out) == before
    if manifest and "app" in manifest:                  # a user's folder without chunks: untouched too
        proj = tmp_path / "proj"
        proj.mkdir()
        (proj / "manifest.json").write_text(manifest)
        code, _, err = _cli(["sweep", cfg, "--out", proj, "--workers", "1", "--no-progress"], capsys)
        _one_line(code, err, "manifest")
        assert (proj / "manifest.json").read_text() == manifest


@pytest.mark.parametrize("damage", ["truncated", "empty", "deep"])
def test_damaged_manifest_of_this_sweep_is_said_and_recomputed(done, tmp_path, damage):
    cfg = _write(tmp_path, SMALL)
    out = _copy(done, tmp_path)
    m = out / "manifest.json"
    m.write_bytes({"truncated": m.read_bytes()[:100], "empty": b"", "deep": b"[" * 50_000}[damage])
    lines = []
    run_sweep(cfg, out, workers=1, progress=False, report=lines.append)
    assert lines[0].startswith("manifest.json unreadable (") and lines[0].endswith("recomputing all 3 chunks")
    assert lines[-1] == "chunks: 3 computed, 0 skipped (checksum ok)"
    merge(out, tmp_path / "again.npz")
    ref, again = _arrays(done / "ref.npz"), _arrays(tmp_path / "again.npz")
    assert all(ref[k].tobytes() == again[k].tobytes() for k in ref)      # bitwise


# ---------------------------------------------------------------- H1, R3, T3: bounded, non-blocking reads

def _fifo(p):
    p.unlink(missing_ok=True)
    os.mkfifo(p)


@pytest.mark.parametrize("what", ["fifo-manifest", "fifo-chunk", "zero-chunk", "sparse-chunk", "urandom-manifest",
                                  "deep-manifest", "sparse-manifest"])
def test_odd_sweep_files_fail_fast_in_one_line(done, tmp_path, capsys, what):
    out = _copy(done, tmp_path)
    name = "manifest.json" if "manifest" in what else "chunk_00001.npz"
    p = out / name
    if what.startswith("fifo"):
        _fifo(p)
    elif what.startswith(("zero", "urandom")):
        p.unlink()
        p.symlink_to("/dev/zero" if what.startswith("zero") else "/dev/urandom")
    elif what.startswith("sparse"):
        with open(p, "r+b") as f:
            f.truncate(20 << 30)                        # 20 GB, sparse
    else:
        p.write_bytes(b"[" * 100_000)
    def hang(signum, frame):
        raise TimeoutError(f"the command hung on {what}")

    old = signal.signal(signal.SIGALRM, hang)
    signal.alarm(60)                                    # a hang fails the test instead of the run
    try:
        t0 = time.monotonic()
        code, _, err = _cli(["sweep", "--merge", out, "--out", tmp_path / "m.npz"], capsys)
        assert time.monotonic() - t0 < 20
        _one_line(code, err)
        assert not (tmp_path / "m.npz").exists()
        if name == "manifest.json" and what != "deep-manifest":     # resume: refused, not taken over
            cfg = _write(tmp_path, SMALL)
            code, _, err = _cli(["sweep", cfg, "--out", out, "--workers", "1", "--no-progress"], capsys)
            _one_line(code, err, "manifest.json")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# ---------------------------------------------------------------- R1, R2, M8: manifest size and cost

def test_manifest_of_a_2e7_point_sweep_is_small():
    from sims.io import json_bytes
    from sims.sweep.manifest import new_manifest

    text = 'model = "cosine-simsiam"\ntask = "regime"\n[grid]\nrho = {lo = 0.0, hi = 0.2, n = 20000000}\n'
    cfg = parse_config(text)
    cfg.__dict__["hash"] = "0" * 64                     # its memory is checked below, on a smaller axis
    m = new_manifest(cfg)
    m["chunks"] = {str(i): "0" * 64 for i in range(cfg.n_chunks)}        # every chunk done
    size = len(json_bytes(m))
    assert cfg.n_points == 20_000_000 and cfg.n_chunks == 80
    assert size < 20_000, size                          # the config and 80 checksums; it was 500 MB


@pytest.mark.slow
def test_config_hash_is_streamed_and_unchanged():
    """The hash is json.dumps of every field, the axes' values included (as before, so old sweep
    folders still resume), but computed without the whole text in memory."""
    import hashlib as hl

    text = 'model = "cosine-simsiam"\ntask = "regime"\n[grid]\nrho = {lo = 0.0, hi = 0.2, n = 300000}\n'
    cfg = parse_config(text)
    tracemalloc.start()
    try:
        h = cfg.hash
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, peak                         # the whole JSON: 3e5 floats (10 MB) and a 6 MB string
    for t in (SMALL, text.replace("n = 300000", "n = 3"),
              'model = "l2-byol"\ntask = "fate"\n[grid]\neta = [0.1, -0.0, 1e30]\n[initial]\n'
              'p0 = {random = "uniform", lo = -1.0, hi = 1.2, n = 5, seed = 11}\n'):
        c = parse_config(t)
        canon = json.dumps({"model": c.model, "task": c.task, "params": c.params,
                            "axes": [(n, v.tolist()) for n, v in c.axes], "p0": None if c.p0 is None else c.p0.tolist(),
                            "integrate": c.integrate, "chunk_size": c.chunk_size, "seed": 0, **c.extra_fields()},
                           sort_keys=True)
        assert c.hash == hl.sha256(canon.encode()).hexdigest()
    assert len(h) == 64 and h == cfg.hash


def test_recording_a_chunk_does_not_rewrite_the_manifest(tmp_path, monkeypatch):
    """The cost of a chunk is one journal line: manifest.json is written twice per run (start and
    end), whatever the number of chunks."""
    from sims.sweep import runner

    writes = []
    real = runner.write_json
    monkeypatch.setattr(runner, "write_json", lambda p, obj: writes.append(Path(p).name) or real(p, obj))
    counts = {}
    for n in (4, 12):
        eta = [round(float(v), 4) for v in np.linspace(0, 0.2, n // 2)]
        cfg = _write(tmp_path, SMALL.replace("chunk_size = 2", "chunk_size = 1").replace(
            "eta = [0.0, 0.1, 0.2]", f"eta = {eta}"), f"c{n}.toml")
        writes.clear()
        m = run_sweep(cfg, tmp_path / f"s{n}", workers=1, progress=False)
        assert m["n_chunks"] == n and len(m["chunks"]) == n
        counts[n] = len(writes)
        assert not (tmp_path / f"s{n}" / "chunks.log").exists()            # folded into the manifest at the end
    assert counts == {4: 2, 12: 2}


def test_disk_check_counts_the_manifest(tmp_path, monkeypatch):
    from collections import namedtuple

    from sims.sweep import ConfigError, estimated_bytes

    text = SMALL.replace("eta = [0.0, 0.1, 0.2]", "eta = {lo = 0.0, hi = 0.2, n = 1000}")
    cfg = _write(tmp_path, text)
    chunks = estimated_bytes(parse_config(text))
    Usage = namedtuple("Usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: Usage(10**9, 10**9 - chunks - 10, chunks + 10))
    with pytest.raises(ConfigError, match="needs about"):                # chunks fit; manifest does not
        run_sweep(cfg, tmp_path / "never", workers=1, progress=False)
    assert not (tmp_path / "never").exists()


# ---------------------------------------------------------------- R4: limits before allocation

@pytest.mark.parametrize("axes", ["[grid]\nrho = {lo = 0.0, hi = 0.1, n = 1000000000}\n",
                                  "[grid]\nrho = [0.1]\n[initial]\np0 = {random = \"uniform\", lo = -1.0, hi = 1.0, "
                                  "n = 1000000000, seed = 0}\n",
                                  "[grid]\nrho = {lo = 0.0, hi = 0.1, n = 100000}\nn_psi = {lo = 0.5, hi = 2.0, n = 100000}\n"])
def test_huge_axes_are_refused_before_they_are_made(monkeypatch, axes):
    from sims.sweep import ConfigError

    monkeypatch.setattr(files, "available_memory", lambda: 1 << 30)
    task = "fate" if "initial" in axes else "regime"
    text = f'model = "cosine-simsiam"\ntask = "{task}"\n{axes}'
    tracemalloc.start()
    try:
        with pytest.raises(ConfigError, match=r"grid\.|initial\."):
            parse_config(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 << 20, peak                        # the axis of 1e9 values would be 7.45 GiB


@pytest.mark.parametrize("case", ["dt", "t_eval"])
def test_integrate_api_checks_memory_before_allocating(monkeypatch, case):
    from dynamics.integrate import integrate
    from dynamics.params import L2Params

    monkeypatch.setattr(files, "available_memory", lambda: 4 << 30)
    if case == "dt":
        kw, y0 = {"method": "rk4", "dt": 1e-9, "max_steps": 10**10}, [0.5]
    else:
        kw, y0 = {"t_eval": np.linspace(0, 1, 10_000_000)}, np.linspace(0.1, 1.0, 1000)
    tracemalloc.start()
    try:
        with pytest.raises(ParameterError, match="GiB"):
            integrate("l2-byol", L2Params(), y0, 10.0 if case == "dt" else 1.0, **kw)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 300 << 20, peak                       # T and H: 160 GB; YOUT: 74.5 GiB


# ---------------------------------------------------------------- T6: NPZ streamed, not built in memory

@pytest.mark.slow
def test_write_npz_streams_and_hashes_the_file(tmp_path):
    a = np.arange(5_000_000, dtype=np.float64)          # 40 MB
    tracemalloc.start()
    try:
        digest = files.write_npz(tmp_path / "big.npz", {"a": a, "b": a[::2]})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 25 << 20, peak                        # was ~3x the file (120+ MB)
    assert digest == hashlib.sha256((tmp_path / "big.npz").read_bytes()).hexdigest()
    with np.load(tmp_path / "big.npz") as z:
        np.testing.assert_array_equal(z["a"], a)
        np.testing.assert_array_equal(z["b"], a[::2])


# ---------------------------------------------------------------- D5: SIGTERM and SIGKILL during a write

_WRITER = textwrap.dedent("""
    import sys, time
    from symbolic import files
    def fill(f):
        f.write(b"half of the new file")
        f.flush()
        print("ready", flush=True)
        time.sleep(60)
    if sys.argv[2] == "cli":
        import numpy as np
        from sims.cli import main
        real = np.savez
        def slow(f, **arrays):
            f.write(b"PK half")
            f.flush()
            print("ready", flush=True)
            time.sleep(60)
        np.savez = slow
        sys.exit(main(["integrate", "--model", "l2-byol", "--p0", "0.1,0.5", "--t-end", "1", "--out", sys.argv[1]]))
    files.write_file(sys.argv[1], fill)
""")


@pytest.mark.slow
@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL", "SIGTERM-cli"])
def test_killed_writer_keeps_the_old_file_and_leaves_no_temporary(tmp_path, how):
    target = tmp_path / "run.npz"
    target.write_bytes(b"the old file")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(target), "cli" if how.endswith("cli") else "api"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout.readline().strip() == "ready"
        assert len(list(tmp_path.glob("run.npz.*.tmp"))) == 1
        proc.send_signal(signal.SIGKILL if how == "SIGKILL" else signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert target.read_bytes() == b"the old file"
    if how == "SIGKILL":
        assert proc.returncode == -signal.SIGKILL
        assert len(list(tmp_path.glob("run.npz.*.tmp"))) == 1       # nothing can clean up after SIGKILL...
        files.write_bytes(target, b"the new file")                   # ...but the next write of run.npz does
        assert sorted(os.listdir(tmp_path)) == ["run.npz"] and target.read_bytes() == b"the new file"
        return
    assert sorted(os.listdir(tmp_path)) == ["run.npz"]
    if how.endswith("cli"):
        assert proc.returncode == 143 and err.strip().splitlines() == ["ssldyn: terminated"], err


# ---------------------------------------------------------------- M5: options

def test_no_parser_accepts_abbreviations(capsys):
    import argparse

    from sims.cli import build_parser

    parser = build_parser()
    subs = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    assert not parser.allow_abbrev and not [n for n, p in subs.items() if p.allow_abbrev]
    code, _, err = _cli(["equilibria", "--model", "l2-byol", "--et", "0.1"], capsys)
    assert code == 2 and "unrecognized arguments: --et" in err


@pytest.mark.parametrize("argv,words", [
    (["equilibria", "--model", "l2-byol", "--model", "cosine-simsiam"], ["--model", "more than once"]),
    (["equilibria", "--model", "l2-byol", "--eta", "0.1", "--eta=0.2"], ["--eta", "more than once"]),
    (["sweep", "@CFG", "--merge", "@DIR", "--out", "x.npz"], ["--merge", "config"]),
    (["sweep", "@CFG", "--out", "D", "--workers", "2", "--dask-local", "1"], ["--workers", "--dask-local"]),
    (["sweep", "@CFG", "--out", "D", "--scheduler", "tcp://127.0.0.1:1", "--dask-local", "1"], ["--dask-local"]),
    (["sweep", "--merge", "@DIR", "--out", "x.npz", "--workers", "2"], ["--workers", "--merge"]),
])
def test_conflicting_or_repeated_options_are_refused(done, tmp_path, capsys, monkeypatch, argv, words):
    monkeypatch.chdir(tmp_path)
    argv = [str(done / "c.toml") if a == "@CFG" else str(done / "sw") if a == "@DIR" else a for a in argv]
    code, out, err = _cli(argv, capsys)
    _one_line(code, err, *words)
    assert out == "" and sorted(os.listdir(tmp_path)) == []


def test_deep_json_anywhere_is_one_line(tmp_path, capsys):
    """T3: a RecursionError of a JSON reader outside the sweep (e.g. a metrics.jsonl) is one line."""
    def deep(args):
        return json.loads("[" * 100_000)

    import sims.commands.equilibria as eq

    real = eq.run
    eq.run = deep
    try:
        code, _, err = _cli(["equilibria", "--model", "l2-byol"], capsys)
    finally:
        eq.run = real
    _one_line(code, err, "nested too deeply")


def test_sweep_folder_of_the_older_manifest_format_still_resumes_and_merges(done, tmp_path):
    """R1's new manifest format keeps old folders working: a format-1 manifest (every axis value)
    is checked against its own fields, and the resume rewrites it in format 2."""
    from sims.sweep.manifest import _legacy_fields

    cfg = _write(tmp_path, SMALL)
    out = _copy(done, tmp_path)
    m = json.loads((out / "manifest.json").read_text())
    m.pop("format")
    m.update(_legacy_fields(parse_config(SMALL)))
    assert m["axes"] == [["eta", [0.0, 0.1, 0.2]], ["tau", [0.5, 1.0]]]
    (out / "manifest.json").write_text(json.dumps(m))
    merge(out, tmp_path / "old.npz")
    lines = []
    run_sweep(cfg, out, workers=1, progress=False, report=lines.append)
    assert lines[-1] == "chunks: 0 computed, 3 skipped (checksum ok)"
    assert json.loads((out / "manifest.json").read_text())["format"] == 2
    ref, old = _arrays(done / "ref.npz"), _arrays(tmp_path / "old.npz")
    assert all(ref[k].tobytes() == old[k].tobytes() for k in ref)


def test_sparse_config_is_refused_unread(tmp_path, capsys):
    """R3 for the config itself: a 20 GB sparse file is refused by its size, not read."""
    from sims.sweep import ConfigError, load_config

    cfg = _write(tmp_path, SMALL)
    with open(cfg, "r+b") as f:
        f.truncate(20 << 30)
    t0 = time.monotonic()
    code, _, err = _cli(["sweep", cfg, "--out", tmp_path / "o", "--workers", "1"], capsys)
    _one_line(code, err, "config", "bytes")
    with pytest.raises(ConfigError, match="bytes, more than"):
        load_config(cfg)
    assert time.monotonic() - t0 < 10 and not (tmp_path / "o").exists()
