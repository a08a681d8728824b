"""Parsing of grid axes NAME:LO:HI:N[:log], ranges NAME:LO:HI for the map commands, and value
lists V1,V2,... (``--p0 0.1,0.5,1.0``)."""
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


#: most values a comma list may hold (longer sets belong in a START:STOP:N or a .npy file)
LIST_MAX = 10_000


def is_list(text: str) -> bool:
    """Whether ``text`` is a comma list or one plain number (not START:STOP:N, not a file name)."""
    return ":" not in text and not text.endswith(".npy")


def parse_list(flag: str, text: str) -> np.ndarray:
    """``V1,V2,...`` (or one value) -> a float array; each value finite, within 1e150 in magnitude."""
    parts = text.split(",")
    if len(parts) > LIST_MAX:
        raise ParameterError(f"{flag} may list at most {LIST_MAX} values; got {len(parts)} (use START:STOP:N or a .npy file)")
    out = []
    for i, v in enumerate(parts):
        if not v.strip():
            raise ParameterError(f"{flag} must be V1,V2,... (numbers), START:STOP:N or a .npy file; "
                                 f"value {i + 1} of {text!r} is empty")
        try:
            float(v)
        except ValueError:
            raise ParameterError(f"{flag} must be V1,V2,... (numbers), START:STOP:N or a .npy file; "
                                 f"value {i + 1} of {text!r} is {v.strip()!r}, not a number") from None
        out.append(check_range(f"{flag} value {i + 1}", v.strip(), -1e150, 1e150, hi_open=False))
    return np.array(out, dtype=np.float64)
