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
    (tmp_path / "r.npz.deadbeef.tmp").write_bytes(b"another writer's temporary")

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "replace", boom)
    with pytest.raises(ParameterError, match="No space left on device.*r.npz"):
        files.write_bytes(target, b"new")
    assert target.read_bytes() == b"previous"
    assert sorted(os.listdir(tmp_path)) == ["mine.tmp", "r.npz", "r.npz.deadbeef.tmp"]


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
