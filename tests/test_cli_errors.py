"""The CLI's error contract, one test per class of bad input: one stderr line ``ssldyn: error: ...``
and exit status 2, never a traceback, nothing written or replaced.

In process (``sims.cli.main``) except where the process itself matters (closed or full stdout).
"""
from __future__ import annotations

import errno
import os
import subprocess
import sys

import numpy as np
import pytest

from sims.cli import main
from symbolic.errors import ParameterError


def run(argv, capsys):
    capsys.readouterr()
    try:
        code = main(argv)
    except SystemExit as e:
        code = e.code
    err = capsys.readouterr().err
    return code, err


def one_line_error(code, err, *words):
    lines = err.splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("ssldyn: error:"), err
    for w in words:
        assert w in lines[0], (w, lines[0])
    return lines[0]


INTEGRATE = ["integrate", "--model", "cosine-simsiam", "--t-end", "1"]


# --- output paths -------------------------------------------------------------------------------
@pytest.fixture
def odd(tmp_path):
    (tmp_path / "dir").mkdir()
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "outside.txt").write_text("keep\n")
    os.symlink(tmp_path / "outside.txt", tmp_path / "link")
    (tmp_path / "file").write_text("x")
    return tmp_path


@pytest.mark.parametrize("name,words", [
    ("dir", ["is a folder"]), ("fifo", ["not a regular file"]), ("link", ["symbolic link"]),
    ("file/x.npz", ["not a folder"]), ("n" * 300, ["longer than"]), ("/".join(["d" * 200] * 21), ["too long"]),
    ("", ["must be a path"]), ("/dev/null", ["not a regular file"]), ("/dev/full", ["not a regular file"])])
def test_out_refused_before_any_work(odd, capsys, name, words):
    before = {p: os.lstat(odd / p) for p in ("dir", "fifo", "link")}
    out = name if name.startswith("/") or name == "" else str(odd / name)
    code, err = run(INTEGRATE + ["--p0", "0:1:3", "--out", out], capsys)
    one_line_error(code, err, "--out", *words)
    for p, st in before.items():
        now = os.lstat(odd / p)
        assert (now.st_mode, now.st_ino) == (st.st_mode, st.st_ino)
    assert (odd / "outside.txt").read_text() == "keep\n"
    assert sorted(os.listdir(odd)) == ["dir", "fifo", "file", "link", "outside.txt"]


def test_out_read_only_folder(tmp_path, capsys, monkeypatch):
    from sims.commands import _paths

    # root may write anywhere, so the read-only answer of access() is simulated
    monkeypatch.setattr(_paths.os, "access", lambda p, mode: False)
    code, err = run(INTEGRATE + ["--p0", "0:1:3", "--out", str(tmp_path / "r.npz")], capsys)
    one_line_error(code, err, "read-only")


def test_dir_outputs(odd, capsys):
    for argv in (["demo", "--out", str(odd / "file")], ["figure", "all", "--out", str(odd / "link")],
                 ["validate", "linear", "--out", "/dev/null"]):
        code, err = run(argv, capsys)
        one_line_error(code, err, "--out")


def test_out_equal_to_p0_is_refused(tmp_path, capsys):
    p0 = tmp_path / "p0.npy"
    np.save(p0, np.linspace(-1, 1, 4))
    data = p0.read_bytes()
    code, err = run(INTEGRATE + ["--p0", str(p0), "--out", str(p0)], capsys)
    one_line_error(code, err, "--out must end in .npz")                 # refused by its suffix first
    assert p0.read_bytes() == data
    os.link(p0, tmp_path / "same.npz")                   # the same file under a name --out accepts
    code, err = run(INTEGRATE + ["--p0", str(p0), "--out", str(tmp_path / "same.npz")], capsys)
    one_line_error(code, err, "--out must differ from --p0")
    assert p0.read_bytes() == data


# --- .npy inputs --------------------------------------------------------------------------------
def _npy_variants(d):
    np.save(d / "complex.npy", np.array([1 + 2j]))
    np.save(d / "datetime.npy", np.array(["2020-01-01"], dtype="datetime64[D]"))
    np.save(d / "struct.npy", np.zeros(2, dtype=[("a", "f8")]))
    np.save(d / "strings.npy", np.array(["1"]))
    (d / "empty.npy").write_bytes(b"")
    (d / "text.npy").write_text("0.1 0.2\n")
    np.save(d / "ok.npy", np.linspace(0, 1, 5))
    (d / "trunc.npy").write_bytes((d / "ok.npy").read_bytes()[:-8])
    np.save(d / "3d.npy", np.zeros((1, 1, 1)))
    np.save(d / "zero.npy", np.zeros(0))
    (d / "dir.npy").mkdir()
    os.mkfifo(d / "fifo.npy")


@pytest.mark.parametrize("name,words", [
    ("complex.npy", ["dtype complex128"]), ("datetime.npy", ["datetime64"]), ("struct.npy", ["dtype"]),
    ("strings.npy", ["dtype <U1"]), ("empty.npy", [".npy array file"]), ("text.npy", [".npy array file"]),
    ("trunc.npy", ["truncated"]), ("3d.npy", ["shape (1, 1, 1)"]), ("zero.npy", ["N >= 1"]),
    ("dir.npy", ["a folder"]), ("fifo.npy", ["not a regular file"]), ("missing.npy", ["cannot be read"])])
def test_bad_npy_p0(tmp_path, capsys, name, words):
    _npy_variants(tmp_path)
    code, err = run(INTEGRATE + ["--p0", str(tmp_path / name), "--out", str(tmp_path / "r.npz")], capsys)
    one_line_error(code, err, "--p0", *words)
    assert not (tmp_path / "r.npz").exists()


class _Marker:
    """Unpickling it would create the file ``path``."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_object_npy_is_never_unpickled(tmp_path, capsys):
    marker = tmp_path / "unpickled"
    np.save(tmp_path / "obj.npy", np.array([_Marker(str(marker)), None], dtype=object), allow_pickle=True)
    code, err = run(INTEGRATE + ["--p0", str(tmp_path / "obj.npy"), "--out", str(tmp_path / "r.npz")], capsys)
    one_line_error(code, err, "dtype object")
    assert not marker.exists()


def test_read_npy_header_accepts_numbers(tmp_path):
    from sims.commands._paths import load_npy

    np.save(tmp_path / "i.npy", np.arange(3, dtype=np.int32))
    a = load_npy("--p0", str(tmp_path / "i.npy"))
    assert a.dtype == np.float64 and a.tolist() == [0.0, 1.0, 2.0]


# --- values and sizes ---------------------------------------------------------------------------
@pytest.mark.parametrize("argv,words", [
    (["equilibria", "--model", "cosine-simsiam", "--n-psi", "1e-300"], ["--n-psi", "[1e-30, 1e+30]", "1e-300"]),
    (INTEGRATE[:3] + ["--t-end", "1e308", "--p0", "0:1:3"], ["--t-end", "(0, 1e+15]"]),
    (INTEGRATE + ["--p0", "0:1:3", "--method", "rk4", "--dt", "1e-320"], ["--dt", "--max-steps"]),
    (INTEGRATE + ["--p0", "0:1:3", "--max-steps", "1e308"], ["--max-steps", "[1, 1000000000000]"]),
    (INTEGRATE + ["--p0", "0:1:3", "--rtol", "0"], ["--rtol", "[1e-15, 1)"]),
    (INTEGRATE + ["--p0", "0:1:3", "--t-eval", "0:2:3"], ["--t-eval", "STOP <= --t-end"]),
    (INTEGRATE + ["--p0", "-1e308:1e308:5"], ["--p0 START"]),
    (["regime-map", "--model", "cosine-simsiam", "--x", "rho:0:1e308:3", "--y", "n-psi:1:2:3", "--out", "x.npz"],
     ["--x HI"]),
    (["check-gradient", "--samples", "1e308"], ["--samples"]),
    (["check-gradient", "--seed", "-1"], ["--seed"]),
    (["landscape", "--loss", "spectral", "--a", "1e-320", "--c", "0"], ["--a"]),
])
def test_values_checked_up_front(argv, words, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, err = run(argv + (["--out", str(tmp_path / "r.npz")] if argv[0] == "integrate" else []), capsys)
    one_line_error(code, err, *words)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("extra,words", [(["--p0", "0:1:1000000000"], ["1000000000 trajectories", "GiB"]),
                                         (["--p0", "0:1:10", "--t-eval", "0:1:1000000000"], ["output times", "GiB"])])
def test_memory_estimated_before_allocating(extra, words, tmp_path, capsys, monkeypatch):
    from symbolic import files

    monkeypatch.setattr(files, "available_memory", lambda: 4 * 2**30)
    code, err = run(INTEGRATE + extra + ["--out", str(tmp_path / "r.npz")], capsys)
    one_line_error(code, err, *words, "3.2 GiB available")


def test_check_memory_message(monkeypatch):
    from sims.commands import _paths
    from symbolic import files

    monkeypatch.setattr(files, "available_memory", lambda: 10 * 2**30)
    _paths.check_memory("x", 7.9 * 2**30)                   # within 80% of what is free
    with pytest.raises(ParameterError, match=r"x needs about 8.1 GiB, more than the 8 GiB available"):
        _paths.check_memory("x", 8.1 * 2**30)


# --- the backstop in main -----------------------------------------------------------------------
def _failing(exc):
    def run_(args):
        raise exc
    return run_


@pytest.mark.parametrize("exc,words", [
    (OSError(errno.ENOSPC, "No space left on device"), ["writing output: No space left on device"]),
    (PermissionError(errno.EACCES, "Permission denied", "/x/y"), ["'/x/y': Permission denied"]),
    (IsADirectoryError(errno.EISDIR, "Is a directory", "cfg.toml"), ["'cfg.toml': Is a directory"]),
    (OSError(errno.ENAMETOOLONG, "File name too long", "n" * 10), ["File name too long"]),
    (MemoryError(), ["not enough memory for ssldyn demo"]),
    (UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"), ["not UTF-8", "invalid start byte"]),
    (EOFError("Ran out of input"), ["damaged or truncated"]),
])
def test_backstop_one_line(exc, words, capsys, monkeypatch):
    from sims.commands import demo

    monkeypatch.setattr(demo, "run", _failing(exc))
    code, err = run(["demo", "--out", "unused"], capsys)
    one_line_error(code, err, *words)


def test_bug_is_one_internal_error_line_or_traceback(capsys, monkeypatch):
    from sims.commands import demo

    monkeypatch.setattr(demo, "run", _failing(TypeError("a bug")))
    code, err = run(["demo", "--out", "unused"], capsys)
    assert code == 2 and err.splitlines() == [err.strip()] and err.startswith("ssldyn: internal error: TypeError: a bug")
    monkeypatch.setenv("SSLDYN_TRACEBACK", "1")
    with pytest.raises(TypeError, match="a bug"):
        main(["demo", "--out", "unused"])


# --- stdout closed early or full (the process matters: a real pipe, a real device) ---------------
@pytest.mark.slow
def test_stdout_closed_early_exits_quietly():
    p = subprocess.Popen(f"{sys.executable} -m sims.cli figure --list | head -c1 >/dev/null; "
                         "exit ${PIPESTATUS[0]}", shell=True, executable="/bin/bash", stderr=subprocess.PIPE)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 0 and err == b""


@pytest.mark.slow
@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_stdout_full_is_one_line():
    with open("/dev/full", "w") as full:
        r = subprocess.run([sys.executable, "-m", "sims.cli", "figure", "--list"], stdout=full,
                           stderr=subprocess.PIPE, timeout=120)
    err = r.stderr.decode()
    assert r.returncode == 2 and err.splitlines() == ["ssldyn: error: writing output: No space left on device"], err


# --- config files --------------------------------------------------------------------------------
@pytest.mark.parametrize("kind,words", [("dir", ["regular file", "folder"]), ("fifo", ["regular file"]),
                                        ("latin1", ["UTF-8", "byte 12"]), ("missing", ["cannot be read"])])
def test_sweep_config_files(kind, words, tmp_path, capsys):
    cfg = tmp_path / "c.toml"
    if kind == "dir":
        cfg.mkdir()
    elif kind == "fifo":
        os.mkfifo(cfg)
    elif kind == "latin1":
        cfg.write_bytes('model = "caf\u00e9"\n'.encode("latin-1"))
    code, err = run(["sweep", str(cfg), "--out", str(tmp_path / "o")], capsys)
    one_line_error(code, err, *words)


# --- validate ------------------------------------------------------------------------------------
TINY = ["validate", "linear", "--epochs", "2", "--steps-per-epoch", "1", "--d", "4", "--h", "4", "--batch", "8",
        "--eval-size", "8", "--no-figures", "--no-overlay"]


def _override(argv, extra):
    """``argv`` with the values of the flags in ``extra`` (pairs) replaced, the others appended: a
    flag given twice is refused."""
    argv = list(argv)
    for flag, value in zip(extra[::2], extra[1::2]):
        if flag in argv:
            argv[argv.index(flag) + 1] = value
        else:
            argv += [flag, value]
    return argv


@pytest.mark.parametrize("extra,words", [(["--lr", "-0.1"], ["lr must be in (0"]),
                                         (["--momentum", "1"], ["momentum must be in [0, 1)"]),
                                         (["--momentum", "-0.5"], ["momentum"]),
                                         (["--d", "99999999"], ["d must be an integer in [0, 65536]"]),
                                         (["--seed", "-1"], ["seed"])])
def test_validate_values(extra, words, tmp_path, capsys):
    pytest.importorskip("torch")
    code, err = run(_override(TINY, extra) + ["--out", str(tmp_path / "v")], capsys)
    one_line_error(code, err, *words)


@pytest.fixture(scope="module")
def stopped_run(tmp_path_factory):
    """A tiny run stopped after epoch 1 (a checkpoint to resume from)."""
    pytest.importorskip("torch")
    out = tmp_path_factory.mktemp("stopped")
    assert main(TINY + ["--stop-after", "1", "--out", str(out)]) == 0
    return out


@pytest.mark.parametrize("extra,field", [(["--lr", "0.5"], "lr"), (["--momentum", "0.5"], "momentum"),
                                         (["--steps-per-epoch", "3"], "steps-per-epoch")])
def test_resume_refuses_a_changed_field(stopped_run, extra, field, capsys):
    ck = (stopped_run / "checkpoint.pt").read_bytes()
    code, err = run(_override(TINY, extra) + ["--resume", "--out", str(stopped_run)], capsys)
    one_line_error(code, err, f"{field} must match the checkpoint")
    assert (stopped_run / "checkpoint.pt").read_bytes() == ck


def test_resume_of_a_sound_run_continues(stopped_run, tmp_path, capsys):
    import json
    import shutil

    out = tmp_path / "v"
    shutil.copytree(stopped_run, out)
    code, err = run(TINY + ["--resume", "--out", str(out)], capsys)
    assert code == 0, err
    epochs = [json.loads(x)["epoch"] for x in (out / "metrics.jsonl").read_text().splitlines()]
    assert epochs[-1] == 2 and json.loads((out / "summary.json").read_text())["epochs"] == 2


@pytest.mark.parametrize("damage,words", [
    ("truncate-ck", ["not a readable checkpoint"]), ("text-ck", ["not a readable checkpoint"]),
    ("code-ck", ["not a readable checkpoint"]), ("keys-ck", ["missing or malformed"]),
    ("json-metrics", ["line 2 is not JSON"]), ("latin1-metrics", ["not UTF-8"]),
    ("record-metrics", ["integer epoch"]), ("shape-ck", ["model tensors differ: phi"]),
    ("epoch-ck", ["epoch 7 outside [0, 2]"]), ("opt-ck", ["optimiser state"])])
def test_resume_damaged_files(stopped_run, tmp_path, damage, words, capsys):
    import shutil

    import torch

    out = tmp_path / "v"
    shutil.copytree(stopped_run, out)
    ck, metrics = out / "checkpoint.pt", out / "metrics.jsonl"
    marker = tmp_path / "unpickled"
    if damage == "truncate-ck":
        ck.write_bytes(ck.read_bytes()[:200])
    elif damage == "text-ck":
        ck.write_text("hello\n")
    elif damage == "code-ck":
        torch.save({"config": _Marker(str(marker))}, ck)
    elif damage == "keys-ck":
        torch.save({"epoch": 1}, ck)
    elif damage in ("shape-ck", "epoch-ck", "opt-ck"):
        state = torch.load(ck, weights_only=True)
        if damage == "shape-ck":
            state["model"]["phi"] = torch.zeros(3, 3)
        elif damage == "epoch-ck":
            state["epoch"] = 7
        else:
            state["opt"] = {"state": {}, "param_groups": []}
        torch.save(state, ck)
    elif damage == "json-metrics":
        metrics.write_text('{"epoch": 1}\n{"epoch": \n')
    elif damage == "latin1-metrics":
        metrics.write_bytes(b'{"epoch": 1, "x": "\xe9"}\n')
    else:
        metrics.write_text('{"epoch": "one"}\n')
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    code, err = run(TINY + ["--resume", "--out", str(out)], capsys)
    one_line_error(code, err, "--resume", *words)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert not marker.exists()


def test_regime_map_grid_too_large_for_memory(tmp_path, capsys):
    """1e5 x 1e5 points (~1e12 bytes) is refused before any allocation, with the estimate."""
    from sims.cli import main

    code = main(["regime-map", "--model", "cosine-simsiam", "--x", "rho:0.001:0.1:100000",
                 "--y", "n-psi:0.5:2:100000", "--out", str(tmp_path / "m.npz")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "GiB" in err[0] and "regime-map" in err[0]
    assert not (tmp_path / "m.npz").exists()
