"""The built-in models' derivations, shipped with the package as verified data (cold start).

A new user's first command would otherwise spend seconds of CPU in SymPy deriving the model it
uses. ``symbolic/data/derivations.json`` holds every built-in (model, form, convention) as the
derivation cache's own payload (``srepr`` text, :func:`symbolic.models.parse_srepr` rebuilds it
from an allowlist of SymPy classes: nothing in the file is executed), with

* ``sources``: the SHA-256 of the package's modules (the files of
  :data:`symbolic.models.DERIVATION_SOURCES`) the data was derived from; after any edit of a
  module the data no longer applies and :func:`payload` returns None, so ``derive`` derives;
* ``sha256``: per entry, the hash of its payload (a damaged entry is not used).

``tests/test_tooling.py`` re-derives every entry and compares, and fails on stale data naming the
command that regenerates it::

    python -m symbolic.ship_derivations     # re-derive every built-in model and rewrite the file

This module imports no other module of the package at import time (``symbolic.models`` imports it
lazily); writing the file is :mod:`symbolic.ship_derivations`, which derives with ``symbolic.models``.
"""
from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path

#: the shipped data, a package data file (setup.cfg ``package_data``)
DATA = Path(__file__).parent / "data" / "derivations.json"


@lru_cache(maxsize=1)
def sources_hash() -> str:
    """SHA-256 (16 hex digits) of every module of the ``symbolic`` package, by name and content.

    The same files as :data:`symbolic.models.DERIVATION_SOURCES` (every ``*.py`` of the package);
    unlike the cache key it leaves out the SymPy version: the data is checked against the
    derivation by the tests, and parses into the same expressions under any SymPy with these classes.
    """
    h = hashlib.sha256()
    for f in sorted(Path(__file__).parent.glob("*.py")):
        h.update(f.name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def entry_key(model: str, form: str, convention: str) -> str:
    """The entry name of a derivation in the data file: ``model/form/convention``."""
    return f"{model}/{form}/{convention}"


def entry_hash(payload: dict) -> str:
    """SHA-256 of an entry's payload as canonical JSON."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


@lru_cache(maxsize=1)
def _read() -> dict:
    try:
        data = json.loads(DATA.read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) and data.get("sources") == sources_hash() else {}


def payload(model: str, form: str, convention: str) -> dict | None:
    """The shipped payload of a built-in derivation, or None.

    None when the data file is missing or unreadable, was derived from other sources than the
    package's present modules, has no such entry, or the entry's hash does not match.

    Parameters
    ----------
    model, form, convention : str
        As :func:`symbolic.models.derive` takes them.

    Returns
    -------
    dict or None
        The derivation cache's payload (``symbolic.models._from_disk`` rebuilds the derivation).
    """
    entries = _read().get("entries", {})
    entry = entries.get(entry_key(model, form, convention)) if isinstance(entries, dict) else None
    if not isinstance(entry, dict) or entry_hash(entry.get("payload")) != entry.get("sha256"):
        return None
    return entry["payload"]


def builtin_entries() -> list[tuple[str, str, str]]:
    """Every (model, form, convention) of the built-in models (user models are not shipped)."""
    from .registry import get_model, model_names

    return [(m, f, c) for m in model_names() if not get_model(m).user
            for f in get_model(m).forms for c in get_model(m).conventions]
