r"""The parts of Runge-Kutta stepping that every path shares: one of each, as data and emitters.

Every integrator of the project (the generated 1-D and lockstep-block loops of
:mod:`dynamics.kernels`, the coupled h-mode loops of :mod:`dynamics.systems`, the matrix flow and
the torch backend of :mod:`dynamics.gpu`) takes from here:

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
  flow's own time scale).
* :func:`initial_step_lines`: the one initial-step rule (Hairer et al. sec. II.4, first two
  steps of the algorithm on p. 169): :math:`h_0=0.01\,d_0/d_1`, :math:`d_0=\|y_0\|`,
  :math:`d_1=\|f(y_0)\|` in the weighted RMS norm, :math:`10^{-6}` when either is below
  :math:`10^{-5}`; clamped to the span.
* :func:`stage_state`, :func:`combination`, :func:`error_norm_terms`: the one stage emitter (the
  text of a stage's argument, of the solution update and of the error estimate from the tableau).

The emitters return source text (numba paths) or, with ``ops`` = :data:`TORCH` / :data:`NUMPY`,
evaluate the same formulas on arrays (torch and matrix paths), so a change here changes them all.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from symbolic.errors import ParameterError
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

    def factor_expr(self, err: str, order: int) -> str:
        """Source text of the factor for an accepted step (``err`` finite, <= 1)."""
        return (f"({self.fac_max!r} if {err} == 0.0 else min({self.fac_max!r}, max({self.fac_min!r}, "
                f"{self.safety!r} * {err} ** (-1.0 / {order}))))")

    def reject_expr(self, err: str, h: str, order: int) -> str:
        """Source text of the next step after a rejected step ``h`` (a non-finite error shrinks most)."""
        return (f"({self.fac_min!r} * {h} if not ({err} < math.inf) else "
                f"{h} * max({self.fac_min!r}, {self.safety!r} * {err} ** (-1.0 / {order})))")

    def underflow_expr(self, h: str, t: str, tscale: str) -> str:
        return f"({h} < {self.underflow!r} * max({tscale}, abs({t})))"

    def factor_lines_powfree(self, ind: str, out: str, err: str, order: int) -> list[str]:
        r"""Source lines assigning the factor (accepted or rejected step, one formula) to ``out``
        without ``pow`` (numba has no vector ``pow`` without SVML), for a 5(4) pair:
        :math:`x^{-3/16}` from four square roots, then two Newton steps for :math:`y^5x=1`
        (relative error below 1e-3 on the range where the factor is not clamped anyway)."""
        if order != 5:
            raise ValueError("the pow-free controller is written for 5(4) pairs")
        lo = 0.5 * (self.safety / self.fac_max) ** order     # below: the factor is fac_max anyway
        hi = 1.1 * (self.safety / self.fac_min) ** order     # above (or non-finite): fac_min
        return [f"{ind}x = min({hi!r}, max({lo!r}, {err})) if {err} < math.inf else {hi!r}",
                f"{ind}r1 = math.sqrt(x)", f"{ind}r2 = math.sqrt(r1)", f"{ind}r3 = math.sqrt(r2)",
                f"{ind}r4 = math.sqrt(r3)", f"{ind}yq = 1.0 / (r3 * r4)",
                f"{ind}yq = yq * (6.0 - x * yq * yq * yq * yq * yq) * 0.2",
                f"{ind}yq = yq * (6.0 - x * yq * yq * yq * yq * yq) * 0.2",
                f"{ind}{out} = {self.fac_max!r} if {err} == 0.0 else min({self.fac_max!r}, max({self.fac_min!r}, "
                f"{self.safety!r} * yq))"]

    def factor(self, err, order: int, xp=np):
        """The factor on arrays (numpy or torch as ``xp``): finite err -> clamped power, else fac_min."""
        e = xp.clip(err, 1e-10, None) if xp is np else err.clamp_min(1e-10)
        f = self.safety * e ** (-1.0 / order)
        f = xp.clip(f, self.fac_min, self.fac_max) if xp is np else f.clamp(self.fac_min, self.fac_max)
        return xp.where(xp.isfinite(err), f, xp.full_like(f, self.fac_min))   # NaN err: shrink, never NaN


#: the controller every adaptive path uses
CONTROLLER = Controller()


# --- the status rule ----------------------------------------------------------------------------
#: a fixed step across which the right-hand side changes by more than this many times its size at
#: the step's start (any stage against the first) does not resolve the flow (found stepping the
#: cosine flow across its singularity at W -> 0, where fixed steps went on to a finite, meaningless
#: state reported as success). Smooth growth or decay at rate k changes it by e^{k h} - 1: 1.7 at
#: k h = 1, where RK4 is still 1% a step.
COARSE = 2.0
#: ... unless that change moves the state by less than this fraction of its size in the step
#: (rounding noise of a right-hand side near an equilibrium, where its size is ~1e-17)
COARSE_FLOOR = 1e-8
#: the stop codes of the generated loops (numbers in the generated code; :class:`Status` values)
DIVERGED, MAX_STEPS, NONFINITE = int(Status.DIVERGED), int(Status.MAX_STEPS), int(Status.NONFINITE)


def unresolved_code(growth: str) -> str:
    r"""Source text of the one status rule for a step the method cannot take: a step size that
    underflows (adaptive) or a fixed step the right-hand side changes too much across
    (:func:`coarse_expr`). ``growth`` is the text of :math:`\sum_j y_jf_j` at the step's start,
    the rate of change of :math:`|y|^2/2`: a state moving away from the origin blows up
    (``DIVERGED``); one moving toward it (or not at all, or NaN) meets a singular right-hand side
    (``NONFINITE``; e.g. every mode of the cosine flow collapsing to 0, where :math:`N_\Psi\to0`
    divides)."""
    return f"({DIVERGED} if {growth} > 0.0 else {NONFINITE})"


def coarse_expr(fvar: str, fref: str, h: str, ysize: str) -> str:
    """Source text, true when a fixed step ``h`` does not resolve the flow: the stages' right-hand
    sides differ from the first by ``fvar`` (max-norm) > :data:`COARSE` times its size ``fref``,
    and that difference moves the state (size ``ysize``) by more than :data:`COARSE_FLOOR` of its
    size. NaN in ``fvar`` (a non-finite stage) counts as unresolved."""
    return f"(not ({fvar} <= {COARSE!r} * {fref} or {h} * {fvar} <= {COARSE_FLOOR!r} * {ysize}))"


def coarse_mask(fvar, fref, h, ysize):
    """:func:`coarse_expr` on arrays (numpy or torch): the same test, elementwise."""
    return ~((fvar <= COARSE * fref) | (h * fvar <= COARSE_FLOOR * ysize))


def unresolved_values(growth, xp=np):
    """:func:`unresolved_code` on arrays (numpy or torch): DIVERGED where ``growth > 0``, else NONFINITE."""
    return xp.where(growth > 0, DIVERGED, NONFINITE)


def initial_step_lines(ind: str, out: str, ys: list[str], fs: list[str], rtol: str = "rtol",
                       atol: str = "atol") -> list[str]:
    """Source lines assigning the initial step (before clamping to the span) to ``out``, for the
    state ``ys`` and its right-hand side ``fs`` (names of scalars)."""
    n = len(ys)
    d0 = " + ".join(f"({y} / ({atol} + {rtol} * abs({y}))) ** 2" for y in ys)
    d1 = " + ".join(f"({f} / ({atol} + {rtol} * abs({y}))) ** 2" for y, f in zip(ys, fs))
    return [f"{ind}d0 = math.sqrt(({d0}) / {n})", f"{ind}d1 = math.sqrt(({d1}) / {n})",
            f"{ind}{out} = {initial_step_rule('d0', 'd1')}"]


def initial_step_rule(d0: str, d1: str) -> str:
    """Source text of the rule from the two RMS norms (paths that sum the norms in a loop use it)."""
    return f"(0.01 * {d0} / {d1} if ({d0} > 1e-5 and {d1} > 1e-5) else 1e-6)"


def initial_step(y, f, rtol: float, atol: float, xp=np):
    """The same rule on arrays: ``y``, ``f`` lists of per-component arrays (numpy or torch)."""
    n = len(y)
    d0 = xp.sqrt(sum((a / (atol + rtol * abs(a))) ** 2 for a in y) / n)
    d1 = xp.sqrt(sum((b / (atol + rtol * abs(a))) ** 2 for a, b in zip(y, f)) / n)
    ok = (d0 > 1e-5) & (d1 > 1e-5)
    return xp.where(ok, 0.01 * d0 / xp.where(ok, d1, xp.ones_like(d1)), xp.full_like(d0, 1e-6))


# --- the stage emitter ------------------------------------------------------------------------
def _weighted(row, f, j) -> str:
    return " + ".join(f"{float(w)!r} * {f(l, j)}" for l, w in enumerate(row) if w != 0.0)


def stage_state(tab, k: int, j: int, y: str, h: str, f) -> str:
    """Text of component ``j`` of stage ``k``'s argument, :math:`y_j+h\\sum_l a_{kl}f_{l,j}`;
    ``f(l, j)`` names the stage derivatives."""
    terms = _weighted(tab.a[k, :k], f, j)
    return f"{y} + {h} * ({terms})" if terms else y


def combination(weights, j: int, y: str, h: str, f) -> str:
    """Text of :math:`y_j+h\\sum_l w_lf_{l,j}` (the solution update with ``weights = tab.b``)."""
    return f"{y} + {h} * ({_weighted(weights, f, j)})"


def error_term(tab, j: int, h: str, f) -> str:
    """Text of the local error estimate of component ``j``, :math:`h\\sum_l e_lf_{l,j}`."""
    return f"{h} * ({_weighted(tab.e, f, j)})"


def error_norm_expr(tab, ys: list[str], yns: list[str], h: str, f, rtol="rtol", atol="atol") -> str:
    """Text of the weighted RMS error norm (Hairer et al. eq. II.4.11) over the components."""
    terms = [f"({error_term(tab, j, h, f)} / ({atol} + {rtol} * max(abs({y}), abs({yn})))) ** 2"
             for j, (y, yn) in enumerate(zip(ys, yns))]
    return f"math.sqrt(({' + '.join(terms)}) / {len(ys)})"


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
    too much across: :func:`coarse_expr`, which a stiff flow's unstable step trips as well as a
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
