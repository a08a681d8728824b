"""Regime maps: Collapse / Acute / Stable / Boundary over a parameter plane, with continued fold
curves overlaid (Bao 2023 Fig. 3 generalised to any two parameters)."""
from __future__ import annotations

import numpy as np

from .style import REGIME_COLORS, figure, save

REGIME_NAMES = ("Collapse", "Acute", "Stable", "Boundary")
LABELS = {"rho": r"weight decay $\rho$", "eta": r"weight decay $\eta$", "sigma2": r"augmentation $\sigma^2$",
          "n_phi": r"$N_\Phi=\|\Phi\|_F$", "n_psi": r"$N_\Psi=\|W\Phi\|_F$", "trace": r"$T=\mathrm{tr}(W\Phi\Phi^\top)$",
          "tau": r"$\tau$", "alpha_p": r"$\alpha_p$"}


def _is_log(v):
    v = np.asarray(v, float)
    return v.size > 2 and v.min() > 0 and np.allclose(np.diff(np.log(v)), np.log(v[1] / v[0]), rtol=1e-6)


def plot_regime_map(m, path, folds=None):
    """Draw a :class:`dynamics.regimes.RegimeMap` (and an optional FoldCurve) to ``path`` (+ PDF)."""
    from pathlib import Path

    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    cmap = ListedColormap([REGIME_COLORS[n] for n in REGIME_NAMES])
    fig, ax = figure(figsize=(5.4, 4.0))
    ax.pcolormesh(m.x, m.y, m.regime, cmap=cmap, vmin=-0.5, vmax=3.5, shading="nearest", alpha=0.75,
                  rasterized=True)                 # a raster inside the PDF: fast to write and to view
    if _is_log(m.x):
        ax.set_xscale("log")
    if _is_log(m.y):
        ax.set_yscale("log")
    if folds is not None and len(folds.x):
        ax.plot(folds.x, folds.y, color="k", lw=1.6, label="fold (continuation)")
        for cx, cy, _ in folds.cusps:
            ax.plot([cx], [cy], "k*", ms=9)
    present = sorted(set(np.unique(m.regime).tolist()))
    handles = [Patch(color=REGIME_COLORS[REGIME_NAMES[c]], alpha=0.75, label=REGIME_NAMES[c]) for c in present]
    if folds is not None and len(folds.x):
        handles.append(ax.lines[0])
    ax.legend(handles=handles, loc="lower left", frameon=True, framealpha=0.85)   # "best" scans every quad: slow
    ax.set_xlabel(LABELS.get(m.x_name, m.x_name))
    ax.set_ylabel(LABELS.get(m.y_name, m.y_name))
    fixed = ", ".join(f"{k}={v:g}" for k, v in m.fixed.items())
    ax.set_title(f"{m.model} regimes" + (f" ({fixed})" if fixed else ""), fontsize=8)
    path = Path(path)
    return save(fig, path.parent, path.stem)


def regime_map_figure(out_dir, fast=False):
    """Cosine regimes in the (rho, N_Psi) plane at sigma2 = 0.5, N_Phi = 20, T = 0 (norms of the
    order of an initialised d = h = 512 model, theory notes sec. 8), with the continued fold."""
    from dynamics.continuation import saddle_node_curve
    from dynamics.regimes import regime_map

    n = 80 if fast else 400
    fixed = {"sigma2": 0.5, "n_phi": 20.0, "trace": 0.0}
    m = regime_map("cosine-simsiam", "rho", np.logspace(-4, -1, n), "n_psi", np.logspace(-1, np.log10(20), n), fixed)
    folds = saddle_node_curve("cosine-simsiam", "rho", "n_psi", fixed, (1e-4, 1e-1), (0.1, 20))
    from pathlib import Path

    return plot_regime_map(m, Path(out_dir) / "regime_map_rho_npsi.png", folds)
