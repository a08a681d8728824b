r"""The one loop generator: every integration loop of the project, as source text, from data.

Given the method table's entries (objects with ``name``, ``tableau`` and ``controller``;
:data:`dynamics.tableaus.METHODS`) and a kernel module's names, it writes the loops of every
path: the 1-D fixed-step, per-trajectory adaptive and lockstep-block loops
(:func:`scalar_source`), the coupled h-mode system (:func:`coupled_source`) and the matrix flow's
fixed steps (:func:`matrix_steps_source`). The parts they share (stages, error norm, step-size
controller, initial step and the one status rule) are emitted by :mod:`symbolic.loopgen.emit`,
so a change there changes every loop. ``dynamics`` writes the text to the cache directory and
imports it (numba caches the machine code); it prints no SymPy itself (the matrix right-hand
side: :func:`matrix_rhs_source`). The torch backend evaluates the same formulas on tensors
(:mod:`dynamics.stepping`'s numeric twins).
"""
from __future__ import annotations

import hashlib
from pathlib import Path

from .emit import COARSE, COARSE_FLOOR, DIVERGED, MAX_STEPS, NONFINITE  # noqa: F401
from .scalar import BLOCK, FASTMATH, scalar_source  # noqa: F401
from .systems import coupled_source, matrix_rhs_source, matrix_steps_source  # noqa: F401


def sources_digest() -> str:
    """SHA-256 (hex) of this package's sources: part of every generated module's cache key, so a
    change of the generator regenerates (and numba recompiles) the loops."""
    here = Path(__file__).parent
    return hashlib.sha256(b"".join(p.read_bytes() for p in sorted(here.glob("*.py")))).hexdigest()
