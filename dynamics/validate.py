r"""Checks of arrays and parameter names at the public entry points, before any numba loop runs.

The numba loops index their arguments without bounds checks, so a wrongly shaped, typed or
non-finite array would be read out of bounds or classified silently. Every public batch function
passes its arrays through :func:`float_array`, :func:`theta_rows` or :func:`initial_values`,
which return C-contiguous, writable float64 copies (or the input itself when it already is one)
and raise :class:`~symbolic.errors.ParameterError` naming the argument otherwise.
"""
from __future__ import annotations

import numpy as np

from symbolic.errors import ParameterError, _fmt

#: dtype kinds accepted and cast to float64: floating, signed and unsigned integers
_NUMERIC_KINDS = "fiu"
_KIND_NAMES = {"b": "bool", "c": "complex", "O": "object", "M": "datetime", "m": "timedelta",
               "U": "string", "S": "bytes", "V": "void"}


def float_array(name: str, a, ndim: int | None = None, finite: bool = True) -> np.ndarray:
    """``a`` as a C-contiguous, writable, finite float64 array (integers are cast), else raise.

    Complex, object, datetime/timedelta, bool and string arrays are refused (a bool or complex
    array cast to float would silently mean something else)."""
    try:
        arr = np.asarray(a)
    except (TypeError, ValueError) as e:          # ragged nested sequences
        raise ParameterError(f"{name} must be a numeric array; got {type(a).__name__} ({e})") from None
    if arr.dtype.kind not in _NUMERIC_KINDS:
        kind = _KIND_NAMES.get(arr.dtype.kind, str(arr.dtype))
        raise ParameterError(f"{name} must be a real numeric array (float or int); got dtype {arr.dtype} ({kind})")
    if ndim is not None and arr.ndim != ndim:
        raise ParameterError(f"{name} must be {ndim}-dimensional; got shape {arr.shape}")
    arr = np.require(arr, dtype=np.float64, requirements=("C", "W"))
    if finite and arr.size and not np.all(np.isfinite(arr)):
        bad = np.flatnonzero(~np.isfinite(arr.ravel()))[0]
        idx = np.unravel_index(bad, arr.shape)
        raise ParameterError(f"{name} must be finite; got {float(arr.ravel()[bad])!r} at index "
                             f"{tuple(int(i) for i in idx)}")
    return arr


def check_field(model, name) -> str:
    """The field of ``model``'s parameter dataclass that ``name`` means (``n_psi`` for ``n_psi``,
    ``n-psi`` or ``N_Psi``: :func:`symbolic.registry.field_name`), else a ParameterError listing them."""
    from symbolic.registry import field_name

    return field_name(model, name)


def normal_fields(model: str, values) -> dict:
    """``values`` ({name: value}, any spelling :func:`check_field` accepts) keyed by field names."""
    out = {}
    for key, v in dict(values or {}).items():
        f = check_field(model, key)
        if f in out:
            raise ParameterError(f"parameter {f} is given twice (as {key!r} and another spelling)")
        out[f] = v
    return out


def make_params(model: str, values: dict):
    """``model``'s parameter dataclass from ``values`` (names normalised by :func:`check_field`),
    unknown names refused."""
    from symbolic.model import as_model

    return as_model(model).params_class(**normal_fields(model, values))


def theta_rows(model: str, theta, names, name: str = "theta", magnitude: bool = True) -> np.ndarray:
    """Kernel parameter rows ``theta`` (n, m) (one row (m,) allowed) as float64, shape, dtype,
    finiteness and every column's range (the dataclass's, applied to the whole column) checked.

    ``names`` are the kernel's parameter names in column order (``kernel.PARAMS``); ``magnitude``:
    apply the dataclass's magnitude limit too (the roots and critical decays need it; an
    integration reports an overflow as a status instead)."""
    names = tuple(names)
    arr = float_array(name, theta, finite=False)
    if arr.ndim == 1 and arr.size == len(names):
        arr = arr.reshape(1, -1)
    if arr.ndim != 2 or arr.shape[1] != len(names):
        raise ParameterError(f"{name} must have shape (n, {len(names)}) with columns {', '.join(names)}; "
                             f"got shape {np.shape(theta)}")
    fin = np.isfinite(arr)
    if not fin.all():
        i, j = (int(v) for v in np.argwhere(~fin)[0])
        raise ParameterError(f"{names[j]} ({name}[:, {j}]) must be finite; got {float(arr[i, j])!r} in row {i}")
    check_columns(model, arr, names, name, magnitude)
    return arr


def check_columns(model: str, arr: np.ndarray, names, name: str = "theta", magnitude: bool = True) -> None:
    """Apply the dataclass's checks of ``model`` to every value of each column of ``arr``
    (n, len(names)), vectorised: the range, the magnitude limit and the allowed values of a
    discrete field (DirectSet's ``iso`` in {0, 1}), as ``__post_init__`` does for one point."""
    from symbolic.params import discrete_message, magnitude_message

    from symbolic.model import as_model

    cls = as_model(model).params_class
    mag = getattr(cls, "MAGNITUDE", None) if magnitude else None
    discrete = getattr(cls, "DISCRETE", {})
    for j, kname in enumerate(names):
        field = cls.KERNEL_NAMES.get(kname)
        if field is None or field not in cls.RANGES or arr.shape[0] == 0:
            continue
        lo, lo_open = cls.RANGES[field]
        col = arr[:, j]
        checks = [((col <= lo) if lo_open else (col < lo),
                   lambda v: f"must be in {'(' if lo_open else '['}{_fmt(lo)}, inf); got {v!r}")]
        if mag is not None:
            checks.append(((col != 0.0) & ((np.abs(col) < mag[0]) | (np.abs(col) > mag[1])),
                           lambda v: magnitude_message("", mag[0], mag[1], v).lstrip()))
        if field in discrete:
            values, text = discrete[field]
            checks.append((~np.isin(col, values), lambda v: discrete_message("", text, v).lstrip()))
        for bad, message in checks:
            if np.any(bad):
                i = int(np.flatnonzero(bad)[0])
                raise ParameterError(f"{field} ({name}[:, {j}]) {message(float(col[i]))} in row {i}")


def initial_values(name: str, p0, n: int) -> np.ndarray:
    """Initial conditions ``p0`` as a finite float64 vector of exactly ``n`` entries."""
    arr = float_array(name, p0)
    if arr.ndim != 1 or arr.size != n:
        raise ParameterError(f"{name} must have shape ({n},), one entry per parameter row; got shape {arr.shape}")
    return arr


def grid_values(name: str, values) -> np.ndarray:
    """A non-empty, finite, one-dimensional float64 grid."""
    arr = float_array(name, values).ravel()
    if arr.size == 0:
        raise ParameterError(f"{name} grid must have at least one point; got 0")
    return arr

