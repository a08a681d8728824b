r"""Butcher tableaus and the one method table: the stepping code is generated from them.

Each tableau checks itself on construction: ``a`` strictly lower triangular, row sums equal
``c``, ``sum(b) = 1``, ``sum(e) = 0`` (``e = b - b_hat``, the embedded error weights).

:data:`METHODS` is the one table of the integration methods (name -> :class:`Method`: tableau,
order, whether it can control its step, the controller); every path (the 1-D and block loops,
the coupled and matrix systems, the torch backend) and the command line take their method names
from it (:data:`METHOD_NAMES`), and the loops of every path are generated from its entries
(:mod:`symbolic.loopgen`).
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction as F

import numpy as np

from .stepping import CONTROLLER, Controller


@dataclass(frozen=True)
class Tableau:
    name: str
    order: int
    a: np.ndarray          # (s, s) strictly lower triangular
    b: np.ndarray          # (s,)
    c: np.ndarray          # (s,)
    e: np.ndarray | None   # (s,) error weights b - b_hat (None: fixed step only)
    fsal: bool = False     # first stage of a step = last stage of the previous one

    def __post_init__(self):
        s = len(self.b)
        if self.a.shape != (s, s) or self.c.shape != (s,):
            raise ValueError(f"{self.name}: inconsistent tableau shapes")
        if np.any(np.triu(self.a) != 0):
            raise ValueError(f"{self.name}: a must be strictly lower triangular (explicit method)")
        if not np.allclose(self.a.sum(1), self.c, atol=1e-14):
            raise ValueError(f"{self.name}: row sums of a must equal c")
        if abs(self.b.sum() - 1) > 1e-14:
            raise ValueError(f"{self.name}: sum(b) must be 1")
        if self.e is not None and abs(self.e.sum()) > 1e-14:
            raise ValueError(f"{self.name}: sum(e) must be 0")
        if self.fsal and not (np.allclose(self.a[-1], self.b) and self.c[-1] == 1):
            raise ValueError(f"{self.name}: FSAL needs the last row of a equal to b")

    @property
    def stages(self) -> int:
        return len(self.b)


def _arr(rows, s):
    out = np.zeros((s, s))
    for i, row in enumerate(rows):
        out[i, :len(row)] = [float(x) for x in row]
    return out


#: Classical fourth-order Runge-Kutta (Kutta 1901).
RK4 = Tableau("rk4", 4, _arr([[], [F(1, 2)], [0, F(1, 2)], [0, 0, 1]], 4),
              np.array([1 / 6, 1 / 3, 1 / 3, 1 / 6]), np.array([0, 0.5, 0.5, 1.0]), None)

_dp_a = [[], [F(1, 5)], [F(3, 40), F(9, 40)], [F(44, 45), F(-56, 15), F(32, 9)],
         [F(19372, 6561), F(-25360, 2187), F(64448, 6561), F(-212, 729)],
         [F(9017, 3168), F(-355, 33), F(46732, 5247), F(49, 176), F(-5103, 18656)],
         [F(35, 384), 0, F(500, 1113), F(125, 192), F(-2187, 6784), F(11, 84)]]
_dp_b = [F(35, 384), 0, F(500, 1113), F(125, 192), F(-2187, 6784), F(11, 84), 0]
_dp_bh = [F(5179, 57600), 0, F(7571, 16695), F(393, 640), F(-92097, 339200), F(187, 2100), F(1, 40)]
#: Dormand & Prince (1980), RK5(4)7FM: fifth-order solution, fourth-order embedded estimate.
DOPRI5 = Tableau("dopri5", 5, _arr(_dp_a, 7), np.array([float(x) for x in _dp_b]),
                 np.array([0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0]),
                 np.array([float(x - y) for x, y in zip(_dp_b, _dp_bh)]), fsal=True)

# Tsitouras (2011), "Runge-Kutta pairs of order 5(4) satisfying only the first column simplifying
# assumption", Comput. Math. Appl. 62, 770-775, Table 1 (coefficients to double precision).
_ts_b = [0.09646076681806523, 0.01, 0.4798896504144996, 1.379008574103742, -3.290069515436081,
         2.324710524099774, 0.0]
_ts_bh = [0.09468075576583945, 0.009183565540343254, 0.4877705284247616, 1.234297566930479,
          -2.7077123499835256, 1.866628418170587, 1 / 66]
_ts_a = [[], [0.161], [-0.008480655492356989, 0.335480655492357],
         [2.8971530571054935, -6.359448489975075, 4.3622954328695815],
         [5.325864828439257, -11.748883564062828, 7.4955393428898365, -0.09249506636175525],
         [5.86145544294642, -12.92096931784711, 8.159367898576159, -0.071584973281401, -0.028269050394068383],
         _ts_b[:6]]
_ts_c = np.array([0.0, 0.161, 0.327, 0.9, 0.9800255409045097, 1.0, 1.0])
_ts_A = _arr(_ts_a, 7)
_ts_A[:, 0] += _ts_c - _ts_A.sum(1)       # first column from the row-sum condition (exact in rationals)
_ts_bv = np.array(_ts_b)
_ts_bv[0] += 1.0 - _ts_bv.sum()
TSIT5 = Tableau("tsit5", 5, _ts_A, _ts_bv, _ts_c, _ts_bv - np.array(_ts_bh), fsal=True)



@dataclass(frozen=True)
class Method:
    """One integration method: its tableau, order and step control.

    ``adaptive``: the tableau has an embedded error estimate, so the step can be controlled
    (``controller``); a method without one (``rk4``) takes fixed steps only. ``order`` is the
    order of the solution (the controller's exponent is ``-1 / order`` for a (p, p-1) pair).
    """

    tableau: Tableau
    controller: Controller | None

    @property
    def name(self) -> str:
        return self.tableau.name

    def __post_init__(self):
        if (self.controller is not None) != (self.tableau.e is not None):
            raise ValueError(f"{self.name}: a controller needs an embedded error estimate, and one has a controller")

    @property
    def adaptive(self) -> bool:
        return self.controller is not None

    @property
    def order(self) -> int:
        return self.tableau.order


#: the one method table: name -> Method (the default method, ``tsit5``, comes first after ``rk4``)
METHODS = {m.name: m for m in (Method(RK4, None), Method(TSIT5, CONTROLLER), Method(DOPRI5, CONTROLLER))}
#: the method names, in the table's order
METHOD_NAMES = tuple(METHODS)
#: the methods that can control their step (an embedded pair)
ADAPTIVE_METHODS = tuple(n for n, m in METHODS.items() if m.adaptive)
#: name -> tableau (``dp5`` is another name of ``dopri5``)
TABLEAUS = {**{n: m.tableau for n, m in METHODS.items()}, "dp5": DOPRI5}


def method(name: str) -> Method:
    """The :class:`Method` called ``name``; an unknown name is a ``ParameterError`` listing the known ones."""
    from symbolic.errors import check_choice

    check_choice("method", name, METHOD_NAMES)
    return METHODS[name]
