r"""Equilibrium branches by continuation of roots, and their special points (fold, transcritical,
pitchfork).

For a scalar flow :math:`\dot p=f(p;\lambda)` whose numerator is the polynomial :math:`P(p;\lambda)`
(the generated ``eqpoly`` kernel), an equilibrium branch is a connected curve of simple roots of
:math:`P` in the :math:`(\lambda, p)` plane. Along it the roots keep their order, so between two
*singular points* (:math:`P=\partial_pP=0`) the sorted roots on the grid are the branches. The
singular points are located first, exactly, from seeds the grid gives:

* a change of the root count between two grid values (a fold or a pitchfork inside),
* a multiple root at a grid value (a singular point on the grid),
* an exchange of order: linear extrapolation of a root column lands nearer another root (two
  branches cross: a transcritical point inside).

Each seed is solved by Newton's method on :math:`(P,P_p)=0` in :math:`(p,\lambda)`; where
:math:`P_\lambda=0` too (a branch point, where that Jacobian is singular) by Gauss-Newton on the
regular overdetermined system :math:`(P,P_p,P_\lambda)=0`. A solution counts only if it is a true
double root inside the seed's bracket, so no point can be reported off a branch. Types
(Kuznetsov, *Elements of Applied Bifurcation Theory*, sec. 3.2 and 7.4): a fold (LP) has
:math:`P_\lambda\ne0`; a branch point (BP) :math:`P_\lambda=0`, transcritical when
:math:`P_{pp}\ne0`, pitchfork when :math:`P_{pp}=0`.

Each branch ends at the exact singular point it runs into (a fold ends two branches at one point);
at a branch point the half-branches are joined by the continuity of their slope (branch switching:
the curve continues onto the crossing branch). A root-count change with no singular point found is
listed in ``warnings``, and the branches are cut there, never joined across the gap. Parameter
derivatives of :math:`P` are 5-point central differences of the generated coefficients (exact for
coefficients polynomial of degree 4 in :math:`\lambda`); the residuals themselves are exact.

Size: over 400 lines only with its docstrings; the code itself stays under 400 lines
(tests/test_module_size.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .equilibria import stability_code
from .kernels import bind_kernel
from .roots import real_roots_of


SPECIAL_TYPES = ("fold", "transcritical", "pitchfork", "hopf")
#: the legend label of each type (AUTO-07p's abbreviations in brackets)
SPECIAL_LABELS = {"fold": "fold (LP)", "transcritical": "transcritical (BP)", "pitchfork": "pitchfork (BP)",
                  "hopf": "Hopf (HB)"}


@dataclass(frozen=True)
class SpecialPoint:
    r"""A typed special point of an equilibrium branch.

    Parameters
    ----------
    type : str
        One of :data:`SPECIAL_TYPES`: ``'fold'`` (LP, :math:`f=f_x=0`, :math:`f_\lambda\ne0`),
        ``'transcritical'`` or ``'pitchfork'`` (BP, :math:`f=f_x=f_\lambda=0`), ``'hopf'`` (a
        complex pair of the Jacobian's eigenvalues crosses the imaginary axis).
    param_value : float
        The continued parameter's value there.
    state : tuple of float
        The equilibrium there, one entry per state variable.
    eigenvalues : tuple of complex, optional
        The Jacobian's eigenvalues there.

    Examples
    --------
    >>> from dynamics import SpecialPoint
    >>> sp = SpecialPoint("fold", 0.25, (0.7071,), (0j,))
    >>> sp.to_json()
    {'type': 'fold', 'param_value': 0.25, 'state': [0.7071], 'eigenvalues': [[0.0, 0.0]]}
    """

    type: str
    param_value: float
    state: tuple
    eigenvalues: tuple = ()

    def to_json(self) -> dict:
        """``{type, param_value, state, eigenvalues}`` as plain JSON values (eigenvalues as [re, im])."""
        return {"type": self.type, "param_value": float(self.param_value), "state": [float(x) for x in self.state],
                "eigenvalues": [[float(complex(z).real), float(complex(z).imag)] for z in self.eigenvalues]}


@dataclass(frozen=True)
class Branch:
    r"""One connected equilibrium branch: ``states[i]`` at the parameter value ``values[i]``.

    Parameters
    ----------
    values : numpy.ndarray
        The parameter along the branch, shape ``(m,)``, monotone between special points.
    states : numpy.ndarray
        The equilibria, shape ``(m, dim)``.
    eigenvalues : numpy.ndarray
        The Jacobian's eigenvalues at each point, complex, shape ``(m, dim)``.
    stability : numpy.ndarray
        int8 codes: 0 stable (every real part negative), 1 unstable (one positive), 2 neither
        (a special point, or a zero eigenvalue).

    Examples
    --------
    >>> import numpy as np
    >>> from dynamics import Branch
    >>> b = Branch(np.array([0.0, 1.0]), np.array([[0.0], [0.0]]), np.array([[-1 + 0j], [1 + 0j]]),
    ...            np.array([0, 1], dtype=np.int8))
    >>> b.p.tolist(), b.stability.tolist()
    ([0.0, 0.0], [0, 1])
    """

    values: np.ndarray
    states: np.ndarray
    eigenvalues: np.ndarray
    stability: np.ndarray

    @property
    def p(self) -> np.ndarray:
        """The first state variable along the branch."""
        return self.states[:, 0]


def _jac_rows(jac, theta, iv, v, p, out):
    """``out[i]`` = the 1x1 Jacobian at state ``p[i]`` and parameter ``v[i]`` (column ``iv`` of ``theta``)."""
    J = np.zeros((1, 1))
    y = np.zeros(1)
    t = theta.copy()
    for i in range(v.size):
        t[iv] = v[i]
        y[0] = p[i]
        jac(y, t, J)
        out[i] = J[0, 0]


def _stability_rows(eqpoly, theta, roots, mult, counts, out):
    """:func:`dynamics.equilibria.stability_code` of every root of every row (-1 where none)."""
    for i in range(theta.shape[0]):
        c = eqpoly(theta[i])
        for j in range(roots.shape[1]):
            out[i, j] = stability_code(c, roots[i, j], mult[i, j]) if j < counts[i] else -1


_BOUND: dict = {}


def _bound(fn, k, attr):
    """``fn`` compiled with its first argument bound to ``k.attr`` (kept per process)."""
    key = (fn.__name__, k.__name__)
    if key not in _BOUND:
        _BOUND[key] = bind_kernel(fn, k.__name__, attr, attr, parallel=False)
    return _BOUND[key]


def stability_table(k, theta, roots, mult, counts):
    """int8 stability codes (0 stable, 1 unstable, 2 semi-stable, -1 no root) of the root table."""
    out = np.empty(roots.shape, dtype=np.int8)
    _bound(_stability_rows, k, "eqpoly")(theta, roots, mult, counts, out)
    return out


def branch_arrays(branches, special_points) -> dict:
    """NPZ arrays of branches and special points: the branches concatenated (``branch_id`` says
    which point is on which), the special points as parallel arrays."""
    dim = branches[0].states.shape[1] if branches else (len(special_points[0].state) if special_points else 1)
    cat = (lambda xs, shape, dt: np.concatenate(xs) if xs else np.empty(shape, dtype=dt))
    return dict(
        branch_id=cat([np.full(b.values.size, i) for i, b in enumerate(branches)], (0,), np.int64),
        branch_values=cat([b.values for b in branches], (0,), float),
        branch_states=cat([b.states for b in branches], (0, dim), float),
        branch_eigenvalues=cat([b.eigenvalues for b in branches], (0, dim), complex),
        branch_stability=cat([b.stability for b in branches], (0,), np.int8),
        special_type=np.array([s.type for s in special_points], dtype=str),
        special_param_value=np.array([s.param_value for s in special_points], dtype=float),
        special_state=np.array([s.state for s in special_points], dtype=float).reshape(-1, dim))


def stability_codes(eig: np.ndarray) -> np.ndarray:
    """int8 codes from eigenvalue rows (m, dim): 0 all real parts < 0, 1 one > 0, 2 otherwise."""
    re = np.real(eig)
    return np.where(np.all(re < 0, axis=1), 0, np.where(np.any(re > 0, axis=1), 1, 2)).astype(np.int8)


def derivs(c, p):
    """P, P', P'' of the polynomial ``c`` (highest degree first) at ``p`` (Horner)."""
    f = d1 = d2 = 0.0
    for a in c:
        d2 = d2 * p + 2 * d1
        d1 = d1 * p + f
        f = f * p + a
    return f, d1, d2


class PolyFamily:
    """:math:`P(p;\\lambda)` of one model with every other parameter fixed, and its derivatives."""

    def __init__(self, k, theta, iv, span):
        self.k, self.theta, self.iv, self.span = k, np.array(theta, dtype=np.float64), iv, span

    def coeffs(self, v):
        t = self.theta.copy()
        t[self.iv] = v
        return self.k.eqpoly(t)

    def partials(self, p, v, scale):
        """(P, P_p, P_pp, P_v, P_pv, P_vv) at (p, v), all divided by ``scale``."""
        h = 1e-4 * max(abs(v), 1e-3 * self.span, 1e-300)
        c = [self.coeffs(v + j * h) / scale for j in (-2, -1, 0, 1, 2)]
        cv = (c[0] - 8 * c[1] + 8 * c[3] - c[4]) / (12 * h)
        cvv = (-c[0] + 16 * c[1] - 30 * c[2] + 16 * c[3] - c[4]) / (12 * h * h)
        P, Pp, Ppp = derivs(c[2], p)
        Pv, Ppv, _ = derivs(cv, p)
        Pvv = derivs(cvv, p)[0]
        return P, Pp, Ppp, Pv, Ppv, Pvv

    def eigenvalues(self, p, v):
        """The eigenvalue :math:`\\partial_p\\dot p` at each (p[i], v[i]), from the generated Jacobian."""
        v, p = np.ascontiguousarray(v, dtype=np.float64), np.ascontiguousarray(p, dtype=np.float64)
        out = np.empty(v.size)
        _bound(_jac_rows, self.k, "jac")(self.theta, self.iv, v, p, out)
        return out


def _rounding_scale(c, p, order):
    """Sum of |terms| of the ``order``-th derivative of the polynomial ``c`` at ``p`` (its rounding scale)."""
    n = c.size - 1
    ap = abs(p)
    s = 0.0
    for i, a in enumerate(c):
        d = n - i
        if d >= order:
            s += abs(a) * math.perm(d, order) * ap ** (d - order)
    return s


def solve_singular(fam: PolyFamily, p0: float, v0: float, lo: float, hi: float):
    r"""``(p, v, type)`` with :math:`P=P_p=0` and ``lo <= v <= hi`` reached from ``(p0, v0)``, or None.

    Newton on :math:`(P,P_p)`; at a branch point (:math:`P_\lambda=0`, a singular Jacobian, linear
    convergence) refined by Gauss-Newton on :math:`(P,P_p,P_\lambda)`. ``type`` is ``'fold'``,
    ``'transcritical'`` or ``'pitchfork'``.
    """
    scale = float(np.max(np.abs(fam.coeffs(v0))))
    if not (math.isfinite(scale) and scale > 0):
        return None
    u = np.array([p0, v0], dtype=np.float64)
    for _ in range(100):
        P, Pp, Ppp, Pv, Ppv, _ = fam.partials(u[0], u[1], scale)
        try:
            du = np.linalg.solve(np.array([[Pp, Pv], [Ppp, Ppv]]), -np.array([P, Pp]))
        except np.linalg.LinAlgError:
            break
        if not np.all(np.isfinite(du)):
            return None
        u += du
        if abs(du[0]) <= 1e-15 * (1 + abs(u[0])) and abs(du[1]) <= 1e-15 * max(1.0, abs(u[1]), hi - lo):
            break
    P, Pp, Ppp, Pv, Ppv, Pvv = fam.partials(u[0], u[1], scale)
    bp = abs(Pv) <= 1e-6 * (abs(Ppv) * (1 + abs(u[0])) + abs(Pp))
    if bp:
        for _ in range(60):
            J = np.array([[Pp, Pv], [Ppp, Ppv], [Ppv, Pvv]])
            du = np.linalg.lstsq(J, -np.array([P, Pp, Pv]), rcond=None)[0]
            if not np.all(np.isfinite(du)):
                return None
            u += du
            P, Pp, Ppp, Pv, Ppv, Pvv = fam.partials(u[0], u[1], scale)
            if np.linalg.norm(du) <= 1e-15 * (1 + np.linalg.norm(u)):
                break
    c = fam.coeffs(u[1]) / scale
    # residuals within rounding of the terms (the coefficients are scaled to max |c| = 1)
    if not (abs(P) <= 1e-10 * _rounding_scale(c, u[0], 0) + 1e-14
            and abs(Pp) <= 1e-6 * _rounding_scale(c, u[0], 1) + 1e-10):
        return None
    slack = 1e-12 * max(hi - lo, abs(lo), abs(hi), 1e-300)        # rounding only: events stay in the bracket
    if not lo - slack <= u[1] <= hi + slack:
        return None
    v = min(max(u[1], lo), hi)
    if not bp:
        return u[0], v, "fold"
    flat = abs(Ppp) <= 1e-6 * (_rounding_scale(c, u[0], 3) + abs(Ppv))
    return u[0], v, "pitchfork" if flat else "transcritical"


# --- seeds of singular points from the grid ---------------------------------------------------
def _order_exchange(values, roots, counts):
    """(i, j, j2): root column j, extrapolated linearly over (i-1, i) to i+1 (or back over
    (i+2, i+1) to i), lands nearer root j2 != j: two branches may cross inside (i, i+1)."""
    out = []
    n = len(values)
    if n < 3:
        return out
    R = np.where(np.isnan(roots), np.inf, roots)[:, :max(int(counts.max()), 1)]     # the real roots only
    for a, b, c in ((0, 1, 2), (2, 1, 0)):
        ra, rb, rc = R[a:n - 2 + a], R[b:n - 2 + b], R[c:n - 2 + c]
        va, vb, vc = values[a:n - 2 + a], values[b:n - 2 + b], values[c:n - 2 + c]
        ok = (counts[a:n - 2 + a] == counts[b:n - 2 + b]) & (counts[b:n - 2 + b] == counts[c:n - 2 + c]) \
            & (va != vb)
        with np.errstate(invalid="ignore", over="ignore"):
            pred = rb + (rb - ra) * ((vc - vb) / np.where(va != vb, vb - va, 1.0))[:, None]
            near = np.argmin(np.abs(pred[:, :, None] - rc[:, None, :]), axis=2)
        cols = np.arange(R.shape[1])[None, :] < counts[b:n - 2 + b, None]
        bad = ok[:, None] & cols & (near != np.arange(R.shape[1])[None, :]) & np.isfinite(pred)
        for r, j in zip(*np.nonzero(bad)):
            i = r + 1 if a == 0 else r
            out.append((int(i), int(j), int(near[r, j])))
    return out


def _seeds(values, roots, mult, counts):
    """(p0, v0, lo, hi) starting points and brackets of the singular points the grid shows."""
    n = len(values)
    seeds = []
    for i, j in zip(*np.nonzero(mult > 1)):                     # a multiple root on the grid
        seeds.append((roots[i, j], values[i], values[max(i - 1, 0)], values[min(i + 1, n - 1)]))
    for i in np.flatnonzero(np.diff(counts) != 0):             # the root count changes inside
        side = i if counts[i] > counts[i + 1] else i + 1
        r = roots[side, :counts[side]]
        seeds += [(0.5 * (r[j] + r[j + 1]), values[side], values[i], values[i + 1]) for j in range(len(r) - 1)]
    for i, j, j2 in _order_exchange(values, roots, counts):    # two columns exchange order inside
        seeds.append((0.5 * (roots[i, j] + roots[i, j2]), values[i], values[i], values[i + 1]))
        seeds.append((0.5 * (roots[i + 1, j] + roots[i + 1, j2]), values[i + 1], values[i], values[i + 1]))
    return seeds


def _singular_points(fam, values, roots, mult, counts):
    """The distinct singular points ``[(p, v, type)]`` inside the grid's range, ascending in v."""
    lo, hi = float(values[0]), float(values[-1])
    span = max(hi - lo, abs(lo), abs(hi), 1e-300)
    pscale = max(float(np.nanmax(np.abs(roots))) if np.any(np.isfinite(roots)) else 1.0, 1e-300)
    found = []
    for p0, v0, a, b in _seeds(values, roots, mult, counts):
        s = solve_singular(fam, p0, v0, a, b)
        if s is None:
            continue
        p, v, kind = s
        if lo <= 0.0 <= hi and abs(v) <= 1e-12 * span:           # rounding noise about 0: the event is at 0
            v = 0.0
        if abs(p) <= 1e-12 * pscale:
            p = 0.0
        if not any(abs(v - w) <= 1e-9 * span and abs(p - q) <= 1e-6 * (pscale + abs(p)) for q, w, _ in found):
            found.append((p, v, kind))
    ws = []
    found.sort(key=lambda s: s[1])
    for i, (p, v, kind) in enumerate(found):    # one value per simultaneous event
        w = next((w for w in ws if abs(v - w) <= 1e-9 * span), v)
        ws.append(w)
        found[i] = (p, w, kind)
    return sorted(found, key=lambda s: (s[1], s[0]))


# --- branches between the singular points ---------------------------------------------------
def _align(ends, nodes, singular):
    """Order-preserving assignment of the sorted branch ends to the sorted roots ``nodes`` at a
    singular value: a simple root takes exactly one end, a singular root any number; least total
    distance. Returns the node index of each end, or None if impossible."""
    k, r = len(ends), len(nodes)
    f = np.full((r + 1, k + 1), np.inf)
    back = np.zeros((r + 1, k + 1), dtype=np.int64)
    f[0, 0] = 0.0
    for i in range(1, r + 1):
        for j in range(k + 1):
            if singular[i - 1]:
                for m in range(j + 1):
                    c = f[i - 1, m] + sum(abs(ends[t] - nodes[i - 1]) for t in range(m, j))
                    if c < f[i, j]:
                        f[i, j], back[i, j] = c, m
            elif j >= 1 and f[i - 1, j - 1] + abs(ends[j - 1] - nodes[i - 1]) < f[i, j]:
                f[i, j], back[i, j] = f[i - 1, j - 1] + abs(ends[j - 1] - nodes[i - 1]), j - 1
    if not np.isfinite(f[r, k]):
        return None
    out, j = [0] * k, k
    for i in range(r, 0, -1):
        m = back[i, j]
        for t in range(m, j):
            out[t] = i - 1
        j = m
    return out


def _nodes_at(fam, w, sing):
    """Sorted roots at the singular value ``w``: the simple ones (numerical) and the singular ones
    ``sing`` (exact); a numerical root within rounding of a singular one is that one."""
    roots, _ = real_roots_of(fam.coeffs(w))
    keep = [r for r in roots if all(abs(r - q) > 1e-6 * (1 + abs(q)) for q in sing)]
    allr = sorted([(float(r), False) for r in keep] + [(float(q), True) for q in sing])
    return [r for r, _ in allr], [s for _, s in allr]


def _pieces(fam, values, roots, counts, specials, warns, name):
    """Root columns between singular values, each with its end nodes ``(w index, root index)``."""
    span = max(values[-1] - values[0], abs(values[0]), abs(values[-1]), 1e-300)
    ws = sorted({v for _, v, _ in specials})
    nodes = [_nodes_at(fam, w, [p for p, v, _ in specials if v == w]) for w in ws]
    seg = np.searchsorted(np.array(ws), values, side="right")
    on = np.zeros(values.size, dtype=bool)
    for w in ws:
        on |= np.abs(values - w) <= 1e-9 * span
    idx = np.flatnonzero(~on)
    runs = []
    for i in idx:
        if runs and runs[-1][-1] == i - 1 and seg[i] == seg[runs[-1][-1]] and counts[i] == counts[i - 1]:
            runs[-1].append(i)
        else:
            if runs and runs[-1][-1] == i - 1 and seg[i] == seg[i - 1]:
                warns.append(f"the root count changes from {counts[i - 1]} to {counts[i]} between {name} = "
                             f"{values[i - 1]!r} and {values[i]!r} but no singular point was located there; "
                             f"the branches are cut there")
            runs.append([i])
    pieces = []
    for run in runs:
        a, b = run[0], run[-1]
        cols = [dict(v=list(values[a:b + 1]), p=list(roots[a:b + 1, j]), start=None, end=None)
                for j in range(counts[a])]
        for end, i, wi in (("start", a, seg[a] - 1), ("end", b, seg[b])):
            if not 0 <= wi < len(ws) or (end == "start" and a > 0 and not on[a - 1] and seg[a - 1] == seg[a]) \
                    or (end == "end" and b < len(values) - 1 and not on[b + 1] and seg[b + 1] == seg[b]):
                continue
            asg = _align(roots[i, :counts[i]], *nodes[wi])
            if asg is None:
                continue
            for col, ni in zip(cols, asg):
                col[end] = (wi, ni)
                pt = (ws[wi], nodes[wi][0][ni])
                if end == "start":
                    col["v"].insert(0, pt[0])
                    col["p"].insert(0, pt[1])
                else:
                    col["v"].append(pt[0])
                    col["p"].append(pt[1])
        pieces += cols
    return pieces, ws, nodes


def _slope(piece, at_end):
    """dp/dv of a piece at its end node (secant to its nearest other point)."""
    v, p = piece["v"], piece["p"]
    if len(v) < 2:
        return 0.0
    (v0, p0), (v1, p1) = ((v[-1], p[-1]), (v[-2], p[-2])) if at_end else ((v[0], p[0]), (v[1], p[1]))
    return math.atan2(p1 - p0, v1 - v0)


def _chains(pieces, ws, nodes, kinds):
    """Join pieces through simple roots, and through branch points by the continuity of the slope."""
    ends, starts = {}, {}
    for n, pc in enumerate(pieces):
        if pc["end"] is not None:
            ends.setdefault(pc["end"], []).append(n)
        if pc["start"] is not None:
            starts.setdefault(pc["start"], []).append(n)
    nxt = {}
    for key, left in ends.items():
        right = list(starts.get(key, []))
        wi, ni = key
        if not nodes[wi][1][ni]:                                     # a simple root: one curve
            if len(left) == 1 and len(right) == 1:
                nxt[left[0]] = right[0]
            continue
        if kinds.get(key) == "fold":
            continue
        for a in left:                                               # a branch point: go straight on
            if not right:
                break
            ta = _slope(pieces[a], True)
            b = min(right, key=lambda b: abs(abs(ta - _slope(pieces[b], False)) - math.pi))
            nxt[a] = b
            right.remove(b)
    heads = set(range(len(pieces))) - set(nxt.values())
    chains = []
    for h in sorted(heads, key=lambda n: (pieces[n]["v"][0], pieces[n]["p"][0])):
        v, p, n = list(pieces[h]["v"]), list(pieces[h]["p"]), h
        while n in nxt:
            n = nxt[n]
            v += pieces[n]["v"][1:]
            p += pieces[n]["p"][1:]
        chains.append((np.array(v), np.array(p)))
    return chains


def scalar_branches(fam: PolyFamily, values, roots, mult, counts, name: str):
    """``(branches, special_points, warnings)`` of the family ``fam`` on the ascending grid
    ``values`` with the roots (``roots``, ``mult``, ``counts``) of its equilibrium polynomial there."""
    warns = []
    specials = _singular_points(fam, values, roots, mult, counts)
    pieces, ws, nodes = _pieces(fam, values, roots, counts, specials, warns, name)
    kinds = {}
    for p, v, kind in specials:
        wi = ws.index(v)
        kinds[(wi, nodes[wi][0].index(p))] = kind
    sing = {(v, p) for p, v, _ in specials}
    chains = _chains(pieces, ws, nodes, kinds)
    allv = np.concatenate([v for v, _ in chains] + [np.array([v for _, v, _ in specials])])
    allp = np.concatenate([p for _, p in chains] + [np.array([p for p, _, _ in specials])])
    eig = fam.eigenvalues(allp, allv).astype(complex)
    branches, at = [], 0
    for v, p in chains:
        e = eig[at:at + v.size, None]
        at += v.size
        stab = stability_codes(e)
        stab[[(a, b) in sing for a, b in zip(v, p)]] = 2
        branches.append(Branch(v, p[:, None], e, stab))
    points = tuple(SpecialPoint(kind, float(v), (float(p),), (complex(e),))
                   for (p, v, kind), e in zip(specials, eig[at:]))
    return tuple(branches), points, warns
