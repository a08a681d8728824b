r"""Equilibrium branches of a system of two or more states (an eigen form, a user model), with
the Jacobian's eigenvalues along them and their Hopf points and folds.

The isolated equilibria at five grid values (the ends and three between) are found by Newton's
method from a fixed set of starting (the origin and a lattice of at most 512 points in :math:`[-2,2]^n`), each then
continued along the grid: predictor :math:`x+\mathrm{d}x/\mathrm{d}\lambda\,\Delta\lambda` with
:math:`J\,\mathrm{d}x/\mathrm{d}\lambda=-f_\lambda`, Newton corrector, the step halved down to
1/64 of the grid step where Newton fails or jumps. A branch that cannot go on ends at a fold
(LP): Newton on the bordered system :math:`f=0,\ \det J=0` in :math:`(x,\lambda)` (Kuznetsov,
*Elements of Applied Bifurcation Theory*, sec. 10.2). A Hopf point (HB) is where the real part of
the complex-conjugate pair nearest the imaginary axis changes sign: Brent's method on that real
part, with the equilibrium corrected by Newton at every trial value (Kuznetsov sec. 3.4; AUTO's
test function for Hopf is the same real part). The Jacobian is the generated ``jac`` kernel;
:math:`f_\lambda` a central difference of the generated ``rhs``.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import brentq

from symbolic.model import as_model

from .branches import Branch, SpecialPoint, branch_arrays, stability_codes

if TYPE_CHECKING:
    from .continuation import Branches
from typing import TYPE_CHECKING

from .regimes import _axis_index
from .results import Result, save_npz_atomic
from .validate import check_field, grid_values, make_params, normal_fields

if TYPE_CHECKING:
    from symbolic.model import Model


@dataclass(frozen=True)
class SystemBranches(Result):
    r"""Equilibrium branches of a system along one parameter, with their special points.

    Built by :func:`system_branches`.

    Parameters
    ----------
    param : str
        The field name of the varied parameter.
    values : numpy.ndarray
        Its grid (sorted, distinct), shape ``(n,)``.
    branches : tuple of Branch
        The continued branches, each with the Jacobian's eigenvalues and stability codes.
    special_points : tuple of SpecialPoint
        The folds and Hopf points found, ascending in the parameter.
    model : str
        The registered model name.
    fixed : dict
        The other parameters, ``{field: value}``.
    state : tuple of str
        The state variables' names.
    warnings : tuple of str, optional
        One line per branch that ended without a located fold.

    Examples
    --------
    The cosine model's (p, s) system (Bao eq. 5): the fold of eq. 7, on the parabola s = p^2:

    >>> import numpy as np
    >>> from dynamics import system_branches
    >>> b = system_branches("cosine-simsiam", "rho", np.linspace(0.05, 0.14, 10))
    >>> [(s.type, round(s.param_value, 4), abs(s.state[1] - s.state[0] ** 2) < 1e-9) for s in b.special_points]
    [('fold', 0.1008, True)]
    >>> b.state, len(b.branches)
    (('p', 's'), 4)
    """

    param: str
    values: np.ndarray
    branches: tuple
    special_points: tuple
    model: str
    fixed: dict
    state: tuple
    warnings: tuple = ()

    @property
    def params(self) -> dict:
        return dict(self.fixed)

    def to_npz(self, path, **extra) -> None:
        save_npz_atomic(path, param=self.param, values=self.values, model=self.model, state=np.array(self.state),
                        warnings=np.array(self.warnings, dtype=str),
                        **branch_arrays(self.branches, self.special_points), **extra)


class _System:
    def __init__(self, k, theta, iv):
        self.k, self.theta, self.iv, self.n = k, theta, iv, len(k.STATE)

    def _t(self, v):
        t = self.theta.copy()
        t[self.iv] = v
        return t

    def f(self, x, v):
        out = np.empty(self.n)
        self.k.rhs(np.asarray(x, dtype=np.float64), self._t(v), out)
        return out

    def J(self, x, v):
        out = np.zeros((self.n, self.n))
        self.k.jac(np.asarray(x, dtype=np.float64), self._t(v), out)
        return out

    def fv(self, x, v):
        h = 1e-6 * max(1.0, abs(v))
        return (self.f(x, v + h) - self.f(x, v - h)) / (2 * h)

    def newton(self, x, v, maxit=40):
        x = np.array(x, dtype=np.float64)
        for _ in range(maxit):
            F = self.f(x, v)
            if not np.all(np.isfinite(F)):
                return None
            try:
                dx = np.linalg.solve(self.J(x, v), -F)
            except np.linalg.LinAlgError:
                return None
            x += dx
            if np.linalg.norm(dx) <= 1e-13 * (1 + np.linalg.norm(x)):
                return x if np.linalg.norm(self.f(x, v)) <= 1e-10 * (1 + np.linalg.norm(x)) else None
        return None

    def tangent(self, x, v):
        try:
            return np.linalg.solve(self.J(x, v), -self.fv(x, v))
        except np.linalg.LinAlgError:
            return np.zeros(self.n)


def _starts(sysm, v):
    """Distinct isolated equilibria at ``v`` (Jacobian condition number below 1e10) reached by
    Newton from the fixed starting set."""
    m = max(3, int(512 ** (1 / sysm.n)))
    pts = [np.zeros(sysm.n)] + [np.array(c) for c in itertools.islice(
        itertools.product(np.linspace(-2, 2, m), repeat=sysm.n), 512)]
    found = []
    for x0 in pts:
        x = sysm.newton(x0, v)
        if x is not None and np.linalg.cond(sysm.J(x, v)) < 1e10 \
                and not any(np.linalg.norm(x - y) <= 1e-7 * (1 + np.linalg.norm(y)) for y in found):
            found.append(x)
    return found


def _step(sysm, x, v, w):
    """The equilibrium at ``w`` continued from ``x`` at ``v`` (sub-steps down to 1/64), or None."""
    h, at, y = w - v, v, x
    while at != w:
        dv = h if abs(w - at) > abs(h) else w - at
        t = sysm.tangent(y, at)
        move = 0.05 * (1 + np.linalg.norm(y))            # a step moves the state by at most 5%
        z = sysm.newton(y + t * dv, at + dv) if np.linalg.norm(t * dv) <= move else None
        if z is None or np.linalg.norm(z - y - t * dv) > move:
            h /= 2
            if abs(h) < abs(w - v) / 64:
                return None
            continue
        y, at = z, at + dv
    return y


def _fold(sysm, x, v, lo, hi):
    """Newton on (f, det J) = 0 in (x, v) from (x, v); (x, v) inside [lo, hi], or None."""
    u = np.append(np.array(x, dtype=np.float64), v)
    n = sysm.n
    scale = max(1.0, abs(np.linalg.det(sysm.J(x, v))))

    def G(u):
        return np.append(sysm.f(u[:n], u[n]), np.linalg.det(sysm.J(u[:n], u[n])) / scale)

    def dG(u):
        A = np.empty((n + 1, n + 1))
        for j in range(n + 1):
            e = np.zeros(n + 1)
            e[j] = 1e-7 * max(1.0, abs(u[j]))
            A[:, j] = (G(u + e) - G(u - e)) / (2 * e[j])
        return A

    for _ in range(50):
        g, A = G(u), dG(u)
        try:
            du = np.linalg.solve(A, -g)
        except np.linalg.LinAlgError:
            return None
        u += du
        if np.linalg.norm(du) <= 1e-14 * (1 + np.linalg.norm(u)):
            break
    # a regular zero only: on a curve of equilibria at one parameter value (the cosine eigen form at
    # rho = 0) det J vanishes all along it and the bordered Jacobian is singular: no fold
    ok = np.linalg.norm(G(u)) <= 1e-9 and np.linalg.cond(dG(u)) < 1e8 and lo - 1e-12 * (hi - lo) <= u[n] <= hi + 1e-12 * (hi - lo)
    return (u[:n], min(max(u[n], lo), hi)) if ok else None


def _hopf_test(eig):
    """Real part of the complex pair nearest the imaginary axis (NaN without a complex pair)."""
    c = eig[np.abs(eig.imag) > 1e-9 * (1 + np.abs(eig))]
    return float(c.real[np.argmin(np.abs(c.real))]) if c.size else math.nan


def _trace(sysm, x0, vals, warns, name):
    """The branch from ``x0`` at ``vals[0]`` along ``vals`` (to a fold at most): values, states, folds."""
    xs, vs, sps = [x0], [vals[0]], []
    for w in vals[1:]:
        y = _step(sysm, xs[-1], vs[-1], w)
        if y is not None and np.linalg.det(sysm.J(y, w)) * np.linalg.det(sysm.J(xs[-1], vs[-1])) < 0:
            # det J changes sign: a fold the natural step jumped over, or a branch point crossed
            f = _fold(sysm, xs[-1], vs[-1], min(vs[-1], w), max(vs[-1], w))
            if f is not None and abs(np.linalg.det(sysm.J(f[0], f[1])) / max(1.0, np.linalg.norm(
                    sysm.fv(f[0], f[1])))) < 1e-8 and np.linalg.norm(sysm.fv(f[0], f[1])) > 1e-8:
                y = None
        if y is None:
            f = _fold(sysm, xs[-1], vs[-1], min(vs[-1], w), max(vs[-1], w))
            if f is not None:
                xs.append(f[0])
                vs.append(f[1])
                sps.append(SpecialPoint("fold", float(f[1]), tuple(map(float, f[0])),
                                        tuple(np.linalg.eigvals(sysm.J(f[0], f[1])))))
            else:
                warns.append(f"a branch ends between {name} = {vs[-1]!r} and {w!r} without a located fold")
            break
        xs.append(y)
        vs.append(w)
    return vs, xs, sps


def _hopf(sysm, vs, xs):
    """The branch with its Hopf points inserted, and those points."""
    sps = []
    eig = np.array([np.linalg.eigvals(sysm.J(x, v)) for x, v in zip(xs, vs)])
    tests = np.array([_hopf_test(e) for e in eig])
    hopf = {}
    nz = [i for i in range(len(xs)) if np.isfinite(tests[i]) and tests[i] != 0.0]
    for i, j in zip(nz, nz[1:]):
        if tests[i] * tests[j] < 0 and all(np.isfinite(tests[i:j + 1])):
            def g(v, x0=xs[i], v0=vs[i]):
                y = _step(sysm, x0, v0, v)
                return math.nan if y is None else _hopf_test(np.linalg.eigvals(sysm.J(y, v)))
            try:
                vh = brentq(g, min(vs[i], vs[j]), max(vs[i], vs[j]), xtol=1e-14, rtol=1e-14)
            except (ValueError, RuntimeError):
                continue
            xh = _step(sysm, xs[i], vs[i], vh)
            if xh is not None:
                sps.append(SpecialPoint("hopf", float(vh), tuple(map(float, xh)),
                                        tuple(np.linalg.eigvals(sysm.J(xh, vh)))))
                hopf[i] = (vh, xh)
    out_x, out_v = [], []
    for i in range(len(xs)):
        out_x.append(xs[i])
        out_v.append(vs[i])
        if i in hopf and hopf[i][0] != vs[i] and (i + 1 == len(vs) or hopf[i][0] != vs[i + 1]):
            out_v.append(hopf[i][0])
            out_x.append(hopf[i][1])
    return np.array(out_v), np.array(out_x), sps


def system_branches(model: str | Model, param_name: str, values: ArrayLike, fixed: dict | None = None) -> SystemBranches:
    r"""Equilibrium branches of the eigen form (any number of states) of ``model`` along one
    parameter, with the Jacobian's eigenvalues, folds and Hopf points (module docstring).

    Parameters
    ----------
    model : str or symbolic.model.Model
        A registered model with an ``eigen`` form (every user model has one); a name is looked
        up once, here.
    param_name : str
        The varied parameter, in any spelling :func:`symbolic.registry.field_name` accepts.
    values : array_like
        Its grid: non-empty, finite, inside the parameter's range; sorted and made distinct here.
    fixed : dict, optional
        The other parameters, ``{name: value}``; omitted ones take their defaults.

    Returns
    -------
    SystemBranches
        The branches (values, states, eigenvalues, stability), the special points, the warnings.

    Raises
    ------
    ParameterError
        For a model without an eigen form, an unknown parameter or one not in the flow, an empty
        or non-finite grid, or a value outside the parameter's range.

    Examples
    --------
    The Hopf normal form :math:`\dot z=(\mu+i)z-|z|^2z`: the origin loses stability at
    :math:`\mu=0` with the eigenvalues :math:`\pm i`.

    >>> import numpy as np
    >>> import sympy as sp
    >>> from dynamics import register_model, system_branches
    >>> x, y, mu = sp.symbols("x y mu")
    >>> _ = register_model("example-hopf", [x, y], [mu * x - y - x * (x**2 + y**2),
    ...                                            x + mu * y - y * (x**2 + y**2)], {"mu": -1.0})
    >>> h = system_branches("example-hopf", "mu", np.linspace(-1, 1, 41)).special_points[0]
    >>> h.type, abs(h.param_value) < 1e-9, [round(abs(float(z.imag)), 9) for z in h.eigenvalues]
    ('hopf', True, [1.0, 1.0])
    """
    model = as_model(model).require("eigen", "system branches")
    param_name = check_field(model, param_name)
    fixed = {k: v for k, v in normal_fields(model, fixed).items() if k != param_name}
    base = make_params(model, fixed)
    vals = np.unique(grid_values(param_name, values))
    for v in (vals[0], vals[-1]):
        replace(base, **{param_name: float(v)})              # the parameter's range, through the dataclass
    k = model.kernels("eigen")
    iv = _axis_index(model, param_name, k.PARAMS)
    sysm = _System(k, base.as_array(k.PARAMS), iv)
    warns, found = [], []
    at = sorted(set(np.linspace(0, vals.size - 1, min(5, vals.size)).round().astype(int)))
    for m in at:
        for x0 in _starts(sysm, vals[m]):
            if any(np.any((b.values == vals[m]) & (np.linalg.norm(b.states - x0, axis=1) <= 1e-6 * (
                    1 + np.linalg.norm(x0)))) for b, _ in found):
                continue                                         # on a branch already traced
            vb, xb, sb = _trace(sysm, x0, vals[m::-1], warns, param_name)
            vf, xf, sf = _trace(sysm, x0, vals[m:], warns, param_name)
            v, x, sh = _hopf(sysm, vb[::-1] + vf[1:], xb[::-1] + xf[1:])
            eig = np.array([np.linalg.eigvals(sysm.J(a, c)) for a, c in zip(x, v)])
            stab = stability_codes(eig)
            sps = sb + sf + sh
            stab[[any(s.param_value == c for s in sps) for c in v]] = 2
            found.append((Branch(v, x, eig, stab), sps))
    if not found:
        warns.append(f"no isolated equilibrium found from the starting states in [-2, 2]^{sysm.n} at {param_name} = "
                     f"{', '.join(f'{vals[m]:g}' for m in at)}")
    points = []
    for _, sps in found:
        for s in sps:
            if not any(q.type == s.type and abs(q.param_value - s.param_value) <= 1e-9 * (1 + abs(s.param_value))
                       and np.allclose(q.state, s.state, atol=1e-7) for q in points):
                points.append(s)
    return SystemBranches(param_name, vals, tuple(b for b, _ in found),
                          tuple(sorted(points, key=lambda s: s.param_value)), model.name, fixed, tuple(k.STATE),
                          tuple(dict.fromkeys(warns)))


def branches_of(model: str | Model, param_name: str, values: ArrayLike,
                fixed: dict | None = None) -> "Branches | SystemBranches":
    r"""The branches of ``model`` along one parameter: :func:`dynamics.continuation.equilibrium_branches`
    for a scalar polynomial flow (capability ``equilibria``), else :func:`system_branches`.

    Parameters
    ----------
    model : str or symbolic.model.Model
        A registered model (a name is looked up once, here).
    param_name : str
        The varied parameter.
    values : array_like
        Its grid.
    fixed : dict, optional
        The other parameters.

    Returns
    -------
    Branches or SystemBranches
        Both have ``branches``, ``special_points``, ``warnings`` and ``to_npz``.

    Raises
    ------
    ParameterError
        As the function it calls.

    Examples
    --------
    >>> import numpy as np
    >>> from dynamics import branches_of
    >>> b = branches_of("l2-byol", "eta", np.linspace(0.0, 0.3, 31), {"sigma2": 0.5})
    >>> [(s.type, round(s.param_value, 6)) for s in b.special_points]
    [('transcritical', 0.0), ('fold', 0.166667)]
    """
    from .continuation import equilibrium_branches

    model = as_model(model)
    if model.has("equilibria"):
        return equilibrium_branches(model, param_name, values, fixed)
    return system_branches(model, param_name, values, fixed)
