"""Every figure the project can draw: name -> (module, function, description).

Each function has the signature ``fn(out_dir, fast=False) -> list[pathlib.Path]`` and writes PNG
and PDF through :func:`figures.style.save`; ``fast=True`` draws a reduced version for tests.
``ssldyn figure NAME --out DIR`` looks names up here.
"""
FIGURES = {
}
