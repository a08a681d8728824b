r"""Jing et al. (2022) Figs. 5/6 from trained runs (plotting only; training in
:mod:`sims.reproductions.jing`): the alignment matrix :math:`|V_2^\top U_1|` after training, the
singular values of :math:`W_1` over training, and the aligned singular-value ODE (Theorem 3, symbolic
two-layer kernels) overlaid on a two-layer gradient flow started aligned."""
from __future__ import annotations

import numpy as np

from .style import PALETTE, axes_for, styled


@styled
def draw(result, ax=None):
    """``result.align``: :func:`sims.reproductions.jing.two_layer_alignment` dicts (one per kernel);
    ``result.ode``: :func:`sims.reproductions.jing.aligned_ode_check`
    (:class:`sims.reproductions.jing.Fig56Trained`). ``ax``: 2 x (kernels + 1) Axes, row-major.
    Returns the Figure."""
    align, ode = result.align, result.ode
    n = len(align)
    fig, flat = axes_for(ax, 2 * (n + 1), nrows=2, ncols=n + 1, figsize=(4.4 * (n + 1), 7.2))
    axes = np.array(flat, dtype=object).reshape(2, n + 1)
    for j, r in enumerate(align):
        im = axes[0, j].imshow(r["A"], vmin=0, vmax=1, cmap="viridis")
        act = (rf"min $|A_{{kk}}|$ {np.min(r['diag'][r['active']]):.3f}, min $\max_j|A_{{jk}}|$ "
               f"{np.min(r['best'][r['active']]):.3f}" if r["active"].any() else "none")
        axes[0, j].set_title(rf"$|V_2^\top U_1|$ ({r['kernel']} kernel); {int(r['active'].sum())} modes with "
                             rf"$\sigma^2$ > imbalance {r['imbalance'][1]:.2f}:" + f"\n{act}", fontsize=7)
        axes[0, j].set_xlabel(r"mode $k$ of $U_1$")
        axes[0, j].set_ylabel(r"mode $j$ of $V_2$")
        fig.colorbar(im, ax=axes[0, j], fraction=0.046)
        for k in range(r["sv1"].shape[1]):
            axes[1, j].semilogy(r["steps"], r["sv1"][:, k], color=PALETTE[k % 8], lw=1)
        axes[1, j].set_xlabel("SGD step")
        axes[1, j].set_ylabel(r"singular values of $W_1$")
        axes[1, j].set_title(f"{r['collapsed']} of 16 embedding dimensions collapsed", fontsize=7)
    ax = axes[0, n]
    t = ode["t"]
    for k in range(ode["sv1_ode"].shape[1]):
        ax.plot(t, ode["sv1_ode"][:, k], "-", color=PALETTE[k % 8], lw=1)
    ax.plot(t, ode["sv1_run"], "k.", ms=2)
    ax.set_xlabel("time $t$")
    ax.set_ylabel(r"$\sigma_1$ per mode")
    ax.set_title(f"aligned ODE (lines) vs two-layer flow (dots):\nmax rel. err {ode['max_rel_err_ode']:.1e}",
                 fontsize=7)
    axes[1, n].axis("off")
    return fig
