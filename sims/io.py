"""Atomic writes for sweep outputs: NPZ and JSON through a temporary file and a rename.

A reader (or a sweep resumed after SIGKILL) sees either the old file or the complete new one,
never half of it: the bytes go to ``NAME.XXXX.tmp`` in the same folder, are flushed and fsynced,
and ``os.replace`` (atomic on POSIX within one file system) puts them in place. Chunk checksums
are SHA-256 of the exact bytes written, so ``sha256_file(path) == sha256(data)`` verifies a file.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from pathlib import Path

import numpy as np


def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path) -> str | None:
    """Hex SHA-256 of the file at ``path``; None when it cannot be read."""
    try:
        return sha256(Path(path).read_bytes())
    except OSError:
        return None


_UMASK = os.umask(0)
os.umask(_UMASK)


def atomic_write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (temporary file in the same folder, fsync, rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_UMASK)          # mkstemp makes 0600; give the file the usual mode
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


def npz_bytes(arrays: dict) -> bytes:
    """The bytes of ``numpy.savez(**arrays)`` (uncompressed; the zip entries carry a timestamp, so compare arrays, not files)."""
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def write_npz(path, arrays: dict) -> str:
    """Write ``arrays`` as NPZ atomically; returns the SHA-256 of the bytes written."""
    data = npz_bytes(arrays)
    atomic_write_bytes(path, data)
    return sha256(data)


def read_npz(path) -> dict:
    """All arrays of an NPZ file, loaded into memory."""
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def plain(obj):
    """``obj`` with NumPy arrays and scalars turned into lists and Python numbers (for JSON);
    non-finite floats become None, so the file stays strict JSON."""
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return plain(obj.tolist())
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not np.isfinite(obj):
        return None
    return obj


def write_json(path, obj) -> Path:
    """Write ``obj`` (NumPy values allowed, see :func:`plain`) as indented JSON atomically."""
    return atomic_write_bytes(path, json.dumps(plain(obj), indent=1, sort_keys=False).encode())
