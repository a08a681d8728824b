"""The predicted outcome map of training recipes, the classic fixed-norm boundary beside it, and
trained runs' measured outcomes on top (``ssldyn outcome-map --plot``, ``ssldyn sweep --merge``
of a train sweep)."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .style import axes_for, save, styled

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from dynamics.outcome_map import OutcomeMap

OUTCOME_COLORS = {"collapse": "#D55E00", "survive": "#009E73", "unsettled": "#E69F00"}
AXIS_LABELS = {"rho": r"weight decay $\rho$", "lr": "learning rate", "sigma2": r"augmentation $\sigma^2$",
               "batch": "batch", "momentum": "momentum", "epochs": "epochs", "h": "width h"}


def _log(v):
    v = np.asarray(v, float)
    return v.size > 2 and v.min() > 0 and np.allclose(np.diff(np.log(v)), np.log(v[1] / v[0]), rtol=1e-6)


@styled
def draw_outcome_map(m: "OutcomeMap", measured: list | None = None, ax: object = None) -> "Figure":
    """Draw an :class:`dynamics.outcome_map.OutcomeMap`: left the predicted outcome with the classic
    fixed-norm boundary (dashed) and measured runs as markers, right the predicted surviving modes.

    Parameters
    ----------
    m : dynamics.outcome_map.OutcomeMap
        The map (:func:`dynamics.outcome_map.outcome_map`).
    measured : list of dict, optional
        Trained runs: ``x``, ``y`` (the axis values) and ``outcome`` (a name of ``OUTCOMES``).
    ax : sequence of two matplotlib Axes, optional
        Where to draw; None: a new Figure.

    Raises
    ------
    ParameterError
        If ``ax`` is not two matplotlib Axes.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from dynamics.recipe_outcome import LinearRecipe
    >>> from dynamics.outcome_map import outcome_map
    >>> from figures.outcome_map import draw_outcome_map
    >>> m = outcome_map(LinearRecipe(loss="l2", d=8, h=8, epochs=60, steps_per_epoch=5),
    ...                 "rho", [0.05, 0.1, 0.3], "sigma2", [0.0, 1.0])
    >>> fig = draw_outcome_map(m, measured=[{"x": 0.3, "y": 1.0, "outcome": "collapse"}])
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()][:2]
    ['predicted collapse', 'predicted survive']
    >>> plt.close(fig)
    """
    from matplotlib.colors import ListedColormap
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    from dynamics.outcome_map import OUTCOMES

    fig, (a0, a1) = axes_for(ax, 2, figsize=(10.0, 4.2))
    cmap = ListedColormap([OUTCOME_COLORS[o] for o in OUTCOMES])
    a0.pcolormesh(m.x, m.y, m.outcome, cmap=cmap, vmin=-0.5, vmax=2.5, shading="nearest", alpha=0.6, rasterized=True)
    handles = [Patch(color=OUTCOME_COLORS[OUTCOMES[c]], alpha=0.6, label=f"predicted {OUTCOMES[c]}")
               for c in sorted(set(np.unique(m.outcome).tolist()))]
    if 0 < m.classic_outcome.sum() < m.classic_outcome.size and min(m.x.size, m.y.size) > 1:
        a0.contour(m.x, m.y, m.classic_outcome.astype(float), levels=[0.5], colors="k", linestyles="--", linewidths=1.4)
        handles.append(Line2D([], [], color="k", ls="--", label="classic fixed-norm boundary"))
    elif m.classic_outcome.size:
        what = "collapse" if m.classic_outcome.max() == 0 else "survive"
        handles.append(Patch(facecolor="none", edgecolor="k", ls="--", label=f"classic map: {what} everywhere"))
    for name, marker in (("collapse", "X"), ("survive", "o"), ("unsettled", "s")):
        pts = [(r["x"], r["y"]) for r in measured or [] if r.get("outcome") == name]
        if pts:
            xs, ys = zip(*pts)
            handles.append(a0.scatter(xs, ys, marker=marker, s=46, c=OUTCOME_COLORS[name], edgecolors="k",
                                      linewidths=0.8, zorder=3, label=f"trained: {name}"))
    a1.pcolormesh(m.x, m.y, m.surviving_modes, cmap="viridis", shading="nearest", rasterized=True)
    cb = fig.colorbar(a1.collections[0], ax=a1)
    cb.set_label("predicted surviving modes")
    for a in (a0, a1):
        if _log(m.x):
            a.set_xscale("log")
        if _log(m.y):
            a.set_yscale("log")
        a.set_xlabel(AXIS_LABELS.get(m.x_name, m.x_name))
        a.set_ylabel(AXIS_LABELS.get(m.y_name, m.y_name))
    r = m.recipe
    fixed = ", ".join(f"{k} {r[k]:g}" for k in ("d", "h", "sigma2", "rho", "lr", "momentum", "batch", "epochs")
                      if k not in (m.x_name, m.y_name))
    a0.set_title(f"{r['loss']} loss: predicted outcome\n({fixed})", fontsize=8)
    a1.set_title(f"surviving modes of {r['h']}" if "h" not in (m.x_name, m.y_name) else "surviving modes", fontsize=8)
    # below the axes (outside the data, kept inside the saved bounding box by tight_layout)
    a0.legend(handles=handles, loc="upper left", ncol=3, frameon=False, fontsize=7, bbox_to_anchor=(0.0, -0.14))
    return fig


def plot_outcome_map(m: "OutcomeMap", path: str | Path, measured: list | None = None) -> list[Path]:
    """Draw ``m`` (:func:`draw_outcome_map`) and write ``path`` and its PDF; returns the paths.

    Parameters
    ----------
    m : dynamics.outcome_map.OutcomeMap
        The map to draw.
    path : str or pathlib.Path
        Where the PNG goes (its folder created); the PDF is written beside it.
    measured : list of dict, optional
        Trained runs to mark, as :func:`draw_outcome_map` takes them.

    Returns
    -------
    list of pathlib.Path
        The written PNG and PDF.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from dynamics.recipe_outcome import LinearRecipe
    >>> from dynamics.outcome_map import outcome_map
    >>> from figures.outcome_map import plot_outcome_map
    >>> m = outcome_map(LinearRecipe(loss="l2", d=8, h=8, epochs=10, steps_per_epoch=5), "rho", [0.1, 0.3],
    ...                 "lr", [0.05, 0.1])
    >>> with tempfile.TemporaryDirectory() as d:
    ...     print([p.name for p in plot_outcome_map(m, Path(d) / "map.png")])
    ['map.png', 'map.pdf']
    """
    return save(draw_outcome_map(m, measured=measured), path)
