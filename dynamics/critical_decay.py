r"""The critical decay of a reduced flow and the regime it implies, per point, in batches and on grids.

The decay term of every model that supports regimes (:mod:`symbolic.registry`, capability
``regimes``) is linear, :math:`\dot p=D\,(G(p)-\rho)\,p` up to a positive factor (cosine:
:math:`\rho`; L2: :math:`\eta`), so non-zero equilibria solve :math:`G(p)=\rho`. Positive
equilibria exist iff :math:`\rho\le\rho_c=\max_{p>0}G(p)`; at :math:`\rho=\rho_c` two of them
merge in a saddle-node. For Bao eq. 7 this is :math:`\rho_c=K_c/((1+\sigma^2)N_\Phi N_\Psi^3)`,
:math:`K_c=-\min_{p>0}(2p^5+Tp^2-N_\Psi^2p)`; for Tian eq. 16 it is :math:`\eta_c=\tau^2/(4(1+\sigma^2))`.
Regime codes (:data:`REGIMES`): 0 Collapse (:math:`\rho>\rho_c`), 1 Acute (:math:`0<\rho<\rho_c`),
2 Stable (:math:`\rho=0`), 3 Boundary (:math:`\rho=\rho_c` within :data:`BOUNDARY_RTOL`).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
from numba import njit, prange

from symbolic.errors import ParameterError
from symbolic.registry import get_model

from .roots import Workspace, horner, real_roots_ws
from .validate import check_columns, float_array, grid_values, theta_rows

REGIMES = ("Collapse", "Acute", "Stable", "Boundary")
#: magnitude beyond which a coefficient, or the rounding scale of the polynomial at a root, is
#: treated as an overflow (below float64's 1.8e308, leaving room for Horner's intermediates)
OVERFLOW = 1e300
#: relative distance to the critical decay treated as the fold itself
BOUNDARY_RTOL = 1e-12


def kernels(model: str):
    """The reduced-form kernels of ``model``, which must support regimes."""
    from symbolic.codegen import load_kernels

    get_model(model).require("regimes", "regimes and critical decays")
    return load_kernels(model, "reduced")


def decay_index(model: str, kernel_params) -> int:
    """Column of the decay parameter among a kernel's parameters (``kernel.PARAMS``)."""
    spec = get_model(model).require("regimes", "regimes and critical decays")
    inv = {f: kname for kname, f in spec.params_class.KERNEL_NAMES.items()}
    return list(kernel_params).index(inv[spec.decay])


def _bound(fn, k, attr):
    from .kernels import bind_kernel

    return bind_kernel(fn, k.__name__, "eqpoly", attr)


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



def raw_critical(params, k=None) -> float:
    """The critical decay of ``params`` (NaN when it cannot be trusted: see :func:`critical_value`)."""
    k = kernels(params.MODEL) if k is None else k
    theta = params.as_array(k.PARAMS)
    i = decay_index(params.MODEL, k.PARAMS)
    t0, t1 = theta.copy(), theta.copy()
    t0[i], t1[i] = 0.0, 1.0
    return float(critical_decay(k.eqpoly(t0), k.eqpoly(t1)))



def critical_value(params: Any) -> float:
    r"""The critical decay (``rho_c`` or ``eta_c``) with every other parameter fixed.

    :math:`\rho_c=\max_{p>0}G(p)`, where the non-zero equilibria solve :math:`G(p)=\rho` (see the
    module docstring). Bao 2023 eq. 7: :math:`\rho_c=K_c/((1+\sigma^2)N_\Phi N_\Psi^3)`,
    :math:`K_c=-\min_{p>0}(2p^5+Tp^2-N_\Psi^2p)`; Tian et al. 2021 eq. 16:
    :math:`\eta_c=\tau^2/(4(1+\sigma^2))`. The decay field of ``params`` is ignored.

    Parameters
    ----------
    params : parameter dataclass
        A point of a model with the ``regimes`` capability (``params.MODEL``).

    Returns
    -------
    float
        The critical decay; :math:`\le0` when no positive equilibrium exists at any decay,
        ``inf`` when :math:`G` is unbounded above on :math:`p>0` (then positive equilibria exist at
        every decay: the regime is Acute for every decay > 0).

    Raises
    ------
    ParameterError
        If the model has no regimes (``two-layer``), or if the critical decay overflows float64
        (naming the parameter that makes it so and its range that does not).

    Examples
    --------
    >>> from dynamics import CosineParams, L2Params, critical_value
    >>> round(critical_value(CosineParams(rho=0.01, sigma2=0.5, n_phi=2, n_psi=1.5, trace=0.5)), 6)
    0.100805
    >>> round(critical_value(L2Params(eta=0.05, sigma2=0.5, tau=1.0)), 6)   # 1 / (4 * 1.5)
    0.166667
    """
    from .equilibria import overflow_error

    crit = raw_critical(params)
    if math.isnan(crit):
        raise overflow_error(params, "critical")
    return crit



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
    # every value of each axis (not only the corners: a discrete field or the magnitude limit is
    # not an interval), each with the base values of the other columns
    for i, values in ((ix, xs), (iy, ys)):
        rows = np.tile(base_theta, (values.size, 1))
        rows[:, i] = values
        check_columns(model, rows, k.PARAMS, "grid")
    codes, crits = _regimes_grid_unchecked(model, k, base_theta, ix, xs, iy, ys)
    bad = np.isnan(crits)
    if np.any(bad):
        a, b = np.argwhere(bad)[0]
        t = base_theta.copy()
        t[ix], t[iy] = xs[b], ys[a]
        from .equilibria import _raise_row

        _raise_row(model, k.PARAMS, t, f"grid point (x = {float(xs[b])!r}, y = {float(ys[a])!r})", "critical")
    return codes, crits


def _regimes_grid_unchecked(model, k, base_theta, ix, xs, iy, ys):
    di = decay_index(model, k.PARAMS)
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
    _bound(_regimes_batch, k, "eqpoly_into")(theta, decay_index(model, k.PARAMS), k.NPOLY, codes, crits)
    bad = np.flatnonzero(np.isnan(crits))
    if bad.size:
        from .equilibria import _raise_row

        _raise_row(model, k.PARAMS, theta[bad[0]], f"theta row {int(bad[0])}", "critical")
    return codes, crits

