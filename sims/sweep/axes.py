r"""The line-naming errors of sweep configs, and their axes: a list, ``{lo, hi, n, log}``, or seeded
random draws ``{random = "uniform", lo, hi, n, seed}``.

Every error is a :class:`ConfigError` of one line, ``FILE:LINE: section.key: what is wrong``.
An axis of ``n`` values is :math:`\mathrm{linspace}(lo, hi, n)`, :math:`10^{\mathrm{linspace}(\log_{10} lo,
\log_{10} hi, n)}` with ``log = true``, or ``n`` draws of :math:`U[lo, hi)` from
``numpy.random.default_rng(seed)`` (PCG64; the values are also recorded in the manifest).
"""
from __future__ import annotations

import json
import math
import re

import numpy as np

from symbolic.errors import ParameterError
from symbolic.files import check_memory

#: the most points a sweep may have (an axis of more values is refused before it is made)
MAX_POINTS = 10**9
#: the distributions of random axes
RANDOM = ("uniform",)
RANDOM_FIELDS = ("random", "lo", "hi", "n", "seed")

_TOML_TYPE = {str: "a string", int: "an integer", float: "a number", dict: "a table", list: "an array",
              bool: "a boolean"}


def toml_type(value) -> str:
    """How TOML calls ``value``'s type, or the type ``value`` (for messages)."""
    t = value if isinstance(value, type) else type(value)
    return _TOML_TYPE.get(t, t.__name__)


class ConfigError(ParameterError):
    """A malformed sweep configuration (the message names the key and its line)."""


def line_of(text: str, key: str, section: str | None = None) -> int:
    """Line number (1-based) of ``key = ...`` inside ``[section]`` (top level if None); 0 if unknown."""
    current = None
    for i, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        m = re.match(r"^\[([^\]]+)\]$", s)
        if m:
            current = m.group(1).strip()
            continue
        if current == section and re.match(rf"^{re.escape(key)}\s*=", s):
            return i
    return 0


def section_line(text: str, section: str) -> int:
    """Line number (1-based) of the ``[section]`` header; 0 if absent."""
    return next((i for i, ln in enumerate(text.splitlines(), 1) if re.match(rf"^\[\s*{re.escape(section)}\s*\]$", ln.strip())), 0)


def key_error(text, path, key, section, msg) -> ConfigError:
    """``FILE:LINE: section.key: msg`` (the line of ``key`` in ``[section]``; no line if not found)."""
    line = line_of(text, key, section)
    where = f"{path}:{line}" if line else str(path)
    name = f"{section}.{key}" if section else key
    return ConfigError(f"{where}: {name}: {msg}")


def is_number(v) -> bool:
    """A TOML integer or float (not a boolean)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def parse_axis(text, path, section, key, spec, *, random: bool = False) -> np.ndarray:
    """The values of axis ``section.key`` from its TOML ``spec``; ``random`` allows seeded draws."""
    if isinstance(spec, list):
        if not spec or not all(is_number(v) and math.isfinite(v) for v in spec):
            raise key_error(text, path, key, section, "must be a non-empty list of finite numbers")
        return np.asarray(spec, dtype=np.float64)
    if isinstance(spec, dict) and "random" in spec:
        if not random:
            raise key_error(text, path, key, section, "random values are for [initial] only")
        return random_axis(text, path, section, key, spec)
    if isinstance(spec, dict):
        unknown = set(spec) - {"lo", "hi", "n", "log"}
        if unknown:
            raise key_error(text, path, key, section, f"unknown field {sorted(unknown)[0]!r} (allowed: lo, hi, n, log)")
        if not {"lo", "hi", "n"} <= set(spec):
            raise key_error(text, path, key, section, "needs numbers lo, hi and an integer n")
        lo, hi, n, log = spec["lo"], spec["hi"], spec["n"], spec.get("log", False)
        _check_lo_hi_n(text, path, section, key, lo, hi, n)
        if not isinstance(log, bool):
            raise key_error(text, path, key, section, f"log must be true or false; got {log!r}")
        lo, hi = float(lo), float(hi)
        if log:
            if lo <= 0 or hi <= 0:
                raise key_error(text, path, key, section, "a log axis needs lo > 0 and hi > 0")
            return np.logspace(math.log10(lo), math.log10(hi), n)
        return np.linspace(lo, hi, n)
    extra = " or {random, lo, hi, n, seed}" if random else ""
    raise key_error(text, path, key, section, f"must be a list or a table {{lo, hi, n, log}}{extra}")


def axis_length(spec) -> int | None:
    """The number of values an axis ``spec`` declares (a list's length, a table's ``n``), or None
    when it declares none that is valid (:func:`parse_axis` then says what is wrong)."""
    if isinstance(spec, list):
        return len(spec)
    n = spec.get("n") if isinstance(spec, dict) else None
    return n if isinstance(n, int) and not isinstance(n, bool) and n >= 1 else None


def _check_lo_hi_n(text, path, section, key, lo, hi, n):
    for name, v in (("lo", lo), ("hi", hi)):
        if not is_number(v) or not math.isfinite(v):
            raise key_error(text, path, key, section, f"{name} must be a finite number; got {v!r}")
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise key_error(text, path, key, section, f"n must be an integer >= 1; got {n!r}")
    if n > MAX_POINTS:
        raise key_error(text, path, key, section, f"n = {n} is over the limit of {MAX_POINTS} points per sweep")


def random_axis(text, path, section, key, spec: dict) -> np.ndarray:
    r"""``n`` seeded draws of :math:`U[lo, hi)` (``random = "uniform"``), in the order drawn."""
    unknown = set(spec) - set(RANDOM_FIELDS)
    if unknown:
        raise key_error(text, path, key, section,
                        f"unknown field {sorted(unknown)[0]!r} (allowed: {', '.join(RANDOM_FIELDS)})")
    if spec["random"] not in RANDOM:
        raise key_error(text, path, key, section, f"random must be one of {', '.join(RANDOM)}; got {spec['random']!r}")
    missing = [f for f in RANDOM_FIELDS if f not in spec]
    if missing:
        raise key_error(text, path, key, section, f"random values need {', '.join(missing)} "
                        "(numbers lo < hi, an integer n >= 1 and an integer seed >= 0)")
    lo, hi, n, seed = spec["lo"], spec["hi"], spec["n"], spec["seed"]
    _check_lo_hi_n(text, path, section, key, lo, hi, n)
    if not lo < hi:
        raise key_error(text, path, key, section, f"random values need lo < hi; got lo = {lo!r}, hi = {hi!r}")
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed < 2**63:
        raise key_error(text, path, key, section, f"seed must be an integer in [0, 2**63); got {seed!r}")
    return np.random.default_rng(seed).uniform(float(lo), float(hi), n)


def check_sizes(text, path, raw, needs_initial: bool):
    """Refuse (naming the largest axis) a sweep over the point limit, or whose axes would not fit in
    memory, from the lengths the axes declare: before any axis is made."""
    specs = [(k, "grid", v) for k, v in raw["grid"].items()] if isinstance(raw["grid"], dict) else []
    if needs_initial and isinstance(raw.get("initial"), dict):
        specs += [(k, "initial", v) for k, v in raw["initial"].items()]
    declared = [(axis_length(v), k, sec) for k, sec, v in specs]
    sizes = [(n, k, sec) for n, k, sec in declared if n is not None]
    if not sizes:
        return
    n_points = math.prod(n for n, _, _ in sizes)
    _, key, section = max(sizes)
    if n_points > MAX_POINTS:
        dims = " x ".join(str(n) for n, _, _ in sizes)
        raise key_error(text, path, key, section, f"the sweep has {n_points:.3g} points ({dims}), over the limit of "
                        f"{MAX_POINTS:.0e}; use fewer values along the axes")
    try:                                  # the axes' values, and a copy made while they are checked
        check_memory("the axes of the sweep", 16.0 * sum(n for n, _, _ in sizes))
    except ParameterError as e:
        raise key_error(text, path, key, section, str(e)) from None


def hash_lists(h, items, named: bool, block: int = 1 << 16):
    """Feed ``h`` the JSON of ``[[name, [v, ...]], ...]`` (``named``) or of the one list ``[v, ...]``,
    as ``json.dumps`` writes it, a block of values at a time."""
    def values(v):
        h.update(b"[")
        for lo in range(0, len(v), block):
            h.update(((", " if lo else "") + ", ".join(map(float.__repr__, v[lo:lo + block].tolist()))).encode())
        h.update(b"]")

    if not named:
        values(items[0])
        return
    h.update(b"[")
    for j, (name, v) in enumerate(items):
        h.update(((", " if j else "") + "[" + json.dumps(name) + ", ").encode())
        values(v)
        h.update(b"]")
    h.update(b"]")
