"""Code printer for numba: SymPy expressions to plain ``math``-module Python.

Integer powers become products (``p**3 -> p*p*p``), ``1/x`` stays a division, rationals become
float literals; everything else is SymPy's ``PythonCodePrinter``.
"""
from __future__ import annotations

import sympy as sp
from sympy.printing.pycode import PythonCodePrinter


class NumbaPrinter(PythonCodePrinter):
    """Print for ``@njit`` functions of float64 scalars."""

    def __init__(self, settings=None):
        super().__init__({"fully_qualified_modules": True, "standard": "python3", **(settings or {})})

    def _print_Pow(self, expr, rational=False):
        base, exp = expr.as_base_exp()
        if exp.is_Integer and 0 < abs(int(exp)) <= 8:
            n = abs(int(exp))
            b = self.parenthesize(base, sp.printing.precedence.PRECEDENCE["Mul"] + 1)
            prod = "*".join([b] * n)
            # always parenthesised: the caller sees a Pow (higher precedence than Mul), so
            # x/y**3 must print as x/(y*y*y), never x/y*y*y
            return f"({prod})" if exp > 0 else f"(1.0/({prod}))"
        if exp == sp.Rational(1, 2):
            return f"math.sqrt({self._print(base)})"
        if exp == -sp.Rational(1, 2):
            return f"(1.0/math.sqrt({self._print(base)}))"
        return f"{self.parenthesize(base, 61)}**{self.parenthesize(exp, 61)}"

    def _print_Rational(self, expr):
        return repr(float(expr))

    def _print_Integer(self, expr):
        return f"{int(expr)}.0"


def print_body(exprs, names, indent="    "):
    """Lines computing ``names = exprs`` with common subexpressions factored out (``sympy.cse``)."""
    pr = NumbaPrinter()
    temps, reduced = sp.cse(list(exprs), symbols=sp.numbered_symbols("_x"), optimizations="basic")
    lines = [f"{indent}{s} = {pr.doprint(v)}" for s, v in temps]
    lines += [f"{indent}{n} = {pr.doprint(v)}" for n, v in zip(names, reduced)]
    return lines
