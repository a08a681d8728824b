r"""Equilibria of the reduced (scalar) flows, their stability, and the critical weight decay.

For the models whose reduced right-hand side is a polynomial over a positive constant
denominator, the equilibria are the real roots of the generated equilibrium polynomial
(``kernel.eqpoly``), found by :mod:`dynamics.roots` (derivative bracketing: every real root, no
spurious complex pair, double roots flagged).

Stability: the sign of :math:`\partial_p\dot p` at the root (negative: stable); a root of even
multiplicity (a fold, or :math:`p=0` at zero weight decay) is semi-stable.

Critical decay. The decay term of every supported model is linear, :math:`\dot p=g(p)-\rho p`
(cosine: :math:`\rho`; L2: :math:`\eta`), so non-zero equilibria solve :math:`G(p)=\rho` with
:math:`G(p)=g(p)/p`. Positive equilibria exist iff :math:`\rho\le\rho_c=\max_{p>0}G(p)`; at
:math:`\rho=\rho_c` two of them merge in a saddle-node. For Bao eq. 7 this is
:math:`\rho_c=K_c/((1+\sigma^2)N_\Phi N_\Psi^3)`, :math:`K_c=-\min_{p>0}(2p^5+Tp^2-N_\Psi^2p)`; for
Tian eq. 16 it is :math:`\eta_c=\tau^2/(4(1+\sigma^2))`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from symbolic.errors import ParameterError

from .roots import Workspace, _abs_scale, horner, real_roots, real_roots_of, real_roots_ws
from .validate import check_columns, float_array, grid_values, theta_rows

#: decay parameter (field, kernel name) and the name of its critical value, per model
DECAY = {
    "cosine-simsiam": ("rho", "rho", "rho_c"),
    "cosine-simsiam-delta": ("rho", "rho", "rho_c"),
    "l2-byol": ("eta", "eta", "eta_c"),
}
REGIMES = ("Collapse", "Acute", "Stable", "Boundary")
#: magnitude beyond which a coefficient, or the rounding scale of the polynomial at a root, is
#: treated as an overflow (below float64's 1.8e308, leaving room for Horner's intermediates)
OVERFLOW = 1e300
#: relative distance to the critical decay treated as the fold itself
BOUNDARY_RTOL = 1e-12


def supported(model: str) -> None:
    if model not in DECAY:
        raise ParameterError(f"model must be one of {', '.join(DECAY)} for equilibria "
                             f"(two-layer has lines of equilibria, no regimes); got {model!r}")


def kernels(model: str):
    from symbolic.codegen import load_kernels

    supported(model)
    return load_kernels(model, "reduced")


@dataclass(frozen=True)
class Equilibria:
    """Real equilibria of a reduced flow, ascending, with stability and the regime."""

    model: str
    params: object
    p: np.ndarray
    multiplicity: np.ndarray
    stability: tuple
    regime: str
    critical_name: str
    critical_value: float

    def to_json(self) -> dict:
        return {"model": self.model, "params": self.params.to_dict(), "regime": self.regime,
                "equilibria": [{"p": float(x), "stability": s} for x, s in zip(self.p, self.stability)],
                "critical": {"name": self.critical_name, "value": float(self.critical_value)}}


@njit(cache=True)
def stability_code(c, root, mult):
    """0 stable, 1 unstable, 2 semi-stable, from the polynomial ``c`` (same sign as the rhs)."""
    if mult % 2 == 0:
        return 2
    n = c.size - 1
    if root == 0.0:
        # sign of the first non-vanishing derivative at 0 = sign of the coefficient of p^mult
        v = c[n - mult]
    else:
        _, v = horner(c, n, root)
    if v < 0.0:
        return 0
    if v > 0.0:
        return 1
    return 2


STABILITY = ("stable", "unstable", "semi-stable")


@njit(cache=True)
def critical_decay(P0, P1):
    """See :func:`critical_decay_ws`."""
    n = P0.size
    return critical_decay_ws(P0, P1, np.empty(n), np.empty(n), np.zeros(n, dtype=np.int64), Workspace(n))


@njit(cache=True)
def critical_decay_ws(P0, P1, dG, r, mu, ws):
    r""":math:`\max_{p>0}G(p)` from the equilibrium polynomial at decay 0 (``P0``) and 1 (``P1``).

    ``P1 - P0 = -D p`` with the positive denominator ``D``; :math:`G(p)=P_0(p)/(Dp)`.
    """
    n = P0.size - 1
    D = P0[n - 1] - P1[n - 1]
    if not D >= 1.0 / OVERFLOW:     # the positive denominator underflowed: no trustworthy critical decay
        return np.nan
    return _max_DG(P0, dG, r, mu, ws) / D


@njit(cache=True)
def critical_decay_memo(P0, P1, dG, r, mu, ws, memo):
    r""":func:`critical_decay_ws` that reuses :math:`\max_{p>0}DG` when ``P0`` is bitwise the one of
    the previous call (``memo``: that ``P0`` then the maximum; start it with NaN). Exact: the
    maximum depends on ``P0`` only. In the cosine model ``P0`` depends on ``N_Psi`` and ``T``
    alone, so along sigma2 or N_Phi a grid line needs one root search."""
    n = P0.size - 1
    same = True
    for i in range(n + 1):
        if memo[i] != P0[i]:
            same = False
            break
    if not same:
        for i in range(n + 1):
            memo[i] = P0[i]
        memo[n + 1] = _max_DG(P0, dG, r, mu, ws)
    D = P0[n - 1] - P1[n - 1]
    if not D >= 1.0 / OVERFLOW:     # the positive denominator underflowed: no trustworthy critical decay
        return np.nan
    return memo[n + 1] / D


@njit(cache=True)
def _max_DG(P0, dG, r, mu, ws):
    n = P0.size - 1
    # D G(p) = P0(p) / p = P0[0..n-1] as a polynomial (P0[n] == 0: p = 0 is always an equilibrium);
    # its critical points do not depend on D > 0, so divide only the few values compared
    G = P0[:n]
    m = G.size - 1
    best = G[m]                                   # D G(0+)
    if m >= 1:
        for i in range(m):
            dG[i] = G[i] * (m - i)
        k = real_roots_ws(dG[:m], r, mu, ws, 0.0)
        for i in range(k):
            if r[i] > 0.0:
                v, _ = horner(G, m, r[i])
                if v > best:
                    best = v
    return best


@njit(cache=True)
def regime_code(decay, crit):
    """0 Collapse, 1 Acute, 2 Stable, 3 Boundary (fold), from the decay and its critical value."""
    if crit <= 0.0:
        return 0
    if decay == 0.0:
        return 2
    if abs(decay - crit) <= BOUNDARY_RTOL * crit:
        return 3
    return 0 if decay > crit else 1


def _bound(fn, k, attr):
    from .kernels import bind_kernel

    return bind_kernel(fn, k.__name__, "eqpoly", attr)


def _theta(params, k):
    return params.as_array(k.PARAMS)


def _raw_critical(params, k=None) -> float:
    k = kernels(params.MODEL) if k is None else k
    theta = _theta(params, k)
    i = k.PARAMS.index(DECAY[params.MODEL][1])
    t0, t1 = theta.copy(), theta.copy()
    t0[i], t1[i] = 0.0, 1.0
    return float(critical_decay(k.eqpoly(t0), k.eqpoly(t1)))


@njit(cache=True)
def poly_overflows(c, roots, count):
    """True if a coefficient of ``c`` or the rounding scale of ``c`` at one of the ``count`` roots
    is non-finite or beyond :data:`OVERFLOW`: then roots, multiplicities and stability are noise."""
    n = c.size - 1
    for i in range(n + 1):
        if not abs(c[i]) <= OVERFLOW:
            return True
    for j in range(count):
        if not _abs_scale(c, n, roots[j]) <= OVERFLOW:
            return True
    return False


def _overflows(params, what: str) -> bool:
    """Whether the equilibria (``what='equilibria'``) or only the critical decay (``'critical'``)
    of ``params`` leave the float64 range."""
    k = kernels(params.MODEL)
    if not math.isfinite(_raw_critical(params, k)):
        return True
    if what == "critical":
        return False
    c = k.eqpoly(_theta(params, k))
    roots, _ = real_roots_of(c)
    return bool(poly_overflows(c, np.ascontiguousarray(roots, np.float64), roots.size))


def overflow_error(params, what: str = "equilibria") -> ParameterError:
    """The error for ``params`` whose equilibria or critical decay overflow float64: names the one
    parameter that causes it and the range of it that does not (with the others as given), found
    by bisection on its magnitude from its default (or 1); else names every non-default one."""
    from dataclasses import fields, replace

    cls = type(params)
    quantity = f"the equilibrium polynomial or {DECAY[params.MODEL][2]}" if what == "equilibria" \
        else DECAY[params.MODEL][2]
    defaults = {f.name: f.default for f in fields(cls)}
    changed = [f for f in defaults if getattr(params, f) != defaults[f]]
    for f in changed:
        x = float(getattr(params, f))
        d = float(defaults[f])
        if not (d != 0.0 and (d > 0) == (x > 0)):
            d = math.copysign(1.0, x) if x != 0.0 else 1.0
        if x == 0.0 or _overflows(replace(params, **{f: d}), what):
            continue
        # geometric bisection between d (fine) and x (overflows): |v(s)| = |d|^(1-s) |x|^s
        ld, lx = math.log(abs(d)), math.log(abs(x))

        def at(s):
            return math.copysign(math.exp(min(ld + s * (lx - ld), 709.0)), x)
        lo, hi = 0.0, 1.0
        for _ in range(60):
            mid = 0.5 * (lo + hi)
            if _overflows(replace(params, **{f: at(mid)}), what):
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
        return ParameterError(f"{f} must be in {interval} for {params.MODEL} with the other parameters as given "
                              f"({why} float64 in {quantity}); got {x!r}")
    given = ", ".join(f"{f}={getattr(params, f)!r}" for f in changed) or "the defaults"
    return ParameterError(f"{params.MODEL} at {given} overflows float64 in {quantity}: "
                          f"reduce the magnitude of {', '.join(changed) or 'a parameter'}")


def critical_value(params) -> float:
    """The critical decay (``rho_c`` or ``eta_c``) with every other parameter fixed.

    Raises
    ------
    ParameterError
        If it overflows float64 (naming the parameter that makes it so).
    """
    crit = _raw_critical(params)
    if not math.isfinite(crit):
        raise overflow_error(params, "critical")
    return crit


def find_equilibria(params) -> Equilibria:
    """All real equilibria of ``params.MODEL``'s reduced flow at ``params``, ascending.

    Raises
    ------
    ParameterError
        If the equilibrium polynomial, its roots' rounding scale or the critical decay overflow
        float64 (then no regime can be trusted); the message names the parameter responsible.
    """
    model = params.MODEL
    k = kernels(model)
    theta = _theta(params, k)
    c = k.eqpoly(theta)
    roots, mult = real_roots_of(c)
    crit = _raw_critical(params, k)
    if not math.isfinite(crit) or poly_overflows(c, np.ascontiguousarray(roots, np.float64), roots.size):
        raise overflow_error(params, "equilibria")
    stab = tuple(STABILITY[stability_code(c, r, m)] for r, m in zip(roots, mult))
    decay = getattr(params, DECAY[model][0])
    return Equilibria(model, params, roots, mult, stab, REGIMES[regime_code(decay, crit)],
                      DECAY[model][2], crit)


def params_from_row(model: str, names, row):
    """The parameter dataclass of ``model`` at one kernel parameter row (other fields: defaults)."""
    from .params import params_class

    cls = params_class(model)
    return cls(**{cls.KERNEL_NAMES[n]: float(v) for n, v in zip(names, row) if n in cls.KERNEL_NAMES})


def _raise_row(model, names, row, where, what):
    err = overflow_error(params_from_row(model, names, row), what)
    raise ParameterError(f"{where}: {err}")


# --- batches ------------------------------------------------------------------------------
# The batch loops below take the kernel as their first argument and are compiled through
# dynamics.kernels.bind_kernel, which binds it as a global so numba can cache them on disk.
def _regimes_batch(eqpoly, theta, decay_index, npoly, codes, crits):
    # revision 3 of the root finder and regime_code: numba caches a bound loop by its own source
    # only, so bump this tag whenever dynamics.roots or the functions called here change
    n = theta.shape[0]
    block = 512
    for b in prange((n + block - 1) // block):
        # scratch allocated once per block of points
        t = np.empty(theta.shape[1])
        dG, r, mu, ws = np.empty(npoly), np.empty(npoly), np.zeros(npoly, dtype=np.int64), Workspace(npoly)
        P0 = np.empty(npoly)
        P1 = np.empty(npoly)
        memo = np.full(npoly + 1, np.nan)
        for i in range(b * block, min(n, (b + 1) * block)):
            t[:] = theta[i]
            decay = t[decay_index]
            t[decay_index] = 0.0
            eqpoly(t, P0)
            t[decay_index] = 1.0
            eqpoly(t, P1)
            c = critical_decay_memo(P0, P1, dG, r, mu, ws, memo)
            crits[i] = c
            codes[i] = regime_code(decay, c)


def _regimes_grid(eqpoly, base, ix, xs, iy, ys, decay_index, npoly, codes, crits):
    # revision 3 of the root finder and regime_code: numba caches a bound loop by its own source
    # only, so bump this tag whenever dynamics.roots or the functions called here change
    # the grid is never materialised: each row builds its parameter vector on the fly
    for a in prange(ys.size):
        t = base.copy()
        dG, r, mu, ws = np.empty(npoly), np.empty(npoly), np.zeros(npoly, dtype=np.int64), Workspace(npoly)
        P0 = np.empty(npoly)
        P1 = np.empty(npoly)
        memo = np.full(npoly + 1, np.nan)
        t[iy] = ys[a]
        for b in range(xs.size):
            t[ix] = xs[b]
            decay = t[decay_index]
            t[decay_index] = 0.0
            eqpoly(t, P0)
            t[decay_index] = 1.0
            eqpoly(t, P1)
            t[decay_index] = decay
            c = critical_decay_memo(P0, P1, dG, r, mu, ws, memo)
            crits[a, b] = c
            codes[a, b] = regime_code(decay, c)


@njit(cache=True, parallel=True)
def _codes_outer(decay_x, crit_y, codes, crits):
    # regime codes when the decay varies along x only and the critical decay along y only
    for a in prange(crit_y.size):
        for b in range(decay_x.size):
            crits[a, b] = crit_y[a]
            codes[a, b] = regime_code(decay_x[b], crit_y[a])


def regimes_grid(model: str, base_theta, ix: int, xs, iy: int, ys):
    r"""Regime codes and critical decays on the grid ``ys`` x ``xs`` of kernel parameters ``iy``, ``ix``.

    The critical decay does not depend on the decay itself (it is :math:`\max_{p>0}G(p)`, see the
    module docstring), so when one axis is the decay parameter it is computed once per line of
    the other axis (n instead of n^2 polynomial root searches) and the codes are an outer
    comparison; otherwise every grid point gets its own root search.
    """
    k = kernels(model)
    m = len(k.PARAMS)
    xs, ys = grid_values("xs", xs), grid_values("ys", ys)
    base_theta = float_array("base_theta", base_theta, ndim=1)
    if base_theta.size != m:
        raise ParameterError(f"base_theta must have shape ({m},) in the order {', '.join(k.PARAMS)}; "
                             f"got shape {base_theta.shape}")
    for nm, i in (("ix", ix), ("iy", iy)):
        if not (isinstance(i, (int, np.integer)) and 0 <= i < m):
            raise ParameterError(f"{nm} must be an integer in [0, {m - 1}]; got {i!r}")
    # ranges at the grid's corners (the ranges are intervals: the corners bound every point)
    corners = np.tile(base_theta, (4, 1))
    corners[:, ix] = [xs.min(), xs.max(), xs.min(), xs.max()]
    corners[:, iy] = [ys.min(), ys.min(), ys.max(), ys.max()]
    check_columns(model, corners, k.PARAMS, "grid")
    codes, crits = _regimes_grid_unchecked(model, k, base_theta, ix, xs, iy, ys)
    bad = ~np.isfinite(crits)
    if np.any(bad):
        a, b = np.argwhere(bad)[0]
        t = base_theta.copy()
        t[ix], t[iy] = xs[b], ys[a]
        _raise_row(model, k.PARAMS, t, f"grid point (x = {float(xs[b])!r}, y = {float(ys[a])!r})", "critical")
    return codes, crits


def _regimes_grid_unchecked(model, k, base_theta, ix, xs, iy, ys):
    di = k.PARAMS.index(DECAY[model][1])
    codes = np.empty((ys.size, xs.size), dtype=np.int8)
    crits = np.empty((ys.size, xs.size))
    grid = _bound(_regimes_grid, k, "eqpoly_into")
    if di in (ix, iy) and ix != iy:
        other, ov = (iy, ys) if di == ix else (ix, xs)
        c_codes = np.empty((ov.size, 1), dtype=np.int8)
        c_line = np.empty((ov.size, 1))
        grid(base_theta, di, np.array([0.0]), other, ov, di, k.NPOLY, c_codes, c_line)
        if di == ix:
            _codes_outer(xs, np.ascontiguousarray(c_line[:, 0]), codes, crits)
        else:
            ct, rt = np.empty((xs.size, ys.size), dtype=np.int8), np.empty((xs.size, ys.size))
            _codes_outer(ys, np.ascontiguousarray(c_line[:, 0]), ct, rt)
            codes[:], crits[:] = ct.T, rt.T
        return codes, crits
    grid(base_theta, ix, xs, iy, ys, di, k.NPOLY, codes, crits)
    return codes, crits


def regimes_batch(model: str, theta: np.ndarray):
    """Regime codes and critical decays for a batch of kernel parameter rows ``theta`` (n, m).

    ``theta``: real (float or int), finite, columns in the order ``kernel.PARAMS``, each inside
    its parameter's range. Raises ParameterError otherwise, or if a critical decay overflows.
    """
    k = kernels(model)
    theta = theta_rows(model, theta, k.PARAMS)
    codes = np.empty(theta.shape[0], dtype=np.int8)
    crits = np.empty(theta.shape[0])
    _bound(_regimes_batch, k, "eqpoly_into")(theta, k.PARAMS.index(DECAY[model][1]), k.NPOLY, codes, crits)
    bad = np.flatnonzero(~np.isfinite(crits))
    if bad.size:
        _raise_row(model, k.PARAMS, theta[bad[0]], f"theta row {int(bad[0])}", "critical")
    return codes, crits


def _roots_batch(eqpoly, theta, roots, mult, counts, over):
    # revision 4 of the root finder and regime_code: numba caches a bound loop by its own source
    # only, so bump this tag whenever dynamics.roots or the functions called here change
    for i in prange(theta.shape[0]):
        c = eqpoly(theta[i])
        for j in range(roots.shape[1]):
            roots[i, j] = np.nan
            mult[i, j] = 0
        counts[i] = real_roots(c, roots[i], mult[i])
        over[i] = poly_overflows(c, roots[i], counts[i])


def equilibria_batch(model: str, theta: np.ndarray):
    """Real equilibria for each row of ``theta`` (n, m): ``(roots (n, deg) NaN-padded ascending,
    count (n,))``; multiplicities via :func:`equilibria_batch_full`.

    ``theta``: real (float or int), finite, columns in the order ``kernel.PARAMS`` (one row may be
    given as a vector), each inside its parameter's range. Raises ParameterError otherwise, or if
    a row's polynomial overflows float64 (naming the row and the parameter)."""
    r, m, n = equilibria_batch_full(model, theta)
    return r, n


def equilibria_batch_full(model: str, theta: np.ndarray):
    """:func:`equilibria_batch` plus the multiplicities: ``(roots, mult, counts)``."""
    k = kernels(model)
    theta = theta_rows(model, theta, k.PARAMS)
    deg = k.NPOLY - 1
    roots = np.empty((theta.shape[0], deg))
    mult = np.zeros((theta.shape[0], deg), dtype=np.int64)
    counts = np.zeros(theta.shape[0], dtype=np.int64)
    over = np.zeros(theta.shape[0], dtype=np.bool_)
    _bound(_roots_batch, k, "eqpoly")(theta, roots, mult, counts, over)
    bad = np.flatnonzero(over)
    if bad.size:
        _raise_row(model, k.PARAMS, theta[bad[0]], f"theta row {int(bad[0])}", "equilibria")
    return roots, mult, counts


# --- eigen systems: the cosine (p, s) system per mode, the L2 (p, s, tau) system ---------------
@dataclass(frozen=True)
class EigenEquilibria:
    """Equilibria of an eigen system: one mode ``(p, s)`` of the cosine model at frozen N_Phi, N_Psi,
    T, or ``(p, s, tau)`` of the L2 model (``tau`` is None for the cosine models)."""

    p: np.ndarray
    s: np.ndarray
    jacobian_eigenvalues: np.ndarray   # (n, dim) complex
    stability: tuple
    tau: np.ndarray | None = None


def _jacobian_stability(k, states, theta):
    n = len(k.STATE)
    J = np.zeros((n, n))
    eigs, stab = [], []
    for y in states:
        k.jac(np.asarray(y, float), theta, J)
        ev = np.linalg.eigvals(J)
        eigs.append(ev)
        re = ev.real
        stab.append("stable" if np.all(re < 0) else ("unstable" if np.any(re > 0) else "semi-stable"))
    return np.array(eigs).reshape(len(states), n), tuple(stab)


def find_eigen_equilibria(params) -> EigenEquilibria:
    r"""Equilibria of the eigen system and their stability from the Jacobian's eigenvalues.

    Cosine (Bao eq. 5, one mode, :math:`N_\Phi,N_\Psi,T` frozen): with :math:`\rho>0`,
    :math:`\frac{d}{dt}(s-p^2)=-2\rho(s-p^2)` (eq. 6) forces :math:`s=p^2`, so the equilibria are
    the reduced roots lifted to the parabola.

    L2 (Tian eqs. 11-13, state :math:`(p,s,\tau)`, :math:`\eta>0`, :math:`\beta>0`): eq. 14 forces
    :math:`s=p^2/\alpha_p`; :math:`p\ne0` then gives :math:`p(\tau-(1+\sigma^2)p)=\eta`, which
    turns :math:`\dot\tau` into :math:`\beta(1-\tau)`, so :math:`\tau=1` and :math:`p=p_\pm`
    (eq. 16 at :math:`\tau=1`); :math:`p=0` gives :math:`s=0`, :math:`\tau=\beta/(\beta-\eta)`
    (needs :math:`\beta>\eta`; the notes' collapsed-state limit).
    """
    from dataclasses import replace as _replace

    from symbolic.codegen import load_kernels

    if params.MODEL == "l2-byol":
        if params.eta <= 0:
            raise ParameterError(f"eta must be in (0, inf) for eigen equilibria (at eta = 0 they form lines); "
                                 f"got {params.eta!r}")
        if params.beta <= 0:
            raise ParameterError(f"beta must be in (0, inf) for eigen equilibria of the (p, s, tau) system "
                                 f"(at beta = 0 they form a curve); got {params.beta!r}")
        red = find_equilibria(_replace(params, tau=1.0))
        k = load_kernels("l2-byol", "eigen")
        states = []
        for pv in red.p:
            if pv == 0.0:
                if params.beta > params.eta:
                    states.append((0.0, 0.0, params.beta / (params.beta - params.eta)))
            else:
                states.append((pv, pv * pv / params.alpha_p, 1.0))
        Y = np.array(states, float).reshape(-1, 3)
        eigs, stab = _jacobian_stability(k, Y, params.as_array(k.PARAMS))
        return EigenEquilibria(Y[:, 0].copy(), Y[:, 1].copy(), eigs, stab, Y[:, 2].copy())
    if params.MODEL not in ("cosine-simsiam", "cosine-simsiam-delta"):
        raise ParameterError(f"model must be cosine-simsiam, cosine-simsiam-delta or l2-byol for eigen "
                             f"equilibria; got {params.MODEL!r}")
    if params.rho <= 0:
        raise ParameterError(f"rho must be in (0, inf) for eigen equilibria (at rho = 0 the parabola "
                             f"is not attracting); got {params.rho!r}")
    red = find_equilibria(params)
    k = load_kernels(params.MODEL, "eigen")
    Y = np.column_stack([red.p, red.p**2])
    eigs, stab = _jacobian_stability(k, Y, params.as_array(k.PARAMS))
    return EigenEquilibria(red.p.copy(), red.p**2, eigs, stab)


def rho_c_closed_form(sigma2: float, n_phi: float, n_psi: float) -> float:
    r"""Bao eq. 7 with :math:`T=0`: :math:`\rho_c=0.8\cdot10^{-1/4}/((1+\sigma^2)N_\Phi\sqrt{N_\Psi})`."""
    return 0.8 * 10 ** -0.25 / ((1 + sigma2) * n_phi * math.sqrt(n_psi))
