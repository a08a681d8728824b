"""Write the Sphinx inventories (``objects.inv``, format version 2) that ``docs/conf.py`` gives
``intersphinx`` instead of downloading them: the build never touches the network.

Each lists only the outside objects our pages and docstrings refer to, at their real public
addresses (relative to the base URL in ``conf.py``). A page that refers to a new numpy, scipy,
matplotlib, torch or Python object fails the nitpicky build (``-n``) until the object is added
here and the script is run again::

    python docs/_intersphinx/make_inventories.py

Lines are ``name domain:role priority uri display`` as Sphinx writes them; a ``uri`` ending in
``$`` stands for ``uri`` + ``name``, a display of ``-`` for the name itself.
"""
from __future__ import annotations

import sys
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
from symbolic.files import write_bytes  # noqa: E402  (the project's atomic writer)

INVENTORIES = {
    "python": ("Python", "3", [
        ("None", "py:data", "library/constants.html#$"),
        ("True", "py:data", "library/constants.html#$"),
        ("False", "py:data", "library/constants.html#$"),
        ("bool", "py:class", "library/functions.html#$"),
        ("int", "py:class", "library/functions.html#$"),
        ("float", "py:class", "library/functions.html#$"),
        ("complex", "py:class", "library/functions.html#$"),
        ("str", "py:class", "library/stdtypes.html#$"),
        ("bytes", "py:class", "library/stdtypes.html#$"),
        ("dict", "py:class", "library/stdtypes.html#$"),
        ("list", "py:class", "library/stdtypes.html#$"),
        ("tuple", "py:class", "library/stdtypes.html#$"),
        ("set", "py:class", "library/stdtypes.html#$"),
        ("callable", "py:function", "library/functions.html#$"),
        ("pathlib.Path", "py:class", "library/pathlib.html#$"),
        ("dataclasses.dataclass", "py:function", "library/dataclasses.html#$"),
        ("enum.Enum", "py:class", "library/enum.html#$"),
        ("enum.IntEnum", "py:class", "library/enum.html#$"),
        ("ValueError", "py:exception", "library/exceptions.html#$"),
        ("UserWarning", "py:exception", "library/exceptions.html#$"),
        ("KeyboardInterrupt", "py:exception", "library/exceptions.html#$"),
        ("SystemExit", "py:exception", "library/exceptions.html#$"),
        ("argparse.ArgumentParser", "py:class", "library/argparse.html#$"),
        ("iterable", "std:term", "glossary.html#term-iterable"),
        ("sequence", "std:term", "glossary.html#term-sequence"),
        ("mapping", "std:term", "glossary.html#term-mapping"),
        ("generator", "std:term", "glossary.html#term-generator"),
        ("bltin-boolean-values", "std:label", "library/stdtypes.html#$", "Boolean Type - bool"),
    ]),
    "numpy": ("NumPy", "stable", [
        ("numpy.ndarray", "py:class", "reference/generated/numpy.ndarray.html#$"),
        ("numpy.random.default_rng", "py:function", "reference/random/generator.html#$"),
        ("numpy.random.Generator", "py:class", "reference/random/generator.html#$"),
        ("numpy.random.RandomState", "py:class", "reference/random/legacy.html#$"),
        ("numpy.savez", "py:function", "reference/generated/numpy.savez.html#$"),
        ("numpy.load", "py:function", "reference/generated/numpy.load.html#$"),
        *[(f"numpy.{f}", "py:function", f"reference/generated/numpy.{f}.html#$")
          for f in ("linspace", "arange", "array", "column_stack", "full", "ones", "zeros", "mean", "nanmax",
                    "repeat", "sqrt", "tile", "where", "linalg.eigvalsh", "isfinite", "median")],
        *[(f"numpy.random.Generator.{m}", "py:method", f"reference/random/generated/numpy.random.Generator.{m}.html#$")
          for m in ("normal", "uniform", "standard_normal")],
        ("numpy.inf", "py:data", "reference/constants.html#$"),
        ("numpy.nan", "py:data", "reference/constants.html#$"),
        ("numpy.dtype", "py:class", "reference/generated/numpy.dtype.html#$"),
        ("array_like", "std:term", "glossary.html#term-array_like"),
        ("arrays.scalars", "std:label", "reference/arrays.scalars.html#$", "Scalars"),
    ]),
    "scipy": ("SciPy", "stable", [
        ("scipy.integrate.solve_ivp", "py:function", "reference/generated/scipy.integrate.solve_ivp.html#$"),
        ("scipy.optimize.brentq", "py:function", "reference/generated/scipy.optimize.brentq.html#$"),
    ]),
    "matplotlib": ("Matplotlib", "stable", [
        ("matplotlib.figure.Figure", "py:class", "api/_as_gen/matplotlib.figure.Figure.html#$"),
        ("matplotlib.axes.Axes", "py:class", "api/_as_gen/matplotlib.axes.Axes.html#$"),
        *[(f"matplotlib.pyplot.{f}", "py:function", f"api/_as_gen/matplotlib.pyplot.{f}.html#$")
          for f in ("subplots", "show", "figure", "close")],
        *[(f"matplotlib.figure.Figure.{m}", "py:method", "api/_as_gen/matplotlib.figure.Figure.html#$")
          for m in ("savefig", "colorbar", "suptitle", "legend", "add_subplot")],
        *[(f"matplotlib.axes.Axes.{m}", "py:method", f"api/_as_gen/matplotlib.axes.Axes.{m}.html#$")
          for m in ("plot", "scatter", "legend", "set_title", "set_xlabel", "set_ylabel", "set_xlim", "set_ylim",
                    "set_xscale", "set_yscale", "axhline", "axvline", "pcolormesh", "contour", "fill_between",
                    "annotate", "text")],
        *[(f"matplotlib.colors.{c}", "py:class", f"api/_as_gen/matplotlib.colors.{c}.html#$")
          for c in ("Colormap", "ListedColormap", "Normalize", "LogNorm")],
    ]),
    "torch": ("PyTorch", "stable", [
        ("torch.nn.Module", "py:class", "generated/torch.nn.Module.html#$"),
        ("torch.Tensor", "py:class", "tensors.html#$"),
        ("torch.device", "py:class", "tensor_attributes.html#$"),
        ("torch.Generator", "py:class", "generated/torch.Generator.html#$"),
        ("torch.compile", "py:function", "generated/torch.compile.html#$"),
        ("torch.load", "py:function", "generated/torch.load.html#$"),
        ("torch.nn.parallel.DistributedDataParallel", "py:class",
         "generated/torch.nn.parallel.DistributedDataParallel.html#$"),
    ]),
}


def inventory_bytes(project: str, version: str, entries) -> bytes:
    """An ``objects.inv`` (version 2) holding ``entries`` ``(name, domain:role, uri[, display])``."""
    header = (f"# Sphinx inventory version 2\n# Project: {project}\n# Version: {version}\n"
              "# The remainder of this file is compressed using zlib.\n").encode()
    lines = []
    for name, kind, uri, *display in entries:
        priority = "-1" if kind.startswith("std:") else "1"
        lines.append(f"{name} {kind} {priority} {uri} {display[0] if display else '-'}\n")
    return header + zlib.compress("".join(lines).encode())


def main(out: Path = HERE) -> int:
    for name, (project, version, entries) in INVENTORIES.items():
        write_bytes(out / f"{name}.inv", inventory_bytes(project, version, entries), name="inventory")
    return 0


if __name__ == "__main__":
    sys.exit(main())
