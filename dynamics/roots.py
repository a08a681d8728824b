r"""All real roots of a real polynomial, batched in numba, with multiplicity flags.

Method (derivative bracketing): the real roots of :math:`P^{(k+1)}` split the line into
intervals on which :math:`P^{(k)}` is monotone, so each interval holds at most one root of
:math:`P^{(k)}`, found by safeguarded Newton (bisection whenever a Newton step leaves the
bracket). Starting from the linear :math:`P^{(n-1)}` and climbing to :math:`P`, every real root is
found, and no complex pair can ever be reported as real. A critical point :math:`c` with
:math:`|P(c)|` within rounding of zero is a tangency: a double root (flagged, multiplicity 2).
Exact zero roots (trailing zero coefficients) are split off first with their multiplicity.

Coefficients are given highest degree first (as ``numpy.roots``).
"""
from __future__ import annotations

import math

import numpy as np
from numba import njit

MAXDEG = 24
EPS = 2.220446049250313e-16


@njit(cache=True)
def horner(c, n, x):
    """P(x) and P'(x) for coefficients c[0..n] (degree n, highest first)."""
    f = c[0]
    d = 0.0
    for i in range(1, n + 1):
        d = d * x + f
        f = f * x + c[i]
    return f, d


@njit(cache=True)
def _abs_scale(c, n, x):
    # sum |c_i| |x|^(n-i): the size of rounding errors of Horner at x
    s = 0.0
    ax = abs(x)
    for i in range(n + 1):
        s = s * ax + abs(c[i])
    return s


@njit(cache=True)
def _mid(lo, hi):
    # bisection point: the geometric mean when the bracket spans more than a factor 4 on one side
    # of 0 (a root of 1e-75 in [1e-80, 1e10] is then found to full relative accuracy), else the midpoint
    if lo > 0.0 and hi > 4.0 * lo:
        return math.sqrt(lo) * math.sqrt(hi)
    if hi < 0.0 and lo < 4.0 * hi:
        return -math.sqrt(-lo) * math.sqrt(-hi)
    return 0.5 * (lo + hi)


@njit(cache=True)
def _bracketed(c, n, lo, hi, flo, fhi):
    # root of c on [lo, hi] with a sign change (flo = P(lo), fhi = P(hi)); safeguarded Newton
    # started from the secant point (the bisection point if that is not strictly inside)
    x = lo - flo * (hi - lo) / (fhi - flo)
    if not (lo < x < hi):
        x = _mid(lo, hi)
    for _ in range(400):
        f, d = horner(c, n, x)
        if f == 0.0:
            return x
        if (f < 0.0) == (flo < 0.0):
            lo = x
            flo = f
        else:
            hi = x
        xn = x - f / d if d != 0.0 else _mid(lo, hi)
        if d != 0.0 and abs(xn - x) <= 4.0 * EPS * max(abs(xn), 1e-300):
            # converged to rounding; test this before the bracket, since a step this small may round
            # onto the bracket end just moved to x (a bisection restart would then crawl back)
            return xn if lo <= xn <= hi else x
        if not (lo < xn < hi) or (abs(xn - x) > 0.5 * (hi - lo)):
            xn = _mid(lo, hi)
        if hi - lo <= 4.0 * EPS * max(abs(lo), abs(hi)):
            return xn
        x = xn
    return x


@njit(cache=True)
def _root_bound(c, n):
    # Fujiwara's bound: every root satisfies |z| <= 2 max_i |c_i/c_0|^(1/i) (tighter than Cauchy's)
    b = 0.0
    for i in range(1, n + 1):
        v = abs(c[i] / c[0]) ** (1.0 / i)
        if i == n:
            v *= 0.5 ** (1.0 / n)
        if v > b:
            b = v
    # never below 1e-20: P(+-B) must not underflow to 0 (degree <= 14 keeps B^deg >= 1e-280)
    return max(2.0 * b * (1.0 + 1e-12), 1e-20)


@njit(cache=True)
def _lower_bound(c, n):
    # every non-zero root has |z| >= 1 / (Fujiwara's bound of the reversed polynomial); 0 when the
    # constant term vanishes (a root at 0) or the bound is not a positive finite number
    if c[n] == 0.0:
        return 0.0
    b = 0.0
    for i in range(1, n + 1):
        v = abs(c[n - i] / c[n]) ** (1.0 / i)
        if i == n:
            v *= 0.5 ** (1.0 / n)
        if v > b:
            b = v
    lb = 1.0 / (2.0 * b * (1.0 + 1e-12)) if b > 0.0 else 0.0
    return lb if lb < math.inf else 0.0


@njit(cache=True)
def _normalise(c, n):
    # scale c[0..n] by the power of two that brings max|c_i| into [0.5, 1): exact, the roots are
    # unchanged, and neither Horner nor the closed forms of a level can overflow (a level's
    # coefficients may be 1e170, whose squares in a discriminant would be inf)
    m = 0.0
    for i in range(n + 1):
        if abs(c[i]) > m:
            m = abs(c[i])
    if 0.0 < m < math.inf:
        e = math.frexp(m)[1]
        for i in range(n + 1):
            c[i] = math.ldexp(c[i], -e)


@njit(cache=True)
def real_roots(coeffs, roots, mult):
    """Write the distinct real roots of ``coeffs`` ascending into ``roots``; return their count.

    ``mult[i]`` is the multiplicity of ``roots[i]``: exact for a root at zero, else 1, or 2 for a
    tangency (a root of even multiplicity or one within rounding of a double root). How far
    rounding may move each root: :func:`rounding_radius`.
    """
    return real_roots_ws(coeffs, roots, mult, Workspace(coeffs.size))


@njit(cache=True)
def Workspace(size):
    """Scratch arrays for :func:`real_roots_ws` (reuse them across a batch: no allocation)."""
    return (np.zeros((size, size)), np.empty(size + 2), np.zeros(size + 2, dtype=np.int64),
            np.empty(size + 2), np.zeros(size + 2, dtype=np.int64))


@njit(cache=True)
def real_roots_ws(coeffs, roots, mult, ws, lower=-np.inf):
    """:func:`real_roots` with caller-provided scratch ``ws = Workspace(coeffs.size)``.

    Only roots ``>= lower`` are sought (every level of the derivative chain is restricted to
    ``[lower, B]``, which is exact: roots there are bracketed by the derivative's roots there).
    Each level is scaled by a power of two (:func:`_normalise`), and the bounds ``+-L`` of the
    non-zero roots (:func:`_lower_bound`) split the brackets at zero, so that tiny roots are
    bisected geometrically, to full relative accuracy.
    """
    # strip leading zeros
    start = 0
    m = coeffs.size
    while start < m and coeffs[start] == 0.0:
        start += 1
    if start == m:
        return 0
    # split off exact roots at zero
    end = m - 1
    zmult = 0
    while end > start and coeffs[end] == 0.0:
        end -= 1
        zmult += 1
    n = end - start                      # degree of the reduced polynomial
    # derivative chain, level k holds P^(k) scaled by a power of two, degree n - k
    D, prev, prevm, cur, curm = ws
    for i in range(n + 1):
        D[0, i] = coeffs[start + i]
    _normalise(D[0], n)
    for k in range(1, n + 1):
        deg = n - k + 1
        for i in range(deg):
            D[k, i] = D[k - 1, i] * (deg - i)
        _normalise(D[k], deg - 1)
    npv = 0
    for k in range(n - 1, -1, -1):
        deg = n - k
        c = D[k, : deg + 1]
        if deg == 1 and k > 0:
            rr = -c[1] / c[0]                    # a linear derivative: one critical point
            npv = 0
            if rr >= lower:
                prev[0] = rr
                prevm[0] = 1
                npv = 1
            continue
        if deg == 2 and k > 0:
            # a quadratic derivative: its roots (critical points of the next level) in closed form
            # (the stable formula; a tangency or complex pair gives the vertex / nothing, which only
            # costs the next level one extra bracket)
            disc = c[1] * c[1] - 4.0 * c[0] * c[2]
            if disc > 0.0:
                qq = -0.5 * (c[1] + math.copysign(math.sqrt(disc), c[1]))
                r1, r2 = qq / c[0], (c[2] / qq if qq != 0.0 else -c[1] / c[0] - qq / c[0])
                lo_r, hi_r = min(r1, r2), max(r1, r2)
                npv = 0
                for rr in (lo_r, hi_r):
                    if rr >= lower:
                        prev[npv] = rr
                        prevm[npv] = 1
                        npv += 1
            elif disc == 0.0:
                vx = -0.5 * c[1] / c[0]          # a double root: the vertex
                npv = 0
                if vx >= lower:
                    prev[0] = vx
                    prevm[0] = 2
                    npv = 1
            else:
                npv = 0
            continue
        B = _root_bound(c, deg)
        ncur = 0
        lo = max(-B, lower)
        if lo >= B:
            npv = 0
            continue
        # break points: the critical points (prevm > 0) and +-L (prevm = 0), ascending
        L = _lower_bound(c, deg)
        nb = 0
        j = 0
        for s in (-L, L):
            while j < npv and prev[j] < s:
                cur[nb] = prev[j]
                curm[nb] = prevm[j]
                nb += 1
                j += 1
            if L > 0.0 and lo < s < B and (j == npv or prev[j] != s):
                cur[nb] = s
                curm[nb] = 0
                nb += 1
        while j < npv:
            cur[nb] = prev[j]
            curm[nb] = prevm[j]
            nb += 1
            j += 1
        for j in range(nb):
            prev[j] = cur[j]
            prevm[j] = curm[j]
        flo, _ = horner(c, deg, lo)
        lo_crit = False
        for j in range(nb + 1):
            hi = prev[j] if j < nb else B
            crit = j < nb and prevm[j] > 0
            if hi <= lo:
                continue
            fhi, _ = horner(c, deg, hi)
            tol_hi = 8.0 * EPS * _abs_scale(c, deg, hi)
            if j == 0 and lo == lower and flo == 0.0:
                # a root exactly at the lower limit
                cur[ncur] = lo
                curm[ncur] = 1
                ncur += 1
            if crit and abs(fhi) <= tol_hi:
                # tangency at a critical point: double root
                if ncur == 0 or cur[ncur - 1] != hi:
                    cur[ncur] = hi
                    curm[ncur] = 2
                    ncur += 1
            elif flo != 0.0 and (flo < 0.0) != (fhi < 0.0):
                tol_lo = 8.0 * EPS * _abs_scale(c, deg, lo)
                if not (lo_crit and abs(flo) <= tol_lo):
                    cur[ncur] = _bracketed(c, deg, lo, hi, flo, fhi)
                    curm[ncur] = 1
                    ncur += 1
            elif fhi == 0.0 and not crit and hi < B:
                cur[ncur] = hi                   # a break point that is itself a root
                curm[ncur] = 1
                ncur += 1
            lo = hi
            flo = fhi
            lo_crit = crit
        for i in range(ncur):
            prev[i] = cur[i]
            prevm[i] = curm[i]
        npv = ncur
    # merge in the zero root
    count = 0
    inserted = zmult == 0 or lower > 0.0
    for i in range(npv):
        if not inserted and prev[i] > 0.0:
            roots[count] = 0.0
            mult[count] = zmult
            count += 1
            inserted = True
        roots[count] = prev[i]
        mult[count] = prevm[i]
        count += 1
    if not inserted:
        roots[count] = 0.0
        mult[count] = zmult
        count += 1
    return count


#: a root is resolved when rounding of the coefficients may move it by at most this fraction of
#: its magnitude (:func:`rounding_radius`); beyond it the float64 roots are noise
RESOLVED_RTOL = 1e-6


@njit(cache=True)
def rounding_radius(c, root, mult):
    r"""How far a relative perturbation of :math:`8\epsilon` of every coefficient of ``c`` (the
    rounding of forming and evaluating it) may move ``root``: :math:`\delta=8\epsilon S/|P'|` for a
    simple root, :math:`\sqrt{16\epsilon S/|P''|}` for a tangency, with :math:`S=\sum|c_i||r|^{n-i}`
    (inf where the derivative vanishes). An exact zero root (``root == 0``) has radius 0."""
    if root == 0.0:
        return 0.0
    n = c.size - 1
    s = _abs_scale(c, n, root)
    f = c[0]
    d = 0.0
    dd = 0.0
    for i in range(1, n + 1):
        dd = dd * root + 2.0 * d
        d = d * root + f
        f = f * root + c[i]
    if mult == 1:
        return 8.0 * EPS * s / abs(d) if d != 0.0 else math.inf
    return math.sqrt(16.0 * EPS * s / abs(dd)) if dd != 0.0 else math.inf


@njit(cache=True)
def unresolved(c, roots, mult, count):
    """Index of the first of the ``count`` roots whose :func:`rounding_radius` exceeds
    :data:`RESOLVED_RTOL` of its magnitude (an ill-conditioned polynomial), else -1."""
    for j in range(count):
        if not rounding_radius(c, roots[j], mult[j]) <= RESOLVED_RTOL * abs(roots[j]):
            return j
    return -1


def real_roots_of(coeffs):
    """Convenience wrapper: ``(roots, multiplicities)`` as numpy arrays."""
    c = np.ascontiguousarray(coeffs, dtype=np.float64)
    r = np.empty(max(c.size, 1))
    m = np.zeros(max(c.size, 1), dtype=np.int64)
    n = real_roots(c, r, m)
    return r[:n].copy(), m[:n].copy()
