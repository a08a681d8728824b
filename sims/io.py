"""Atomic writes for sweep outputs: NPZ and JSON through a temporary file and a rename.

A reader (or a sweep resumed after SIGKILL) sees either the old file or the complete new one,
never half of it: :func:`symbolic.files.write_bytes` puts the bytes in ``NAME.XXXX.tmp`` in the same
folder, flushes and fsyncs them, and ``os.replace`` (atomic on POSIX within one file system) puts
them in place; a target that is not a regular file (``/dev/full``, a FIFO, a link) is refused. Chunk checksums
are SHA-256 of the exact bytes written, so ``sha256_file(path) == sha256(data)`` verifies a file.

It also holds the two environment facts every command records or needs: :func:`versions` (what
produced a result) and :func:`require_cuda` (the project's one CUDA check, from :mod:`dynamics.gpu`).
Neither imports torch at module import: the core runs without it. And the provenance helpers:
:func:`command_line` (the command an output records); re-loading an output is
:func:`sims.outputs.load_result`.
"""
from __future__ import annotations

import hashlib
import json
import shlex
import sys
from pathlib import Path

import numpy as np

from symbolic.errors import ParameterError
from symbolic.files import check_not_input, npz_bytes, write_bytes, write_npz  # noqa: F401  (re-exported)
from symbolic.results import plain  # noqa: F401  (re-exported: the one JSON converter)
from dynamics.gpu import require_cuda  # noqa: F401  (re-exported: the one CUDA check)



def sha256(data: bytes) -> str:
    """Hex SHA-256 of ``data``."""
    return hashlib.sha256(data).hexdigest()


def sha256_file(path) -> str | None:
    """Hex SHA-256 of the file at ``path``; None when it cannot be read."""
    try:
        return sha256(Path(path).read_bytes())
    except OSError:
        return None


def atomic_write_bytes(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically: :func:`symbolic.files.write_bytes` (refuses a target
    that is not a regular file; temporary ``NAME.XXXX.tmp``, fsync, rename, umask mode)."""
    return write_bytes(path, data)


def write_netcdf(path, dataset, name: str = "out") -> Path:
    """Write the ``xarray.Dataset`` ``dataset`` as NetCDF atomically (the library writes the
    temporary file by its path: :func:`symbolic.files.write_file` with ``by_path``)."""
    from symbolic.files import write_file

    return write_file(path, dataset.to_netcdf, name=name, by_path=True)


def write_json(path, obj) -> Path:
    """Write ``obj`` (NumPy values allowed, see :func:`plain`) as indented strict JSON atomically."""
    return atomic_write_bytes(path, json_bytes(obj))


def json_bytes(obj) -> bytes:
    """``obj`` as indented strict JSON (NaN and inf become null through :func:`plain`, so
    ``allow_nan=False`` only catches what slipped past it)."""
    return json.dumps(plain(obj), indent=1, sort_keys=False, allow_nan=False).encode()


def versions(torch: bool = True) -> dict:
    """The versions a result was produced with: ssldyn, Python, NumPy, SciPy, SymPy, numba and,
    with ``torch`` when torch can be imported, torch, the CUDA it was built with (``cuda``, None
    for a CPU build) and the name of CUDA device 0 (``gpu``, only when torch sees one). Sweeps
    pass ``torch=False``: they never use it, and importing it costs seconds."""
    import platform
    from importlib.metadata import version

    import numba
    import scipy
    import sympy

    try:
        ssldyn = version("ssldyn")
    except Exception:  # pragma: no cover  (not installed: running from a checkout)
        ssldyn = "unknown"
    out = {"ssldyn": ssldyn, "python": platform.python_version(), "numpy": np.__version__,
           "scipy": scipy.__version__, "sympy": sympy.__version__, "numba": numba.__version__}
    if not torch:
        return out
    try:
        import torch as _torch
    except ImportError:
        return out
    out["torch"] = _torch.__version__
    out["cuda"] = _torch.version.cuda
    if _torch.cuda.is_available():
        out["gpu"] = _torch.cuda.get_device_name(0)
    return out


def command_line(args=None) -> str:
    """The command an output records: ``ssldyn`` and the arguments :func:`sims.cli.main` parsed
    (shell-quoted, so it can be pasted back), else ``sys.argv`` joined."""
    argv = getattr(args, "_argv", None)
    return shlex.join(["ssldyn", *argv]) if argv is not None else shlex.join(sys.argv)


def provenance(args, params: dict, defaulted) -> dict:
    """The provenance keys a command adds to its NPZ: ``param_NAME`` per fixed parameter (given
    and defaulted), ``defaulted`` (comma-separated names), ``version`` (``symbolic.__version__``)
    and ``command`` (:func:`command_line`)."""
    from symbolic import __version__

    return {**{f"param_{k}": np.asarray(v) for k, v in params.items()}, "defaulted": np.str_(",".join(defaulted)),
            "version": np.str_(__version__), "command": np.str_(command_line(args))}


def need_xarray(flag: str, path) -> None:
    """Raise one line naming ``flag``, the package and the extra unless xarray can be imported."""
    try:
        import xarray  # noqa: F401
    except ImportError:
        raise ParameterError(f"{flag} {path}: NetCDF output needs the package xarray, which is not installed; "
                             "pip install ssldyn[sweep] (or give a .npz name)") from None
