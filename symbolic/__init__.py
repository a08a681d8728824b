"""Symbolic layer: SymPy derivations of the SSL eigenvalue ODEs and the code generated from them.

Imports no other project package (data flows symbolic -> dynamics -> sims, figures). The model
registry's entry points are importable from here: ``from symbolic import register_model``.
"""
from .errors import ParameterError, check_range  # noqa: F401

__version__ = "0.1.0"

#: names served lazily from the registry (importing it loads numpy, not SymPy)
_REGISTRY_NAMES = ("register_model", "get_model", "model_names", "field_name", "load_model_file")


def __getattr__(name):
    if name in _REGISTRY_NAMES:
        from . import registry

        return getattr(registry, name)
    raise AttributeError(f"module 'symbolic' has no attribute {name!r}")
