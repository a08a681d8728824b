r"""The numerical core of the critical decay: the compiled maximum of :math:`G`, regime codes,
and the batch and grid loops (the math: :mod:`dynamics.critical_decay`, which checks the
arguments and reports overflows through :mod:`dynamics.overflow`).

Every function takes a :class:`symbolic.model.Model`; none looks a model up.
"""
from __future__ import annotations

import numpy as np
from numba import njit, prange

from .roots import Workspace, horner, real_roots_ws

REGIMES = ("Collapse", "Acute", "Stable", "Boundary")
#: magnitude beyond which a coefficient, or the rounding scale of the polynomial at a root, is
#: treated as an overflow (below float64's 1.8e308, leaving room for Horner's intermediates)
OVERFLOW = 1e300
#: relative distance to the critical decay treated as the fold itself
BOUNDARY_RTOL = 1e-12

#: batches up to this many rows run a serial compilation of a batch loop: a first command on one
#: point (``ssldyn demo``, ``equilibria``) then skips numba's parallel lowering, seconds of CPU
SERIAL_ROWS = 16


def _bound(fn, k, attr, rows: int | None = None):
    """``fn`` compiled with its kernel argument bound to ``k.attr`` (serially for ``rows`` up to
    :data:`SERIAL_ROWS`; the same loop body and callees, so the same results bit for bit)."""
    from .kernels import bind_kernel

    return bind_kernel(fn, k.__name__, "eqpoly", attr, parallel=rows is None or rows > SERIAL_ROWS)


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
    return _divide(_max_DG(P0, dG, r, mu, ws), D)


@njit(cache=True)
def _divide(best, D):
    # rho_c = max DG / D: inf when G is unbounded above on p > 0 (every decay leaves positive
    # equilibria), NaN when it cannot be trusted (D underflowed, or the quotient overflows), never -0
    if not D >= 1.0 / OVERFLOW:     # the positive denominator underflowed: no trustworthy critical decay
        return np.nan
    if best == np.inf:
        return np.inf
    v = best / D
    return v + 0.0 if abs(v) <= OVERFLOW else np.nan


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
    return _divide(memo[n + 1], P0[n - 1] - P1[n - 1])


@njit(cache=True)
def _max_DG(P0, dG, r, mu, ws):
    n = P0.size - 1
    # D G(p) = P0(p) / p = P0[0..n-1] as a polynomial (P0[n] == 0: p = 0 is always an equilibrium);
    # its critical points do not depend on D > 0, so divide only the few values compared
    G = P0[:n]
    m = G.size - 1
    best = G[m]                                   # D G(0+)
    lead = 0
    while lead < m and G[lead] == 0.0:
        lead += 1
    if lead < m and G[lead] > 0.0:                # DG grows without bound as p -> inf
        return np.inf
    if m >= 1:
        for i in range(m):
            dG[i] = G[i] * (m - i)
        k = real_roots_ws(dG[:m], r, mu, ws, 0.0)
        for i in range(k):
            if r[i] > 0.0:
                v, _ = horner(G, m, r[i])
                if v > best:
                    best = v
    return best if abs(best) <= OVERFLOW else np.nan     # overflow is not unboundedness


@njit(cache=True)
def regime_code(decay, crit):
    """0 Collapse, 1 Acute, 2 Stable, 3 Boundary (fold), from the decay and its critical value
    (``crit = inf``: G is unbounded, every decay > 0 is Acute)."""
    if crit <= 0.0:
        return 0
    if decay == 0.0:
        return 2
    if crit == np.inf:
        return 1
    if abs(decay - crit) <= BOUNDARY_RTOL * crit:
        return 3
    return 0 if decay > crit else 1




def raw_critical(m, params, k=None) -> float:
    """The critical decay of ``params`` of the model ``m`` (NaN when it cannot be trusted: see
    :func:`dynamics.critical_decay.critical_value`); ``k``: its reduced kernels if loaded."""
    k = m.kernels("reduced", "regimes") if k is None else k
    theta = params.as_array(k.PARAMS)
    i = m.decay_index(k.PARAMS)
    t0, t1 = theta.copy(), theta.copy()
    t0[i], t1[i] = 0.0, 1.0
    return float(critical_decay(k.eqpoly(t0), k.eqpoly(t1)))


# --- batches ------------------------------------------------------------------------------
# The batch loops below take the kernel as their first argument and are compiled through
# dynamics.kernels.bind_kernel, which binds it as a global so numba can cache them on disk.
def _regimes_batch(eqpoly, theta, decay_index, npoly, codes, crits):
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

def regimes_grid_unchecked(m, k, base_theta, ix, xs, iy, ys):
    """Regime codes and critical decays on a grid (see :func:`dynamics.critical_decay.regimes_grid`),
    the arguments already checked; NaN marks an untrusted critical decay."""
    di = m.decay_index(k.PARAMS)
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
