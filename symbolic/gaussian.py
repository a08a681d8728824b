r"""Exact Gaussian expectations of polynomials (Isserlis / Wick, done symbolically).

For a centred Gaussian vector :math:`x` with covariance :math:`C`, Stein's identity
:math:`\mathbb E[x_i f(x)] = \sum_l C_{il}\,\mathbb E[\partial_l f(x)]` applied recursively gives
every moment; it is Isserlis' theorem (sum over pairings) in recursive form. Means are handled by
shifting :math:`x = \mu + \xi`.

These are the only expectations the derivations take: everything else in ``symbolic`` is algebra.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import sympy as sp


def _moment_table(cov: sp.Matrix):
    n = cov.shape[0]

    @lru_cache(maxsize=None)
    def moment(exps: tuple) -> sp.Expr:
        # E[prod x_i^{e_i}] for centred x, by Stein's identity on the first non-zero exponent.
        if sum(exps) == 0:
            return sp.Integer(1)
        if sum(exps) % 2:
            return sp.Integer(0)
        i = next(k for k, e in enumerate(exps) if e)
        rest = list(exps)
        rest[i] -= 1
        total = sp.Integer(0)
        for l in range(n):
            if rest[l] == 0 or cov[i, l] == 0:
                continue
            e = rest[l]
            d = list(rest)
            d[l] -= 1
            total += cov[i, l] * e * moment(tuple(d))
        return total

    return moment


def gaussian_expectation(expr: sp.Expr, variables: Sequence[sp.Symbol], cov,
                         mean=None) -> sp.Expr:
    r"""Return :math:`\mathbb E[\mathrm{expr}]` for Gaussian ``variables`` ~ N(mean, cov).

    ``expr`` must be a polynomial in ``variables`` (coefficients may be any SymPy expressions).

    Examples
    --------
    >>> x, y = sp.symbols('x y')
    >>> gaussian_expectation(x**2 * y**2, [x, y], [[1, 0], [0, 1]])
    1
    >>> gaussian_expectation(x**4, [x], [[3]])
    27
    """
    variables = list(variables)
    cov = sp.Matrix(cov)
    n = len(variables)
    if cov.shape != (n, n):
        raise ValueError(f"cov must be {n}x{n}; got {cov.shape}")
    if mean is not None:
        xi = sp.symbols(f"_xi0:{n}")
        expr = sp.expand(expr.subs({v: m + x for v, m, x in zip(variables, mean, xi)},
                                   simultaneous=True))
        variables = list(xi)
    poly = sp.Poly(sp.expand(expr), *variables)
    moment = _moment_table(cov)
    return sp.Add(*[coeff * moment(tuple(monom)) for monom, coeff in poly.terms()])


@lru_cache(maxsize=None)
def view_second_moments(sigma2) -> sp.Matrix:
    r"""Second moments of one coordinate of two views :math:`(x+\epsilon_1, x+\epsilon_2)`.

    :math:`x\sim\mathcal N(0,1)`, :math:`\epsilon_{1,2}\sim\mathcal N(0,\sigma^2)` independent; returns
    :math:`\begin{pmatrix}\mathbb E y_1^2 & \mathbb E y_1y_2\\ \mathbb E y_2y_1 & \mathbb E y_2^2\end{pmatrix}
    =\begin{pmatrix}1+\sigma^2&1\\1&1+\sigma^2\end{pmatrix}`, computed, not assumed.
    """
    x, e1, e2 = sp.symbols("x e1 e2", real=True)
    cov = sp.diag(1, sigma2, sigma2)
    ys = (x + e1, x + e2)
    return sp.Matrix(2, 2, lambda i, j: sp.simplify(gaussian_expectation(sp.expand(ys[i] * ys[j]),
                                                                         [x, e1, e2], cov)))
