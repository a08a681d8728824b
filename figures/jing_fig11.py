r"""Jing et al. (2022) Fig. 11 from trained runs (plotting only; training in
:mod:`sims.reproductions.jing`): embedding-covariance spectrum for 1-4 layers, linear and ReLU;
more layers, more collapsed dimensions."""
from __future__ import annotations

import numpy as np

from .style import PALETTE, axes_for, styled


@styled
def draw(result, ax=None):
    """``result.sweeps``: :func:`sims.reproductions.jing.depth_sweep` dicts (linear and ReLU, per
    kernel; :class:`sims.reproductions.jing.Fig11Trained`); one Axes per sweep. Returns the Figure."""
    sweeps = result.sweeps
    fig, axes = axes_for(ax, len(sweeps), figsize=(4.4 * len(sweeps), 3.6))
    for ax, r in zip(axes, sweeps):
        for i, (L, ev) in enumerate(zip(r["depths"], r["spectra"])):
            ax.semilogy(np.arange(ev.size), np.maximum(ev / ev[0], 1e-16), "o-", ms=3, lw=1, color=PALETTE[i],
                        label=f"{L} layer{'s' if L > 1 else ''}: {r['collapsed'][i]} collapsed")
        ax.axhline(r.get("tol", 1e-6), color="0.5", ls=":", lw=0.8)
        ax.set_xlabel("index")
        ax.set_ylabel("embedding covariance eigenvalue / largest")
        ax.set_title(f"Jing Fig. 11, {'ReLU' if r['relu'] else 'linear'}, {r['kernel']} kernel", fontsize=8)
        ax.legend(fontsize=6)
    return fig
