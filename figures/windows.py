"""The window and the starts of a phase plane, checked once at the edge (``--window``, ``--starts``).

A window is ``((x_lo, x_hi), (y_lo, y_hi))``: two finite intervals with ``lo < hi``, each at or
above a floor where the coordinate has one (a singular value or an eigenvalue of
:math:`\\Phi\\Phi^\\top` is not negative). Starts are an ``(n, 2)`` array of finite points inside
the window, at most :data:`MAX_STARTS` of them. Every refusal is one line naming the parameter,
the allowed range and the value received.
"""
from __future__ import annotations

import math

import numpy as np

from symbolic.errors import ParameterError

#: the most trajectories drawn on a phase plane (each is a line; more hide the field)
MAX_STARTS = 50


def check_window(window, names: tuple = ("x", "y"), floors: tuple = (-math.inf, -math.inf),
                 open_floor: tuple = (False, False)) -> tuple:
    """``window`` as ``((x_lo, x_hi), (y_lo, y_hi))`` of floats, checked.

    Accepts the nested form or four numbers ``(x_lo, x_hi, y_lo, y_hi)``. ``names`` name the two
    coordinates in the message; ``floors`` are the smallest allowed ``lo`` of each (inclusive;
    excluded where ``open_floor`` is True).

    Raises
    ------
    ParameterError
        Unless the window is four finite numbers with ``floor <= lo < hi`` on each axis.

    Examples
    --------
    >>> from figures.windows import check_window
    >>> check_window([0, 2, 0.5, 1.5], names=("sigma_1", "sigma_2"), floors=(0, 0))
    ((0.0, 2.0), (0.5, 1.5))
    """
    try:
        v = [float(x) for x in np.asarray(window, dtype=float).ravel()]
    except (TypeError, ValueError):
        v = []
    if len(v) != 4 or not all(math.isfinite(x) for x in v):
        raise ParameterError(f"window must be four finite numbers {names[0]}_lo, {names[0]}_hi, {names[1]}_lo, "
                             f"{names[1]}_hi; got {window!r}")
    out = []
    for (lo, hi), name, floor, strict in zip((v[:2], v[2:]), names, floors, open_floor):
        if not ((floor < lo) if strict else (floor <= lo)) or not lo < hi:
            rng = f"{floor:g} {'<' if strict else '<='} lo < hi" if math.isfinite(floor) else "lo < hi"
            raise ParameterError(f"window range of {name} must satisfy {rng}; got ({lo:g}, {hi:g})")
        out.append((lo, hi))
    return tuple(out)


def check_starts(starts, window: tuple, names: tuple = ("x", "y")) -> np.ndarray:
    """``starts`` as an ``(n, 2)`` float array, 1 <= n <= :data:`MAX_STARTS`, every point finite
    and inside ``window`` (a checked window, :func:`check_window`).

    Raises
    ------
    ParameterError
        For another shape, too many points, a non-finite point or one outside the window.

    Examples
    --------
    >>> from figures.windows import check_starts
    >>> check_starts([[1.0, 0.5]], ((0.0, 2.0), (0.0, 2.0))).tolist()
    [[1.0, 0.5]]
    """
    try:
        a = np.asarray(starts, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError(f"starts must be points ({names[0]}, {names[1]}); got {starts!r}") from None
    a = a.reshape(1, -1) if a.ndim == 1 else a
    if a.ndim != 2 or a.shape[1] != 2 or not 1 <= len(a) <= MAX_STARTS:
        raise ParameterError(f"starts must be 1 to {MAX_STARTS} points ({names[0]}, {names[1]}); got shape "
                             f"{np.shape(starts)}")
    for i, (x, y) in enumerate(a):
        (x_lo, x_hi), (y_lo, y_hi) = window
        if not (math.isfinite(x) and math.isfinite(y) and x_lo <= x <= x_hi and y_lo <= y <= y_hi):
            raise ParameterError(f"starts must lie in the window {names[0]} in [{x_lo:g}, {x_hi:g}], {names[1]} in "
                                 f"[{y_lo:g}, {y_hi:g}]; got ({x:g}, {y:g}) at index {i}")
    return a


def spread_starts(window: tuple, fractions) -> np.ndarray:
    """Points at ``fractions`` ((fx, fy) in [0, 1]^2) of ``window``: default starts that follow it."""
    (x_lo, x_hi), (y_lo, y_hi) = window
    f = np.asarray(fractions, float)
    return np.column_stack([x_lo + f[:, 0] * (x_hi - x_lo), y_lo + f[:, 1] * (y_hi - y_lo)])
