"""The demo figure: the right-hand side of Bao eq. 7 at one parameter point, with its
equilibria (filled: stable, open: unstable) and the three fates shaded (diverge, collapse,
converge)."""
from __future__ import annotations

import numpy as np

from .style import FATE_COLORS, figure, save


def plt_patch(color, label):
    from matplotlib.patches import Patch

    return Patch(color=color, alpha=0.3, label=label)


def phase_line(params, equilibria, out_dir, name="demo_phase_line"):
    """Plot :math:`\\dot p(p)` of the reduced cosine model; returns the written paths.

    ``equilibria`` is a :class:`dynamics.equilibria.Equilibria` for ``params``; the curve is the
    generated kernel evaluated on a grid (no integration).
    """
    from symbolic.codegen import load_kernels

    k = load_kernels(params.MODEL, "reduced")
    theta = params.as_array(k.PARAMS)
    eq = np.asarray(equilibria.p, float)
    lo = min(eq.min(), 0.0)
    hi = max(eq.max(), 0.0)
    span = max(hi - lo, 0.5)
    ps = np.linspace(lo - 0.15 * span, hi + 0.15 * span, 801)
    out = np.empty(1)
    rhs = np.empty_like(ps)
    for i, pv in enumerate(ps):
        k.rhs(np.array([pv]), theta, out)
        rhs[i] = out[0]
    from dynamics.regimes import FATE_CODES, predict_fate

    fates = np.asarray(predict_fate(params, ps))
    fig, ax = figure(figsize=(5.2, 3.4))
    names = {v: k for k, v in FATE_CODES.items()}
    dx = ps[1] - ps[0]
    cuts = np.flatnonzero(np.diff(fates)) + 1            # contiguous runs of one fate
    for s, e in zip(np.r_[0, cuts], np.r_[cuts, len(ps)]):
        ax.axvspan(ps[s] - dx / 2, ps[e - 1] + dx / 2, color=FATE_COLORS[names[int(fates[s])]], alpha=0.15, lw=0)
    ax.axhline(0, color="0.4", lw=0.8)
    ax.plot(ps, rhs, color="k", lw=1.4)
    for x, st in zip(eq, equilibria.stability):
        ax.plot([x], [0], "o", ms=6, mfc="k" if st == "stable" else "w", mec="k", zorder=5)
    ax.set_xlabel(r"eigenvalue $p$ of $W$")
    ax.set_ylabel(r"$\dot p$ (Bao eq. 7)")
    ax.set_ylim(np.percentile(rhs, 2) * 1.3 - 1e-3, np.percentile(rhs, 98) * 1.3 + 1e-3)
    ax.set_title(f"{params.MODEL}: regime {equilibria.regime}")
    handles = [plt_patch(FATE_COLORS[n], n) for n in ("diverge", "collapse", "converge")]
    ax.legend(handles=handles, loc="lower left", frameon=False)
    return save(fig, out_dir, name)
