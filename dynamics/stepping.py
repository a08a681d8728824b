r"""The numeric parts of Runge-Kutta stepping that every path shares, and the status rule.

The loops of the numba paths (1-D, lockstep block, coupled, matrix) are generated as source text
by :mod:`symbolic.loopgen` from the method table (:data:`dynamics.tableaus.METHODS`); the torch
backend evaluates the same formulas on tensors with the numeric twins here:

* :func:`fixed_grid`: the step times of a fixed-step run. Steps are equal, the largest equal
  step not above ``dt`` (:math:`h=(t_\mathrm{end}-t_0)/\lceil(t_\mathrm{end}-t_0)/dt\rceil`), so
  the last step lands on :math:`t_\mathrm{end}` exactly; every requested output time is a step
  time (a grid node within :math:`10^{-9}h` of it moves onto it, otherwise the step across it is
  split in two). An output is never the state at a nearby step labelled with the requested time.
* :data:`CONTROLLER` (:class:`Controller`): the one step-size controller (Hairer, Norsett &
  Wanner, *Solving ODEs I*, 2nd ed., sec. II.4, eq. 4.13): :math:`h_\mathrm{new}=h\,
  \min(f_\max,\max(f_\min,s\,\mathrm{err}^{-1/q}))` with :math:`q` the order of the pair, a
  rejected non-finite error shrinks by :math:`f_\min`, and a step below
  :math:`10^{-14}\max(|t|,\tau)` underflows (:math:`\tau=\min(1,(\sum|y|+atol)/\sum|f|)`, the
  flow's own time scale). Its text form: :mod:`symbolic.loopgen.emit`.
* :func:`initial_step`: the one initial-step rule (Hairer et al. sec. II.4, p. 169):
  :math:`h_0=0.01\,d_0/d_1`, :math:`d_0=\|y_0\|`, :math:`d_1=\|f(y_0)\|` in the weighted RMS
  norm, :math:`10^{-6}` when either is below :math:`10^{-5}`.
* :func:`stage_values`, :func:`combination_values`, :func:`error_values`: stages on arrays.
* the status rule: DIVERGED beyond the bound; NONFINITE for a non-finite right-hand side; a step
  the method cannot take (an underflowing adaptive step; a fixed step the right-hand side changes
  by more than :data:`COARSE` times its size across) by :func:`unresolved_values`;
  :func:`mark_unstable` for a fixed-step stop an adaptive reference does not share. Its text
  form, used by every generated loop: :func:`symbolic.loopgen.emit.unresolved_code`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from symbolic.errors import ParameterError
from symbolic.loopgen.emit import COARSE, COARSE_FLOOR, DIVERGED, MAX_STEPS, NONFINITE  # noqa: F401
from symbolic.results import Status

SNAP = 1e-9          # an output time within SNAP * h of a grid node moves that node onto it


def check_step_count(t0: float, t_end: float, dt: float, max_steps: int | None = None) -> float:
    """``(t_end - t0) / dt``, the fixed steps a run needs; more than ``max_steps`` (default 1e12) is a
    ``ParameterError`` naming dt and max_steps."""
    ratio = (t_end - t0) / dt
    if not ratio - 1e-9 <= (max_steps if max_steps is not None else 1e12):
        raise ParameterError(f"dt={dt!r} needs {ratio:.3g} steps to reach t_end={t_end!r}, more than max_steps="
                             f"{max_steps if max_steps is not None else int(1e12)}; pass a larger dt or max_steps")
    return ratio


def fixed_grid(t0: float, t_end: float, dt: float, tout, max_steps: int | None = None
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    r"""Step times ``T`` (n + 1,), step sizes ``H`` (n,) and output indices ``idx`` (``T[idx] == tout``).

    ``H[k] = h`` exactly for the uniform steps (not ``T[k+1] - T[k]``, which rounds), else the
    difference. ``tout`` must be sorted within [t0, t_end] (checked by the callers). More than
    ``max_steps`` steps (checked before anything is allocated) is a ``ParameterError``.
    """
    ratio = check_step_count(t0, t_end, dt, max_steps)
    n = max(1, int(math.ceil(ratio - 1e-9)))
    h = (t_end - t0) / n
    T = t0 + np.arange(n + 1) * h
    T[-1] = t_end
    moved = np.zeros(n + 1, bool)
    tout = np.asarray(tout, float)
    if tout.size:
        k = np.rint((tout - t0) / h).astype(np.int64)
        near = (k > 0) & (k < n) & (np.abs(tout - T[np.clip(k, 0, n)]) <= SNAP * h)
        T[k[near]] = tout[near]
        moved[k[near]] = True
        extra = np.setdiff1d(tout, T)
        if extra.size:
            pos = np.searchsorted(T, extra)
            T = np.insert(T, pos, extra)
            moved = np.insert(moved, pos, True)
    H = np.diff(T)
    uniform = ~(moved[1:] | moved[:-1])
    H[uniform] = h
    if max_steps is not None and H.size > max_steps:
        raise ParameterError(f"dt={dt!r} with the t_eval times needs {H.size} steps, more than max_steps="
                             f"{max_steps}; pass a larger dt or max_steps")
    idx = np.searchsorted(T, tout) if tout.size else np.zeros(0, np.int64)
    return T, H, idx.astype(np.int64)


@dataclass(frozen=True)
class Controller:
    """Integral step-size controller of an embedded pair (see the module docstring)."""

    safety: float = 0.9
    fac_min: float = 0.2
    fac_max: float = 5.0
    underflow: float = 1e-14

    def __post_init__(self):
        if not 0.0 < self.safety <= 1.0:
            raise ParameterError(f"safety must be in (0, 1]; got {self.safety!r}")
        if not 0.0 < self.fac_min < 1.0 < self.fac_max:
            raise ParameterError(f"need 0 < fac_min < 1 < fac_max; got {self.fac_min!r}, {self.fac_max!r}")

    def factor(self, err, order: int, xp=np):
        """The factor on arrays (numpy or torch as ``xp``): finite err -> clamped power, else fac_min."""
        e = xp.clip(err, 1e-10, None) if xp is np else err.clamp_min(1e-10)
        f = self.safety * e ** (-1.0 / order)
        f = xp.clip(f, self.fac_min, self.fac_max) if xp is np else f.clamp(self.fac_min, self.fac_max)
        return xp.where(xp.isfinite(err), f, xp.full_like(f, self.fac_min))   # NaN err: shrink, never NaN


#: the controller every adaptive path uses
CONTROLLER = Controller()


# --- the status rule (its text form: symbolic.loopgen.emit) -------------------------------------
def coarse_mask(fvar, fref, h, ysize):
    """:func:`symbolic.loopgen.emit.coarse_expr` on arrays (numpy or torch): the same test, elementwise."""
    return ~((fvar <= COARSE * fref) | (h * fvar <= COARSE_FLOOR * ysize))


def unresolved_values(growth, xp=np):
    """:func:`symbolic.loopgen.emit.unresolved_code` on arrays (numpy or torch): DIVERGED where ``growth > 0``, else NONFINITE."""
    return xp.where(growth > 0, DIVERGED, NONFINITE)


def initial_step(y, f, rtol: float, atol: float, xp=np):
    """The same rule on arrays: ``y``, ``f`` lists of per-component arrays (numpy or torch)."""
    n = len(y)
    d0 = xp.sqrt(sum((a / (atol + rtol * abs(a))) ** 2 for a in y) / n)
    d1 = xp.sqrt(sum((b / (atol + rtol * abs(a))) ** 2 for a, b in zip(y, f)) / n)
    ok = (d0 > 1e-5) & (d1 > 1e-5)
    return xp.where(ok, 0.01 * d0 / xp.where(ok, d1, xp.ones_like(d1)), xp.full_like(d0, 1e-6))


def stage_values(tab, k: int, ys, h, K):
    """Stage ``k``'s argument on arrays (numpy/torch): the same sum as :func:`stage_state`."""
    return [y + h * sum(float(tab.a[k, l]) * K[l][j] for l in range(k) if tab.a[k, l] != 0.0)
            if any(tab.a[k, :k]) else y for j, y in enumerate(ys)]


def combination_values(weights, ys, h, K):
    """:math:`y_j+h\\sum_l w_lK_{l,j}` on arrays: the same sum as :func:`combination`."""
    return [y + h * sum(float(w) * K[l][j] for l, w in enumerate(weights) if w != 0.0) for j, y in enumerate(ys)]


def error_values(tab, j: int, h, K):
    r""":math:`h\sum_l e_lK_{l,j}` on arrays: the same sum as :func:`error_term`."""
    return h * sum(float(w) * K[l][j] for l, w in enumerate(tab.e) if w != 0.0)


def mark_unstable(status, tev, h: float, t_end: float, rerun) -> None:
    r"""Status UNSTABLE, in place, for the fixed-step runs that stopped where the flow does not.

    Each run stopped by the rule (``status`` DIVERGED, or NONFINITE from a step the flow changes
    too much across: :func:`symbolic.loopgen.emit.coarse_expr`, which a stiff flow's unstable step trips as well as a
    singularity does) with a finite ``tev`` is integrated again by a reference
    that resolves the flow (the adaptive ``tsit5`` pair on every path that has one) to two steps
    ``h`` past its divergence time: ``rerun(idx, t_stop) -> (status, t_event)`` for the runs
    ``idx``. If that run neither diverges nor turns non-finite by then (nor runs out of steps),
    the blow-up was the fixed step's instability (a stiff flow: RK4 is unstable for
    :math:`h|\partial f/\partial y|>2.79`), not the ODE's. One rule for every path.
    """
    idx = np.flatnonzero(((status == DIVERGED) | (status == NONFINITE)) & np.isfinite(tev))
    if idx.size == 0:
        return
    t_stop = min(t_end, float(tev[idx].max()) + 2.0 * h)
    st, te = rerun(idx, t_stop)
    st, te = np.asarray(st), np.asarray(te)
    ok = (st == Status.SUCCESS) | (((st == DIVERGED) | (st == NONFINITE)) & (te > tev[idx] + 2.0 * h))
    status[idx[ok]] = Status.UNSTABLE
