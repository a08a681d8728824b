r"""Batched integration of the derived ODEs: ``integrate(model, params, y0, t_end, ...)``.

Methods: ``rk4`` (fixed step ``dt``), ``tsit5`` (Tsitouras 5(4), default) and ``dopri5``
(Dormand-Prince 5(4)) with per-trajectory step control (or fixed steps: ``fixed_step=True``).
Output times are honoured exactly: a fixed-step run steps onto every ``t_eval`` value
(:func:`dynamics.stepping.fixed_grid`), an adaptive run shortens the step that would cross one. Each trajectory may carry its own
parameters. Trajectories that blow up end with ``Status.DIVERGED`` and a finite divergence time,
never a silent NaN. The loops are generated per model (:mod:`dynamics.kernels`).

All checks happen before the first step; a bad argument raises ``ParameterError`` naming it.
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from symbolic.errors import ParameterError, check_choice, check_int, check_range, warn_ignored
from symbolic.results import Status

from .results import BatchResult
from .stepping import fixed_grid, mark_unstable
from .tableaus import METHOD_NAMES, METHODS
from .validate import float_array, theta_rows

FORMS = ("reduced", "eigen")


def _theta_matrix(params, k, n):
    """(n_param, 1) shared or (n_param, N) per-trajectory parameters, and the ``per`` flag."""
    if hasattr(params, "as_array"):
        if params.MODEL != k.MODEL:
            raise ParameterError(f"params are for model {params.MODEL}, not {k.MODEL}")
        return np.ascontiguousarray(params.as_array(k.PARAMS)[:, None]), 0
    # shape, dtype, finiteness and the dataclass's ranges on every row (a row skips __post_init__);
    # not its magnitude limit, which guards roots: an overflow in a step is a trajectory's status
    th = theta_rows(k.MODEL, params, k.PARAMS, "params", magnitude=False)
    if th.shape[0] == 1:
        return np.ascontiguousarray(th.T), 0
    if th.shape[0] != n:
        raise ParameterError(f"params has {th.shape[0]} rows but y0 has {n} trajectories")
    return np.ascontiguousarray(th.T), 1


def integrate(model: str, params: Any, y0: ArrayLike, t_end: float, *, form: str = "reduced",
              method: str = "tsit5", dt: float | None = None, rtol: float = 1e-8, atol: float = 1e-10,
              t_eval: ArrayLike | None = None, max_steps: int = 1_000_000, diverge_bound: float = 1e8,
              converge_tol: float | None = None, h0: float = 0.0, device: str = "cpu", progress: bool = False,
              t0: float = 0.0, convention: str | None = None, fixed_step: bool | None = None) -> BatchResult:
    """Integrate N trajectories of ``model``'s ``form`` from ``y0`` to ``t_end``.

    Parameters
    ----------
    model : str
        A registered model name (e.g. ``'cosine-simsiam'``, ``'l2-byol'``; see ``model_names()``).
    params : a ``dynamics.params`` dataclass (shared) or an array (N, n_params) / (n_params,)
        in the kernel's parameter order (``load_kernels(model, form).PARAMS``). An array's rows are
        checked against the dataclass's ranges; one row is shared by every trajectory.
    y0 : array_like
        (N,) for one-dimensional forms, else (N, n_state) (columns in ``load_kernels(model, form).STATE``).
    t_end : float
        Final time, > t0.
    form : {'reduced', 'eigen'}, optional
        The scalar form to integrate (the reduced flow on the invariant set, or the eigen form).
    method : {'tsit5', 'dopri5', 'rk4'}, optional
        The Runge-Kutta tableau (``rk4`` has no error estimate: fixed steps only).
    dt : float, optional
        The fixed step. The run takes equal steps, the largest not above ``dt`` that divide
        ``t_end - t0``, so the last step lands on ``t_end``; a step across a ``t_eval`` value is
        split so that a step lands on it (the state at a time is never the state at a nearby step).
    rtol, atol : float, optional
        Relative and absolute tolerances of the step control (adaptive runs). Given with fixed
        steps they have no effect, and an :class:`~symbolic.errors.IgnoredOptionWarning` says so
        (as ``scipy.integrate.solve_ivp`` warns of options its solver does not use).
    t_eval : array_like, optional
        Increasing output times in [t0, t_end], honoured exactly.
    max_steps : int, optional
        The step budget per trajectory; a trajectory that runs out ends with ``Status.MAX_STEPS``.
    diverge_bound : float, optional
        A trajectory whose state exceeds this bound ends with ``Status.DIVERGED`` (at ``t0`` for
        an initial state beyond it). A fixed-step trajectory that exceeds it, or stops at a step
        the flow changes too much across, where an adaptive ``tsit5`` run does not (two steps
        later) ends with ``Status.UNSTABLE``: the step is beyond the method's stability limit for
        a stiff flow, which is not a divergence of the ODE. The status rule is the same on every
        path (:mod:`dynamics.stepping`); ``nsteps`` counts accepted steps on every path.
    converge_tol : float, optional
        If set, a trajectory stops (status 0, t_event set) once max|rhs| < tol.
    h0 : float, optional
        The first step of an adaptive run, in [0, t_end - t0] (0: chosen from the initial state);
        with fixed steps a warning, as for ``rtol``.
    device : {'cpu', 'cuda', 'torch-cpu'}, optional
        'cpu' (numba), 'cuda' for the torch backend (:mod:`dynamics.gpu`), or 'torch-cpu' for
        the torch backend on the CPU (the same code path as 'cuda'; tests and smoke runs).
    progress : bool, optional
        A progress bar on stderr (tqdm) for large batches on the CPU (on another device: a warning).
    t0 : float, optional
        Initial time.
    convention : {'frobenius', 'feature-norm'}, optional
        The cosine models' normalisers, 'frobenius' (default) or 'feature-norm'
        (:func:`symbolic.cosine_simsiam.feature_norm_convention`).
    fixed_step : bool, optional
        True: fixed steps of ``dt`` (default (t_end - t0) / 1000) with any method;
        False: step control (``tsit5``/``dopri5`` only; pass ``h0``, not ``dt``, for the first step);
        None (default, today's rule): fixed for ``rk4`` or when ``dt`` is given, else adaptive.

    Returns
    -------
    BatchResult
        ``final`` (N,) or (N, n_state), a status per trajectory, event times, step counts and, with
        ``t_eval``, the states on that grid; ``params`` holds the shared parameters (``to_dict()``)
        when a dataclass was given.

    Raises
    ------
    ParameterError
        Before the first step, for any bad argument: an unknown model, form, method, device or
        convention; ``y0`` of the wrong shape, empty or non-finite; ``params`` for another model,
        out of range or with a row count other than 1 or N; ``t_end <= t0``; tolerances, ``dt``,
        ``max_steps``, ``diverge_bound`` or ``converge_tol`` out of range; ``t_eval`` not increasing
        within [t0, t_end]; ``fixed_step=False`` with ``rk4`` or with ``dt``; ``fixed_step`` or
        ``progress`` not a bool; ``h0`` not in [0, t_end - t0]; arrays (states, the ``t_eval``
        grid, fixed steps) that would not fit in memory (checked before any is made).

    Warns
    -----
    IgnoredOptionWarning
        ``rtol``, ``atol`` or ``h0`` other than their defaults with fixed steps; ``progress`` on a
        device other than the CPU.

    See Also
    --------
    dynamics.equilibria.find_equilibria : the equilibria the trajectories of the reduced flow converge to.
    dynamics.systems.integrate_coupled : all h modes of the eigen system at once, coupled.

    Examples
    --------
    Three trajectories of the cosine model's reduced flow end on its two stable equilibria:

    >>> from dynamics import CosineParams, find_equilibria, integrate
    >>> params = CosineParams(rho=0.01, sigma2=0.5, n_phi=2, n_psi=1.5, trace=0.5)
    >>> eq = find_equilibria(params)
    >>> [round(float(p), 4) for p, s in zip(eq.p, eq.stability) if s == "stable"]
    [0.0, 0.9554]
    >>> res = integrate("cosine-simsiam", params, [0.02, 0.5, 2.0], 1000.0)
    >>> [round(float(p), 4) for p in res.final]
    [0.0, 0.9554, 0.9554]
    >>> res.status.tolist(), res.success.tolist(), res.message
    ([0, 0, 0], [True, True, True], '3 trajectories (tsit5): 3 success')

    Outputs at given times, and a fixed-step ``rk4`` run:

    >>> res = integrate("cosine-simsiam", params, [0.5], 50.0, t_eval=[0.0, 10.0, 50.0])
    >>> res.ys.shape, [round(float(p), 4) for p in res.ys[:, 0]]
    ((3, 1), [0.5, 0.9413, 0.9554])
    >>> res = integrate("cosine-simsiam", params, [0.5], 100.0, method="rk4", dt=0.1)
    >>> round(float(res.final[0]), 4), res.nsteps.tolist()
    (0.9554, [1000])

    The eigen form, state ``(p, s)``: from the invariant parabola :math:`s=p^2` or off it, the
    trajectory reaches the same equilibrium :math:`(p^*, p^{*2})`:

    >>> res = integrate("cosine-simsiam", params, [[0.5, 0.25], [0.5, 1.0]], 1000.0, form="eigen")
    >>> res.state, res.final.shape, [[round(float(x), 4) for x in row] for row in res.final]
    (('p', 's'), (2, 2), [[0.9554, 0.9128], [0.9554, 0.9128]])
    """
    from symbolic.codegen import load_kernels
    from symbolic.model import as_model

    model = as_model(model, form, convention)      # a name is looked up here, once
    check_choice("form", form, FORMS)
    check_choice("method", method, METHOD_NAMES)
    check_choice("device", device, ("cpu", "cuda", "torch-cpu"))
    k = load_kernels(model, form, convention)
    n_state = len(k.STATE)
    y = float_array("y0", y0)
    scalar = y.ndim <= 1 and n_state == 1
    y = y.reshape(-1, 1) if scalar else np.atleast_2d(y)
    if y.shape[1] != n_state:
        raise ParameterError(f"y0 must have {n_state} columns ({', '.join(k.STATE)}) for {model}/{form}; "
                             f"got shape {np.shape(y0)}")
    if y.shape[0] == 0:
        raise ParameterError("y0 must hold at least one initial state; got none")
    if not np.all(np.isfinite(y)):
        raise ParameterError("y0 must be finite; got a non-finite initial state")
    t0 = check_range("t0", t0)
    t_end = check_range("t_end", t_end, t0, math.inf, lo_open=True)
    rtol = check_range("rtol", rtol, 1e-15, 1.0)
    atol = check_range("atol", atol, 0.0, math.inf)
    max_steps = check_int("max_steps", max_steps, lo=1)
    bound = check_range("diverge_bound", diverge_bound, 0.0, math.inf, lo_open=True)
    ctol = 0.0 if converge_tol is None else check_range("converge_tol", converge_tol, 0.0, math.inf, lo_open=True)
    for name, v, none_ok in (("fixed_step", fixed_step, True), ("progress", progress, False)):
        if not (isinstance(v, (bool, np.bool_)) or (none_ok and v is None)):
            raise ParameterError(f"{name} must be True or False{' (or None)' if none_ok else ''}; got {v!r}")
    if isinstance(h0, (bool, np.bool_)):
        raise ParameterError(f"h0 must be a number (0: chosen from the initial state); got {h0!r}")
    h0 = check_range("h0 (0: chosen from the initial state)", h0, 0.0, t_end - t0, hi_open=False)
    if fixed_step is None:
        fixed = not METHODS[method].adaptive or dt is not None
    elif fixed_step:
        fixed = True
    else:
        if not METHODS[method].adaptive:
            raise ParameterError(f"fixed_step=False needs an embedded pair (method "
                                 f"{' or '.join(n for n, m in METHODS.items() if m.adaptive)}); {method} has "
                                 "no error estimate")
        if dt is not None:
            raise ParameterError(f"fixed_step=False takes no dt (got {dt!r}); pass h0 for the first step")
        fixed = False
    if fixed:
        dt = (t_end - t0) / 1000 if dt is None else check_range("dt", dt, 0.0, math.inf, lo_open=True)
        warn_ignored(integrate, {"rtol": rtol, "atol": atol, "h0": h0},
                     f"with fixed steps (method {method}, dt {dt:g})")
    if device != "cpu":
        warn_ignored(integrate, {"progress": progress}, f"on device {device!r}")
    TH, per = _theta_matrix(params, k, y.shape[0])
    shared = params.to_dict() if hasattr(params, "as_array") else {}   # BatchResult.params: one dataclass given
    tout = np.empty(0) if t_eval is None else float_array("t_eval", t_eval).ravel()
    if tout.size and (np.any(np.diff(tout) < 0) or tout[0] < t0 or tout[-1] > t_end or not np.all(np.isfinite(tout))):
        raise ParameterError(f"t_eval must be increasing within [{t0}, {t_end}]")
    if fixed:                                    # the step budget first: the more specific refusal
        from .stepping import check_step_count
        check_step_count(t0, t_end, dt, max_steps)
    _check_memory(y.shape[0], n_state, tout.size, (t_end - t0) / dt if fixed else 0.0)
    run = dict(params=shared, p0=(y[:, 0] if scalar else y).copy(), model=model.name, fingerprint=model.fingerprint,
               form=model.form,
               convention=model.convention,
               options=dict(t0=t0, t_end=t_end, dt=dt if fixed else None, fixed_step=fixed, rtol=rtol, atol=atol,
                            max_steps=max_steps, diverge_bound=bound, converge_tol=ctol if ctol else None, h0=h0,
                            device=device))          # the provenance BatchResult records
    if device in ("cuda", "torch-cpu"):
        from .gpu import integrate_torch

        res = integrate_torch(k, y, TH, per, t0, t_end, method=method, dt=dt, rtol=rtol, atol=atol,
                              tout=tout, max_steps=max_steps, bound=bound, ctol=ctol, scalar=scalar,
                              device="cuda" if device == "cuda" else "cpu")
        if fixed:                               # the status rule: the same reference, on the same device
            res = replace(res, status=res.status.copy())
            step = float(fixed_grid(t0, t_end, dt, tout, max_steps)[1].max())

            def rerun(idx, t_stop):
                r = integrate_torch(k, y[idx], TH[:, idx] if per else TH, per, t0, t_stop, method="tsit5", dt=None,
                                    rtol=rtol, atol=atol, tout=np.empty(0), max_steps=max_steps, bound=bound,
                                    ctol=0.0, scalar=False, device="cuda" if device == "cuda" else "cpu")
                return r.status, r.t_event

            mark_unstable(res.status, res.t_event, step, t_end, rerun)
        return replace(res, **run)
    from .kernels import load_glue

    g = load_glue(model, form, convention)
    N = y.shape[0]
    Y = np.array(y.T, dtype=np.float64, order="C", copy=True)   # never write into the caller's y0
    status = np.zeros(N, dtype=np.int8)
    tev = np.full(N, np.nan)
    nst = np.zeros(N, dtype=np.int64)
    YOUT = np.empty((tout.size, n_state, N))
    if fixed:
        T, H, out_idx = fixed_grid(t0, t_end, dt, tout, max_steps)
        _chunked(getattr(g, f"fixed_{method}"), Y, TH, per, (T, H, bound, ctol, out_idx), YOUT, status, tev, nst, progress)
        _mark_unstable(g, y, TH, per, t0, t_end, float(H.max()), (rtol, atol, max_steps, bound), status, tev)
    else:
        if tout.size:          # per-trajectory loop with the output grid
            fn = getattr(g, f"adaptive_{method}")
            _chunked(fn, Y, TH, per, (t0, t_end, rtol, atol, float(h0), max_steps, bound, ctol, tout),
                     YOUT, status, tev, nst, progress)
        else:                  # blocks of trajectories in lockstep, vectorised across them
            fn = getattr(g, f"ablock_{method}")
            _chunked(lambda Y, TH, per, *a: fn(Y, TH, per, *a[:-4], *a[-3:]), Y, TH, per,
                     (t0, t_end, rtol, atol, float(h0), max_steps, bound, ctol), YOUT, status, tev, nst, progress)
    # a state beyond the bound at t0 (e.g. 1e308) diverged there, before any step (not "singular")
    beyond = ~(np.abs(y).sum(axis=1) <= bound)
    status[beyond], tev[beyond], nst[beyond] = Status.DIVERGED, t0, 0
    Y[:, beyond] = y[beyond].T
    YOUT[:, :, beyond] = np.where((tout == t0)[:, None, None], y[beyond].T[None], np.nan)
    final = Y.T[:, 0].copy() if scalar else Y.T.copy()
    ys = None
    if tout.size:
        ys = YOUT[:, 0, :] if scalar else np.transpose(YOUT, (0, 2, 1))
    return BatchResult(final, status, tev, nst, method, tout if tout.size else None, ys, tuple(k.STATE), **run)


def _check_memory(n: int, n_state: int, n_out: int, n_steps: float) -> None:
    """Refuse (one line) a run whose arrays would not fit in memory, before any is allocated: the
    states, the output grid (``n_out`` times) and its transposed copy, and for fixed steps the step
    times and sizes (``n_steps`` + 1 of each, and their working copies)."""
    from symbolic.files import check_memory

    check_memory(f"integrate of {n} trajectories of {n_state} states" + (f" at {n_out} output times" if n_out else "")
                 + (f" in {n_steps:.3g} fixed steps" if n_steps else ""),
                 8.0 * n * n_state * (4 + 2 * n_out) + 40.0 * (n_steps + n_out + 1))


def _mark_unstable(g, y, TH, per, t0, t_end, h, tols, status, tev):
    """:func:`dynamics.stepping.mark_unstable` with the adaptive ``tsit5`` block loop as the reference."""
    rtol, atol, max_steps, bound = tols

    def rerun(idx, t_stop):
        Ya = np.array(y[idx].T, dtype=np.float64, order="C")
        THa = np.ascontiguousarray(TH[:, idx]) if per else TH
        n = idx.size
        st, te, ns = np.zeros(n, np.int8), np.full(n, np.nan), np.zeros(n, np.int64)
        g.ablock_tsit5(Ya, THa, per, t0, t_stop, rtol, atol, 0.0, max_steps, bound, 0.0, st, te, ns)
        return st, te

    mark_unstable(status, tev, h, t_end, rerun)


def _chunked(fn, Y, TH, per, args, YOUT, status, tev, nst, progress, chunk=1 << 18):
    """Run ``fn`` over chunks of trajectories (a progress bar on stderr when ``progress``)."""
    N = Y.shape[1]
    if not progress or N <= chunk:
        fn(Y, TH, per, *args, YOUT, status, tev, nst)
        return
    from tqdm import tqdm

    with tqdm(total=N, unit="traj", unit_scale=True) as bar:
        for lo in range(0, N, chunk):
            hi = min(N, lo + chunk)
            Yc = np.ascontiguousarray(Y[:, lo:hi])
            THc = TH if per == 0 else np.ascontiguousarray(TH[:, lo:hi])
            YO = np.ascontiguousarray(YOUT[:, :, lo:hi])
            fn(Yc, THc, per, *args, YO, status[lo:hi], tev[lo:hi], nst[lo:hi])
            Y[:, lo:hi] = Yc
            YOUT[:, :, lo:hi] = YO
            bar.update(hi - lo)


def rerun(result: BatchResult, progress: bool = False) -> BatchResult:
    """Integrate again from the recorded model, parameters, ``p0``, grid and options: the
    same arrays bit for bit on the same machine and versions (the kernels are deterministic).

    Parameters
    ----------
    result : BatchResult
        A result that records its model, ``p0``, shared parameters and options (as every
        :func:`integrate` result does, also after :meth:`BatchResult.from_npz` /
        :meth:`BatchResult.from_netcdf`).
    progress : bool, optional
        A progress bar on stderr for large batches (as :func:`dynamics.integrate.integrate`).

    Returns
    -------
    BatchResult
        The new run, with this one's ``defaulted``; its ``command`` is ``'python API'``.

    Raises
    ------
    ParameterError
        If the result records no model, ``p0`` or shared parameters (per-trajectory parameter
        rows are not recorded), or its user model is not registered or was changed since.

    Examples
    --------
    >>> import numpy as np
    >>> from dynamics import CosineParams, integrate
    >>> res = integrate("cosine-simsiam", CosineParams(rho=0.01), [0.5, 2.0], 50.0)
    >>> np.array_equal(rerun(res).final, res.final)
    True
    """
    from symbolic.registry import get_model

    if not result.model or result.p0 is None or not result.params or "t_end" not in result.options:
        raise ParameterError("rerun needs a result that records its model, p0, shared parameters and t_end; "
                             f"this one has model {result.model!r}, params {sorted(result.params)}")
    try:
        spec = get_model(result.model)
    except ParameterError as e:
        raise ParameterError(f"{e}: the run used a model that is not registered here (a user model: load its "
                             "file with ssldyn --models FILE.py)") from None
    if spec.fingerprint != result.fingerprint:
        raise ParameterError(f"model {result.model!r} differs from the one of the run (its expressions changed: "
                             f"fingerprint {spec.fingerprint[:12]!r}, recorded {result.fingerprint[:12]!r})")
    opts = {k: v for k, v in result.options.items() if k not in ("t_end", "dt") and v is not None}
    if result.options.get("fixed_step"):
        opts["dt"] = result.options["dt"]
    res = integrate(result.model, spec.params_class(**result.params), result.p0, result.options["t_end"],
                    form=result.form, method=result.method.split("@")[0], t_eval=result.t, convention=result.convention,
                    progress=progress, **opts)
    return replace(res, defaulted=result.defaulted)
