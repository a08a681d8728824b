r"""When float64 cannot hold a model's equilibria or critical decay: the check and the diagnosis.

A coefficient of the equilibrium polynomial, the rounding scale of the polynomial at a root, or
the critical decay beyond :data:`~dynamics.critical_core.OVERFLOW` makes every derived quantity
noise; :func:`overflow_error` then names the one parameter responsible and the range of it that
does not overflow (bisection on its magnitude), and :func:`ill_conditioned_error` refuses roots
that rounding may move by more than :data:`~dynamics.roots.RESOLVED_RTOL` of themselves.

It sits below :mod:`dynamics.equilibria` and :mod:`dynamics.critical_decay`, which both report
through it. Every function takes a :class:`symbolic.model.Model` (its convention included).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from symbolic.errors import ParameterError

from .critical_core import OVERFLOW, _bound, raw_critical
from .roots import RESOLVED_RTOL, _abs_scale, real_roots, rounding_radius, unresolved


@njit(cache=True)
def poly_overflows(c, roots, count):
    """True if a coefficient of ``c`` or the rounding scale of ``c`` at one of the ``count`` roots
    is non-finite or beyond :data:`OVERFLOW`: then roots, multiplicities and stability are noise."""
    n = c.size - 1
    for i in range(n + 1):
        if not abs(c[i]) <= OVERFLOW:
            return True
    for j in range(count):    # noqa: SIM110  (numba: no any() over a generator)
        if not _abs_scale(c, n, roots[j]) <= OVERFLOW:
            return True
    return False


def _roots_batch(eqpoly, theta, roots, mult, counts, over, bad):
    for i in prange(theta.shape[0]):
        c = eqpoly(theta[i])
        for j in range(roots.shape[1]):
            roots[i, j] = np.nan
            mult[i, j] = 0
        counts[i] = real_roots(c, roots[i], mult[i])
        over[i] = poly_overflows(c, roots[i], counts[i])
        bad[i] = unresolved(c, roots[i], mult[i], counts[i])


def roots_rows(k, theta):
    """``(roots, mult, counts, over, bad)`` of each row of ``theta`` (n, m; checked) by the batch
    kernel (``bad``: the index of a root float64 cannot resolve, else -1: :func:`~dynamics.roots.unresolved`).
    The scalar API calls it on its one row, so scalar and batch run the same machine code and
    agree bit for bit (a separately compiled ``eqpoly`` may contract multiply-adds differently and
    move a root by an ulp)."""
    n, deg = theta.shape[0], k.NPOLY - 1
    roots, mult = np.empty((n, deg)), np.zeros((n, deg), dtype=np.int64)
    counts, over = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.bool_)
    bad = np.full(n, -1, dtype=np.int64)
    _bound(_roots_batch, k, "eqpoly", n)(theta, roots, mult, counts, over, bad)
    return roots, mult, counts, over, bad


def overflows(m, params, what: str) -> bool:
    """Whether the equilibria (``what='equilibria'``) or only the critical decay (``'critical'``)
    of ``params`` leave the float64 range (in the model ``m``'s convention)."""
    k = m.kernels("reduced", "equilibria")
    if m.has("regimes") and math.isnan(raw_critical(m, params, k)):
        return True
    if what == "critical":
        return False
    theta = np.ascontiguousarray(params.as_array(k.PARAMS), np.float64).reshape(1, -1)
    return bool(roots_rows(k, theta)[3][0])


def ill_conditioned_error(m, params, c, root, mult) -> ParameterError:
    """The refusal of equilibria that float64 cannot resolve (W3 of round 3: a Wilkinson-like
    polynomial whose roots rounding moves by more than :data:`~dynamics.roots.RESOLVED_RTOL` of
    themselves, so that complex pairs would be printed as semi-stable equilibria)."""
    c = np.ascontiguousarray(c, np.float64)
    delta = rounding_radius(c, float(root), int(mult))
    deg = c.size - 1 - int(np.argmax(c != 0.0))
    return ParameterError(
        f"{m.name} at {_given(params)}: the equilibrium polynomial (degree {deg}) is ill-conditioned: "
        f"rounding of its coefficients may move the root near {float(root):.6g} by {delta:.2g}, more than "
        f"{RESOLVED_RTOL:g} of it, so its equilibria cannot be resolved in float64")


def _given(params) -> str:
    from dataclasses import fields

    changed = [f.name for f in fields(params) if getattr(params, f.name) != f.default]
    return ", ".join(f"{f}={getattr(params, f)!r}" for f in changed) or "the defaults"


def overflow_error(m, params, what: str = "equilibria") -> ParameterError:
    """The error for ``params`` whose equilibria or critical decay overflow float64: names the one
    parameter that causes it and the range of it that does not (with the others as given), found
    by bisection on its magnitude from its default (or 1); else names every non-default one."""
    from dataclasses import fields, replace

    cls = type(params)
    crit_name = m.critical or "the critical decay"
    quantity = f"the equilibrium polynomial or {crit_name}" if what == "equilibria" else crit_name
    defaults = {f.name: f.default for f in fields(cls)}
    changed = [f for f in defaults if getattr(params, f) != defaults[f]]
    for f in changed:
        x = float(getattr(params, f))
        d = float(defaults[f])
        if not (d != 0.0 and (d > 0) == (x > 0)):
            d = math.copysign(1.0, x) if x != 0.0 else 1.0
        if x == 0.0 or overflows(m, replace(params, **{f: d}), what):
            continue
        # geometric bisection between d (fine) and x (overflows): |v(s)| = |d|^(1-s) |x|^s
        ld, lx = math.log(abs(d)), math.log(abs(x))

        def at(s):
            return math.copysign(math.exp(min(ld + s * (lx - ld), 709.0)), x)
        lo, hi = 0.0, 1.0
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if overflows(m, replace(params, **{f: at(mid)}), what):
                hi = mid
            else:
                lo = mid
        # three digits, rounded towards d (the side that does not overflow)
        good = abs(at(lo))
        unit = 10.0 ** (math.floor(math.log10(good)) - 2)
        bound = math.copysign((math.floor(good / unit) if abs(x) > abs(d) else math.ceil(good / unit)) * unit, x)
        bound = float(f"{bound:.3g}")
        lo_b, lo_open = cls.RANGES[f]
        left = "(" if lo_open else "["
        if abs(x) > abs(d):
            interval = f"[{-abs(bound):g}, {abs(bound):g}]" if lo_b == -math.inf else f"{left}{lo_b:g}, {bound:g}]"
            why = "larger magnitudes overflow"
        else:
            interval = f"[{bound:g}, inf)" if x > 0 else f"(-inf, {bound:g}]"
            why = "smaller magnitudes underflow"
        return ParameterError(f"{f} must be in {interval} for {m.name} with the other parameters as given "
                              f"({why} float64 in {quantity}); got {x!r}")
    return ParameterError(f"{m.name} at {_given(params)} overflows float64 in {quantity}: "
                          f"reduce the magnitude of {', '.join(changed) or 'a parameter'}")



def params_from_row(m, names, row):
    """The parameter dataclass of the model ``m`` at one kernel parameter row (other fields: defaults)."""
    cls = m.params_class
    return cls(**{cls.KERNEL_NAMES[n]: float(v) for n, v in zip(names, row) if n in cls.KERNEL_NAMES})


def raise_row(m, names, row, where, what):
    """Raise the :func:`overflow_error` of one kernel parameter row, prefixed with ``where``."""
    err = overflow_error(m, params_from_row(m, names, row), what)
    raise ParameterError(f"{where}: {err}")
