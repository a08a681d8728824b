"""Parsing of grid axes NAME:LO:HI:N[:log] and ranges NAME:LO:HI for the map commands."""
from __future__ import annotations

import numpy as np

from symbolic.errors import ParameterError, check_int, check_range

from ._params import check_magnitude


def parse_axis(flag: str, text: str):
    """``NAME:LO:HI:N[:log]`` -> (name, values)."""
    parts = text.split(":")
    if len(parts) not in (4, 5) or (len(parts) == 5 and parts[4] not in ("log", "lin")):
        raise ParameterError(f"{flag} must be NAME:LO:HI:N[:log]; got {text!r}")
    name = parts[0]
    lo = check_magnitude(f"{flag} LO", check_range(f"{flag} LO", parts[1]))
    hi = check_magnitude(f"{flag} HI", check_range(f"{flag} HI", parts[2]))
    n = check_int(f"{flag} N", parts[3], lo=1, hi=100_000)
    if hi < lo:
        raise ParameterError(f"{flag} HI must be >= LO; got {text!r}")
    if len(parts) == 5 and parts[4] == "log":
        if lo <= 0:
            raise ParameterError(f"{flag} LO must be > 0 for a log axis; got {parts[1]}")
        return name, np.logspace(np.log10(lo), np.log10(hi), n)
    return name, np.linspace(lo, hi, n)


def parse_range(flag: str, text: str):
    """``NAME:LO:HI`` -> (name, lo, hi)."""
    parts = text.split(":")
    if len(parts) != 3:
        raise ParameterError(f"{flag} must be NAME:LO:HI; got {text!r}")
    lo = check_magnitude(f"{flag} LO", check_range(f"{flag} LO", parts[1]))
    hi = check_magnitude(f"{flag} HI", check_range(f"{flag} HI", parts[2]))
    if hi <= lo:
        raise ParameterError(f"{flag} HI must be > LO; got {text!r}")
    return parts[0], lo, hi
