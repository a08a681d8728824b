"""The numba code printer: printed code evaluates to the expression (mpmath at 30 digits)."""
import math

import pytest
import sympy as sp

from symbolic.printer import NumbaPrinter, print_body

x, y, z = sp.symbols("x y z", positive=True)
CASES = [x / y**3, x / y**3 * z, 1 / (x * y**2), x**-2 / y, (x + y) ** 3 / z**2, x / sp.sqrt(y) ** 3,
         2 * x**5 - y / z**4 + sp.Rational(1, 3) * x * y**-1, x / y / z**2, sp.sqrt(x + y) / y**2]


@pytest.mark.parametrize("expr", CASES)
def test_printed_code_evaluates_to_the_expression(expr):
    src = "\n".join(["def f(x, y, z):", *print_body([expr], ["_r"]), "    return _r"])
    ns = {"math": math}
    exec(src, ns)
    vals = {x: 1.37, y: 0.61, z: 2.9}
    want = float(sp.N(expr.subs(vals), 30))
    assert ns["f"](1.37, 0.61, 2.9) == pytest.approx(want, rel=1e-14)


def test_integer_powers_are_products():
    assert "**" not in NumbaPrinter().doprint(x**3 / y**2)
