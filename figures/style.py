"""Shared figure style: colour-blind-safe palette (Okabe-Ito), regime colours, axes and saving.

Regime colours follow the paper's three intervals: diverge, collapse, converge. Importing this
module selects no matplotlib backend: a notebook keeps its own, and ``ssldyn figure`` picks Agg
when there is no display. Files are written only by :func:`save` (atomically, through
:func:`symbolic.files.write_bytes`).
"""
from __future__ import annotations

import functools
import io
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

from symbolic.errors import ParameterError
from symbolic.files import write_bytes

#: Okabe-Ito colour-blind-safe palette
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]
#: fates of an initial condition (the background of Bao Fig. 6)
FATE_COLORS = {"diverge": "#D55E00", "collapse": "#999999", "converge": "#0072B2"}
#: regimes (codes 0..3 of dynamics.regimes)
REGIME_COLORS = {"Collapse": "#D55E00", "Acute": "#F0E442", "Stable": "#009E73", "Boundary": "#000000"}
#: the operating point marked on bifurcation diagrams and regime maps (``--mark``)
MARK_STYLE = dict(marker="*", ms=13, mfc="#CC79A7", mec="k", mew=0.8, ls="none", zorder=10)

RC = {"figure.dpi": 110, "savefig.dpi": 150, "font.size": 9, "axes.titlesize": 10, "axes.labelsize": 9,
      "legend.fontsize": 8, "axes.spines.top": False, "axes.spines.right": False,
      "axes.prop_cycle": matplotlib.cycler(color=PALETTE)}


def figure(*args, **kwargs):
    """``plt.subplots`` under the project style."""
    with plt.rc_context(RC):
        return plt.subplots(*args, **kwargs)


def styled(draw):
    """Run a draw function under the project style (rc parameters are read as artists are made)."""
    @functools.wraps(draw)
    def wrapper(*args, **kwargs):
        with plt.rc_context(RC):
            return draw(*args, **kwargs)
    return wrapper


def axes_for(ax, n: int = 1, **subplots):
    """The Figure and ``n`` Axes to draw on: ``ax`` (one Axes, or a sequence of ``n``) or, when
    ``ax`` is None, a new Figure made by :func:`figure` with ``subplots`` (nrows, ncols, figsize).

    Returns ``(fig, axes)`` with ``axes`` a flat list of length ``n``."""
    if ax is None:
        nrows, ncols = subplots.pop("nrows", 1), subplots.pop("ncols", n)
        fig, axes = figure(nrows, ncols, squeeze=False, **subplots)
        return fig, list(axes.ravel())
    axes = [ax] if hasattr(ax, "plot") else list(np.ravel(np.asarray(ax, dtype=object)))
    if len(axes) != n or not all(hasattr(a, "plot") for a in axes):
        raise ParameterError(f"ax must be {'one matplotlib Axes' if n == 1 else f'{n} matplotlib Axes'} "
                             f"(or None for a new figure); got {len(axes)} object(s)")
    return axes[0].figure, axes


def save(fig, out_dir, name: str | None = None, formats=("png", "pdf")) -> list[Path]:
    """Write ``name.png`` and ``name.pdf`` into ``out_dir`` (created); returns the paths.

    ``save(fig, "dir/x.png")`` (no ``name``) writes ``dir/x.png`` and ``dir/x.pdf``. Each figure is
    rendered into memory and written atomically (:func:`symbolic.files.write_bytes`), so a killed
    run leaves the previous file or none, never a truncated one. The figure is closed afterwards.
    """
    out = Path(out_dir)
    if name is None:
        out, name = out.parent, out.stem
    paths = []
    with plt.rc_context(RC):
        fig.tight_layout()
        for fmt in formats:
            path = out / f"{name}.{fmt}"
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt)
            write_bytes(path, buf.getvalue(), name="figure")
            paths.append(path)
    plt.close(fig)
    return paths


def target(compute, draw, stem: str):
    """A registered figure target ``fn(out_dir, fast=False, **kw) -> list[Path]``: the result of
    ``compute(fast=fast, **kw)`` drawn by ``draw`` and saved as ``stem.png`` and ``stem.pdf``."""
    def fn(out_dir, fast=False, **kw):
        return save(draw(compute(fast=fast, **kw)), out_dir, stem)
    fn.__name__ = fn.__qualname__ = stem
    fn.__doc__ = f"Registered target: :func:`{compute.__name__}` drawn by :func:`{draw.__name__}`, saved as {stem}."
    return fn
