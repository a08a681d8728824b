"""Regime maps: Collapse / Acute / Stable / Boundary over a parameter plane, with continued fold
curves and optionally the user's operating point overlaid (Bao 2023 Fig. 3 generalised to any two
parameters; :func:`dynamics.regimes.regime_map`, :func:`dynamics.continuation.saddle_node_curve`)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .operating_point import OperatingPoint, draw_on_map, operating_point, widen
from .registry import PLANES, registered
from .style import REGIME_COLORS, axes_for, free_legend, params_caption, save, styled

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from dynamics.continuation import FoldCurve
    from dynamics.regimes import RegimeMap

LABELS = {"rho": r"weight decay $\rho$", "eta": r"weight decay $\eta$", "sigma2": r"augmentation $\sigma^2$",
          "n_phi": r"$N_\Phi=\|\Phi\|_F$", "n_psi": r"$N_\Psi=\|W\Phi\|_F$", "trace": r"$T=\mathrm{tr}(W\Phi\Phi^\top)$",
          "tau": r"$\tau$", "alpha_p": r"$\alpha_p$"}


def _is_log(v):
    v = np.asarray(v, float)
    return v.size > 2 and v.min() > 0 and np.allclose(np.diff(np.log(v)), np.log(v[1] / v[0]), rtol=1e-6)


def map_axes(model: str):
    """The default plane of ``model``'s regime map (:data:`PLANES`)."""
    from symbolic.errors import ParameterError

    if model not in PLANES:
        raise ParameterError(f"model must be one of {', '.join(PLANES)} for the regime-map figure; got {model!r}")
    return PLANES[model]


def default_map_params(model: str = "cosine-simsiam"):
    """Norms of the order of an initialised d = h = 512 model (theory notes sec. 8) for the cosine
    map (sigma2 = 0.5, N_Phi = 20, T = 0); the dataclass defaults otherwise."""
    from dynamics.params import CosineParams, params_class

    return CosineParams(n_phi=20.0, trace=0.0) if model == "cosine-simsiam" else params_class(model)()


@dataclass(frozen=True, eq=False)
class RegimeFigure:
    """A regime map, its fold curve (or None) and the marked operating point (or None)."""

    map: object                 # dynamics.regimes.RegimeMap
    folds: object | None = None  # dynamics.continuation.FoldCurve
    point: OperatingPoint | None = None

    @property
    def SWEPT(self) -> tuple:
        """The plane's two fields: they vary along the axes (the mark's values are in its legend entry)."""
        return (self.map.x_name, self.map.y_name)


def compute_regime_map(params: object | None = None, fast: bool = False, mark: dict | None = None) -> RegimeFigure:
    r"""Regimes of ``params.MODEL`` over its plane (:func:`map_axes`, widened to hold the mark) at the
    other fields of ``params`` (default :func:`default_map_params`), with the continued fold.

    The plane is ``PLANES``' (cosine: :math:`\rho\in[10^{-4},10^{-1}]` by
    :math:`N_\Psi\in[0.1,20]`; L2: :math:`\eta` by :math:`\sigma^2`), log-spaced; each axis is
    widened to hold the mark with a factor 2 of margin. The fold curve is None when no fold
    crosses the box.

    Parameters
    ----------
    params : parameter dataclass, optional
        The model and the fields held fixed (the two plane fields in it are the mark's defaults);
        its ``MODEL`` must have a default plane (``cosine-simsiam`` or ``l2-byol``). Default:
        :func:`default_map_params`, ``CosineParams(n_phi=20.0, trace=0.0)``.
    fast : bool, optional
        80 x 80 grid points instead of 400 x 400 (for tests).
    mark : dict, optional
        An operating point to draw, ``{field: value}`` (:func:`operating_point`); a field off the
        plane must keep the value of ``params``.

    Returns
    -------
    RegimeFigure
        ``map`` (:class:`dynamics.regimes.RegimeMap`), ``folds``
        (:class:`dynamics.continuation.FoldCurve` or None) and ``point`` (:class:`OperatingPoint`
        or None).

    Raises
    ------
    ParameterError
        For a model without a default plane, or a ``mark`` that is unknown or off the plane.

    See Also
    --------
    draw_regime_figure : draw the result.
    dynamics.regimes.regime_map : the map on any grid.

    Notes
    -----
    For Bao eq. 7 at :math:`T=0` the critical decay is
    :math:`\rho_c=\tfrac45\,10^{-1/4}N_\Psi^{-1/2}/((1+\sigma^2)N_\Phi)`
    (:math:`K_c=-\min_{p>0}(2p^5-N_\Psi^2p)`), so on the default plane
    (:math:`\sigma^2=0.5`, :math:`N_\Phi=20`) the fold is the line
    :math:`\rho\sqrt{N_\Psi}=0.0150`: Acute below it, Collapse above.

    Examples
    --------
    >>> import numpy as np
    >>> from figures import compute_regime_map
    >>> res = compute_regime_map(fast=True, mark={"rho": 0.02})
    >>> m = res.map
    >>> m.x_name, m.y_name, m.regime.shape, m.fixed
    ('rho', 'n_psi', (80, 80), {'sigma2': 0.5, 'n_phi': 20.0, 'trace': 0.0})
    >>> np.unique(m.regime).tolist()                     # 0 Collapse, 1 Acute
    [0, 1]
    >>> round(float(np.median(res.folds.x * np.sqrt(res.folds.y))), 4)     # rho_c * sqrt(N_Psi)
    0.015
    >>> res.point.label                                  # rho_c = 0.0122 at the default N_Psi = 1.5
    'operating point rho=0.02 (Collapse)'
    """
    from dynamics.continuation import saddle_node_curve
    from dynamics.regimes import regime_map
    from symbolic.errors import ParameterError

    params = default_map_params() if params is None else params
    model = params.MODEL
    (xf, xlo, xhi), (yf, ylo, yhi) = map_axes(model)
    point = operating_point(model, params.to_dict(), (xf, yf), mark) if mark else None
    if point is not None:
        xlo, xhi = widen(xlo, xhi, getattr(point.params, xf), log=True)
        ylo, yhi = widen(ylo, yhi, getattr(point.params, yf), log=True)
    n = 80 if fast else 400
    fixed = {k: v for k, v in params.to_dict().items() if k not in (xf, yf)}
    m = regime_map(model, xf, np.geomspace(xlo, xhi, n), yf, np.geomspace(ylo, yhi, n), fixed)
    try:
        folds = saddle_node_curve(model, xf, yf, fixed, (xlo, xhi), (ylo, yhi))
    except ParameterError:       # no fold crosses the box: the map is drawn without it
        folds = None
    return RegimeFigure(m, folds, point)


@styled
def draw_regime_map(m: RegimeMap, ax: Axes | None = None, folds: FoldCurve | None = None,
                    point: OperatingPoint | None = None) -> Figure:
    """Draw a :class:`dynamics.regimes.RegimeMap` (optional FoldCurve and operating point); returns the Figure.

    Each grid point is coloured by its regime (``REGIME_COLORS``); an axis whose
    grid is log-spaced is drawn logarithmic. The fold curve is a black line with its cusps as
    stars, the operating point a large star; the legend lists the regimes present.

    Parameters
    ----------
    m : dynamics.regimes.RegimeMap
        The map, from :func:`dynamics.regimes.regime_map`.
    ax : matplotlib.axes.Axes, optional
        The Axes for the map (its scales are set here); None: a new 5.4 x 4.0 inch Figure in the
        project style.
    folds : dynamics.continuation.FoldCurve, optional
        A fold curve in the same plane (:func:`dynamics.continuation.saddle_node_curve`).
    point : OperatingPoint, optional
        An operating point in the same plane, drawn as a star (:func:`operating_point`).

    Returns
    -------
    matplotlib.figure.Figure
        ``ax``'s Figure, or the new one.

    Raises
    ------
    ParameterError
        If ``ax`` is given but is not a single matplotlib Axes.

    See Also
    --------
    plot_regime_map : the same, written to PNG and PDF.
    compute_regime_map : a map with its fold curve on the model's default plane.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np
    >>> from dynamics import regime_map
    >>> from figures import draw_regime_map
    >>> m = regime_map("cosine-simsiam", "rho", np.geomspace(1e-3, 1e-1, 8), "n_psi", np.geomspace(0.5, 5.0, 8),
    ...                {"n_phi": 20.0, "trace": 0.0})
    >>> (m.regime == 1).sum(axis=1).tolist()             # Acute points per row: rho < 0.015 / sqrt(n_psi)
    [5, 5, 5, 4, 4, 4, 4, 3]
    >>> fig = draw_regime_map(m)
    >>> ax = fig.axes[0]
    >>> ax.get_xscale(), [t.get_text() for t in ax.get_legend().get_texts()]
    ('log', ['Collapse', 'Acute'])
    >>> plt.close(fig)
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    from dynamics.critical_decay import REGIMES

    cmap = ListedColormap([REGIME_COLORS[n] for n in REGIMES])
    fig, (ax,) = axes_for(ax, figsize=(5.4, 4.0))
    ax.pcolormesh(m.x, m.y, m.regime, cmap=cmap, vmin=-0.5, vmax=3.5, shading="nearest", alpha=0.75,
                  rasterized=True)                 # a raster inside the PDF: fast to write and to view
    if _is_log(m.x):
        ax.set_xscale("log")
    if _is_log(m.y):
        ax.set_yscale("log")
    present = sorted(set(np.unique(m.regime).tolist()))
    handles = [Patch(color=REGIME_COLORS[REGIMES[c]], alpha=0.75, label=REGIMES[c]) for c in present]
    if folds is not None and len(folds.x):
        handles.append(ax.plot(folds.x, folds.y, color="k", lw=1.6, label="fold (continuation)")[0])
        for cx, cy, _ in folds.cusps:
            ax.plot([cx], [cy], "k*", ms=9)
    if point is not None:
        handles.append(draw_on_map(ax, point, m.x_name, m.y_name))
    ax.set_xlabel(LABELS.get(m.x_name, m.x_name))
    ax.set_ylabel(LABELS.get(m.y_name, m.y_name))
    fixed = params_caption(dict(m.fixed))
    ax.set_title(f"Regimes of {m.model}" + (f" ({fixed})" if fixed else ""), fontsize=8)
    free_legend(ax, handles, frameon=True, framealpha=0.85, order=("lower left", "upper right", "upper left",
                                                                     "lower right"))   # clear of the mark and fold
    return fig


def draw_regime_figure(result: RegimeFigure, ax: Axes | None = None) -> Figure:
    """Draw a :class:`RegimeFigure`; returns the Figure.

    The map, the fold curve and the operating point of ``result``, as :func:`draw_regime_map`
    draws them.

    Parameters
    ----------
    result : RegimeFigure
        The map, folds and point, from :func:`compute_regime_map`.
    ax : matplotlib.axes.Axes, optional
        Passed to :func:`draw_regime_map` (None: a new Figure).

    Returns
    -------
    matplotlib.figure.Figure
        What :func:`draw_regime_map` returns: ``ax``'s Figure or the new one.

    Raises
    ------
    ParameterError
        What :func:`draw_regime_map` raises for an ``ax`` that is not one Axes.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from figures import compute_regime_map, draw_regime_figure
    >>> fig = draw_regime_figure(compute_regime_map(fast=True, mark={"rho": 0.02}))
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['Collapse', 'Acute', 'fold (continuation)', 'operating point rho=0.02 (Collapse)']
    >>> plt.close(fig)
    """
    return draw_regime_map(result.map, ax=ax, folds=result.folds, point=result.point)


def plot_regime_map(m: RegimeMap, path: str | Path, folds: FoldCurve | None = None,
                    point: OperatingPoint | None = None) -> list[Path]:
    """Draw ``m`` and write ``path`` (PNG) and its PDF; returns the written paths.

    Parameters
    ----------
    m : dynamics.regimes.RegimeMap
        The map to draw (:func:`draw_regime_map`).
    path : str or pathlib.Path
        Where the PNG goes, its folder created if missing; the PDF is written next to it.
    folds, point : optional
        A fold curve and an operating point to overlay, as in :func:`draw_regime_map`.

    Returns
    -------
    list of pathlib.Path
        ``[path, path with suffix .pdf]``, as :func:`save` writes them.

    Raises
    ------
    ParameterError
        If :func:`save` cannot write either file.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from dynamics import regime_map
    >>> from figures import plot_regime_map
    >>> m = regime_map("l2-byol", "eta", [0.05, 0.1, 0.2, 0.4], "sigma2", [0.1, 0.5, 1.0])
    >>> with tempfile.TemporaryDirectory() as d:
    ...     print([p.name for p in plot_regime_map(m, Path(d) / "l2.png")])
    ['l2.png', 'l2.pdf']
    """
    return save(draw_regime_map(m, folds=folds, point=point), path)


regime_map_figure = registered("regime-map", compute_regime_map, draw_regime_figure, "regime_map_rho_npsi",
                               call='mark={"rho": 0.02}')
