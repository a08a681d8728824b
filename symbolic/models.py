"""Registry of models and forms, with an on-disk cache of the derived expressions.

``derive(model, form)`` returns a :class:`~symbolic.derivation.Derivation`. The first call runs
the SymPy derivation (seconds); the result is stored as ``srepr`` text under the cache directory,
keyed by a hash of this package's source and the SymPy version, so later processes load it in
milliseconds and any edit of a derivation invalidates it.
"""
from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path

import sympy as sp

from . import cosine_simsiam, l2_byol, two_layer
from .derivation import FORMS, Derivation
from .errors import ParameterError, check_choice

MODELS = {
    "cosine-simsiam": {"matrix": cosine_simsiam.matrix_form, "eigen": cosine_simsiam.eigen_form,
                       "reduced": cosine_simsiam.reduced_form},
    "cosine-simsiam-delta": {"matrix": cosine_simsiam.delta_matrix_form,
                             "eigen": cosine_simsiam.delta_eigen_form,
                             "reduced": cosine_simsiam.delta_reduced_form},
    "l2-byol": {"matrix": l2_byol.matrix_form, "eigen": l2_byol.eigen_form, "reduced": l2_byol.reduced_form},
    "two-layer": {"matrix": two_layer.matrix_form, "eigen": two_layer.eigen_form,
                  "reduced": two_layer.reduced_form},
}
CONVENTIONS = ("frobenius", "feature-norm")
#: files whose edits invalidate cached derivations and kernels
DERIVATION_SOURCES = ("gaussian.py", "derivation.py", "cosine_simsiam.py", "l2_byol.py", "two_layer.py",
                      "models.py", "printer.py", "codegen.py")
COSINE_MODELS = ("cosine-simsiam", "cosine-simsiam-delta")


def cache_dir() -> Path:
    """``$SSLDYN_CACHE_DIR``, else ``$XDG_CACHE_HOME/ssldyn``, else ``~/.cache/ssldyn``."""
    root = os.environ.get("SSLDYN_CACHE_DIR")
    if not root:
        root = os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "ssldyn")
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


@lru_cache(maxsize=1)
def source_hash() -> str:
    """Hash of the symbolic package's source files and the SymPy version."""
    h = hashlib.sha256(sp.__version__.encode())
    for name in DERIVATION_SOURCES:
        f = Path(__file__).parent / name
        h.update(name.encode())
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def validate(model: str, form: str, convention: str = "frobenius") -> None:
    check_choice("model", model, MODELS)
    check_choice("form", form, FORMS)
    check_choice("convention", convention, CONVENTIONS)
    if convention != "frobenius" and model not in COSINE_MODELS:
        raise ParameterError(f"convention must be frobenius for model {model} "
                             f"(feature-norm applies to {', '.join(COSINE_MODELS)}); got {convention!r}")


def _to_disk(d: Derivation) -> dict:
    return {"model": d.model, "form": d.form, "state": list(d.state), "params": list(d.params),
            "rhs": {k: sp.srepr(v) for k, v in d.rhs.items()},
            "invariants": {k: [sp.srepr(e), sp.srepr(r)] for k, (e, r) in d.invariants.items()},
            "equilibrium_polynomial": None if d.equilibrium_polynomial is None
            else sp.srepr(d.equilibrium_polynomial),
            "definitions": d.definitions, "notes": d.notes}


def _from_disk(obj: dict) -> Derivation:
    ns = {k: getattr(sp, k) for k in dir(sp)}
    ns["Str"] = sp.core.symbol.Str            # MatrixSymbol names

    def ev(text):
        # text written by _to_disk (srepr), never user input; it is already in canonical form,
        # so rebuilding it unevaluated is exact and skips SymPy's slow re-canonicalisation
        with sp.evaluate(False):
            return eval(text, ns)

    return Derivation(obj["model"], obj["form"], tuple(obj["state"]), tuple(obj["params"]),
                      {k: ev(v) for k, v in obj["rhs"].items()},
                      {k: (ev(e), ev(r)) for k, (e, r) in obj["invariants"].items()},
                      None if obj["equilibrium_polynomial"] is None else ev(obj["equilibrium_polynomial"]),
                      obj["definitions"], obj["notes"])


@lru_cache(maxsize=None)
def derive(model: str, form: str, convention: str = "frobenius", use_cache: bool = True) -> Derivation:
    """Derivation of ``model`` in ``form`` ('matrix', 'eigen', 'reduced')."""
    validate(model, form, convention)
    path = cache_dir() / "derivations" / f"{model}-{form}-{convention}-{source_hash()}.json"
    if use_cache and path.exists():
        try:
            return _from_disk(json.loads(path.read_text()))
        except Exception:  # a corrupt cache entry is re-derived, never trusted
            path.unlink(missing_ok=True)
    d = MODELS[model][form]()
    if convention == "feature-norm":
        d = cosine_simsiam.feature_norm_convention(d)
    if use_cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(json.dumps(_to_disk(d)))
        os.replace(tmp, path)
    return d
