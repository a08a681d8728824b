r"""Ziyin et al. (2022) Fig. 2 (left, mid) from trained runs: plotting only.

The training lives in :mod:`sims.reproductions.ziyin` (torch; the layering keeps figures from
importing sims): ``fig2_compute`` trains, and ``fig2_write`` calls :func:`draw` on the result
(the measured numbers and the theory's) and saves it; ``fig2_figure`` is the registered target.

Left: InfoNCE, three smallest eigenvalues of :math:`W^\top W` versus sigma, with Theorem 1's
:math:`a_i/(2(a_i+\sigma^2)^2)` (slope -4). Mid: weighted InfoNCE, :math:`\alpha=0.1`, :math:`\sigma=5`, versus
dataset size N: the printed eq. 3 and the self-term variant side by side, with eq. 4's prediction.
"""
from __future__ import annotations

import numpy as np

from .style import PALETTE, axes_for, styled


@styled
def draw(result, ax=None):
    """``result.left``: :func:`sims.reproductions.ziyin.fig2_left`; ``result.mid``:
    :func:`~sims.reproductions.ziyin.fig2_mid` (:class:`sims.reproductions.ziyin.Fig2Trained`);
    three Axes. Returns the Figure."""
    left, mid = result.left, result.mid
    fig, axes = axes_for(ax, 3, figsize=(13.5, 4.3))
    ax = axes[0]
    for i in range(3):
        ax.loglog(left["sigma"], left["measured"][:, i], "o-", color=PALETTE[i], lw=1.2, ms=4,
                  label=f"trained, {i + 1}. smallest" if i == 0 else None)
        ax.loglog(left["sigma"], left["theory"][:, i], "--", color=PALETTE[i], lw=1,
                  label="Theorem 1" if i == 0 else None)
        ax.loglog(left["sigma"], left["coupled"][:, i], ":", color=PALETTE[i], lw=1.2,
                  label="derived quartic (dynamics.infonce_quartic)" if i == 0 else None)
    ax.set_xlabel(r"augmentation $\sigma$")
    ax.set_ylabel(r"3 smallest eigenvalues of $W^\top W$")
    ax.set_title("InfoNCE: fitted slopes " + ", ".join(f"{x:.2f}" for x in left["slopes"]) + " (theory -4)",
                 fontsize=8)
    ax.legend(fontsize=7)
    names = {"weighted-self": "eq. 3 + self term (= eq. 4)", "weighted-printed": "eq. 3 as printed"}
    for ax, variant in zip(axes[1:], ("weighted-self", "weighted-printed")):
        ns = np.asarray(mid["ns"])
        for r, n in zip(mid["runs"], ns):
            d = r[variant]
            rel = d["eig"] / d["eig"][-1]
            xs = np.full(rel.size, n) * np.exp(np.linspace(-0.08, 0.08, rel.size))
            ax.semilogy(xs, rel, ".", color=PALETTE[0], ms=3)
            ax.semilogy(xs, np.maximum(d["theory_rel"], 2e-9), "_", color="0.55", ms=5)     # Theorem 1; 0 at 2e-9
            ax.semilogy(xs * 1.06, np.maximum(d["coupled_rel"], 5e-9), "4", color="k", ms=4)  # derived; 0 at 5e-9
            k = d["k"]
            if k:
                ax.semilogy(xs[:k], rel[:k], "x", color=PALETTE[3], ms=5)
            ax.annotate(f"{d['n_below']}/{k}", (n, 3e-9), ha="center", fontsize=7, color=PALETTE[3])
        if variant == "weighted-self" and "sgd" in mid:          # plain SGD, moment-matched noise
            g = mid["sgd"]
            xg = np.full(g["measured_rel"].size, g["n"] * 1.3) * np.exp(np.linspace(-0.05, 0.05, g["measured_rel"].size))
            ax.semilogy(xg, g["measured_rel"], "o", mfc="none", color=PALETTE[2], ms=3)
            ax.semilogy(xg * 1.05, np.maximum(g["coupled_rel"], 5e-9), "4", color="k", ms=4)
            ax.annotate("SGD", (g["n"] * 1.3, 3e-9), ha="center", fontsize=7, color=PALETTE[2])
        ax.axhline(1e-4, color="0.4", ls=":", lw=0.8)
        ax.set_xscale("log")
        ax.set_ylim(1e-9, 2)
        ax.set_xlabel("dataset size N")
        ax.set_ylabel(r"eigenvalues of $W^\top W$ / largest")
        ax.set_title(f"weighted InfoNCE, {names[variant]}\nred x: the k modes eq. 4 predicts collapsed (n/k: below 1e-4)"
                     "\ngrey: Theorem 1 (own B); black: derived quartic, 1/N coupling",
                     fontsize=7)
    fig.suptitle(r"Ziyin Fig. 2 ($\alpha$ = 0.1, $\sigma$ = 5): eq. 4's N-dependent collapse appears only "
                 "with the self term; the printed eq. 3 has no C term (B = N/(N-1+alpha) A0)", fontsize=8)
    return fig
