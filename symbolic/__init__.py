"""Symbolic layer: SymPy derivations of the SSL eigenvalue ODEs and the code generated from them.

Imports no other project package (data flows symbolic -> dynamics -> sims, figures). The public
names below load on first use (``from symbolic import register_model`` imports the registry, not
SymPy).
"""
from __future__ import annotations

from .errors import ParameterError, check_range  # noqa: F401
from .lazy import make_lazy

__version__ = "0.1.0"

#: public name -> "module:attribute"
EXPORTS = {
    "derive": "symbolic.models:derive",
    "Derivation": "symbolic.derivation:Derivation",
    "load_kernels": "symbolic.codegen:load_kernels",
    "ParameterError": "symbolic.errors:ParameterError",
    "IgnoredOptionWarning": "symbolic.errors:IgnoredOptionWarning",
    "check_range": "symbolic.errors:check_range",
    "check_gradient": "symbolic.gradient_check:check_gradient",
    "register_model": "symbolic.user_models:register_model",
    "get_model": "symbolic.registry:get_model",
    "model_names": "symbolic.registry:model_names",
    "field_name": "symbolic.registry:field_name",
    "load_model_file": "symbolic.model_files:load_model_file",
    "ModelSpec": "symbolic.registry:ModelSpec",
    "Model": "symbolic.model:Model",
    "as_model": "symbolic.model:as_model",
    "Status": "symbolic.results:Status",
    "Result": "symbolic.results:Result",
}

__all__ = sorted(EXPORTS)

make_lazy(__name__)
