"""Regime maps: Collapse / Acute / Stable / Boundary over a parameter plane, with continued fold
curves and optionally the user's operating point overlaid (Bao 2023 Fig. 3 generalised to any two
parameters; :func:`dynamics.regimes.regime_map`, :func:`dynamics.continuation.saddle_node_curve`)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .operating_point import OperatingPoint, draw_on_map, operating_point, widen
from .style import REGIME_COLORS, axes_for, save, styled, target

LABELS = {"rho": r"weight decay $\rho$", "eta": r"weight decay $\eta$", "sigma2": r"augmentation $\sigma^2$",
          "n_phi": r"$N_\Phi=\|\Phi\|_F$", "n_psi": r"$N_\Psi=\|W\Phi\|_F$", "trace": r"$T=\mathrm{tr}(W\Phi\Phi^\top)$",
          "tau": r"$\tau$", "alpha_p": r"$\alpha_p$"}


def _is_log(v):
    v = np.asarray(v, float)
    return v.size > 2 and v.min() > 0 and np.allclose(np.diff(np.log(v)), np.log(v[1] / v[0]), rtol=1e-6)


#: the default plane of each model's regime map: ((x field, lo, hi), (y field, lo, hi)), log axes
PLANES = {"cosine-simsiam": (("rho", 1e-4, 1e-1), ("n_psi", 0.1, 20.0)),
          "l2-byol": (("eta", 1e-3, 1.0), ("sigma2", 1e-2, 10.0))}


def map_axes(model: str):
    """The default plane of ``model``'s regime map (:data:`PLANES`)."""
    from symbolic.errors import ParameterError

    if model not in PLANES:
        raise ParameterError(f"model must be one of {', '.join(PLANES)} for the regime-map figure; got {model!r}")
    return PLANES[model]


def default_map_params(model: str = "cosine-simsiam"):
    """Norms of the order of an initialised d = h = 512 model (theory notes sec. 8) for the cosine
    map (sigma2 = 0.5, N_Phi = 20, T = 0); the dataclass defaults otherwise."""
    from dynamics.params import CosineParams
    from symbolic.registry import params_class

    return CosineParams(n_phi=20.0, trace=0.0) if model == "cosine-simsiam" else params_class(model)()


@dataclass(frozen=True, eq=False)
class RegimeFigure:
    """A regime map, its fold curve (or None) and the marked operating point (or None)."""

    map: object                 # dynamics.regimes.RegimeMap
    folds: object | None = None  # dynamics.continuation.FoldCurve
    point: OperatingPoint | None = None


def compute_regime_map(params=None, fast: bool = False, mark: dict | None = None) -> RegimeFigure:
    """Regimes of ``params.MODEL`` over its plane (:func:`map_axes`, widened to hold the mark) at the
    other fields of ``params`` (default :func:`default_map_params`), with the continued fold."""
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
def draw_regime_map(m, ax=None, folds=None, point: OperatingPoint | None = None):
    """Draw a :class:`dynamics.regimes.RegimeMap` (optional FoldCurve and operating point); returns the Figure."""
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
    ax.legend(handles=handles, loc="lower left", frameon=True, framealpha=0.85)   # "best" scans every quad: slow
    ax.set_xlabel(LABELS.get(m.x_name, m.x_name))
    ax.set_ylabel(LABELS.get(m.y_name, m.y_name))
    fixed = ", ".join(f"{k}={v:g}" for k, v in m.fixed.items())
    ax.set_title(f"{m.model} regimes" + (f" ({fixed})" if fixed else ""), fontsize=8)
    return fig


def draw_regime_figure(result: RegimeFigure, ax=None):
    """Draw a :class:`RegimeFigure`; returns the Figure."""
    return draw_regime_map(result.map, ax=ax, folds=result.folds, point=result.point)


def plot_regime_map(m, path, folds=None, point: OperatingPoint | None = None):
    """Draw ``m`` and write ``path`` (PNG) and its PDF; returns the written paths."""
    return save(draw_regime_map(m, folds=folds, point=point), path)


regime_map_figure = target(compute_regime_map, draw_regime_figure, "regime_map_rho_npsi")
