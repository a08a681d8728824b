"""Packages whose public names load on first use: ``EXPORTS = {name: "module:attribute"}``.

Used by the four packages' ``__init__`` so that ``import dynamics`` (or symbolic, figures, sims)
imports nothing heavy and never torch.
"""
from __future__ import annotations

import importlib
import sys
import types


def resolve(exports: dict, name: str):
    """The object ``exports[name]`` names (``"module:attribute"``), imported now."""
    module, _, attr = exports[name].partition(":")
    return getattr(importlib.import_module(module), attr)


class LazyPackage(types.ModuleType):
    """A package whose ``EXPORTS`` load on first use (PEP 562 semantics on the module's class).

    A public name equal to its submodule's (``dynamics.integrate`` is the function ``integrate``
    of the module ``dynamics.integrate``) stays the function: the import system binds a freshly
    loaded submodule to the package attribute of that name, and :meth:`__setattr__` binds the
    submodule's function there instead.
    """

    def __getattr__(self, name: str):
        exports = self.__dict__.get("EXPORTS", {})
        if name not in exports:
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        obj = resolve(exports, name)
        super().__setattr__(name, obj)
        return obj

    def __setattr__(self, name: str, value):
        exports = self.__dict__.get("EXPORTS", {})
        if isinstance(value, types.ModuleType) and name in exports and exports[name].partition(":")[0] == value.__name__:
            value = getattr(value, exports[name].partition(":")[2], value)   # absent: the module stays
        super().__setattr__(name, value)

    def __dir__(self):
        return sorted(set(self.__dict__) | set(self.__dict__.get("EXPORTS", {})))


def make_lazy(module_name: str) -> None:
    """Turn the (initialising) package ``module_name`` into a :class:`LazyPackage`."""
    sys.modules[module_name].__class__ = LazyPackage
