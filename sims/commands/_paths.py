"""Checks of the files a subcommand reads and writes, done before any work.

Each checker raises :class:`ParameterError` with one line naming the flag, what is wrong and the
path received; the CLI turns it into ``ssldyn: error: ...`` and exit 2.
"""
from __future__ import annotations

import os
import stat

from symbolic.errors import ParameterError
from symbolic.files import available_memory, check_memory  # noqa: F401  (re-exported)

#: dtype kinds accepted from a .npy file: bool, signed and unsigned integers, floats
NPY_KINDS = {"b": "bool", "i": "integer", "u": "unsigned integer", "f": "float"}
#: the formats --plot writes, by the suffix of its path (lower case; all are matplotlib's)
PLOT_FORMATS = ("png", "pdf", "svg", "eps", "ps", "jpg", "jpeg", "tif", "tiff", "webp")


def _name_max(folder: str) -> int:
    try:
        return os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        return 255


def _existing_ancestor(path: str) -> str:
    """The nearest existing ancestor folder of ``path`` (itself excluded)."""
    parent = os.path.dirname(os.path.abspath(path))
    while not os.path.lexists(parent):
        parent = os.path.dirname(parent)
    return parent


def check_output_path(flag: str, path: str, kind: str = "file") -> str:
    """Return ``path`` if a ``kind`` ('file' or 'dir') output can be written there.

    Refused: an empty path; a name longer than the file system allows; a parent that is not a
    folder or not writable; for a file, an existing path that is not a regular file (a folder, a
    fifo, a device, a symbolic link: writing would replace or follow it); for a folder, an existing
    path that is not a folder.
    """
    if not isinstance(path, str) or not path.strip():
        raise ParameterError(f"{flag} must be a path; got {path!r}")
    if "\0" in path:
        raise ParameterError(f"{flag} must not contain a NUL byte; got {path!r}")
    full = os.path.abspath(path)
    if len(os.fsencode(full)) >= 4096:
        raise ParameterError(f"{flag} is too long ({len(os.fsencode(full))} bytes, at most 4095); got {path[:40]!r}...")
    anc = _existing_ancestor(full)
    limit = _name_max(anc if os.path.isdir(anc) else "/")
    for part in full.split(os.sep):
        if len(os.fsencode(part)) > limit:
            raise ParameterError(f"{flag} has a name longer than {limit} bytes ({len(os.fsencode(part))}); "
                                 f"got {part[:40]!r}...")
    if os.path.lexists(full):
        st = os.lstat(full)
        if kind == "file":
            if stat.S_ISDIR(st.st_mode):
                raise ParameterError(f"{flag} is a folder; give a file path; got {path!r}")
            if not stat.S_ISREG(st.st_mode):
                what = "a symbolic link" if stat.S_ISLNK(st.st_mode) else "not a regular file"
                raise ParameterError(f"{flag} exists and is {what}, which would be replaced; "
                                     f"give a new path or a regular file; got {path!r}")
        elif not os.path.isdir(full):
            raise ParameterError(f"{flag} must be a folder (or a new path); got {path!r}, which is not a folder")
    if not os.path.isdir(anc):
        raise ParameterError(f"{flag} cannot be created: {anc!r} is not a folder; got {path!r}")
    target = full if (kind == "dir" and os.path.isdir(full)) else anc
    if not os.access(target, os.W_OK | os.X_OK):
        raise ParameterError(f"{flag} cannot be written: {target!r} is read-only; got {path!r}")
    return path


def check_suffix(flag: str, path: str, suffixes) -> str:
    """Return the lower-case suffix of ``path`` (without the dot) if it is one of ``suffixes``, else
    raise: the suffix decides the format written, and an unknown one would write something else."""
    suffix = os.path.splitext(path)[1][1:]
    if suffix.lower() not in suffixes:
        raise ParameterError(f"{flag} must end in {', '.join('.' + s for s in suffixes)} (the suffix "
                             f"decides the format); got {path!r}")
    return suffix.lower()


def check_distinct(paths: dict) -> None:
    """Refuse two flags naming the same output file (``{flag: path}``; paths not given are None):
    the second write would replace the first."""
    seen = {}
    for flag, path in paths.items():
        if path is None:
            continue
        key = os.path.realpath(path)
        if key in seen:
            raise ParameterError(f"{flag} must differ from {seen[key]} (both would write {path!r})")
        seen[key] = flag


def save_plot(fig, path: str) -> list:
    """Write ``fig`` to ``path`` in the format of its suffix (checked by :func:`check_suffix`),
    atomically (:func:`figures.style.save`); returns ``[path]``."""
    from pathlib import Path

    from figures.style import save

    p = Path(path)
    return save(fig, p.parent, p.stem, formats=(p.suffix[1:],))


def check_input_file(flag: str, path: str) -> str:
    """Return ``path`` if it is an existing regular file (a fifo would block, a folder fails)."""
    if not path:
        raise ParameterError(f"{flag} must be a file path; got {path!r}")
    try:
        st = os.stat(path)
    except OSError as e:
        raise ParameterError(f"{flag} cannot be read ({e.strerror}); got {path!r}") from None
    if not stat.S_ISREG(st.st_mode):
        raise ParameterError(f"{flag} must be a regular file; got {path!r}, which is "
                             + ("a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file"))
    return path


def check_not_same(out_flag: str, out: str, in_flag: str, inp: str) -> None:
    """Refuse an output that is the input file (writing it would destroy the input)."""
    try:
        same = os.path.exists(out) and os.path.samefile(out, inp)
    except OSError:
        same = False
    if same:
        raise ParameterError(f"{out_flag} must differ from {in_flag} (it would overwrite the input); got {out!r}")


def read_npy_header(flag: str, path: str):
    """(shape, dtype) of the .npy file at ``path``, read from its header only; refuses anything
    that is not an .npy array of bool, integer or float numbers (object arrays, complex, datetime,
    strings, structured dtypes), and files shorter than the header promises."""
    import numpy as np
    from numpy.lib import format as npf

    check_input_file(flag, path)
    try:
        with open(path, "rb") as f:
            version = npf.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = npf.read_array_header_1_0(f)
            elif version in ((2, 0), (3, 0)):
                shape, fortran, dtype = npf.read_array_header_2_0(f)
            else:
                raise ValueError(f"unsupported .npy version {version}")
            offset = f.tell()
    except (ValueError, EOFError, SyntaxError, TypeError, OSError, UnicodeDecodeError) as e:
        raise ParameterError(f"{flag} must be a .npy array file; got {path!r} ({' '.join(str(e).split())[:120]})") from None
    if dtype.names is not None or dtype.kind not in NPY_KINDS or dtype.hasobject:
        raise ParameterError(f"{flag} must hold {', '.join(NPY_KINDS.values())} numbers; got dtype {dtype} in {path!r}")
    n = int(np.prod(shape, dtype=object)) if shape else 1
    need = offset + n * dtype.itemsize
    size = os.path.getsize(path)
    if size < need:
        raise ParameterError(f"{flag} is truncated: {path!r} has {size} bytes, its header needs {need}")
    return tuple(shape), dtype


def load_npy(flag: str, path: str):
    """The float64 array of the .npy file at ``path`` (checked with :func:`read_npy_header`)."""
    import numpy as np

    shape, dtype = read_npy_header(flag, path)
    check_memory(f"{flag} {path}", 8 * (int(np.prod(shape, dtype=object)) if shape else 1) * 2)
    try:
        a = np.load(path, allow_pickle=False)
    except (ValueError, EOFError, OSError) as e:
        raise ParameterError(f"{flag} cannot be loaded from {path!r}: {' '.join(str(e).split())[:120]}") from None
    return np.asarray(a, dtype=np.float64)
