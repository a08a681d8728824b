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
from typing import TYPE_CHECKING

import matplotlib
import matplotlib.pyplot as plt
import numpy as np

from symbolic.errors import ParameterError
from symbolic.files import write_bytes

if TYPE_CHECKING:
    from matplotlib.figure import Figure

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


def figure(*args, **kwargs) -> tuple:
    """``plt.subplots`` under the project style.

    The style (``RC``: font sizes, no top and right spines, the Okabe-Ito colour cycle of
    ``PALETTE``) applies to the Figure and Axes made here; nothing else is changed.

    Parameters
    ----------
    *args
        Passed to ``matplotlib.pyplot.subplots`` (``nrows``, ``ncols``).
    **kwargs
        Passed to ``matplotlib.pyplot.subplots`` (``figsize``, ``squeeze``, ``sharex``, ...).

    Returns
    -------
    tuple
        ``(fig, ax)`` as ``plt.subplots`` returns them: the Figure and one Axes or an array of them.

    See Also
    --------
    save : write a Figure as PNG and PDF.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from figures import figure
    >>> fig, axs = figure(1, 2, figsize=(6, 3))
    >>> axs.shape, axs[0].spines["top"].get_visible()
    ((2,), False)
    >>> plt.close(fig)
    """
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


def save(fig: Figure, out_dir: str | Path, name: str | None = None,
         formats: tuple[str, ...] = ("png", "pdf")) -> list[Path]:
    """Write ``name.png`` and ``name.pdf`` into ``out_dir`` (created); returns the paths.

    ``save(fig, "dir/x.png")`` (no ``name``) writes ``dir/x.png`` and ``dir/x.pdf``. Each figure is
    rendered into memory and written atomically (:func:`symbolic.files.write_bytes`), so a killed
    run leaves the previous file or none, never a truncated one. The figure is closed afterwards.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        The figure to write (laid out with ``tight_layout`` under the project style, then closed).
    out_dir : str or pathlib.Path
        The folder to write into, created with its parents if missing; with ``name`` None, the path
        of the file instead, whose suffix is replaced by each format's.
    name : str, optional
        The file name without suffix; default: the stem of ``out_dir``.
    formats : tuple of str, optional
        The formats (and suffixes) to write, any that ``Figure.savefig`` knows; default PNG and PDF.

    Returns
    -------
    list of pathlib.Path
        The written files, one per format, in the order of ``formats``.

    Raises
    ------
    ParameterError
        When a target path cannot be written (a directory or a device is in its place, or the
        folder is not writable).

    Examples
    --------
    >>> import tempfile
    >>> import matplotlib.pyplot as plt
    >>> from figures import figure, save
    >>> fig, ax = figure()
    >>> _ = ax.plot([0, 1], [0, 1])
    >>> with tempfile.TemporaryDirectory() as d:
    ...     paths = save(fig, d, "line")
    ...     print([p.name for p in paths], all(p.stat().st_size > 0 for p in paths))
    ['line.png', 'line.pdf'] True
    >>> plt.fignum_exists(fig.number)                  # save closed it
    False
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
    """A figure target ``fn(out_dir, fast=False, **kw) -> list[Path]``: the result of
    ``compute(fast=fast, **kw)`` drawn by ``draw`` and saved as ``stem.png`` and ``stem.pdf``.
    :func:`figures.registry.registered` makes the exported targets from it and writes their
    docstrings."""
    def fn(out_dir: str | Path, fast: bool = False, **kw) -> list[Path]:
        return save(draw(compute(fast=fast, **kw)), out_dir, stem)
    fn.__name__ = fn.__qualname__ = stem
    return fn
