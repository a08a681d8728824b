r"""Ziyin et al. (2022) Fig. 3 from trained runs (plotting only; training in
:mod:`sims.reproductions.ziyin`): per-sample normalisation :math:`f\to f/\|f\|`, the three smallest
eigenvalues of :math:`W^\top W` over the largest versus sigma, next to the normalised landscape's
:math:`\kappa=\infty` solution (eqs. 8, 19, self-consistent mask eq. 9) and the smallest data eigenvalue.
"""
from __future__ import annotations

import numpy as np

from .style import PALETTE, axes_for, styled


@styled
def draw(result, ax=None):
    """``result.res``: :func:`sims.reproductions.ziyin.fig3` (:class:`sims.reproductions.ziyin.Fig3Trained`).
    Returns the Figure."""
    res = result.res
    fig, (ax,) = axes_for(ax, figsize=(5.6, 3.8))
    s = np.asarray(res["sigma"])
    for i in range(3):
        ax.semilogy(s, np.maximum(res["measured_rel"][:, i], 1e-12), "o-", color=PALETTE[i], ms=4, lw=1.2,
                    label="trained (normalised outputs)" if i == 0 else None)
        ax.semilogy(s, np.maximum(res["theory_rel"][:, i], 1e-12), "--", color=PALETTE[i], lw=1,
                    label=r"landscape, $\kappa=\infty$" if i == 0 else None)
    ax.axvline(np.sqrt(res["smallest_data_eigenvalue"]), color="0.4", ls=":", lw=0.8,
               label=r"$\sigma=\sqrt{a_{min}}$")
    ax.set_xlabel(r"augmentation $\sigma$")
    ax.set_ylabel(r"3 smallest eigenvalues of $W^\top W$ / largest")
    ax.set_title("Ziyin Fig. 3: normalisation and collapse (zeros drawn at 1e-12)", fontsize=8)
    ax.legend(fontsize=7)
    return fig
