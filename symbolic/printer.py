"""Code printers: SymPy expressions to plain ``math``-module Python (numba kernels, and the
importable module of ``ssldyn derive --format python``).

Integer powers become products (``p**3 -> p*p*p``), ``1/x`` stays a division, rationals become
float literals; everything else is SymPy's ``PythonCodePrinter``.
"""
from __future__ import annotations

import sympy as sp
from sympy.printing.numpy import NumPyPrinter
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


class _ArrayPrinter(NumPyPrinter):
    """NumPy printing of matrix expressions whose identity has a symbolic size: ``Identity(d)``
    prints as ``numpy.eye(d)``, ``d`` being bound from an argument's shape by the caller."""

    def _print_Identity(self, expr):
        return f"numpy.eye({self._print(expr.rows)})"


def _dimension_lines(exprs, indent="    "):
    """``d = Phi.shape[1]`` for each symbolic dimension of the matrix symbols in ``exprs``."""
    seen, lines = set(), []
    mats = sorted({m for e in exprs for m in e.atoms(sp.MatrixSymbol)}, key=lambda m: m.name)
    for m in mats:
        for axis, dim in enumerate(m.shape):
            if isinstance(dim, sp.Symbol) and dim.name not in seen:
                seen.add(dim.name)
                lines.append(f"{indent}{dim.name} = {m.name}.shape[{axis}]")
    return lines


def python_module(d) -> str:
    r"""The text of an importable module for the derivation ``d`` (``symbolic.derivation``):
    ``STATE``, ``PARAMS``, one ``rhs_<state>(<state...>, <params...>)`` per state variable returning
    :math:`\dot x` (scalar forms: float arithmetic with ``math``; matrix forms: NumPy arrays, with
    ``@``-free ``.dot`` products) and ``rhs(y, theta)``, the tuple of all of them."""
    args = ", ".join(list(d.state) + list(d.params))
    matrix = d.form == "matrix"
    lines = [f'"""ssldyn derive --format python: model {d.model!r}, {d.form!r} form.', "",
             "rhs_<state>(*STATE, *PARAMS) is the time derivative of that state variable.", '"""',
             "import math", *(["", "import numpy"] if matrix else []), "",
             f"STATE = {tuple(d.state)!r}", f"PARAMS = {tuple(d.params)!r}", ""]
    for k, e in d.rhs.items():
        lines += ["", f"def rhs_{k}({args}):"]
        if matrix:
            lines += _dimension_lines([e]) + [f"    return {_ArrayPrinter().doprint(e)}"]
        else:
            lines += print_body([e], ["_r"]) + ["    return _r"]
        lines.append("")
    lines += ["", "def rhs(y, theta):", '    """All right-hand sides at the state ``y`` and parameters ``theta`` '
              '(in the orders STATE and PARAMS)."""',
              "    return (" + "".join(f"rhs_{k}(*y, *theta), " for k in d.rhs) + ")", ""]
    return "\n".join(lines)
