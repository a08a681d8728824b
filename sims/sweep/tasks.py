r"""The tasks of a sweep, as a table: ``TASKS[name]`` is a :class:`Task` that computes a chunk.

Each task declares what it reads (config sections, forms), the arrays it writes per chunk and
about how many bytes they take, and a pure function from kernel parameter rows
:math:`\theta_i` and initial states :math:`y_{0,i}` to those arrays. Nothing dispatches on the
task's name: the runner, the merge and the config checks read the table.

- ``regime``: code of :data:`dynamics.regimes.REGIME_CODES` and critical decay per point.
- ``equilibria``: NaN-padded ascending real roots of :math:`\dot p = 0` and their count.
- ``fate``: code of :data:`dynamics.regimes.FATE_CODES` per point and initial value.
- ``integrate``: final state, status and event time of :func:`dynamics.integrate.integrate`
  (and the states ``ys`` at the output times ``t_eval`` when given).
- ``rhs``: the generated right-hand side :math:`\dot p(p_0;\theta)` (Bao et al., eq. 7 for the
  cosine model), a cheap task for checks.
- ``train``: one linear SimSiam training run per point of recipe axes, its measured outcome beside
  the predicted one (:mod:`sims.sweep.train_task`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True)
class Task:
    """One sweep task: what it reads and writes, and ``compute(cfg, theta, y0) -> arrays``."""
    name: str
    compute: Callable          # (cfg, theta (n, n_param), y0 (n,) | (n, n_state) | None) -> dict of arrays
    outputs: Callable          # cfg -> names of the arrays of a chunk
    bytes_per_point: Callable  # cfg -> bytes on disk per point (uncompressed NPZ)
    default_chunk: int         # points per chunk: about 0.1 s of work each on one core of a 2-core machine
    sections: tuple = ()       # the optional sections it reads (and needs); any other section is an error
    forms: tuple = ("reduced",)
    #: cfg -> (trailing dimension names by array, coordinate values by dimension name) of the merged
    #: output; arrays not named there get dimensions ``NAME_0, NAME_1, ...``
    dims: Callable = lambda cfg: ({}, {})
    #: (cfg, lo, hi) -> (points, y0) handed to ``compute``; default kernel parameter rows (:func:`points`)
    points: Callable | None = None
    #: cfg -> None: load or compile what the task calls, once per process; default :func:`warm_kernels`
    warm: Callable | None = None

    def __post_init__(self):
        if self.default_chunk < 1:
            raise ValueError(f"task {self.name}: default_chunk must be >= 1; got {self.default_chunk}")
        if not set(self.sections) <= {"initial", "integrate"} or not self.forms:
            raise ValueError(f"task {self.name}: sections must be among [initial], [integrate], forms not empty")

    @property
    def needs_initial(self) -> bool:
        """Whether the points include initial conditions (an [initial] section)."""
        return "initial" in self.sections


def _regime(cfg, theta, y0):
    from dynamics.equilibria import regimes_batch

    codes, crit = regimes_batch(cfg.model, theta)
    return {"regime": codes, "critical": crit}


def _equilibria(cfg, theta, y0):
    from dynamics.equilibria import equilibria_batch

    roots, count = equilibria_batch(cfg.model, theta)
    return {"equilibria": roots, "count": count}


def _fate(cfg, theta, y0):
    from dynamics.regimes import predict_fate_batch

    return {"fate": predict_fate_batch(cfg.model, theta, y0)}


def _rhs(cfg, theta, y0):
    from dynamics.kernels import bind_kernel
    from symbolic.codegen import load_kernels

    k = load_kernels(cfg.model, "reduced")
    out = np.empty((theta.shape[0], len(k.STATE)))
    y = np.ascontiguousarray(y0[:, None], dtype=np.float64)
    bind_kernel(_rhs_batch, k.__name__, "rhs", "rhs", parallel=False)(y, np.ascontiguousarray(theta), out)
    return {"rhs": out[:, 0]}


def _rhs_batch(rhs, y, theta, out):
    for i in range(y.shape[0]):
        rhs(y[i], theta[i], out[i])


def _integrate(cfg, theta, y0):
    from dynamics.integrate import integrate

    opts = {k: v for k, v in cfg.integrate.items() if k != "t_end"}
    if cfg.form != "reduced":
        opts["form"] = cfg.form
    r = integrate(cfg.model, theta, y0, float(cfg.integrate["t_end"]), **opts)
    arrays = {"final": np.asarray(r.final), "status": r.status, "t_event": r.t_event}
    if "t_eval" in cfg.integrate:
        arrays["ys"] = np.ascontiguousarray(np.moveaxis(np.asarray(r.ys), 0, 1))   # (n, n_t[, n_state])
    return arrays


def _integrate_dims(cfg):
    state = () if cfg.form == "reduced" else ("state",)
    dims = {"final": state, "status": (), "t_event": ()}
    coords = {} if cfg.form == "reduced" else {"state": np.array([n for n, _ in cfg.initial])}
    if "t_eval" in cfg.integrate:
        dims["ys"] = ("t_eval",) + state
        coords["t_eval"] = np.asarray(cfg.integrate["t_eval"], dtype=np.float64)
    return dims, coords


def _integrate_outputs(cfg):
    return ("final", "status", "t_event") + (("ys",) if "t_eval" in cfg.integrate else ())


def _integrate_bytes(cfg):
    n_state = len(cfg.initial)
    return 8 * n_state + 9 + 8 * n_state * len(cfg.integrate.get("t_eval", ()))


def _fixed(*names):
    return lambda cfg: names


def _const(n):
    return lambda cfg: n


#: every task, by name (config ``task = "..."``); ``equilibria`` NaN-pads to 6 roots for the cosine model
TASKS = {t.name: t for t in (
    Task("regime", _regime, outputs=_fixed("regime", "critical"), bytes_per_point=_const(9), default_chunk=250_000),
    Task("equilibria", _equilibria, outputs=_fixed("equilibria", "count"), bytes_per_point=_const(56),
         default_chunk=100_000),
    Task("fate", _fate, outputs=_fixed("fate"), bytes_per_point=_const(1), default_chunk=100_000,
         sections=("initial",)),
    Task("integrate", _integrate, outputs=_integrate_outputs, bytes_per_point=_integrate_bytes, default_chunk=20_000,
         sections=("initial", "integrate"), forms=("reduced", "eigen"), dims=_integrate_dims),
    Task("rhs", _rhs, outputs=_fixed("rhs"), bytes_per_point=_const(8), default_chunk=2_000_000,
         sections=("initial",)),
    Task("train", lambda cfg, recipes, y0: _train_task().train_runs(cfg, recipes, y0),
         outputs=lambda cfg: _train_task().OUTPUTS, bytes_per_point=lambda cfg: _train_task().train_bytes(cfg),
         default_chunk=1, forms=("linear",), points=lambda cfg, lo, hi: _train_task().train_points(cfg, lo, hi),
         warm=lambda cfg: _train_task().train_warm(cfg)),
)}


def _train_task():
    from . import train_task
    return train_task
#: points per chunk by task (see :attr:`Task.default_chunk`)
DEFAULT_CHUNK = {n: t.default_chunk for n, t in TASKS.items()}
#: the optional sections each task reads; any other section is an error
TASK_SECTIONS = {n: t.sections for n, t in TASKS.items()}


def points(cfg, lo: int, hi: int):
    """Kernel parameter rows (hi - lo, n_param) and initial states of points lo..hi-1
    (row-major over the grid axes, then the initial axes)."""
    from symbolic.codegen import load_kernels

    k = load_kernels(cfg.model, cfg.form)
    cls = cfg.params_class
    base = cls(**cfg.params).as_array(k.PARAMS)
    idx = np.unravel_index(np.arange(lo, hi), cfg.shape)
    inv = {v: kk for kk, v in cls.KERNEL_NAMES.items()}
    theta = np.tile(base, (hi - lo, 1))
    for a, (name, vals) in enumerate(cfg.axes):
        theta[:, list(k.PARAMS).index(inv[name])] = vals[idx[a]]
    if not cfg.initial:
        return theta, None
    n_grid = len(cfg.axes)
    cols = [vals[idx[n_grid + j]] for j, (_, vals) in enumerate(cfg.initial)]
    y0 = cols[0] if cfg.form == "reduced" else np.stack(cols, axis=1)
    return theta, y0


def compute(cfg, lo: int, hi: int) -> dict:
    """The task's arrays for points ``lo..hi-1`` (deterministic: the same bits every time)."""
    task = TASKS[cfg.task]
    theta, y0 = (task.points or points)(cfg, lo, hi)
    return task.compute(cfg, theta, y0)


def run_chunk(cfg, i: int) -> dict:
    """Compute chunk ``i``; returns its arrays."""
    lo = i * cfg.chunk_size
    return compute(cfg, lo, min(cfg.n_points, lo + cfg.chunk_size))


def warm(cfg):
    """Load the generated kernels and compile (or load from numba's disk cache) everything the
    task calls, by computing its first point. Run once in the parent before any worker starts,
    so workers only load cached machine code, then once per worker."""
    if TASKS[cfg.task].warm is not None:
        return TASKS[cfg.task].warm(cfg)
    from symbolic.codegen import load_kernels

    load_kernels(cfg.model, cfg.form)
    compute(cfg, 0, 1)
