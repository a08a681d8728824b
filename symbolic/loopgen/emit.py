r"""The parts every generated loop is written from: stages, error norm, controller, status rule.

Each function returns source text (expressions or lines) from data: a Butcher tableau (``a``,
``b``, ``e``, ``order``, ``stages``, ``fsal``), the step-size controller (``safety``,
``fac_min``, ``fac_max``, ``underflow``), and the stop codes of :class:`symbolic.results.Status`.
The numeric twins of these formulas (numpy and torch arrays) are in :mod:`dynamics.stepping`.
"""
from __future__ import annotations

from ..results import Status

#: the stop codes of the generated loops
DIVERGED, MAX_STEPS, NONFINITE = int(Status.DIVERGED), int(Status.MAX_STEPS), int(Status.NONFINITE)
#: a fixed step across which the right-hand side changes by more than this many times its size at
#: the step's start (any stage against the first) does not resolve the flow (found stepping the
#: cosine flow across its singularity at W -> 0, where fixed steps went on to a finite, meaningless
#: state reported as success). Smooth growth or decay at rate k changes it by e^{k h} - 1: 1.7 at
#: k h = 1, where RK4 is still 1% a step.
COARSE = 2.0
#: ... unless that change moves the state by less than this fraction of its size in the step
#: (rounding noise of a right-hand side near an equilibrium, where its size is ~1e-17)
COARSE_FLOOR = 1e-8


# --- the status rule ---------------------------------------------------------------------------
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


# --- the step-size controller (Hairer, Norsett & Wanner I, sec. II.4) ---------------------------
def factor_expr(ctl, err: str, order: int) -> str:
    """Source text of the factor for an accepted step (``err`` finite, <= 1)."""
    return (f"({ctl.fac_max!r} if {err} == 0.0 else min({ctl.fac_max!r}, max({ctl.fac_min!r}, "
            f"{ctl.safety!r} * {err} ** (-1.0 / {order}))))")


def reject_expr(ctl, err: str, h: str, order: int) -> str:
    """Source text of the next step after a rejected step ``h`` (a non-finite error shrinks most)."""
    return (f"({ctl.fac_min!r} * {h} if not ({err} < math.inf) else "
            f"{h} * max({ctl.fac_min!r}, {ctl.safety!r} * {err} ** (-1.0 / {order})))")


def underflow_expr(ctl, h: str, t: str, tscale: str) -> str:
    """Source text, true when the step ``h`` underflows at time ``t`` (flow time scale ``tscale``)."""
    return f"({h} < {ctl.underflow!r} * max({tscale}, abs({t})))"


def factor_lines_powfree(ctl, ind: str, out: str, err: str, order: int) -> list[str]:
    r"""Source lines assigning the factor (accepted or rejected step, one formula) to ``out``
    without ``pow`` (numba has no vector ``pow`` without SVML), for a 5(4) pair:
    :math:`x^{-3/16}` from four square roots, then two Newton steps for :math:`y^5x=1`
    (relative error below 1e-3 on the range where the factor is not clamped anyway)."""
    if order != 5:
        raise ValueError("the pow-free controller is written for 5(4) pairs")
    lo = 0.5 * (ctl.safety / ctl.fac_max) ** order     # below: the factor is fac_max anyway
    hi = 1.1 * (ctl.safety / ctl.fac_min) ** order     # above (or non-finite): fac_min
    return [f"{ind}x = min({hi!r}, max({lo!r}, {err})) if {err} < math.inf else {hi!r}",
            f"{ind}r1 = math.sqrt(x)", f"{ind}r2 = math.sqrt(r1)", f"{ind}r3 = math.sqrt(r2)",
            f"{ind}r4 = math.sqrt(r3)", f"{ind}yq = 1.0 / (r3 * r4)",
            f"{ind}yq = yq * (6.0 - x * yq * yq * yq * yq * yq) * 0.2",
            f"{ind}yq = yq * (6.0 - x * yq * yq * yq * yq * yq) * 0.2",
            f"{ind}{out} = {ctl.fac_max!r} if {err} == 0.0 else min({ctl.fac_max!r}, max({ctl.fac_min!r}, "
            f"{ctl.safety!r} * yq))"]


def initial_step_lines(ind: str, out: str, ys: list[str], fs: list[str], rtol: str = "rtol",
                       atol: str = "atol") -> list[str]:
    """Source lines assigning the initial step (Hairer et al. sec. II.4, p. 169; before clamping to
    the span) to ``out``, for the state ``ys`` and its right-hand side ``fs`` (names of scalars)."""
    n = len(ys)
    d0 = " + ".join(f"({y} / ({atol} + {rtol} * abs({y}))) ** 2" for y in ys)
    d1 = " + ".join(f"({f} / ({atol} + {rtol} * abs({y}))) ** 2" for y, f in zip(ys, fs))
    return [f"{ind}d0 = math.sqrt(({d0}) / {n})", f"{ind}d1 = math.sqrt(({d1}) / {n})",
            f"{ind}{out} = {initial_step_rule('d0', 'd1')}"]


def initial_step_rule(d0: str, d1: str) -> str:
    """Source text of the rule from the two RMS norms (paths that sum the norms in a loop use it)."""
    return f"(0.01 * {d0} / {d1} if ({d0} > 1e-5 and {d1} > 1e-5) else 1e-6)"


# --- the stage emitter -------------------------------------------------------------------------
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
