r"""Jing et al. (2022) Fig. 3 from trained runs (plotting only; training in
:mod:`sims.reproductions.jing`): singular values of a trained one-layer :math:`W` versus the noise
amplitude ``k`` on the last 8 of 16 coordinates; the noisy block shrinks with ``k`` (Lemma 2,
:math:`W(t)=W(0)e^{Xt}`)."""
from __future__ import annotations

import numpy as np

from .style import PALETTE, axes_for, styled


@styled
def draw(result, ax=None):
    """``result.runs``: one :func:`sims.reproductions.jing.one_layer_spectrum` dict per kernel
    (:class:`sims.reproductions.jing.Fig3Trained`); one Axes per kernel. Returns the Figure."""
    runs = result.runs
    fig, axes = axes_for(ax, len(runs), figsize=(5.0 * len(runs), 3.6))
    for ax, r in zip(axes, runs):
        for i, k in enumerate(r["k"]):
            sv = np.concatenate([r["sv_clean"][i], r["sv_noisy"][i]])
            ax.semilogy(np.arange(16), np.maximum(sv, 1e-12), "o-", ms=3, lw=1, color=PALETTE[i % 8],
                        label=f"k = {k:g}")
        ax.axvline(7.5, color="0.5", ls=":", lw=0.8)
        ax.set_xlabel("singular value index (0-7 clean columns, 8-15 noisy columns)")
        ax.set_ylabel("singular value")
        ax.set_title(f"Jing Fig. 3, one layer, {r['kernel']} kernel: noisy block monotone in k: {r['monotone']}",
                     fontsize=8)
        ax.legend(fontsize=6)
    return fig
