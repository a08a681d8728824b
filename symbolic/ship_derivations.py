"""Write the shipped derivations (:mod:`symbolic.shipped`): every built-in model derived now by SymPy.

Run after editing a module the derivations come from (a test names this command)::

    python -m symbolic.ship_derivations
"""
from __future__ import annotations

import json
from pathlib import Path

from . import models
from .shipped import DATA, _read, builtin_entries, entry_hash, entry_key, sources_hash


def fresh_payloads() -> dict:
    """Every built-in derivation derived now by SymPy, as payloads (``derive(..., use_cache=False)``
    reads neither the disk cache nor the shipped data)."""
    return {entry_key(*e): models._to_disk(models.derive(*e, use_cache=False)) for e in builtin_entries()}


def regenerate(path: Path = DATA) -> Path:
    """Re-derive every built-in model and write the data file atomically; returns its path."""
    import sympy as sp

    from .files import write_text

    entries = {k: {"sha256": entry_hash(p), "payload": p} for k, p in fresh_payloads().items()}
    text = json.dumps({"sources": sources_hash(), "sympy": sp.__version__, "entries": entries},
                      sort_keys=True, indent=1)
    out = write_text(path, text + "\n", name="shipped derivations")
    _read.cache_clear()
    return out


if __name__ == "__main__":  # pragma: no cover
    print(f"wrote {regenerate()} ({len(builtin_entries())} derivations, sources {sources_hash()})")
