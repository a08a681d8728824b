"""The one protocol of every result the tool computes: status, message, success, parameters, files.

Each result type (integration batches, equilibria, regime maps, fold curves, branches, fate
checks, gradient checks, ...) is a frozen dataclass that also derives from :class:`Result`:

* ``status``: a :class:`Status` (for a batch of trajectories, an int8 array of its codes, one
  per trajectory); ``success``: ``status == Status.SUCCESS`` (a bool, or a bool array);
* ``message``: one line, from :data:`MESSAGES`;
* ``params``: the parameters the result was computed at, as ``{name: value}``;
* ``to_json()``: a dict of plain JSON values (arrays as lists, non-finite floats as None);
* ``to_npz(path, **extra)``: every array and scalar field, atomically (:mod:`symbolic.files`).

The defaults here serve most results; a type whose files are a contract (the NPZ keys of
``integrate``, ``regime-map``, ``bifurcation``; the JSON of ``equilibria``) overrides them.
"""
from __future__ import annotations

import enum
import json
import math
from dataclasses import fields, is_dataclass

import numpy as np


class Status(enum.IntEnum):
    """The status code of a result; each code's one-line message is in :data:`MESSAGES`.

    ``SUCCESS`` (0) reached ``t_end``, converged or completed; ``DIVERGED`` (1) the state exceeded
    the bound; ``MAX_STEPS`` (2) the step budget ran out; ``NONFINITE`` (3) a non-finite
    right-hand side, a step-size underflow or a fixed step the flow changes too much across (a
    singularity inside it); ``DISAGREE`` (4) the two sides of a check disagree; ``UNSTABLE`` (5) a
    fixed-step run blew up where the flow itself does not (the step is beyond the method's
    stability limit for a stiff flow: not a divergence of the ODE).

    Examples
    --------
    >>> from symbolic import Status
    >>> from symbolic.results import MESSAGES
    >>> Status(1).name, int(Status.DISAGREE), Status.SUCCESS == 0
    ('DIVERGED', 4, True)
    >>> MESSAGES[Status.MAX_STEPS]
    'stopped after max_steps before t_end'
    """

    SUCCESS = 0      # reached t_end, or converged to an equilibrium (t_event set); a computation done
    DIVERGED = 1     # |state| exceeded the bound (or blew up to inf/nan from a growing state)
    MAX_STEPS = 2    # the step budget ran out before t_end
    NONFINITE = 3    # non-finite right-hand side, or steps underflow at a moderate state (singular rhs)
    DISAGREE = 4     # a check whose two sides disagree (predicted vs integrated fates, closed form vs MC)
    UNSTABLE = 5     # a fixed step beyond the method's stability limit: the run blew up where the flow does not


MESSAGES = {
    Status.SUCCESS: "success",
    Status.DIVERGED: "diverged: |state| exceeded the bound at t_event",
    Status.MAX_STEPS: "stopped after max_steps before t_end",
    Status.NONFINITE: ("singular: a non-finite right-hand side, a step-size underflow or (fixed steps) an "
                       "unresolved step at t_event"),
    Status.DISAGREE: "the check failed: its two sides disagree",
    Status.UNSTABLE: ("unstable step: the fixed step blew up at t_event where an adaptive run does not (a "
                      "stiff flow beyond the method's stability limit); pass a smaller dt or an adaptive method"),
}


def plain(v):
    """``v`` as plain JSON values: arrays and tuples as lists, numpy scalars as Python numbers,
    non-finite floats as None, parameter dataclasses as dicts, enums by name."""
    if isinstance(v, enum.Enum):
        return v.name
    if is_dataclass(v) and not isinstance(v, type):
        return {f.name: plain(getattr(v, f.name)) for f in fields(v)}
    if isinstance(v, dict):
        return {str(k): plain(x) for k, x in v.items()}
    if isinstance(v, np.ndarray):
        if v.dtype.kind == "c":
            return plain([[z.real, z.imag] for z in v.ravel()]) if v.ndim <= 1 else [plain(x) for x in v]
        return [plain(x) for x in v] if v.ndim else plain(v.item())
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    if isinstance(v, np.generic):
        return plain(v.item())
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, complex):
        return [plain(v.real), plain(v.imag)]
    return v


class Result:
    """Mixin of the result protocol (see the module docstring), for dataclasses. ``status`` and
    ``params`` default to SUCCESS and no parameters; a type overrides them with a field or a
    property of its own.

    Provides ``success``, ``message``, ``to_json()`` and ``to_npz(path, **extra)``; takes no
    constructor arguments of its own (the dataclass's fields are the result).

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> import numpy as np
    >>> from symbolic import Result, Status
    >>> @dataclass(frozen=True)
    ... class Roots(Result):
    ...     p: np.ndarray
    ...     status: Status = Status.SUCCESS
    >>> r = Roots(np.array([0.0, np.inf]))
    >>> r.success, r.message, r.to_json()["p"], r.to_json()["status"]
    (True, 'success', [0.0, None], 'SUCCESS')
    >>> Roots(np.zeros(1), Status.DIVERGED).message
    'diverged: |state| exceeded the bound at t_event'
    """

    def __getattr__(self, name):
        # only reached when the type has no field or property of that name (class attributes
        # would become dataclass defaults of the fields that override them)
        if name == "status":
            return Status.SUCCESS
        if name == "params":
            return {}
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def success(self):
        return self.status == Status.SUCCESS

    @property
    def message(self) -> str:
        if np.ndim(self.status):
            codes = np.bincount(np.asarray(self.status, np.int64).ravel(), minlength=len(Status))
            return ", ".join(f"{int(n)} {Status(i).name.lower()}" for i, n in enumerate(codes) if n)
        return MESSAGES[Status(int(self.status))]

    def to_json(self) -> dict:
        out = {"type": type(self).__name__, "message": self.message}
        out.update({f.name: plain(getattr(self, f.name)) for f in fields(self)})
        out["status"] = plain(self.status)
        out["success"] = plain(self.success)
        out["params"] = plain(self.params)
        return out

    def to_npz(self, path, **extra) -> None:
        """Every array, number and string field (dicts and parameter objects as JSON text)."""
        arrays = {}
        for f in fields(self):
            v = getattr(self, f.name)
            if isinstance(v, np.ndarray) and v.dtype != object:
                arrays[f.name] = v
            elif isinstance(v, (int, float, str, bool, np.generic)):
                arrays[f.name] = np.asarray(v)
            elif v is not None:
                arrays[f.name] = np.str_(json.dumps(plain(v)))
        arrays["params"] = np.str_(json.dumps(plain(self.params)))
        save_npz_atomic(path, **arrays, **extra)


def save_npz_atomic(path, **arrays) -> None:
    """``numpy.savez`` of ``arrays`` through :func:`symbolic.files.write_npz`: a reader never sees
    half a file, and a killed run leaves ``NAME.XXXX.tmp``, never a stray ``*.npz``."""
    from .files import write_npz

    write_npz(path, arrays, name="out")
