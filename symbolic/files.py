"""The one way the tool writes a file: checked path, temporary file, fsync, rename.

Every output (NPZ, JSON, figures, checkpoints, metrics, generated kernels, the derivation cache)
goes through :func:`write_bytes`. It lives in the lowest layer so that ``symbolic``, ``dynamics``
and ``sims`` can all use it.

* The path is made absolute (not resolved: a symlink is seen as one) and refused with a
  :class:`~symbolic.errors.ParameterError` naming it when something that is not a regular file
  is there: a directory, a device such as ``/dev/full``, a FIFO, a socket or a symbolic link.
* The bytes go to ``<name>.<random>.tmp`` in the same folder (created with ``O_EXCL``, mode
  ``0o666`` so the kernel applies the umask), are flushed and fsynced, and ``os.replace`` puts
  them in place (atomic on POSIX within one file system): a reader, or a run resumed after
  SIGKILL, sees the old file or the complete new one, never half of it.
* On failure only that temporary file is removed; an ``OSError`` becomes a one-line
  ``ParameterError`` naming the path.

:func:`check_not_input` refuses an output path that is one of the inputs of the same command.
"""
from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from .errors import ParameterError

#: what :func:`check_target` calls each kind of non-regular file, by ``stat`` predicate
_KINDS = ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"),
          (stat.S_ISBLK, "a block device"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISSOCK, "a socket"))


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
    kind = next((k for test, k in _KINDS if test(mode)), "not a regular file")
    raise ParameterError(f"{name} must be a regular file or a new path; got {str(p)!r} ({kind})")


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
    for _ in range(100):
        tmp = folder / f"{name}.{secrets.token_hex(4)}.tmp"
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name next to {folder / name}")


def write_bytes(path, data: bytes, name: str = "output") -> Path:
    """Write ``data`` to ``path`` atomically (see the module docstring); returns the absolute path.

    Creates missing parent folders. ``name`` is the parameter the error messages name.
    """
    p = check_target(path, name)
    tmp = None
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = _open_temp(p.parent, p.name)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        check_target(p, name)            # refuse what appeared there meanwhile (a directory, a link)
        os.replace(tmp, p)
        tmp = None
    except OSError as e:
        raise ParameterError(f"{name} cannot be written ({e.strerror or e}); got {str(p)!r}") from None
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    _fsync_dir(p.parent)
    return p


def write_text(path, text: str, name: str = "output") -> Path:
    """:func:`write_bytes` of ``text`` encoded as UTF-8."""
    return write_bytes(path, text.encode("utf-8"), name)


def npz_bytes(arrays: dict) -> bytes:
    """The bytes of ``numpy.savez(**arrays)`` (uncompressed; the zip entries carry a timestamp, so
    compare arrays, not files)."""
    import io

    import numpy as np

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def write_npz(path, arrays: dict, name: str = "output") -> str:
    """Write ``arrays`` as NPZ through :func:`write_bytes` (atomic; a target that is not a regular
    file is refused); returns the SHA-256 (hex) of the bytes written. The one NPZ writer: results'
    ``to_npz``, sweeps' chunks and merges and every figure's numbers use it."""
    import hashlib

    data = npz_bytes(arrays)
    write_bytes(path, data, name=name)
    return hashlib.sha256(data).hexdigest()

