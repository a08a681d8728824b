r"""Collapse / Acute / Stable regimes, fates of initial conditions, and regime maps.

Regimes (Bao 2023 Sec. 5.2 and Fig. 3; theory notes Sec. 5), by the decay parameter
:math:`\rho` (cosine) or :math:`\eta` (L2) against its critical value
(:func:`dynamics.equilibria.critical_value`):

======== ======================= =====================================================
code     regime                  condition
======== ======================= =====================================================
0        Collapse                :math:`\rho>\rho_c`: 0 is the only stable equilibrium
1        Acute                   :math:`0<\rho<\rho_c`: :math:`p_1<0=p_2<p_3<p_4`, 0 and p4 stable
2        Stable                  :math:`\rho=0` (the :math:`K\to0` limit): 0 is semi-stable
3        Boundary                :math:`\rho=\rho_c` within 1e-12 relative: the fold
======== ======================= =====================================================

For the L2 model (Tian eq. 16) the same codes are used with :math:`\eta` and
:math:`\eta_c=\tau^2/(4(1+\sigma^2))`: Collapse above it; 'Acute' below it (0 and :math:`p_+`
stable, :math:`p_-` unstable); 'Stable' at :math:`\eta=0`; Boundary at :math:`\eta=\eta_c`.

Fate of an initial condition on a 1-D flow, without time stepping: it moves monotonically in
the direction of the sign of :math:`\dot p` to the next equilibrium (or to infinity): codes
0 diverge (to :math:`\pm\infty`), 1 collapse (to 0), 2 converge (to a non-zero equilibrium).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numba import njit, prange

from symbolic.errors import ParameterError
from symbolic.registry import get_model

from .critical_decay import REGIMES, _bound, regimes_grid
from .equilibria import equilibria_batch_full, find_equilibria, kernels
from .results import Result, Status, save_npz_atomic
from .roots import horner
from .validate import check_field, float_array, grid_values, initial_values, make_params, normal_fields, theta_rows

REGIME_CODES = {name: i for i, name in enumerate(REGIMES)}
FATE_CODES = {"diverge": 0, "collapse": 1, "converge": 2}
FATES = tuple(FATE_CODES)


def classify(params) -> str:
    """Regime name of ``params`` (see the module table)."""
    return find_equilibria(params).regime


@njit(cache=True)
def _fate(c, roots, count, p0):
    n = c.size - 1
    for j in range(count):
        if p0 == roots[j]:
            # exactly on an equilibrium: it stays there (what an integrator reports)
            return 1 if p0 == 0.0 else 2
    f, _ = horner(c, n, p0)
    if f > 0.0:
        for j in range(count):
            if roots[j] > p0:
                return 1 if roots[j] == 0.0 else 2
        return 0
    if f < 0.0:
        for j in range(count - 1, -1, -1):
            if roots[j] < p0:
                return 1 if roots[j] == 0.0 else 2
        return 0
    return 1 if p0 == 0.0 else 2   # numerically at a root not in the list


def _fates_batch(eqpoly, theta, roots, counts, p0, out):
    # compiled by dynamics.kernels.bind_kernel (its cache key covers every dynamics/ source)
    for i in prange(p0.size):
        c = eqpoly(theta[i])
        out[i] = _fate(c, roots[i], counts[i], p0[i])


def predict_fate(params, p0) -> np.ndarray:
    """Fate code (``FATE_CODES``) of each initial condition ``p0`` under ``params``' reduced flow."""
    p0 = float_array("p0", p0)
    k = kernels(params.MODEL)
    theta = np.tile(params.as_array(k.PARAMS), (p0.size, 1))          # writable and contiguous for numba
    return predict_fate_batch(params.MODEL, theta, p0.ravel()).reshape(p0.shape)


def basins(params) -> list:
    """Basins on the line: ``[(lo, hi, fate name), ...]`` ascending, split at the equilibria
    (``-inf``/``inf`` at the ends; each open interval has one fate, the flow being monotone there).

    Worked example (theory notes sec. 5, Acute): ``(-inf, p1, diverge), (p1, 0, collapse),
    (0, p3, collapse), (p3, p4, converge), (p4, inf, converge)``.
    """
    from .equilibria import equilibria_batch

    k = kernels(params.MODEL)
    theta = np.ascontiguousarray(params.as_array(k.PARAMS)[None, :])
    roots, count = equilibria_batch(params.MODEL, theta)
    r = roots[0, :count[0]]
    edges = np.concatenate([[-np.inf], r, [np.inf]])
    span = max(1.0, float(np.max(np.abs(r)))) if r.size else 1.0
    probes = np.array([r[0] - span if r.size else 0.0] + [0.5 * (a + b) for a, b in zip(r[:-1], r[1:])]
                      + ([r[-1] + span] if r.size else []))
    codes = predict_fate_batch(params.MODEL, np.repeat(theta, probes.size, 0), probes)
    return [(float(lo), float(hi), FATES[int(c)]) for lo, hi, c in zip(edges[:-1], edges[1:], codes)]


def predict_fate_batch(model: str, theta, p0) -> np.ndarray:
    """Fates for per-point parameter rows ``theta`` (n, m) and initial conditions ``p0`` (n,).

    Both real (float or int) and finite; ``theta``'s columns in the order ``kernel.PARAMS``, each
    inside its parameter's range; exactly one ``p0`` per row. Raises ParameterError otherwise.
    """
    k = kernels(model)
    theta = theta_rows(model, theta, k.PARAMS)
    p0 = initial_values("p0", p0, theta.shape[0])
    roots, _, counts = equilibria_batch_full(model, theta)
    out = np.empty(p0.size, dtype=np.int8)
    _bound(_fates_batch, k, "eqpoly")(theta, roots, counts, p0, out)
    return out


@dataclass(frozen=True)
class RegimeMap(Result):
    """Regime codes on a grid: ``regime[i, j]`` at ``(x[j], y[i])``."""

    x: np.ndarray
    y: np.ndarray
    regime: np.ndarray
    critical: np.ndarray
    x_name: str
    y_name: str
    model: str
    fixed: dict

    @property
    def params(self) -> dict:
        return dict(self.fixed)

    def to_npz(self, path, **extra) -> None:
        """Write ``x``, ``y``, ``regime`` (int codes), ``critical`` and the names to an NPZ, atomically."""
        save_npz_atomic(path, x=self.x, y=self.y, regime=self.regime, critical=self.critical, x_name=self.x_name,
                        y_name=self.y_name, model=self.model, regime_names=np.array(REGIMES), **extra)


def _axis_index(model: str, name: str, kernel_params) -> int:
    cls = get_model(model).params_class
    field = check_field(model, name)
    inv = {v: k for k, v in cls.KERNEL_NAMES.items()}
    if field not in inv or inv[field] not in kernel_params:
        raise ParameterError(f"{name!r} does not enter the reduced flow of model {model} "
                             f"(its parameters there: {', '.join(sorted(inv))})")
    return list(kernel_params).index(inv[field])


def _check_axis(base, name: str, values) -> np.ndarray:
    values = grid_values(name, values)
    for v in (values.min(), values.max()):
        replace(base, **{name: float(v)})   # range check of the axis (the ranges are intervals)
    return values


def grid_theta(model: str, fixed: dict, axes):
    """Kernel parameter rows for the Cartesian product of ``axes`` = [(name, values), ...]
    (last axis fastest), after validating every axis end point through the dataclass."""
    base = make_params(model, fixed)
    k = kernels(model)
    idx, vals = [], []
    for name, values in axes:
        name = check_field(model, name)
        vals.append(_check_axis(base, name, values))
        idx.append(_axis_index(model, name, k.PARAMS))
    mesh = np.meshgrid(*vals, indexing="ij")
    theta = np.empty((mesh[0].size, len(k.PARAMS)))
    theta[:] = base.as_array(k.PARAMS)
    for i, m in zip(idx, mesh):
        theta[:, i] = m.ravel()
    return theta, mesh[0].shape


def regime_map(model: str, x_name: str, x_values, y_name: str, y_values, fixed: dict | None = None) -> RegimeMap:
    """Regime of every grid point, classified without time stepping.

    ``x_name``, ``y_name``: field names of ``model``'s dataclass (``n_psi``); an entry of ``fixed``
    for an axis parameter is dropped (the axis sets it)."""
    x_name, y_name = check_field(model, x_name), check_field(model, y_name)
    fixed = normal_fields(model, fixed)
    for n in (x_name, y_name):
        fixed.pop(n, None)
    if x_name == y_name:
        raise ParameterError(f"x and y must be different parameters; got {x_name!r} twice")
    base = make_params(model, fixed)
    k = kernels(model)
    xs = _check_axis(base, x_name, x_values)
    ys = _check_axis(base, y_name, y_values)
    codes, crits = regimes_grid(model, base.as_array(k.PARAMS), _axis_index(model, x_name, k.PARAMS), xs,
                                _axis_index(model, y_name, k.PARAMS), ys)
    return RegimeMap(xs, ys, codes, crits, x_name, y_name, model, fixed)


@dataclass(frozen=True)
class FateCheck(Result):
    """Predicted versus integrated fates on random (parameter, initial condition) pairs."""

    n: int
    agree: int
    predicted: np.ndarray
    integrated: np.ndarray
    theta: np.ndarray
    p0: np.ndarray

    @property
    def fraction(self) -> float:
        return self.agree / self.n

    @property
    def status(self) -> Status:
        return Status.SUCCESS if self.agree == self.n else Status.DISAGREE


def integrated_fate(model: str, theta, p0, t_end=None) -> np.ndarray:
    """Fate by integration (:func:`dynamics.integrate.integrate`, Tsit5 at rtol 1e-10):
    diverged, else collapsed if |p| < 1e-6 at the end, else converged elsewhere.

    The horizon defaults to 60 / (smallest decay) so that a collapse at rate decay has shrunk by
    at least e^-60; trajectories stop early once |rhs| < 1e-14 (settled on an equilibrium).
    """
    from .critical_decay import decay_index
    from .integrate import integrate

    k = kernels(model)
    theta = theta_rows(model, theta, k.PARAMS)
    if t_end is None:
        decay = theta[:, decay_index(model, k.PARAMS)]
        if np.any(decay <= 0):
            raise ParameterError("decay must be positive for the default horizon; pass t_end")
        t_end = float(min(60.0 / decay.min(), 1e7))
    res = integrate(model, theta, np.asarray(p0, float), t_end, method="tsit5", rtol=1e-10, atol=1e-14,
                    converge_tol=1e-14, max_steps=10_000_000)
    fin = np.asarray(res.final, float)
    out = np.where(res.status != 0, 0, np.where(np.abs(fin) < 1e-6, 1, 2)).astype(np.int8)
    return out


def check_fates(model: str, theta, p0, t_end=None) -> FateCheck:
    """Predict fates by interval lookup and confirm them by integration."""
    theta = theta_rows(model, theta, kernels(model).PARAMS)
    p0 = initial_values("p0", p0, theta.shape[0])
    pred = predict_fate_batch(model, theta, p0)
    integ = integrated_fate(model, theta, p0, t_end)
    return FateCheck(len(p0), int(np.sum(pred == integ)), pred, integ, theta, p0)
