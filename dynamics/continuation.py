r"""Saddle-node (fold) curves by pseudo-arclength continuation, and equilibrium branches.

A fold of the reduced flow is a double root of the equilibrium polynomial:
:math:`P(p;x,y)=0`, :math:`\partial_pP(p;x,y)=0`. Two equations in three unknowns
:math:`u=(p,X,Y)` (:math:`X=\log x` on a log axis) define a curve, traced by pseudo-arclength
continuation (Keller): predictor along the tangent :math:`t\perp\nabla F_1,\nabla F_2`, corrector by
Newton on :math:`[F(u);\,t\cdot(u-u_{pred})]=0`. A cusp (:math:`P=P'=P''=0`) is where
:math:`\partial_p^2P` changes sign along the curve. Parameter derivatives are central differences
of the generated ``eqpoly`` coefficients (the corrector converges to the true zero regardless).
The start point is the fold on one edge of the box, found by Brent's method on
:math:`\rho_c(y)-\rho(y)` (:func:`dynamics.equilibria.critical_value`).

Size: over 400 lines only with its docstrings (the numpydoc sections and examples of the public
functions); the code itself stays under 400 lines (tests/test_module_size.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import brentq

from symbolic.errors import ParameterError
from symbolic.model import as_model

from .branches import PolyFamily, branch_arrays, scalar_branches, stability_table
from .branches import derivs as _derivs
from .critical_decay import critical_value, regimes_grid
from .equilibria import STABILITY, equilibria_batch_full
from .regimes import _axis_index, grid_theta
from .results import Result, save_npz_atomic
from .validate import check_field, float_array, grid_values, make_params, normal_fields

if TYPE_CHECKING:
    from symbolic.model import Model


@dataclass(frozen=True)
class FoldCurve(Result):
    r"""A continued fold curve: points ``(x[i], y[i])`` with the double root ``p[i]``.

    Each point solves :math:`P(p;x,y)=\partial_pP(p;x,y)=0` (the saddle-node condition; Bao 2023
    eq. 7: :math:`K=K_c`; Tian et al. 2021 eq. 16: :math:`\eta=\eta_c`). Built by
    :func:`saddle_node_curve`.

    Parameters
    ----------
    x, y : numpy.ndarray
        The curve's points in the plane of the two parameters, in continuation order.
    p : numpy.ndarray
        The double root of the equilibrium polynomial at each point.
    x_name, y_name : str
        The field names of the two parameters.
    model : str
        The registered model name.
    cusps : tuple of (float, float, float), optional
        ``(x, y, p)`` of each cusp (:math:`P=P'=P''=0`) found along the curve.
    fixed : dict, optional
        The other parameters, ``{field: value}``.

    Examples
    --------
    >>> from dynamics import saddle_node_curve
    >>> curve = saddle_node_curve("l2-byol", "tau", "eta", None, (0.5, 2.0), (0.01, 1.0))
    >>> curve.x_name, curve.y_name, curve.cusps, curve.params
    ('tau', 'eta', (), {})
    """

    x: np.ndarray
    y: np.ndarray
    p: np.ndarray
    x_name: str
    y_name: str
    model: str
    cusps: tuple = ()          # (x, y, p) of each cusp found along the curve
    fixed: dict = field(default_factory=dict)

    @property
    def params(self) -> dict:
        return dict(self.fixed)


@dataclass(frozen=True)
class Branches(Result):
    r"""Equilibria versus one parameter: ``p[i, j]`` (NaN-padded, ascending) at ``values[i]``, the
    connected branches through them and the special points.

    Built by :func:`equilibrium_branches`.

    Parameters
    ----------
    param : str
        The field name of the varied parameter.
    values : numpy.ndarray
        Its grid, shape ``(n,)``.
    p : numpy.ndarray
        The real equilibria at each value, shape ``(n, degree)``, NaN-padded, ascending.
    stability : numpy.ndarray
        int8 codes of the same shape: 0 stable, 1 unstable, 2 semi-stable, -1 no root.
    folds : numpy.ndarray
        ``(m, 2)``: parameter value and double root of each saddle-node.
    model : str
        The registered model name.
    fixed : dict
        The other parameters, ``{field: value}``.
    transcritical : numpy.ndarray, optional
        ``(m, 2)``: parameter value and ``p = 0`` of each exchange of stability at the collapsed state.
    warnings : tuple of str, optional
        One line per change of the root count that no singular point explains.
    branches : tuple of Branch, optional
        The connected branches (:class:`dynamics.branches.Branch`): values, states, the
        eigenvalue :math:`\partial_p\dot p` and the stability code at each point.
    special_points : tuple of SpecialPoint, optional
        The typed special points (fold, transcritical, pitchfork), ascending in the parameter.

    Examples
    --------
    >>> from dynamics import equilibrium_branches
    >>> b = equilibrium_branches("l2-byol", "eta", [0.1, 0.2])
    >>> b.p.shape, b.stability.tolist()
    ((2, 3), [[0, 1, 0], [0, -1, -1]])
    """

    param: str
    values: np.ndarray
    p: np.ndarray
    stability: np.ndarray      # codes 0 stable, 1 unstable, 2 semi-stable, -1 none
    folds: np.ndarray          # (m, 2): parameter value and double root of each fold (saddle-node)
    model: str
    fixed: dict
    #: (m, 2): parameter value and p = 0 where a branch crosses the collapsed state p = 0 (the double
    #: root there is a transcritical exchange, e.g. rho = 0 or eta = 0, not a saddle-node)
    transcritical: np.ndarray = field(default_factory=lambda: np.empty((0, 2)))
    #: one line per change of the root count that could not be resolved into an event
    warnings: tuple = ()
    #: the connected branches (:class:`dynamics.branches.Branch`), each with eigenvalues and stability
    branches: tuple = ()
    #: the typed special points (:class:`dynamics.branches.SpecialPoint`), ascending in the parameter
    special_points: tuple = ()

    @property
    def params(self) -> dict:
        return dict(self.fixed)

    def to_npz(self, path, **extra) -> None:
        save_npz_atomic(path, param=self.param, values=self.values, p=self.p, stability=self.stability,
                        folds=self.folds, transcritical=self.transcritical, model=self.model,
                        stability_names=np.array(STABILITY), warnings=np.array(self.warnings, dtype=str),
                        **branch_arrays(self.branches, self.special_points), **extra)


class _Problem:
    def __init__(self, model, x_name, y_name, fixed, logx, logy):
        self.k = model.kernels("reduced", "equilibria")
        base = make_params(model, fixed)
        self.theta = base.as_array(self.k.PARAMS)
        self.ix = _axis_index(model, x_name, self.k.PARAMS)
        self.iy = _axis_index(model, y_name, self.k.PARAMS)
        self.logx, self.logy = logx, logy

    def value(self, U, log):
        return math.exp(U) if log else U

    def coeffs(self, X, Y):
        t = self.theta.copy()
        t[self.ix] = self.value(X, self.logx)
        t[self.iy] = self.value(Y, self.logy)
        c = self.k.eqpoly(t)
        return c / np.max(np.abs(c))           # scale-free residuals

    def F(self, u):
        c = self.coeffs(u[1], u[2])
        f, d1, _ = _derivs(c, u[0])
        return np.array([f, d1])

    def jac(self, u):
        c = self.coeffs(u[1], u[2])
        _, d1, d2 = _derivs(c, u[0])
        J = np.empty((2, 3))
        J[:, 0] = (d1, d2)
        for j in (1, 2):
            h = 1e-6 * max(1.0, abs(u[j]))
            up, um = u.copy(), u.copy()
            up[j] += h
            um[j] -= h
            J[:, j] = (self.F(up) - self.F(um)) / (2 * h)
        return J

    def curvature(self, u):
        return _derivs(self.coeffs(u[1], u[2]), u[0])[2]


def _tangent(J, prev=None):
    t = np.cross(J[0], J[1])
    t /= np.linalg.norm(t)
    if prev is not None and t @ prev < 0:
        t = -t
    return t


def _correct(prob, u_pred, t, tol=1e-13, maxit=12):
    u = u_pred.copy()
    for _ in range(maxit):
        F = prob.F(u)
        G = np.concatenate([F, [t @ (u - u_pred)]])
        A = np.vstack([prob.jac(u), t])
        du = np.linalg.solve(A, -G)
        u += du
        if np.linalg.norm(du) <= tol * (1 + np.linalg.norm(u)) and np.linalg.norm(prob.F(u)) < 1e-11:
            return u, True
    return u, np.linalg.norm(prob.F(u)) < 1e-11


def _fold_on_edge(model, prob, fixed, x_name, y_name, X0, Yr, n_scan=400):
    """Fold on the line X = X0 inside Y in Yr: Brent on rho_c - rho along Y, then Newton in (p, Y)."""
    cls, decay_field = model.params_class, model.decay

    def phi(Y):             # Brent's objective: the model object is passed, never looked up
        vals = {**fixed, x_name: prob.value(X0, prob.logx), y_name: prob.value(Y, prob.logy)}
        par = cls(**vals)
        return critical_value(par, model) - getattr(par, decay_field)

    Ys = np.linspace(Yr[0], Yr[1], n_scan)
    # the scan is one vectorised column of the regime grid: phi = critical decay - decay
    k = prob.k
    yv = np.array([prob.value(Y, prob.logy) for Y in Ys])
    _, crits = regimes_grid(model, prob.theta, prob.ix, np.array([prob.value(X0, prob.logx)]), prob.iy, yv)
    di = model.decay_index(k.PARAMS)
    decay = yv if di == prob.iy else np.full(yv.shape, prob.value(X0, prob.logx) if di == prob.ix else prob.theta[di])
    ph = crits[:, 0] - decay
    idx = np.flatnonzero(np.sign(ph[:-1]) * np.sign(ph[1:]) < 0)
    if idx.size == 0:
        return None
    Y = brentq(phi, Ys[idx[0]], Ys[idx[0] + 1], xtol=1e-15, rtol=1e-15)
    # the double root: the positive maximiser of G, i.e. a positive root of P' near a root of P
    c = prob.coeffs(X0, Y)
    n = c.size - 1
    dc = c[:-1] * np.arange(n, 0, -1)
    cand = [r.real for r in np.roots(dc) if abs(r.imag) < 1e-8 and r.real > 0]
    if not cand:
        return None
    p = min(cand, key=lambda r: abs(_derivs(c, r)[0]))
    u = np.array([p, X0, Y])
    # Newton in (p, Y) at fixed X
    for _ in range(30):
        J = prob.jac(u)[:, [0, 2]]
        du = np.linalg.solve(J, -prob.F(u))
        u[[0, 2]] += du
        if np.linalg.norm(du) < 1e-14 * (1 + abs(u[2])):
            break
    return u


def saddle_node_curve(model: str | Model, x_name: str, y_name: str, fixed: dict | None = None,
                      x_range: ArrayLike | None = None, y_range: ArrayLike | None = None,
                      *, ds: float = 0.02, max_points: int = 5000, log: bool | None = None) -> FoldCurve:
    r"""Fold curve of ``model`` in the (x, y) plane inside the box ``x_range`` x ``y_range``.

    Continues :math:`P(p;x,y)=\partial_pP(p;x,y)=0` (Bao 2023 eq. 7: the double roots of the
    quintic :math:`Q`, i.e. :math:`K=K_c`; Tian 2021 eq. 16: :math:`\eta=\eta_c`).
    ``log`` (default: automatic, for positive ranges spanning more than a decade) continues in
    log coordinates. Raises ParameterError if no fold crosses the box edges.

    The curve is traced by pseudo-arclength continuation (Keller; module docstring) from the fold
    on one edge of the box, found by Brent's method on :math:`\rho_c(y)-\rho(y)`, in both
    directions until it leaves the box.

    Parameters
    ----------
    model : str
        A registered model with the ``folds`` capability.
    x_name, y_name : str
        The two parameters, in any spelling :func:`symbolic.registry.field_name` accepts; different,
        and both entering the reduced flow.
    fixed : dict, optional
        The other parameters, ``{name: value}``; omitted ones take their defaults, entries for the
        axes are dropped.
    x_range, y_range : (float, float)
        The box, ``(lo, hi)`` with ``lo < hi``, inside the parameters' ranges. Required.
    ds : float, optional
        The largest arclength step (in the possibly logarithmic coordinates).
    max_points : int, optional
        The most points traced in each direction.
    log : bool or None, optional
        Continue in :math:`\log x`, :math:`\log y`; None decides per axis (positive and wider than
        a decade).

    Returns
    -------
    FoldCurve
        The points inside the box, with the double root and the cusps found.

    Raises
    ------
    ParameterError
        For a model without folds, a missing or reversed range, equal or unknown axes, an axis not
        in the reduced flow, a corner of the box outside the parameters' ranges, or no fold
        crossing the box edges.

    Examples
    --------
    The L2 fold is :math:`\eta_c=\tau^2/(4(1+\sigma^2))` with the double root
    :math:`p=\tau/(2(1+\sigma^2))` (Tian et al. 2021 eq. 16; here :math:`\sigma^2=0.5`):

    >>> import numpy as np
    >>> from dynamics import saddle_node_curve
    >>> curve = saddle_node_curve("l2-byol", "tau", "eta", {"sigma2": 0.5}, (0.5, 2.0), (0.01, 1.0))
    >>> bool(np.allclose(curve.y, curve.x**2 / 6, rtol=1e-9)), bool(np.allclose(curve.p, curve.x / 3))
    (True, True)
    >>> float(curve.x.min()), bool(curve.x.max() > 1.9)
    (0.5, True)
    """
    model = as_model(model).require("folds", "fold curves")
    if x_range is None or y_range is None:
        raise ParameterError("saddle_node_curve needs x_range and y_range as (lo, hi); got None")
    x_name, y_name = check_field(model, x_name), check_field(model, y_name)
    if x_name == y_name:
        raise ParameterError(f"x and y must be different parameters; got {x_name!r} twice")
    fixed = {k: v for k, v in normal_fields(model, fixed).items() if k not in (x_name, y_name)}
    make_params(model, fixed)
    x_range = float_array("x_range", x_range)
    y_range = float_array("y_range", y_range)
    for nm, r in (("x_range", x_range), ("y_range", y_range)):
        if r.shape != (2,) or not r[0] < r[1]:
            raise ParameterError(f"{nm} must be (lo, hi) with lo < hi; got {r.tolist()}")

    def auto(r):
        return bool(r[0] > 0 and r[1] / r[0] > 10) if log is None else bool(log)
    logx, logy = auto(x_range), auto(y_range)
    # validate the box through the dataclass; a discrete parameter has no values between its corners
    cls = model.params_class
    for nm in (x_name, y_name):
        if nm in getattr(cls, "DISCRETE", {}):
            raise ParameterError(f"{nm} takes only {cls.DISCRETE[nm][1]}; it cannot be an axis of a fold curve")
    for xv in x_range:
        for yv in y_range:
            cls(**{**fixed, x_name: float(xv), y_name: float(yv)})
    prob = _Problem(model, x_name, y_name, fixed, logx, logy)
    Xr = np.log(x_range) if logx else x_range
    Yr = np.log(y_range) if logy else y_range
    u0 = None
    for X0 in (Xr[0], Xr[1], *np.linspace(Xr[0], Xr[1], 9)[1:-1]):
        u0 = _fold_on_edge(model, prob, fixed, x_name, y_name, X0, Yr)
        if u0 is not None:
            break
    if u0 is None:
        raise ParameterError(f"no fold of {model} in {x_name} in {tuple(x_range)} x {y_name} in {tuple(y_range)}")
    pts = [u0]
    for direction in (1.0, -1.0):
        u = u0.copy()
        t = _tangent(prob.jac(u)) * direction
        h = ds
        seg = []
        while len(seg) < max_points:
            u_new, ok = _correct(prob, u + h * t, t)
            if not ok:
                h /= 2
                if h < 1e-8:
                    break
                continue
            t_new = _tangent(prob.jac(u_new), t)
            u, t = u_new, t_new
            seg.append(u.copy())
            h = min(h * 1.5, ds)
            if not (Xr[0] - 1e-12 <= u[1] <= Xr[1] + 1e-12 and Yr[0] - 1e-12 <= u[2] <= Yr[1] + 1e-12):
                break
        pts = pts + seg if direction > 0 else seg[::-1] + pts
    U = np.array(pts)
    inside = (U[:, 1] >= Xr[0] - 1e-12) & (U[:, 1] <= Xr[1] + 1e-12) & (U[:, 2] >= Yr[0] - 1e-12) & (U[:, 2] <= Yr[1] + 1e-12)
    U = U[inside]
    curv = np.array([prob.curvature(u) for u in U])
    cusps = []
    for i in np.flatnonzero(np.sign(curv[:-1]) * np.sign(curv[1:]) < 0):
        w = curv[i] / (curv[i] - curv[i + 1])
        uc = U[i] + w * (U[i + 1] - U[i])
        cusps.append((prob.value(uc[1], logx), prob.value(uc[2], logy), uc[0]))
    xs = np.exp(U[:, 1]) if logx else U[:, 1]
    ys = np.exp(U[:, 2]) if logy else U[:, 2]
    return FoldCurve(xs, ys, U[:, 0].copy(), x_name, y_name, model.name, tuple(cusps), fixed)


def equilibrium_branches(model: str | Model, param_name: str, values: ArrayLike, fixed: dict | None = None) -> Branches:
    r"""Equilibria, their branches and their special points along ``values`` of one parameter.

    The roots of the equilibrium polynomial :math:`P(p;\lambda)` at each grid value, continued
    into connected branches between the singular points (:math:`P=\partial_pP=0`), which are
    located exactly by Newton's method (Gauss-Newton on :math:`(P,P_p,P_\lambda)` at a branch
    point) from the seeds the grid gives (:mod:`dynamics.branches`): a fold (LP, two branches end
    at one point) wherever two equilibria merge (for the cosine model at :math:`\rho=\rho_c`, Bao
    2023 eq. 7); a transcritical or pitchfork point (BP) where branches cross or split (e.g.
    :math:`\rho=0`, where 0 exchanges stability), with the branches joined through it by the
    continuity of their slope. An event within rounding of 0 (relative to the range) is placed at
    0. Every event lies in the range of ``values``; a change of the root count that no singular
    point explains is listed in ``warnings`` and cuts the branches there. Any parameter of the
    reduced flow may vary (not only the decay).

    Parameters
    ----------
    model : str
        A registered model with the ``equilibria`` capability (a polynomial scalar flow).
    param_name : str
        The varied parameter, in any spelling :func:`symbolic.registry.field_name` accepts.
    values : array_like
        Its grid: non-empty, finite, inside the parameter's range (ascending for readable
        columns ``p``; the branches are built on the sorted distinct values).
    fixed : dict, optional
        The other parameters, ``{name: value}``; omitted ones take their defaults.

    Returns
    -------
    Branches
        Roots and stability codes per value, the connected ``branches`` with their eigenvalues,
        the typed ``special_points``, the folds and transcritical points as tables, the warnings.

    Raises
    ------
    ParameterError
        For a model without equilibria, an unknown parameter or one not in the reduced flow, an
        empty or non-finite grid, a value outside the parameter's range, or a row whose
        polynomial overflows float64.

    Examples
    --------
    >>> import numpy as np
    >>> from dynamics import CosineParams, equilibrium_branches
    >>> fixed = CosineParams(rho=0.01, sigma2=0.5, n_phi=2, n_psi=1.5, trace=0.5).to_dict()
    >>> b = equilibrium_branches("cosine-simsiam", "rho", np.linspace(0.0, 0.2, 21), fixed)
    >>> [round(float(v), 4) for v in b.folds[0]]          # (rho_c, the double root)
    [0.1008, 0.634]
    >>> b.transcritical.round(9).tolist(), b.warnings     # at rho = 0 the collapsed state p = 0
    ([[0.0, 0.0]], ())
    >>> [(s.type, round(s.param_value, 4)) for s in b.special_points]
    [('transcritical', 0.0), ('fold', 0.1008)]
    >>> len(b.branches), [round(float(x), 4) for x in b.branches[2].p[[0, -1]]]   # 0 -> the fold
    (4, [0.0, 0.634])
    """
    model = as_model(model).require("equilibria", "equilibrium branches")
    param_name = check_field(model, param_name)
    fixed = {k: v for k, v in normal_fields(model, fixed).items() if k != param_name}
    values = grid_values(param_name, values)
    theta, _ = grid_theta(model, fixed, [(param_name, values)])
    roots, mult, counts = equilibria_batch_full(model, theta)
    k = model.kernels("reduced", "equilibria")
    stab = stability_table(k, theta, roots, mult, counts)
    iv = _axis_index(model, param_name, k.PARAMS)
    order = np.argsort(values, kind="stable")
    u = values[order]
    keep = np.concatenate([[True], np.diff(u) > 0])                # continuation runs on the distinct values
    o = order[keep]
    fam = PolyFamily(k, theta[0], iv, float(u[-1] - u[0]))
    branches, points, warns = scalar_branches(fam, values[o], roots[o], mult[o], counts[o], param_name)
    def table(kind):
        return np.array([(s.param_value, s.state[0]) for s in points if s.type == kind]).reshape(-1, 2)
    return Branches(param_name, values, roots, stab, table("fold"), model.name, fixed, table("transcritical"),
                    tuple(warns), branches, points)
