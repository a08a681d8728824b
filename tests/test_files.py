"""symbolic.files: the one atomic writer, its refusals, and the output-is-not-an-input check."""
import os
import re
import stat

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symbolic import files
from symbolic.errors import ParameterError


def _umask(mask):
    old = os.umask(mask)
    return old


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_mode_follows_umask_not_0600(tmp_path, mask):
    old = _umask(mask)
    try:
        p = files.write_bytes(tmp_path / "a.json", b"{}")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o666 & ~mask     # 0644, 0600, 0664
    assert p.read_bytes() == b"{}"


@settings(max_examples=25, deadline=None)
@given(data=st.binary(max_size=4096), name=st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True))
def test_round_trip_and_no_leftovers(tmp_path_factory, data, name):
    d = tmp_path_factory.mktemp("w")
    p = files.write_bytes(d / name, b"old")
    files.write_bytes(p, data)                      # replaces the existing regular file
    assert p.read_bytes() == data
    assert os.listdir(d) == [name]


def test_temporary_name_and_folder(tmp_path, monkeypatch):
    seen = []
    real = os.replace

    def spy(src, dst):
        seen.append((str(src), str(dst)))
        real(src, dst)

    monkeypatch.setattr(files.os, "replace", spy)
    files.write_bytes(tmp_path / "sub" / "out.npz", b"x")      # parent created
    (src, dst), = seen
    assert dst == str(tmp_path / "sub" / "out.npz")
    assert re.fullmatch(re.escape(str(tmp_path / "sub" / "out.npz")) + r"\.[0-9a-f]{8}\.tmp", src)


def test_failure_removes_only_its_own_temporary(tmp_path, monkeypatch):
    target = tmp_path / "r.npz"
    target.write_bytes(b"previous")
    (tmp_path / "mine.tmp").write_bytes(b"a user's file")
    (tmp_path / "r.npz.deadbeef.tmp").write_bytes(b"a live writer's temporary")
    (tmp_path / "r.npz.0badf00d.tmp").write_bytes(b"a killed writer's temporary")

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    import fcntl

    live = os.open(tmp_path / "r.npz.deadbeef.tmp", os.O_RDONLY)
    fcntl.flock(live, fcntl.LOCK_EX)                # a writer holds its temporary file while it writes
    monkeypatch.setattr(files.os, "replace", boom)
    try:
        with pytest.raises(ParameterError, match="No space left on device.*r.npz"):
            files.write_bytes(target, b"new")
    finally:
        os.close(live)
    assert target.read_bytes() == b"previous"
    assert sorted(os.listdir(tmp_path)) == ["mine.tmp", "r.npz", "r.npz.deadbeef.tmp"]    # the stale one is gone


def test_refuses_directory_fifo_symlink(tmp_path):
    (tmp_path / "d").mkdir()
    os.mkfifo(tmp_path / "fifo")
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (tmp_path / "link").symlink_to(victim)
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    for name, kind in [("d", "a directory"), ("fifo", "a FIFO"), ("link", "a symbolic link"),
                       ("dangling", "a symbolic link")]:
        with pytest.raises(ParameterError, match=re.escape(f"{tmp_path / name}' ({kind})")):
            files.write_bytes(tmp_path / name, b"x")
    assert victim.read_text() == "keep me"
    assert not (tmp_path / "nowhere").exists()
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
def test_refuses_device_node():
    with pytest.raises(ParameterError, match=r"'/dev/full' \(a character device\)"):
        files.write_bytes("/dev/full", b"x")


def test_relative_path_is_made_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    p = files.write_text("rel.json", "[1]")
    assert p == tmp_path / "rel.json" and p.read_text() == "[1]"


def test_check_not_input(tmp_path):
    inp = tmp_path / "in.npz"
    inp.write_bytes(b"data")
    os.link(inp, tmp_path / "hard.npz")
    (tmp_path / "soft.npz").symlink_to(inp)
    other = tmp_path / "other.npz"
    other.write_bytes(b"data")                       # same content, different file
    for out in (inp, tmp_path / "hard.npz", tmp_path / "soft.npz", tmp_path / "." / "in.npz"):
        with pytest.raises(ParameterError, match="out must not be an input"):
            files.check_not_input(out, tmp_path / "x.npz", inp)
    assert files.check_not_input(other, inp) == other
    assert files.check_not_input(tmp_path / "new.npz", inp, None) == tmp_path / "new.npz"


# --- every writer of the tool goes through symbolic.files -------------------------------------
def _spy_replace(monkeypatch):
    seen = []
    real = os.replace

    def spy(src, dst):
        seen.append((os.fspath(src), os.fspath(dst)))
        real(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    return seen


def test_npz_results_temporary_is_not_named_like_a_result(tmp_path, monkeypatch):
    import numpy as np

    from dynamics.results import BatchResult

    seen = _spy_replace(monkeypatch)
    r = BatchResult(final=np.array([0.5, 2.0]), status=np.zeros(2, np.int8), t_event=np.full(2, np.nan),
                    nsteps=np.array([3, 4]), method="rk45", state=("p",))
    r.to_npz(tmp_path / "res.npz", p0=np.array([0.1, 0.2]))
    (src, dst), = seen
    assert dst == str(tmp_path / "res.npz") and re.fullmatch(r".*/res\.npz\.[0-9a-f]{8}\.tmp", src)
    with np.load(tmp_path / "res.npz") as z:
        assert z["final"].tolist() == [0.5, 2.0] and z["p0"].tolist() == [0.1, 0.2]
    os.mkfifo(tmp_path / "pipe.npz")
    with pytest.raises(ParameterError, match="out must be a regular file.*pipe.npz' \\(a FIFO\\)"):
        r.to_npz(tmp_path / "pipe.npz")
    assert stat.S_ISFIFO(os.lstat(tmp_path / "pipe.npz").st_mode)


def test_sims_io_names_refuse_links_and_write_strict_json(tmp_path):
    import json

    import numpy as np

    from sims import io

    victim = tmp_path / "victim"
    victim.write_text("keep")
    (tmp_path / "m.json").symlink_to(victim)
    with pytest.raises(ParameterError, match="symbolic link"):
        io.write_json(tmp_path / "m.json", {"a": 1})
    with pytest.raises(ParameterError, match="symbolic link"):
        io.write_npz(tmp_path / "m.json", {"a": np.zeros(1)})
    assert victim.read_text() == "keep"
    p = io.write_json(tmp_path / "ok.json", {"x": (np.float32("inf"), np.nan, np.int64(3))})

    def no_constants(name):
        raise AssertionError(f"non-standard JSON constant {name}")

    assert json.loads(p.read_text(), parse_constant=no_constants) == {"x": [None, None, 3]}


def test_figure_save_is_atomic(tmp_path, monkeypatch):
    from figures import style

    fig, ax = style.figure()
    ax.plot([0, 1], [1, 0])
    first = style.save(fig, tmp_path, "f", formats=("pdf",))[0]
    good = first.read_bytes()
    assert good.startswith(b"%PDF")

    fig, ax = style.figure()
    real = type(fig).savefig

    def killed(self, fname, **kw):      # a kill half-way through rendering
        if hasattr(fname, "write"):
            fname.write(b"%PDF-1.4 half")
        else:
            with open(fname, "wb") as f:
                f.write(b"%PDF-1.4 half")
        raise KeyboardInterrupt

    monkeypatch.setattr(type(fig), "savefig", killed)
    with pytest.raises(KeyboardInterrupt):
        style.save(fig, tmp_path, "f", formats=("pdf",))
    assert first.read_bytes() == good and os.listdir(tmp_path) == ["f.pdf"]
    monkeypatch.setattr(type(fig), "savefig", real)
    (tmp_path / "g.png").symlink_to(first)
    with pytest.raises(ParameterError, match="figure must be a regular file"):
        style.save(fig, tmp_path, "g", formats=("png",))
    assert first.read_bytes() == good


def test_metrics_rewrite_on_resume_is_atomic(tmp_path):
    pytest.importorskip("torch")
    import json

    from sims.train import _truncate_metrics

    path = tmp_path / "metrics.jsonl"
    lines = [json.dumps({"epoch": e, "loss": -0.1 * e}) + "\n" for e in range(5)]
    path.write_text("".join(lines) + '{"epoch": 5, "lo')        # a kill mid-append tore the last line
    reader = open(path)            # a reader holding the old file keeps seeing all of it
    try:
        keep = _truncate_metrics(path, 2)
        assert [r["epoch"] for r in keep] == [0, 1, 2]
        assert path.read_text() == "".join(lines[:3])
        assert reader.read() == "".join(lines) + '{"epoch": 5, "lo'  # rewritten in place it would be cut
    finally:
        reader.close()


def test_validate_summary_refuses_symlink(tmp_path):
    pytest.importorskip("torch")
    from sims.cli import main

    victim = tmp_path / "victim.json"
    victim.write_text("keep")
    out = tmp_path / "run"
    out.mkdir()
    (out / "summary.json").symlink_to(victim)
    code = main(["validate", "linear", "--d", "8", "--h", "8", "--batch", "16", "--epochs", "1",
                 "--steps-per-epoch", "2", "--eval-size", "32", "--no-overlay", "--no-figures", "--out", str(out)])
    assert code == 2 and victim.read_text() == "keep"


# --- ssldyn cache clear: only what the tool made ------------------------------------------------
def _clear(capsys):
    from sims.cli import main

    code = main(["cache", "clear"])
    return code, capsys.readouterr()


def test_cache_clear_refuses_a_folder_the_tool_did_not_make(tmp_path, monkeypatch, capsys):
    from symbolic import models

    (tmp_path / "thesis.tex").write_text("years of work")
    monkeypatch.setenv("SSLDYN_CACHE_DIR", str(tmp_path))
    assert models.cache_dir() == tmp_path and not (tmp_path / "CACHEDIR.TAG").exists()   # used, never tagged
    (tmp_path / "derivations").mkdir()
    code, cap = _clear(capsys)
    assert code == 2
    assert cap.err.startswith("ssldyn: error: cache directory must be one ssldyn made") and cap.err.count("\n") == 1
    assert (tmp_path / "thesis.tex").read_text() == "years of work" and (tmp_path / "derivations").is_dir()
    monkeypatch.setenv("SSLDYN_CACHE_DIR", str(tmp_path / "absent"))
    assert _clear(capsys)[0] == 0 and not (tmp_path / "absent").exists()


def test_cache_clear_deletes_only_the_tools_files(tmp_path, monkeypatch, capsys):
    from symbolic import codegen, models

    root = tmp_path / "cache"
    monkeypatch.setenv("SSLDYN_CACHE_DIR", str(root))
    models.derive.cache_clear()
    models.derive("two-layer", "reduced")                          # the tool writes the tag and an entry
    models.derive.cache_clear()
    assert models.is_tool_cache(root) and len(list((root / "derivations").iterdir())) == 1
    k = root / "kernels"
    pyc = k / "__pycache__"
    pyc.mkdir(parents=True)
    name = codegen.module_name("two-layer", "reduced")
    made = [k / f"{name}.py", k / f"{name}.py.0123abcd.tmp", k / "ssldyn_i_two_layer_x_1a2b.py",
            pyc / f"{name}.rhs-14.py311.nbi", pyc / f"{name}.rhs-14.py311.1.nbc",
            pyc / f"{name}.cpython-311.pyc"]
    for f in made:
        f.write_text("generated")
    outside = tmp_path / "precious.py"
    outside.write_text("mine")
    (k / "ssldyn_k_link.py").symlink_to(outside)                   # a link with a tool-like name
    (root / "notes.txt").write_text("mine")
    (k / "my_kernel.py").write_text("mine")
    code, cap = _clear(capsys)
    assert code == 0 and cap.out.strip() == f"removed {len(made) + 1} files from {root}; kept 3 not made by ssldyn"
    left = sorted(str(p.relative_to(root)) for p in root.rglob("*"))
    assert left == ["CACHEDIR.TAG", "kernels", "kernels/my_kernel.py", "kernels/ssldyn_k_link.py", "notes.txt"]
    assert outside.read_text() == "mine"
    for f in ("notes.txt", "kernels/my_kernel.py", "kernels/ssldyn_k_link.py"):
        (root / f).unlink()
    assert _clear(capsys)[1].out.strip() == f"removed 0 files from {root}"
    assert not root.exists()                                        # nothing else there: the root goes too
