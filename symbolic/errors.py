"""Input validation shared by every package: one error type and small checkers.

Every checker returns the cleaned value and raises :class:`ParameterError` with one line that
names the parameter, the allowed range and the value received, e.g.
``rho must be in [0, inf); got -0.1``. The CLI turns it into ``ssldyn: error: ...`` and exit 2.
"""
from __future__ import annotations

import math
from typing import Iterable


class ParameterError(ValueError):
    """A parameter outside its allowed range (message names parameter, range and value).

    Examples
    --------
    >>> import dynamics as dy
    >>> try:
    ...     dy.L2Params(eta=-1.0)
    ... except dy.ParameterError as e:
    ...     print(e)
    eta must be in [0, inf); got -1.0
    """


class IgnoredOptionWarning(UserWarning):
    """An option given that the chosen method does not use (as ``scipy.integrate.solve_ivp`` warns
    of arguments that have no effect for the chosen solver); the CLI prints it as one line
    ``ssldyn: warning: ...``.

    Examples
    --------
    >>> import warnings
    >>> import dynamics as dy
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     res = dy.integrate("l2-byol", dy.L2Params(), [0.5], 10.0, method="rk4", rtol=1e-3)
    >>> [(w.category.__name__, str(w.message)) for w in caught]
    [('IgnoredOptionWarning', 'integrate: rtol has no effect with fixed steps (method rk4, dt 0.01); ignored')]
    """


def warn_ignored(function, given: dict, why: str) -> None:
    """Warn (:class:`IgnoredOptionWarning`) of the options in ``given`` (name -> value passed) that
    differ from ``function``'s defaults for them: ``function`` does not use them ``why`` (e.g.
    ``"with fixed steps"``). The defaults are read from its signature, never retyped."""
    import inspect
    import warnings

    sig = inspect.signature(function).parameters
    names = [k for k, v in given.items() if v != sig[k].default]
    if names:
        verb = "has" if len(names) == 1 else "have"
        warnings.warn(f"{function.__name__}: {', '.join(names)} {verb} no effect {why}; ignored",
                      IgnoredOptionWarning, stacklevel=3)


def _fmt(x: float) -> str:
    if x == math.inf:
        return "inf"
    if x == -math.inf:
        return "-inf"
    return repr(x) if isinstance(x, float) and not x.is_integer() else f"{x:g}"


def check_range(name: str, x: float, lo: float = -math.inf, hi: float = math.inf, *,
                lo_open: bool = False, hi_open: bool = True) -> float:
    """Return ``float(x)`` if ``lo <= x < hi`` (bounds' openness configurable), else raise.

    NaN is always rejected. ``hi = inf`` is open regardless of ``hi_open``.

    Parameters
    ----------
    name : str
        The parameter's name, as the message shows it.
    x : float or object convertible by ``float``
        The value to check.
    lo, hi : float, optional
        The bounds of the allowed interval (default: the whole real line).
    lo_open : bool, optional
        Exclude ``lo`` itself (default: ``lo`` is allowed).
    hi_open : bool, optional
        Exclude ``hi`` itself (the default); ``hi = inf`` is always open.

    Returns
    -------
    float
        ``float(x)``.

    Raises
    ------
    ParameterError
        If ``x`` is not a number, is NaN, or lies outside the interval; the one-line message names
        the parameter, the interval and the value received.

    Examples
    --------
    >>> import math
    >>> from symbolic import check_range
    >>> check_range("rho", 0.1, 0.0), check_range("momentum", 1, 0.0, 1.0, hi_open=False)
    (0.1, 1.0)
    >>> check_range("rho", -0.1, 0.0)
    Traceback (most recent call last):
    ...
    symbolic.errors.ParameterError: rho must be in [0, inf); got -0.1
    >>> check_range("t_end", 0.0, 0.0, math.inf, lo_open=True)
    Traceback (most recent call last):
    ...
    symbolic.errors.ParameterError: t_end must be in (0, inf); got 0.0
    >>> check_range("rho", "abc")
    Traceback (most recent call last):
    ...
    symbolic.errors.ParameterError: rho must be a number; got 'abc'
    """
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a number; got {x!r}") from None
    left = "(" if lo_open else "["
    right = ")" if (hi_open or hi == math.inf) else "]"
    # the whole line is "a finite number", not "in [-inf, inf)"
    interval = ("a finite number" if lo == -math.inf and hi == math.inf
                else f"in {left}{_fmt(lo)}, {_fmt(hi)}{right}")
    if math.isnan(v):
        raise ParameterError(f"{name} must be {interval}; got nan")
    ok_lo = v > lo if lo_open else v >= lo
    ok_hi = v < hi if (hi_open or hi == math.inf) else v <= hi
    if not (ok_lo and ok_hi) or (math.isinf(v) and not (math.isinf(lo) or math.isinf(hi))):
        raise ParameterError(f"{name} must be {interval}; got {x!r}")
    return v


def check_int(name: str, x, lo: int = 0, hi: int | None = None) -> int:
    """Return ``int(x)`` if it is an integer in ``[lo, hi]``, else raise (an int is compared exactly:
    2**63 - 1 is not rounded to the float 2**63 first)."""
    import numbers

    try:
        if isinstance(x, numbers.Integral):
            v = int(x)
        else:
            f = float(x)
            if not f.is_integer():
                raise ValueError
            v = int(f)
    except (TypeError, ValueError, OverflowError):
        raise ParameterError(f"{name} must be an integer; got {x!r}") from None
    if v < lo or (hi is not None and v > hi):
        rng = f"[{lo}, {hi}]" if hi is not None else f"[{lo}, inf)"
        raise ParameterError(f"{name} must be an integer in {rng}; got {x!r}")
    return v


def check_choice(name: str, x, choices: Iterable[str]) -> str:
    """Return ``x`` if it is one of ``choices``, else raise listing them."""
    choices = list(choices)
    if x not in choices:
        raise ParameterError(f"{name} must be one of {', '.join(choices)}; got {x!r}")
    return x
