"""The one way the tool writes a file: checked path, temporary file, fsync, rename; and capped reads.

Every output (NPZ, NetCDF, JSON, figures, checkpoints, metrics, generated kernels, the derivation
cache) goes through :func:`write_bytes` or :func:`write_file`. It lives in the lowest layer so that
``symbolic``, ``dynamics`` and ``sims`` can all use it.

* The path is made absolute (not resolved: a symlink is seen as one) and refused with a
  :class:`~symbolic.errors.ParameterError` naming it when something that is not a regular file
  is there: a directory, a device such as ``/dev/full``, a FIFO, a socket or a symbolic link.
* The bytes go to ``<name>.<8 hex>.tmp`` in the same folder (created with ``O_EXCL``, mode
  ``0o666`` so the kernel applies the umask, and ``flock``-ed while it is written), are flushed
  and fsynced, and ``os.replace`` puts them in place (atomic on POSIX within one file system): a
  reader, or a run resumed after SIGKILL, sees the old file or the complete new one, never half of it.
* On failure only that temporary file is removed; an ``OSError`` becomes a one-line
  ``ParameterError`` naming the path. A SIGTERM during the write (in the main thread, where
  nobody else handles it) removes it too and raises :class:`Terminated`.
* Before writing ``NAME``, the stale ``NAME.<8 hex>.tmp`` files that a killed writer left next to
  it (no process holds their lock) are removed.

:func:`read_capped` reads an input that must be a regular file of bounded size (a FIFO would
block, ``/dev/zero`` or a sparse file would fill the memory). :func:`check_memory` refuses a run
whose estimated memory exceeds what is available, before anything is allocated.
:func:`check_not_input` refuses an output path that is one of the inputs of the same command.
"""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import secrets
import signal
import stat
import threading
from pathlib import Path

from .errors import ParameterError

#: what :func:`check_target` calls each kind of non-regular file, by ``stat`` predicate
_KINDS = ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"))
#: read and hash in blocks of this many bytes
_BLOCK = 1 << 20


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived while a file was being written; its temporary file was removed.

    The CLI reports it as ``ssldyn: terminated`` with exit status 143 (128 + SIGTERM).
    """


def _kind(mode: int) -> str:
    return next((k for test, k in _KINDS if test(mode)), "not a regular file")


def check_target(path, name: str = "output") -> Path:
    """Return ``path`` made absolute if it is a regular file or nothing yet, else raise.

    ``ParameterError``: ``output must be a regular file or a new path; got '/dev/full' (a character device)``.
    """
    p = Path(os.path.abspath(os.fspath(path)))
    try:
        mode = os.lstat(p).st_mode
    except FileNotFoundError:
        return p
    except OSError as e:
        raise ParameterError(f"{name} cannot be written ({e.strerror}); got {str(p)!r}") from None
    if stat.S_ISREG(mode):
        return p
    raise ParameterError(f"{name} must be a regular file or a new path; got {str(p)!r} ({_kind(mode)})")


def check_not_input(out, *inputs, name: str = "out") -> Path:
    """Return ``out`` made absolute unless it is the same file as one of ``inputs`` (``os.path.samefile``).

    Inputs that do not exist, or an ``out`` that does not exist yet, cannot clash and are skipped.
    """
    p = Path(os.path.abspath(os.fspath(out)))
    for inp in inputs:
        if inp is None:
            continue
        try:
            same = os.path.samefile(p, inp)
        except OSError:
            continue
        if same:
            raise ParameterError(f"{name} must not be an input of the same command ({os.fspath(inp)!r}); "
                                 f"got {str(p)!r}")
    return p


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _open_temp(folder: Path, name: str) -> tuple[int, Path]:
    """A new ``name.<8 hex>.tmp`` in ``folder``, opened for writing and locked (``flock``) by us."""
    for _ in range(100):
        tmp = folder / f"{name}.{secrets.token_hex(4)}.tmp"
        try:
            fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            continue
        fcntl.flock(fd, fcntl.LOCK_EX)
        return fd, tmp
    raise FileExistsError(f"no free temporary name next to {folder / name}")


def remove_stale_temp_files(path) -> int:
    """Remove the ``NAME.<8 hex>.tmp`` files next to ``path`` that no live writer holds (a writer
    keeps its temporary file ``flock``-ed until the rename, and the kernel drops the lock when the
    process dies, even by SIGKILL); returns how many were removed. Other files are never touched."""
    p = Path(os.path.abspath(os.fspath(path)))
    pattern = re.compile(re.escape(p.name) + r"\.[0-9a-f]{8}\.tmp")
    removed = 0
    try:
        entries = [e.name for e in os.scandir(p.parent) if pattern.fullmatch(e.name)]
    except OSError:
        return 0
    for entry in entries:
        try:
            fd = os.open(p.parent / entry, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            continue
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                continue
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)      # held by a live writer: BlockingIOError
            os.unlink(p.parent / entry)
            removed += 1
        except OSError:
            continue
        finally:
            os.close(fd)
    return removed


@contextlib.contextmanager
def _sigterm_removes():
    """While the block runs, a SIGTERM raises :class:`Terminated` (so that the ``finally`` of the
    writer removes its temporary file) when the default action is in place and we are in the main
    thread; elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    try:
        old = signal.getsignal(signal.SIGTERM)
    except (ValueError, OSError):  # pragma: no cover
        old = None
    if old is not signal.SIG_DFL:
        yield
        return

    def handler(signum, frame):
        raise Terminated("terminated by SIGTERM while writing a file")

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def write_file(path, fill, name: str = "output", *, by_path: bool = False, clean_stale: bool = True) -> Path:
    """Write ``path`` atomically with ``fill`` (see the module docstring); returns the absolute path.

    ``fill(f)`` writes the content to the binary file object ``f`` (opened on the temporary file);
    with ``by_path``, ``fill(tmp_path)`` writes the file at that path itself (e.g. a NetCDF library).
    Creates missing parent folders. ``name`` is the parameter the error messages name;
    ``clean_stale=False`` skips the removal of stale temporary files (a caller that did it already).
    """
    p = check_target(path, name)
    fd, tmp = None, None
    try:
        with _sigterm_removes():
            try:
                p.parent.mkdir(parents=True, exist_ok=True)
                if clean_stale:
                    remove_stale_temp_files(p)
                fd, tmp = _open_temp(p.parent, p.name)
                if by_path:
                    fill(tmp)
                    sync = os.open(tmp, os.O_RDONLY)         # the library may have replaced the file
                    try:
                        os.fsync(sync)
                    finally:
                        os.close(sync)
                else:
                    with os.fdopen(os.dup(fd), "w+b") as f:
                        fill(f)
                        f.flush()
                        os.fsync(f.fileno())
                check_target(p, name)            # refuse what appeared there meanwhile (a directory, a link)
                os.replace(tmp, p)               # still locked: no cleaner removes it before this
                tmp = None
            finally:
                if tmp is not None:
                    with contextlib.suppress(OSError):
                        os.unlink(tmp)
                if fd is not None:
                    os.close(fd)
    except OSError as e:
        raise ParameterError(f"{name} cannot be written ({e.strerror or e}); got {str(p)!r}") from None
    _fsync_dir(p.parent)
    return p


def write_bytes(path, data: bytes, name: str = "output", *, clean_stale: bool = True) -> Path:
    """Write ``data`` to ``path`` atomically (see the module docstring); returns the absolute path.

    Creates missing parent folders. ``name`` is the parameter the error messages name.
    """
    return write_file(path, lambda f: f.write(data), name, clean_stale=clean_stale)


def write_text(path, text: str, name: str = "output") -> Path:
    """:func:`write_bytes` of ``text`` encoded as UTF-8."""
    return write_bytes(path, text.encode("utf-8"), name)


def npz_bytes(arrays: dict) -> bytes:
    """The bytes of ``numpy.savez(**arrays)`` (uncompressed; the zip entries carry a timestamp, so
    compare arrays, not files). Holds the whole file in memory: :func:`write_npz` streams instead."""
    import io

    import numpy as np

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def write_npz(path, arrays: dict, name: str = "output", *, clean_stale: bool = True) -> str:
    """Write ``arrays`` as NPZ through :func:`write_file` (atomic; a target that is not a regular
    file is refused); returns the SHA-256 (hex) of the bytes written. The one NPZ writer: results'
    ``to_npz``, sweeps' chunks and merges and every figure's numbers use it. The arrays are streamed
    into the temporary file (numpy writes them in blocks), which is then read back for the
    checksum: the file is never held in memory."""
    import numpy as np

    digest = []

    def fill(f):
        np.savez(f, **arrays)
        f.flush()
        f.seek(0)
        h = hashlib.sha256()
        for block in iter(lambda: f.read(_BLOCK), b""):
            h.update(block)
        digest.append(h.hexdigest())

    write_file(path, fill, name, clean_stale=clean_stale)
    return digest[0]


def read_capped(path, cap: int, name: str = "input") -> bytes:
    """The bytes of ``path``, which must be a regular file (not a link, FIFO, device or folder) of
    at most ``cap`` bytes; else a one-line ``ParameterError`` naming ``name`` and the path. The file
    is opened without following a link and without blocking, so neither a FIFO nor ``/dev/zero``
    nor a sparse 20 GB file can hang the reader or fill the memory."""
    p = os.fspath(path)
    try:
        mode = os.lstat(p).st_mode
        if not stat.S_ISREG(mode):
            raise ParameterError(f"{name} must be a regular file; got {p!r} ({_kind(mode)})")
        fd = os.open(p, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as e:
        raise ParameterError(f"{name} cannot be read ({e.strerror or e}); got {p!r}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ParameterError(f"{name} must be a regular file; got {p!r} ({_kind(st.st_mode)})")
        if st.st_size > cap:
            raise ParameterError(f"{name} is {st.st_size} bytes, more than the {cap} it can be; got {p!r}")
        parts, size = [], 0
        while size <= cap:
            block = os.read(fd, min(_BLOCK, cap + 1 - size))
            if not block:
                break
            parts.append(block)
            size += len(block)
        if size > cap:                   # grew while read
            raise ParameterError(f"{name} is more than the {cap} bytes it can be; got {p!r}")
        return b"".join(parts)
    except OSError as e:
        raise ParameterError(f"{name} cannot be read ({e.strerror or e}); got {p!r}") from None
    finally:
        os.close(fd)


def available_memory() -> int:
    """Bytes of memory available now (MemAvailable of /proc/meminfo, else the physical memory),
    and no more than what the address-space limit (``ulimit -v``) leaves when one is set."""
    avail = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    avail = int(line.split()[1]) * 1024
                    break
    except (OSError, ValueError, IndexError):
        pass
    if avail is None:
        try:
            avail = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError, AttributeError):
            avail = 1 << 62
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_AS)[0]
        if soft != resource.RLIM_INFINITY and soft > 0:
            avail = min(avail, max(0, soft - _vm_size()))
    except (ImportError, OSError, ValueError):  # pragma: no cover
        pass
    return avail


def _vm_size() -> int:
    """Bytes of address space this process uses now (VmSize of /proc/self/status; 0 if unknown)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def check_memory(what: str, nbytes: float) -> None:
    """Refuse a run whose estimated memory ``nbytes`` exceeds 80% of the available memory
    (:func:`available_memory`); call it before allocating. ``what`` names the run in the message."""
    avail = available_memory()
    if nbytes > 0.8 * avail:
        raise ParameterError(f"{what} needs about {nbytes / 2**30:.3g} GiB, more than the "
                             f"{0.8 * avail / 2**30:.3g} GiB available (80% of free memory); use smaller sizes")
