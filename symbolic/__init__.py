"""Symbolic layer: SymPy derivations of the SSL eigenvalue ODEs and the code generated from them.

Imports no other project package (data flows symbolic -> dynamics -> sims, figures).
"""
from .errors import ParameterError, check_range  # noqa: F401

__version__ = "0.1.0"
