"""Sphinx configuration of the ssldyn documentation.

Build (from the repository root): ``python -m sphinx -W --keep-going -b html docs docs/_build/html``.
Sphinx with autodoc + numpydoc + MathJax renders the docstrings as they are (their equations are
``:math:`` roles); sphinx-gallery executes ``docs/examples/*.py`` and offers each as a ``.py`` and
a Jupyter notebook download; MyST parses the Markdown pages (the theory notes, the sweep config
reference).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS / "_ext"))
os.environ.setdefault("MPLBACKEND", "Agg")

import symbolic  # noqa: E402

project = "ssldyn"
author = "ssldyn developers"
copyright = "2026, ssldyn developers"
release = version = symbolic.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx.ext.intersphinx",
    "sphinx_gallery.gen_gallery",
    "ssldyn_docs",
    "ssldyn_api",
]
# MathJax from the docs extra's local copy, so the pages render their equations offline (a
# laptop on a plane, a cluster without internet); without that package, from the CDN
try:
    import importlib

    importlib.import_module("sphinx-mathjax-offline")
    extensions.append("sphinx-mathjax-offline")
except ImportError:
    pass

# "--t-end" stays two hyphens (smartquotes would print an en-dash that a shell does not accept), and
# "'" stays straight in code-like prose
smartquotes = False

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "examples", "_intersphinx", "gen_modules", "sg_execution_times.rst",
                    "phase_agreement.rst"]  # phase_agreement: included by collapse.rst
# the sweep config reference: docs/sweep_config.md when its author has written it, else the
# docstring of sims.sweep (docs/sweep_config_docstring.rst)
if (DOCS / "sweep_config.md").exists():
    exclude_patterns.append("sweep_config_docstring.rst")

myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3

# every cross-reference must resolve (``-n``): ours through the API pages (docs/_ext/ssldyn_api.py),
# numpy's, scipy's, matplotlib's, torch's and Python's through the inventories shipped in
# docs/_intersphinx/ (written by make_inventories.py: the build never touches the network)
nitpicky = True
intersphinx_mapping = {
    name: (url, str(DOCS / "_intersphinx" / f"{name}.inv"))
    for name, url in [("python", "https://docs.python.org/3/"), ("numpy", "https://numpy.org/doc/stable/"),
                      ("scipy", "https://docs.scipy.org/doc/scipy/"), ("matplotlib", "https://matplotlib.org/stable/"),
                      ("torch", "https://docs.pytorch.org/docs/stable/")]
}
intersphinx_timeout = 1

autodoc_member_order = "bysource"
autodoc_typehints = "none"            # numpydoc lists the types; signatures keep their hints
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set = set()
# the types in Parameters / Returns link where they name an object (ours or, through intersphinx,
# numpy's, matplotlib's, Python's); free words ("optional", "of", "(N,)") stay text
numpydoc_xref_param_type = True
numpydoc_xref_ignore = "all"
numpydoc_xref_aliases = {
    "ndarray": "numpy.ndarray", "numpy.ndarray": "numpy.ndarray", "np.ndarray": "numpy.ndarray",
    "Axes": "matplotlib.axes.Axes", "matplotlib.axes.Axes": "matplotlib.axes.Axes",
    "Figure": "matplotlib.figure.Figure", "matplotlib.figure.Figure": "matplotlib.figure.Figure",
    "Path": "pathlib.Path", "pathlib.Path": "pathlib.Path",
}

html_theme = "alabaster"
html_title = f"ssldyn {release}"
html_static_path: list = []
html_theme_options = {"description": "Learning dynamics of self-supervised learning", "fixed_sidebar": True,
                      "page_width": "1180px", "body_max_width": "none"}

sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": True,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "min_reported_time": 1,
    "matplotlib_animations": False,
    "reference_url": {},
    # "Examples using X" on the API pages: which example uses which public name
    "backreferences_dir": "gen_modules/backreferences",
    "doc_module": ("symbolic", "dynamics", "sims", "figures"),
}
