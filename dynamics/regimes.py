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

Size: over 400 lines only with its docstrings (the numpydoc sections and examples of the public
functions); the code itself stays under 400 lines (tests/test_module_size.py).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np
from numba import njit, prange
from numpy.typing import ArrayLike

from symbolic.errors import ParameterError
from symbolic.model import as_model, model_of

from .critical_core import REGIMES, _bound
from .critical_decay import regimes_grid
from .equilibria import equilibria_batch_full, equilibria_of
from .results import Result, Status, save_npz_atomic
from .roots import horner
from .validate import check_field, float_array, grid_values, initial_values, make_params, normal_fields, theta_rows

if TYPE_CHECKING:
    from symbolic.model import Model

REGIME_CODES = {name: i for i, name in enumerate(REGIMES)}
FATE_CODES = {"diverge": 0, "collapse": 1, "converge": 2}
FATES = tuple(FATE_CODES)


def classify(params: Any, *, model: str | Model | None = None) -> str:
    r"""Regime name of ``params`` (see the module table).

    The decay against its critical value (Bao 2023 Sec. 5.2; Tian et al. 2021 eq. 16):
    Collapse if :math:`\rho>\rho_c`, Acute if :math:`0<\rho<\rho_c`, Stable if :math:`\rho=0`,
    Boundary if :math:`|\rho-\rho_c|\le10^{-12}\rho_c`.

    Parameters
    ----------
    params : parameter dataclass
        A point of a model with the ``equilibria`` capability.
    model : str or symbolic.model.Model, optional
        The model (with its convention); default ``params.MODEL``, looked up once here.

    Returns
    -------
    str or None
        One of :data:`dynamics.critical_decay.REGIMES` ('Collapse', 'Acute', 'Stable',
        'Boundary'); None for a model with equilibria but no decay parameter.

    Raises
    ------
    ParameterError
        As :func:`dynamics.equilibria.find_equilibria` (no equilibria, float64 overflow).

    Examples
    --------
    >>> from dataclasses import replace
    >>> from dynamics import CosineParams, classify
    >>> params = CosineParams(rho=0.01, sigma2=0.5, n_phi=2, n_psi=1.5, trace=0.5)
    >>> classify(params), classify(replace(params, rho=0.2)), classify(replace(params, rho=0.0))
    ('Acute', 'Collapse', 'Stable')
    """
    return equilibria_of(model_of(params, model), params).regime


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


def predict_fate(params: Any, p0: ArrayLike, *, model: str | Model | None = None) -> np.ndarray:
    r"""Fate code (``FATE_CODES``) of each initial condition ``p0`` under ``params``' reduced flow.

    Without time stepping: :math:`p(t)` moves monotonically in the direction of the sign of
    :math:`\dot p(p_0)` to the next equilibrium, or to :math:`\pm\infty` if there is none
    (module docstring); a :math:`p_0` on an equilibrium stays there.

    Parameters
    ----------
    params : parameter dataclass
        A point of a model with the ``equilibria`` capability.
    p0 : array_like
        Initial conditions, real and finite, any shape.
    model : str or symbolic.model.Model, optional
        The model (with its convention: ``as_model("cosine-simsiam", convention="feature-norm")``);
        default ``params.MODEL`` in the frobenius convention, looked up once here.

    Returns
    -------
    numpy.ndarray
        int8 codes of ``p0``'s shape: 0 diverge, 1 collapse (to 0), 2 converge (to a non-zero
        equilibrium); the names are :data:`FATES`.

    Raises
    ------
    ParameterError
        If ``p0`` is not a finite real array, or as :func:`dynamics.equilibria.find_equilibria`.

    Examples
    --------
    >>> from dynamics import FATES, CosineParams, predict_fate
    >>> params = CosineParams(rho=0.01, sigma2=0.5, n_phi=2, n_psi=1.5, trace=0.5)
    >>> codes = predict_fate(params, [-2.0, -0.5, 0.02, 0.5, 2.0])
    >>> [FATES[c] for c in codes]
    ['diverge', 'collapse', 'collapse', 'converge', 'converge']
    """
    m = model_of(params, model)
    p0 = float_array("p0", p0)
    k = m.kernels("reduced", "equilibria")
    row = np.ascontiguousarray(params.as_array(k.PARAMS), np.float64).reshape(1, -1)
    roots, _, counts = equilibria_batch_full(m, row)   # one point: its equilibria once, by the serial loop
    n = p0.size
    theta = np.tile(row, (n, 1))                       # writable and contiguous for numba
    roots, counts = np.tile(roots, (n, 1)), np.repeat(counts, n)
    out = np.empty(n, dtype=np.int8)
    _bound(_fates_batch, k, "eqpoly", 1)(theta, roots, counts, p0.ravel(), out)
    return out.reshape(p0.shape)


def basins(params: Any, *, model: str | Model | None = None) -> list[tuple[float, float, str]]:
    """Basins on the line: ``[(lo, hi, fate name), ...]`` ascending, split at the equilibria
    (``-inf``/``inf`` at the ends; each open interval has one fate, the flow being monotone there).

    Worked example (theory notes sec. 5, Acute): ``(-inf, p1, diverge), (p1, 0, collapse),
    (0, p3, collapse), (p3, p4, converge), (p4, inf, converge)``.

    Parameters
    ----------
    params : parameter dataclass
        A point of a model with the ``equilibria`` capability.
    model : str or symbolic.model.Model, optional
        The model (with its convention); default ``params.MODEL``, looked up once here.

    Returns
    -------
    list of (float, float, str)
        ``(lo, hi, fate)`` per open interval between consecutive equilibria, ascending, the fate
        one of :data:`FATES`; one interval ``(-inf, inf)`` when there is no equilibrium.

    Raises
    ------
    ParameterError
        As :func:`dynamics.equilibria.find_equilibria` (no equilibria, float64 overflow).

    Examples
    --------
    >>> from dynamics import CosineParams, basins
    >>> for lo, hi, fate in basins(CosineParams(rho=0.01, sigma2=0.5, n_phi=2, n_psi=1.5, trace=0.5)):
    ...     print(f"{lo:8.4f} {hi:8.4f} {fate}")
        -inf  -1.0964 diverge
     -1.0964   0.0000 collapse
      0.0000   0.0455 collapse
      0.0455   0.9554 converge
      0.9554      inf converge
    """
    m = model_of(params, model)
    k = m.kernels("reduced", "equilibria")
    theta = np.ascontiguousarray(params.as_array(k.PARAMS)[None, :])
    roots, _, count = equilibria_batch_full(m, theta)
    r = roots[0, :count[0]]
    edges = np.concatenate([[-np.inf], r, [np.inf]])
    span = max(1.0, float(np.max(np.abs(r)))) if r.size else 1.0
    probes = np.array([r[0] - span if r.size else 0.0] + [0.5 * (a + b) for a, b in zip(r[:-1], r[1:])]
                      + ([r[-1] + span] if r.size else []))
    codes = predict_fate_batch(m, np.repeat(theta, probes.size, 0), probes)
    return [(float(lo), float(hi), FATES[int(c)]) for lo, hi, c in zip(edges[:-1], edges[1:], codes)]


def fate_ends(eq: Any, p0: ArrayLike, *, model: str | Model | None = None) -> tuple[np.ndarray, np.ndarray]:
    r"""The fate of each initial value under ``eq.params`` and where it ends.

    The end is 0 for a collapse, :math:`\pm\infty` for a divergence (past the outermost
    equilibrium on its side), and for a convergence the non-zero equilibrium next to
    :math:`p_0` in the direction of the flow (of its two neighbours, the one that is not
    unstable), or :math:`p_0` itself when it is an equilibrium.

    Parameters
    ----------
    eq : Equilibria
        The equilibria at the point (:func:`dynamics.equilibria.find_equilibria`, in the
        convention of ``model``).
    p0 : array_like
        Initial conditions, real and finite, shape ``(n,)``.
    model : str or symbolic.model.Model, optional
        The model (with its convention) ``eq`` was computed in; default ``eq.params.MODEL``.

    Returns
    -------
    codes : numpy.ndarray
        int8 fate codes (:data:`FATES`), shape ``(n,)``.
    ends : numpy.ndarray
        float64 end points, shape ``(n,)``.

    Examples
    --------
    >>> from dynamics import CosineParams, find_equilibria
    >>> from dynamics.regimes import fate_ends
    >>> eq = find_equilibria(CosineParams(rho=0.01, sigma2=0.5, n_phi=2, n_psi=1.5, trace=0.5))
    >>> codes, ends = fate_ends(eq, [-2.0, 0.02, 0.5])
    >>> codes.tolist(), [round(float(e), 4) for e in ends]
    ([0, 1, 2], [-inf, 0.0, 0.9554])
    """
    p0 = np.atleast_1d(float_array("p0", p0))
    codes = predict_fate(eq.params, p0, model=model)
    roots = np.asarray(eq.p, dtype=np.float64)
    stab = dict(zip(roots.tolist(), eq.stability))
    ends = np.empty(p0.size)
    for i, (x, c) in enumerate(zip(p0.tolist(), codes.tolist())):
        if c == FATE_CODES["collapse"]:
            ends[i] = 0.0
        elif c == FATE_CODES["diverge"]:
            ends[i] = np.inf if (x > roots.max() if roots.size else x > 0) else -np.inf
        elif x in stab:
            ends[i] = x
        else:
            near = [r for r in (roots[roots < x].max(initial=-np.inf), roots[roots > x].min(initial=np.inf))
                    if np.isfinite(r) and r != 0.0]
            ends[i] = float(([r for r in near if stab[float(r)] != "unstable"] or near)[0])
    return codes, ends


def predict_fate_batch(model: str | Model, theta: ArrayLike, p0: ArrayLike) -> np.ndarray:
    """Fates for per-point parameter rows ``theta`` (n, m) and initial conditions ``p0`` (n,).

    Both real (float or int) and finite; ``theta``'s columns in the order ``kernel.PARAMS``, each
    inside its parameter's range; exactly one ``p0`` per row. Raises ParameterError otherwise.
    ``model``: a name (resolved here) or a :class:`~symbolic.model.Model`.
    """
    model = as_model(model)
    k = model.kernels("reduced", "equilibria")
    theta = theta_rows(model, theta, k.PARAMS)
    p0 = initial_values("p0", p0, theta.shape[0])
    roots, _, counts = equilibria_batch_full(model, theta)
    out = np.empty(p0.size, dtype=np.int8)
    _bound(_fates_batch, k, "eqpoly")(theta, roots, counts, p0, out)
    return out


@dataclass(frozen=True)
class RegimeMap(Result):
    r"""Regime codes on a grid: ``regime[i, j]`` at ``(x[j], y[i])``.

    Built by :func:`regime_map`; codes index :data:`dynamics.critical_decay.REGIMES` (0 Collapse,
    1 Acute, 2 Stable, 3 Boundary), ``critical[i, j]`` is :math:`\rho_c` (or :math:`\eta_c`) there.

    Parameters
    ----------
    x, y : numpy.ndarray
        The grid values of the x and y parameters, shapes ``(nx,)`` and ``(ny,)``.
    regime : numpy.ndarray
        int codes, shape ``(ny, nx)``.
    critical : numpy.ndarray
        The critical decay at each grid point, shape ``(ny, nx)``.
    x_name, y_name : str
        The axes' field names of the model's parameter dataclass.
    model : str
        The registered model name.
    fixed : dict
        The other parameters, ``{field: value}`` (omitted ones take their defaults).

    Examples
    --------
    >>> from dynamics import regime_map
    >>> m = regime_map("l2-byol", "eta", [0.1, 0.2], "tau", [1.0])
    >>> m.regime.tolist(), m.params
    ([[1, 0]], {})
    """

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


def _axis_index(model, name: str, kernel_params) -> int:
    cls = model.params_class
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


def grid_theta(model, fixed: dict, axes):
    """Kernel parameter rows for the Cartesian product of ``axes`` = [(name, values), ...]
    (last axis fastest), after validating every axis end point through the dataclass."""
    model = as_model(model)
    base = make_params(model, fixed)
    k = model.kernels("reduced", "equilibria")
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


def regime_map(model: str | Model, x_name: str, x_values: ArrayLike, y_name: str, y_values: ArrayLike,
               fixed: dict | None = None) -> RegimeMap:
    r"""Regime of every grid point, classified without time stepping.

    ``x_name``, ``y_name``: field names of ``model``'s dataclass (``n_psi``); an entry of ``fixed``
    for an axis parameter is dropped (the axis sets it).

    Each point compares the decay with its critical value :math:`\rho_c=\max_{p>0}G(p)`
    (Bao 2023 eq. 7, Sec. 5.2; :math:`\eta_c=\tau^2/(4(1+\sigma^2))` for Tian et al. 2021 eq. 16),
    as :func:`classify` does.

    Parameters
    ----------
    model : str or symbolic.model.Model
        A registered model with the ``regimes`` capability (a name is looked up once, here).
    x_name, y_name : str
        The axis parameters, in any spelling :func:`symbolic.registry.field_name` accepts
        (``n_psi``, ``n-psi``, ``N_Psi``); different, and both entering the reduced flow.
    x_values, y_values : array_like
        Non-empty, finite grids; every value inside its parameter's range.
    fixed : dict, optional
        The other parameters, ``{name: value}`` (any accepted spelling); omitted ones take their
        defaults.

    Returns
    -------
    RegimeMap
        ``regime[i, j]`` and ``critical[i, j]`` at ``(x_values[j], y_values[i])``.

    Raises
    ------
    ParameterError
        For an unknown model or one without regimes, an unknown or repeated parameter, equal axes,
        an axis that does not enter the reduced flow, an empty or non-finite grid, a value outside
        its parameter's range, or a point whose critical decay overflows float64.

    Examples
    --------
    >>> from dynamics import CosineParams, REGIMES, regime_map
    >>> fixed = CosineParams(rho=0.01, sigma2=0.5, n_phi=2, n_psi=1.5, trace=0.5).to_dict()
    >>> m = regime_map("cosine-simsiam", "rho", [0.005, 0.02, 0.5], "n_psi", [1.0, 1.5], fixed)
    >>> [[REGIMES[c] for c in row] for row in m.regime]
    [['Acute', 'Acute', 'Collapse'], ['Acute', 'Acute', 'Collapse']]
    >>> [round(float(c), 4) for c in m.critical[:, 0]]      # rho_c at n_psi = 1.0, 1.5
    [0.1046, 0.1008]
    """
    model = as_model(model).require("regimes", "regime maps")
    x_name, y_name = check_field(model, x_name), check_field(model, y_name)
    fixed = normal_fields(model, fixed)
    for n in (x_name, y_name):
        fixed.pop(n, None)
    if x_name == y_name:
        raise ParameterError(f"x and y must be different parameters; got {x_name!r} twice")
    base = make_params(model, fixed)
    k = model.kernels("reduced", "regimes")
    xs = _check_axis(base, x_name, x_values)
    ys = _check_axis(base, y_name, y_values)
    codes, crits = regimes_grid(model, base.as_array(k.PARAMS), _axis_index(model, x_name, k.PARAMS), xs,
                                _axis_index(model, y_name, k.PARAMS), ys)
    return RegimeMap(xs, ys, codes, crits, x_name, y_name, model.name, fixed)


@dataclass(frozen=True)
class FateCheck(Result):
    """Predicted versus integrated fates on random (parameter, initial condition) pairs.

    Built by :func:`check_fates`; ``status`` is SUCCESS when every pair agrees, else DISAGREE.

    Parameters
    ----------
    n : int
        The number of pairs.
    agree : int
        How many agree.
    predicted, integrated : numpy.ndarray
        The fate codes (:data:`FATE_CODES`) by interval lookup and by integration, shape ``(n,)``.
    theta : numpy.ndarray
        The kernel parameter rows, shape ``(n, m)``.
    p0 : numpy.ndarray
        The initial conditions, shape ``(n,)``.

    Examples
    --------
    >>> import numpy as np
    >>> from dynamics.regimes import FateCheck
    >>> check = FateCheck(4, 3, np.array([0, 1, 2, 2]), np.array([0, 1, 2, 1]), np.zeros((4, 5)), np.zeros(4))
    >>> check.fraction, check.status.name, check.message
    (0.75, 'DISAGREE', 'the check failed: its two sides disagree')
    """

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


def integrated_fate(model, theta, p0, t_end=None) -> np.ndarray:
    """Fate by integration (:func:`dynamics.integrate.integrate`, Tsit5 at rtol 1e-10):
    diverged, else collapsed if |p| < 1e-6 at the end, else converged elsewhere.

    The horizon defaults to 60 / (smallest decay) so that a collapse at rate decay has shrunk by
    at least e^-60; trajectories stop early once |rhs| < 1e-14 (settled on an equilibrium).
    """
    from .integrate import integrate

    model = as_model(model)
    k = model.kernels("reduced", "equilibria")
    theta = theta_rows(model, theta, k.PARAMS)
    if t_end is None:
        decay = theta[:, model.decay_index(k.PARAMS)]
        if np.any(decay <= 0):
            raise ParameterError("decay must be positive for the default horizon; pass t_end")
        t_end = float(min(60.0 / decay.min(), 1e7))
    res = integrate(model, theta, np.asarray(p0, float), t_end, method="tsit5", rtol=1e-10, atol=1e-14,
                    converge_tol=1e-14, max_steps=10_000_000)
    fin = np.asarray(res.final, float)
    out = np.where(res.status != 0, 0, np.where(np.abs(fin) < 1e-6, 1, 2)).astype(np.int8)
    return out


def check_fates(model, theta, p0, t_end=None) -> FateCheck:
    """Predict fates by interval lookup and confirm them by integration."""
    model = as_model(model)
    theta = theta_rows(model, theta, model.kernels("reduced", "equilibria").PARAMS)
    p0 = initial_values("p0", p0, theta.shape[0])
    pred = predict_fate_batch(model, theta, p0)
    integ = integrated_fate(model, theta, p0, t_end)
    return FateCheck(len(p0), int(np.sum(pred == integ)), pred, integ, theta, p0)
