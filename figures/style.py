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
    kwargs.setdefault("layout", "constrained")     # nothing clipped, also by a plain fig.savefig
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
        The figure to write, then closed. A figure without a layout engine (not made by
        :func:`figure`) is laid out with ``tight_layout``; every format is written with
        ``bbox_inches="tight"``, so no text outside the axes (an outside legend, a caption) is cut.
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
        if fig.get_layout_engine() is None:
            fig.tight_layout()
        for fmt in formats:
            path = out / f"{name}.{fmt}"
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt, bbox_inches="tight", pad_inches=0.04)
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


#: how a parameter's name is written in a caption (a name not here is written as it is)
SYMBOLS = {"rho": r"$\rho$", "sigma2": r"$\sigma^2$", "n_phi": r"$N_\Phi$", "n_psi": r"$N_\Psi$", "trace": "$T$",
           "eta": r"$\eta$", "tau": r"$\tau$", "alpha_p": r"$\alpha_p$", "beta": r"$\beta$", "lam": r"$\lambda$",
           "K": "$K$"}


def number(v) -> str:
    """A parameter value as the captions write it: four significant digits (``{:.4g}``)."""
    return f"{float(v):.4g}"


def params_caption(params, skip=(), names: dict | None = None) -> str:
    r"""The fields of a parameter dataclass (or a dict of them) as a caption, ``$\rho$=0.01, $\sigma^2$=0.5, ...``.

    Every field is stated, defaults included, except those in ``skip`` (a field the figure states
    elsewhere, e.g. the swept axis); values through :func:`number`. ``names`` overrides
    :data:`SYMBOLS` for a field."""
    table = {**SYMBOLS, **(names or {})}
    fields = params if isinstance(params, dict) else params.to_dict()
    items = [(k, v) for k, v in fields.items() if k not in skip]
    return ", ".join(f"{table.get(k, k.replace('_', ' '))}={number(v)}" for k, v in items)


def caption(fig, text: str, size: float = 7.5):
    """State ``text`` (the parameters a figure used) under the figure's title line: as the
    suptitle of a figure with a layout engine (constrained layout keeps it inside), else as a
    figure text at the top; returns the Text."""
    return fig.suptitle(text, fontsize=size)


def mark_equilibrium(ax, x, y, stability: str, ms: float = 6, **kw):
    """One equilibrium marker: filled (stable), grey (semi-stable) or open (unstable), tagged with
    ``gid=stability``; stable points are drawn above the others (zorder 7 against 6), so an
    unstable point never hides a stable one it overlaps."""
    face = {"stable": "k", "semi-stable": "0.6"}.get(stability, "w")
    z = {"stable": 7.0, "semi-stable": 6.5}.get(stability, 6.0)
    opts = dict(marker="o", ms=ms, mfc=face, mec="k", ls="none", zorder=z, gid=stability)
    opts.update(kw)
    return ax.plot(np.atleast_1d(x), np.atleast_1d(y), **opts)[0]


CORNERS = ("upper left", "upper right", "lower left", "lower right", "center left", "center right",
           "upper center", "lower center")


def free_legend(ax, handles=None, order=CORNERS, **kw):
    """``ax.legend`` in the first of ``order``'s locations whose box covers no plotted marker and
    no line vertex, judged on the drawn figure in pixels; outside the Axes, on its right (inside
    the figure under constrained layout), when every corner is taken. ``loc="best"`` only weighs line vertices and scans slowly."""
    fig = ax.figure
    fig.canvas.draw()
    marks, verts = _display_points(ax)
    leg = None
    for loc in order:
        leg = ax.legend(handles=handles, loc=loc, **kw) if handles is not None else ax.legend(loc=loc, **kw)
        fig.canvas.draw()
        box = leg.get_window_extent()
        if not _inside(box, marks).any() and _inside(box, verts).sum() == 0:
            return leg
    args = dict(kw, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0, frameon=False)
    return ax.legend(handles=handles, **args) if handles is not None else ax.legend(**args)


def _inside(box, pts, pad=1.0):
    return (pts[:, 0] > box.x0 - pad) & (pts[:, 0] < box.x1 + pad) & (pts[:, 1] > box.y0 - pad) & (pts[:, 1] < box.y1 + pad)


def _display_points(ax):
    """Pixels of the markers / scatter points and of the marker-less line vertices on ``ax``."""
    from matplotlib.collections import PathCollection

    marks, verts = [np.empty((0, 2))], [np.empty((0, 2))]
    for art in ax.lines:
        if art.get_visible() and len(art.get_xdata()):
            xy = art.get_transform().transform(np.column_stack([np.asarray(a, float) for a in art.get_data()]))
            if art.get_marker() not in (None, "None", "", " "):
                marks.append(xy)
            if art.get_linestyle() not in ("None", "", " "):
                verts.append(densify(xy))
    for c in ax.collections:
        if isinstance(c, PathCollection) and c.get_visible() and len(c.get_offsets()):
            marks.append(c.get_offset_transform().transform(np.asarray(c.get_offsets(), float)))
    return tuple(np.concatenate([p[np.all(np.isfinite(p), axis=1)] for p in ps]) for ps in (marks, verts))


def densify(xy: np.ndarray, step: float = 2.0) -> np.ndarray:
    """Points along the polyline ``xy`` (pixels) at most ``step`` pixels apart: a legend over the
    middle of a long segment (an ``axhline`` has two vertices) covers some of them."""
    xy = xy[np.all(np.isfinite(xy), axis=1)] if len(xy) else xy
    if len(xy) < 2:
        return xy
    out = [xy[:1]]
    for a, b in zip(xy[:-1], xy[1:]):
        k = max(1, min(int(np.hypot(*(b - a)) / step), 5000))
        out.append(a + (b - a) * (np.arange(1, k + 1)[:, None] / k))
    return np.concatenate(out)
