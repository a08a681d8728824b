"""Result of a batched integration: final states, a status per trajectory, event times, and the
provenance of the run (model, form, convention, parameters, initial states, method, tolerances,
ssldyn version, command), which its files carry and re-load with (:meth:`BatchResult.from_npz`,
:meth:`BatchResult.from_netcdf`) and from which :func:`dynamics.integrate.rerun` repeats it bit for bit."""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

import numpy as np

from symbolic.errors import ParameterError
from symbolic.results import MESSAGES, Result, Status, save_npz_atomic  # noqa: F401

#: the integration options a result records (``integrate``'s keywords; ``dt`` is the resolved
#: fixed step, None for an adaptive run), with the type each re-loads as
OPTIONS = {"t0": float, "t_end": float, "dt": float, "fixed_step": bool, "rtol": float, "atol": float,
           "max_steps": int, "diverge_bound": float, "converge_tol": float, "h0": float, "device": str}
#: the fields every integrate file has (the NPZ keys; the NetCDF variables but for ``ys``: ``y``)
REQUIRED = ("final", "status", "t_event", "nsteps", "method")
#: the command a result made from Python records
PYTHON_API = "python API"


def _version() -> str:
    from symbolic import __version__

    return __version__


@dataclass(frozen=True)
class BatchResult(Result):
    r"""Outcome of :func:`dynamics.integrate.integrate` for N trajectories, with its provenance.

    ``final``: (N,) for scalar systems else (N, dim). ``status``: int8 codes of :class:`Status`.
    ``t_event``: divergence / convergence / non-finite time, NaN if none. ``t``, ``ys``: the
    requested output grid and the states on it ((len(t), N) or (len(t), N, dim)); None if not asked.
    Grid points after a trajectory stopped hold NaN (diverged, non-finite, max-steps; ``status``
    says which), except after convergence, where the state stays at the equilibrium.
    :func:`dynamics.systems.integrate_coupled` returns one too (``final`` (B, 2h), ``extra`` ``{'h': h}``).

    Parameters
    ----------
    final : numpy.ndarray
        The final states, (N,) for scalar systems else (N, dim) (the last finite state of a
        trajectory that stopped early).
    status : numpy.ndarray
        int8 codes of :class:`Status`, one per trajectory.
    t_event : numpy.ndarray
        Divergence / convergence / non-finite time per trajectory, NaN if none.
    nsteps : numpy.ndarray
        The accepted steps each trajectory took (int64).
    method : str
        The tableau (``'tsit5'``, ``'dopri5'``, ``'rk4'``; ``'tsit5@cuda'`` etc. for the torch backend).
    t : numpy.ndarray or None, optional
        The requested output grid (``t_eval``), None if not asked.
    ys : numpy.ndarray or None, optional
        The states on ``t``: (len(t), N) or (len(t), N, dim); None if not asked.
    state : tuple of str, optional
        The state variables' names (the columns of ``final``), e.g. ``('p',)`` or ``('p', 's')``.
    extra : dict, optional
        Other facts of the run (the number of modes ``h`` of a coupled system).
    params : dict, optional
        The shared parameters (``to_dict()`` of the dataclass), when one set was given; else empty.
    p0 : numpy.ndarray or None, optional
        The initial states, shaped as ``final``.
    model, form, convention : str, optional
        The model, its form and the cosine normalisation convention integrated.
    options : dict, optional
        The integration options, :data:`OPTIONS`: ``t0``, ``t_end``, ``dt`` (the fixed step taken,
        None for an adaptive run), ``fixed_step``, ``rtol``, ``atol``, ``max_steps``,
        ``diverge_bound``, ``converge_tol``, ``h0``, ``device``.
    defaulted : tuple of str or None, optional
        The parameters that took the model's defaults (the CLI knows them); None: unknown (a
        dataclass given from Python), and the files name those equal to the model's defaults.
    version : str, optional
        The ssldyn version that computed the result (``symbolic.__version__``).
    command : str, optional
        The command line that computed it, or ``'python API'``.
    fingerprint : str or None, optional
        A user model's expression hash (:attr:`symbolic.registry.ModelSpec.fingerprint`; ``''`` for
        a built-in model); None: the registered model's, looked up at construction.

    Notes
    -----
    The saved times follow diffrax's ``SaveAt(ts=t, t1=True)``: ``ys`` holds the states at exactly
    the requested times ``t`` (steps land on them; nothing is interpolated), ``final`` the state at
    ``t_end`` (or where the trajectory stopped, ``t_event``). :meth:`to_xarray` names the fields
    as ``scipy.integrate.solve_ivp``'s ``OdeResult``: ``t``, ``y``, ``status``, ``message``,
    ``nsteps`` (accepted steps, not right-hand-side evaluations: ``nfev`` is about 6 per step of
    ``tsit5``/``dopri5`` and 4 of ``rk4``).

    Examples
    --------
    >>> import os
    >>> import tempfile
    >>> import numpy as np
    >>> from dynamics import BatchResult, CosineParams, Status, integrate
    >>> from dynamics.integrate import rerun
    >>> params = CosineParams(rho=0.01, sigma2=0.5, n_phi=2, n_psi=1.5, trace=0.5)
    >>> res = integrate("cosine-simsiam", params, [0.5, 2.0], 50.0, t_eval=[0.0, 10.0, 50.0])
    >>> isinstance(res, BatchResult), res.final.shape, res.t.tolist(), res.ys.shape, res.state
    (True, (2,), [0.0, 10.0, 50.0], (3, 2), ('p',))
    >>> [round(float(p), 4) for p in res.ys[:, 0]]
    [0.5, 0.9413, 0.9554]
    >>> [Status(int(c)).name for c in res.status], res.message, res.params["rho"]
    (['SUCCESS', 'SUCCESS'], '2 trajectories (tsit5): 2 success', 0.01)
    >>> res.model, res.p0.tolist(), res.options["rtol"], res.command
    ('cosine-simsiam', [0.5, 2.0], 1e-08, 'python API')
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     res.to_npz(os.path.join(tmp, "run.npz"))
    ...     back = BatchResult.from_npz(os.path.join(tmp, "run.npz"))
    >>> back.params == res.params, back.model, np.array_equal(rerun(back).final, res.final)
    (True, 'cosine-simsiam', True)
    """

    final: np.ndarray
    status: np.ndarray
    t_event: np.ndarray
    nsteps: np.ndarray
    method: str
    t: np.ndarray | None = None
    ys: np.ndarray | None = None
    state: tuple = ()
    extra: dict = field(default_factory=dict)
    params: dict = field(default_factory=dict)     # the shared parameters, when one set was given
    p0: np.ndarray | None = None
    model: str = ""
    form: str = ""
    convention: str = ""
    options: dict = field(default_factory=dict)
    defaulted: tuple | None = None
    version: str = field(default_factory=_version)
    command: str = PYTHON_API
    fingerprint: str | None = None

    def __post_init__(self):
        if self.fingerprint is None:          # a user model's expression hash at the time of the run
            object.__setattr__(self, "fingerprint", _fingerprint(self.model))

    @property
    def message(self) -> str:
        counts = np.bincount(self.status.astype(np.int64), minlength=4)
        parts = [f"{int(n)} {Status(i).name.lower()}" for i, n in enumerate(counts) if n]
        return f"{len(self.status)} trajectories ({self.method}): " + ", ".join(parts)

    def provenance(self) -> dict:
        """The run's description as ``{name: scalar}``: model, form, convention, method, version,
        command, ``model_fingerprint`` (a user model's expression hash, '' built in), ``defaulted``
        (comma-separated), ``param_<name>`` per parameter and the :data:`OPTIONS` that are set."""
        out = {"model": self.model, "form": self.form, "convention": self.convention, "method": self.method,
               "version": self.version, "command": self.command, "model_fingerprint": self.fingerprint,
               "defaulted": ",".join(self._defaulted())}
        out.update({f"param_{k}": v for k, v in self.params.items()})
        out.update({k: v for k, v in self.options.items() if v is not None})
        return out

    def _defaulted(self) -> tuple:
        if self.defaulted is not None:
            return tuple(self.defaulted)
        if not self.model or not self.params:
            return ()
        from symbolic.registry import get_model

        defaults = get_model(self.model).defaults
        return tuple(k for k, v in self.params.items() if k in defaults and defaults[k] == v)

    def to_npz(self, path, **extra) -> None:
        """Write final, status, t_event, nsteps, state, p0 (and t, ys) and the :meth:`provenance`
        (one scalar per key: ``param_<name>``, ``rtol`` ...) plus ``extra`` atomically."""
        arrays = dict(final=self.final, status=self.status, t_event=self.t_event, nsteps=self.nsteps,
                      state=np.array(self.state))
        arrays.update({k: np.asarray(v) for k, v in self.provenance().items()})
        if self.p0 is not None:
            arrays["p0"] = self.p0
        if self.t is not None:
            arrays.update(t=self.t, ys=self.ys)
        save_npz_atomic(path, **{**arrays, **extra})

    def to_xarray(self):
        """The result as an ``xarray.Dataset`` (needs xarray; see the class's Notes).

        Variables ``final``, ``p0`` (dims ``traj`` [, ``state``]), ``status``, ``t_event``,
        ``nsteps`` (``traj``) and, with an output grid, ``y`` (``t``, ``traj`` [, ``state``]) on
        the coordinate ``t``; the :meth:`provenance` and ``message`` as attributes (NetCDF-3
        types: booleans as 0/1, integers beyond int32 as float64, exact below 2**53).
        """
        xr = _xarray()
        st = ("state",) if self.final.ndim == 2 else ()
        data = {"final": (("traj",) + st, self.final), "status": ("traj", self.status),
                "t_event": ("traj", self.t_event), "nsteps": ("traj", self.nsteps)}
        coords = {"traj": np.arange(len(self.status))}
        if st:
            coords["state"] = np.array(self.state)
        if self.p0 is not None:
            data["p0"] = (("traj",) + st, self.p0)
        if self.t is not None:
            coords["t"] = ("t", self.t)
            data["y"] = (("t", "traj") + st, self.ys)
        attrs = {k: _attr(v) for k, v in self.provenance().items()}
        attrs.update(state=",".join(self.state), message=self.message)
        return xr.Dataset(data, coords=coords, attrs=attrs)

    def to_netcdf(self, path) -> None:
        """Write :meth:`to_xarray` as NetCDF atomically (:func:`symbolic.files.write_file`)."""
        from symbolic.files import write_file

        write_file(path, self.to_xarray().to_netcdf, name="out", by_path=True)

    @classmethod
    def from_npz(cls, path) -> "BatchResult":
        """Re-load a :meth:`to_npz` file (``allow_pickle=False``: nothing in it is executed)."""
        with reading(path, "an NPZ file"), np.load(path, allow_pickle=False) as z:
            a = {k: z[k] for k in z.files}
        return cls._from_fields(path, a, a, a.get("ys"))

    @classmethod
    def from_netcdf(cls, path) -> "BatchResult":
        """Re-load a :meth:`to_netcdf` file (needs xarray)."""
        xr = _xarray()
        with reading(path, "a NetCDF file"), xr.load_dataset(path) as ds:
            a = {k: ds[k].values for k in ds.variables}
            attrs = dict(ds.attrs)
        return cls._from_fields(path, a, attrs, a.get("y"))

    @classmethod
    def _from_fields(cls, path, a, meta, ys) -> "BatchResult":
        missing = [k for k in REQUIRED if k not in a and k not in meta]
        if missing:
            raise ParameterError(f"{str(path)!r} is not an integrate result: it has no {', '.join(missing)}")
        text = lambda k: str(np.asarray(meta[k])) if k in meta else ""          # noqa: E731
        state = meta.get("state", ())
        state = tuple(text("state").split(",")) if isinstance(state, str) else tuple(str(s) for s in state)
        defaulted = text("defaulted")
        return cls(final=a["final"], status=a["status"].astype(np.int8), t_event=a["t_event"],
                   nsteps=a["nsteps"].astype(np.int64), method=text("method"), t=a.get("t"), ys=ys,
                   state=tuple(s for s in state if s),
                   params={k[6:]: np.asarray(v).item() for k, v in meta.items() if k.startswith("param_")},
                   p0=a.get("p0"), model=text("model"), form=text("form"), convention=text("convention"),
                   options={k: typ(np.asarray(meta[k]).item()) if k in meta else None for k, typ in OPTIONS.items()}
                   if "t_end" in meta else {},
                   defaulted=tuple(defaulted.split(",")) if defaulted else (), version=text("version"),
                   command=text("command"), fingerprint=text("model_fingerprint"))


@contextlib.contextmanager
def reading(path, what: str):
    """Turn what a damaged or foreign file raises while it is read into one ParameterError naming
    ``path`` (an object array refused by ``allow_pickle=False``, a truncated archive, a file no
    NetCDF engine recognises)."""
    import zipfile

    try:
        yield
    except FileNotFoundError:
        raise
    except (ValueError, TypeError, KeyError, IndexError, OSError, EOFError, zipfile.BadZipFile) as e:
        raise ParameterError(f"{str(path)!r} cannot be read as {what}: {type(e).__name__}: "
                             f"{' '.join(str(e).split())[:200]}") from None


def _fingerprint(model: str) -> str:
    if not model:
        return ""
    from symbolic.registry import get_model

    try:
        return get_model(model).fingerprint
    except ParameterError:
        return ""


def _attr(v):
    """A NetCDF-3 attribute value: booleans as 0/1, integers beyond int32 as float64."""
    if isinstance(v, (bool, np.bool_)):
        return int(v)
    if isinstance(v, (int, np.integer)) and not -2**31 <= int(v) < 2**31:
        return float(v)
    return v


def _xarray():
    try:
        import xarray
    except ImportError:
        raise ParameterError("xarray output needs the package xarray, which is not installed; "
                             "pip install ssldyn[sweep] (or write an .npz)") from None
    return xarray


