"""Bifurcation diagram: equilibria versus one parameter, stable solid, unstable dashed,
semi-stable dotted, folds marked (Bao 2023 Fig. 3 with the exact branches)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .regime_map import LABELS
from .style import PALETTE, figure, save

STYLE = {0: dict(ls="-", lw=1.8), 1: dict(ls="--", lw=1.2), 2: dict(ls=":", lw=1.5)}


def plot_branches(b, path):
    """Draw a :class:`dynamics.continuation.Branches`; returns the written paths."""
    fig, ax = figure(figsize=(5.4, 3.8))
    done = set()
    for j in range(b.p.shape[1]):
        col = b.p[:, j]
        st = b.stability[:, j]
        for code in (0, 1, 2):
            y = np.where(st == code, col, np.nan)
            if np.all(np.isnan(y)):
                continue
            lab = ("stable", "unstable", "semi-stable")[code]
            ax.plot(b.values, y, color=PALETTE[0] if code == 0 else PALETTE[3],
                    label=None if lab in done else lab, **STYLE[code])
            done.add(lab)
    if b.folds.size:
        ax.plot(b.folds[:, 0], b.folds[:, 1], "ko", ms=5, label="fold")
    tc = getattr(b, "transcritical", np.empty((0, 2)))
    if tc.size:
        ax.plot(tc[:, 0], tc[:, 1], "kD", ms=4, mfc="white", label="transcritical")
    ax.axhline(0, color="0.7", lw=0.6, zorder=0)
    ax.set_xlabel(LABELS.get(b.param, b.param))
    ax.set_ylabel(r"equilibrium $p$")
    fixed = ", ".join(f"{k}={v:g}" for k, v in b.fixed.items())
    ax.set_title(f"{b.model}" + (f" ({fixed})" if fixed else ""), fontsize=8)
    ax.legend(frameon=False)
    path = Path(path)
    return save(fig, path.parent, path.stem)


def bifurcation_figure(out_dir, fast=False):
    """Equilibria of Bao eq. 7 versus rho at the theory notes' worked example."""
    from dynamics.continuation import equilibrium_branches

    b = equilibrium_branches("cosine-simsiam", "rho", np.linspace(0.0, 0.14, 141 if fast else 701),
                             {"sigma2": 0.5, "n_phi": 2.0, "n_psi": 1.5, "trace": 0.5})
    return plot_branches(b, Path(out_dir) / "bifurcation_rho.png")
