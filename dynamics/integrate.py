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

import numpy as np

from symbolic.errors import ParameterError, check_choice, check_int, check_range

from .results import BatchResult
from .stepping import fixed_grid
from .validate import float_array, theta_rows

METHODS = ("rk4", "tsit5", "dopri5")
FORMS = ("reduced", "eigen")


def _theta_matrix(params, k, n):
    """(n_param, 1) shared or (n_param, N) per-trajectory parameters, and the ``per`` flag."""
    if hasattr(params, "as_array"):
        if params.MODEL != k.MODEL:
            raise ParameterError(f"params are for model {params.MODEL}, not {k.MODEL}")
        return np.ascontiguousarray(params.as_array(k.PARAMS)[:, None]), 0
    # shape, dtype, finiteness and the dataclass's ranges on every row (a row skips __post_init__)
    th = theta_rows(k.MODEL, params, k.PARAMS, "params")
    if th.shape[0] == 1:
        return np.ascontiguousarray(th.T), 0
    if th.shape[0] != n:
        raise ParameterError(f"params has {th.shape[0]} rows but y0 has {n} trajectories")
    return np.ascontiguousarray(th.T), 1


def integrate(model: str, params, y0, t_end: float, *, form: str = "reduced", method: str = "tsit5",
              dt: float | None = None, rtol: float = 1e-8, atol: float = 1e-10, t_eval=None,
              max_steps: int = 1_000_000, diverge_bound: float = 1e8, converge_tol: float | None = None,
              h0: float = 0.0, device: str = "cpu", progress: bool = False, t0: float = 0.0,
              convention: str = "frobenius", fixed_step: bool | None = None) -> BatchResult:
    """Integrate N trajectories of ``model``'s ``form`` from ``y0`` to ``t_end``.

    Parameters
    ----------
    params : a ``dynamics.params`` dataclass (shared) or an array (N, n_params) / (n_params,)
        in the kernel's parameter order (``load_kernels(model, form).PARAMS``).
    y0 : (N,) for one-dimensional forms, else (N, n_state).
    t_end : final time, > t0.
    fixed_step : True: fixed steps of ``dt`` (default (t_end - t0) / 1000) with any method;
        False: step control (``tsit5``/``dopri5`` only; pass ``h0``, not ``dt``, for the first step);
        None (default, today's rule): fixed for ``rk4`` or when ``dt`` is given, else adaptive.
    dt : the fixed step. The run takes equal steps, the largest not above ``dt`` that divide
        ``t_end - t0``, so the last step lands on ``t_end``; a step across a ``t_eval`` value is
        split so that a step lands on it (the state at a time is never the state at a nearby step).
    t_eval : optional increasing output times in [t0, t_end], honoured exactly.
    converge_tol : if set, a trajectory stops (status 0, t_event set) once max|rhs| < tol.
    convention : the cosine models' normalisers, 'frobenius' (default) or 'feature-norm'
        (:func:`symbolic.cosine_simsiam.feature_norm_convention`).
    device : 'cpu' (numba), 'cuda' for the torch backend (:mod:`dynamics.gpu`), or 'torch-cpu' for
        the torch backend on the CPU (the same code path as 'cuda'; tests and smoke runs).
    """
    from symbolic.codegen import load_kernels

    check_choice("form", form, FORMS)
    check_choice("method", method, METHODS)
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
    if fixed_step is None:
        fixed = method == "rk4" or dt is not None
    elif fixed_step:
        fixed = True
    else:
        if method == "rk4":
            raise ParameterError("fixed_step=False needs an embedded pair (method tsit5 or dopri5); rk4 has "
                                 "no error estimate")
        if dt is not None:
            raise ParameterError(f"fixed_step=False takes no dt (got {dt!r}); pass h0 for the first step")
        fixed = False
    if fixed:
        dt = (t_end - t0) / 1000 if dt is None else check_range("dt", dt, 0.0, math.inf, lo_open=True)
    TH, per = _theta_matrix(params, k, y.shape[0])
    tout = np.empty(0) if t_eval is None else float_array("t_eval", t_eval).ravel()
    if tout.size and (np.any(np.diff(tout) < 0) or tout[0] < t0 or tout[-1] > t_end or not np.all(np.isfinite(tout))):
        raise ParameterError(f"t_eval must be increasing within [{t0}, {t_end}]")
    if device in ("cuda", "torch-cpu"):
        from .gpu import integrate_torch

        return integrate_torch(k, y, TH, per, t0, t_end, method=method, dt=dt, rtol=rtol, atol=atol,
                               tout=tout, max_steps=max_steps, bound=bound, ctol=ctol, scalar=scalar,
                               device="cuda" if device == "cuda" else "cpu")
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
    else:
        if tout.size:          # per-trajectory loop with the output grid
            fn = getattr(g, f"adaptive_{method}")
            _chunked(fn, Y, TH, per, (t0, t_end, rtol, atol, float(h0), max_steps, bound, ctol, tout),
                     YOUT, status, tev, nst, progress)
        else:                  # blocks of trajectories in lockstep, vectorised across them
            fn = getattr(g, f"ablock_{method}")
            _chunked(lambda Y, TH, per, *a: fn(Y, TH, per, *a[:-4], *a[-3:]), Y, TH, per,
                     (t0, t_end, rtol, atol, float(h0), max_steps, bound, ctol), YOUT, status, tev, nst, progress)
    final = Y.T[:, 0].copy() if scalar else Y.T.copy()
    ys = None
    if tout.size:
        ys = YOUT[:, 0, :] if scalar else np.transpose(YOUT, (0, 2, 1))
    return BatchResult(final, status, tev, nst, method, tout if tout.size else None, ys, tuple(k.STATE))


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
