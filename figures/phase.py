"""Phase portraits: the 1-D phase line of a reduced flow with its basins, the (p, s) plane of the
cosine eigen system (Bao eq. 5) with nullclines and the invariant parabola, and the
(sigma_1, sigma_2) plane of the two-layer flow (Jing Theorem 3) with its conserved hyperbolas.

Figures evaluate generated right-hand sides on grids and plot trajectories computed by
``dynamics.integrate``; they never integrate themselves.
"""
from __future__ import annotations

import numpy as np

from .style import FATE_COLORS, PALETTE, figure, save


def _rhs_grid(k, theta, *grids):
    out = np.empty(len(k.STATE))
    vals = np.empty((len(k.STATE),) + grids[0].shape)
    for idx in np.ndindex(grids[0].shape):
        k.rhs(np.array([g[idx] for g in grids], dtype=float), theta, out)
        vals[(slice(None),) + idx] = out
    return vals


def draw_phase_line(ax, params, eq, span=None, n=801):
    """Draw pdot(p) of ``params``' reduced flow on ``ax`` with equilibria (filled: stable) and the
    fate of every initial condition shaded; returns the plotted equilibria."""
    from dynamics.regimes import FATE_CODES, predict_fate
    from symbolic.codegen import load_kernels

    k = load_kernels(params.MODEL, "reduced")
    theta = params.as_array(k.PARAMS)
    eqp = np.asarray(eq.p, float)
    if span is None:
        lo, hi = min(eqp.min(), 0.0), max(eqp.max(), 0.0)
        w = max(hi - lo, 0.5)
        span = (lo - 0.15 * w, hi + 0.15 * w)
    ps = np.linspace(*span, n)
    rhs = _rhs_grid(k, theta, ps)[0]
    fates = np.asarray(predict_fate(params, ps))
    names = {v: key for key, v in FATE_CODES.items()}
    dx = ps[1] - ps[0]
    cuts = np.flatnonzero(np.diff(fates)) + 1
    for s, e in zip(np.r_[0, cuts], np.r_[cuts, len(ps)]):
        ax.axvspan(ps[s] - dx / 2, ps[e - 1] + dx / 2, color=FATE_COLORS[names[int(fates[s])]], alpha=0.15, lw=0)
    ax.axhline(0, color="0.4", lw=0.8)
    ax.plot(ps, rhs, color="k", lw=1.3)
    for x, st in zip(eqp, eq.stability):
        if span[0] <= x <= span[1]:
            ax.plot([x], [0], "o", ms=5, mfc="k" if st == "stable" else ("0.6" if st == "semi-stable" else "w"),
                    mec="k", zorder=5)
    lo_y, hi_y = np.percentile(rhs, [3, 97])
    pad = 0.3 * max(hi_y - lo_y, 1e-6)
    ax.set_ylim(lo_y - pad, hi_y + pad)
    ax.set_xlabel(r"eigenvalue $p$")
    return eqp


PHASE_LINE_CASES = (   # (title, params factory): one Acute point of each reduced model
    ("cosine-simsiam, Bao eq. 7", "CosineParams", {"rho": 0.01}),
    ("cosine-simsiam, Collapse", "CosineParams", {"rho": 0.15}),
    ("l2-byol, Bao eq. 8", "L2Params", {"eta": 0.05}),
    ("l2-byol, Collapse", "L2Params", {"eta": 0.3}),
)


def phase_lines(out_dir, fast=False):
    r"""1-D phase lines of the reduced flows with their basins.

    Each row is the line of initial values :math:`p(0)`: equilibria from
    :func:`dynamics.equilibria.find_equilibria` (filled: stable, open: unstable, grey:
    semi-stable), arrows for the sign of :math:`\dot p` between them (from the generated kernel),
    and the background coloured by the fate of :func:`dynamics.regimes.predict_fate`
    (diverge / collapse / converge). Bao et al. (2023) eqs. 7 and 8. The plotted equilibria are
    attached as ``phase_lines.last`` = {title: (params, p)}.
    """
    import dynamics.params as P
    from dynamics.equilibria import find_equilibria
    from dynamics.regimes import FATE_CODES, predict_fate
    from symbolic.codegen import load_kernels
    from matplotlib.patches import Patch

    names = {v: key for key, v in FATE_CODES.items()}
    fig, axes = figure(len(PHASE_LINE_CASES), 1, figsize=(6.4, 1.05 * len(PHASE_LINE_CASES) + 0.6))
    plotted = {}
    for ax, (title, cls, kw) in zip(axes, PHASE_LINE_CASES):
        params = getattr(P, cls)(**kw)
        eq = find_equilibria(params)
        eqp = np.asarray(eq.p, float)
        span = (-1.4, 1.3) if params.MODEL.startswith("cosine") else (-0.3, 0.9)
        ps = np.linspace(*span, 401 if fast else 1201)
        fates = np.asarray(predict_fate(params, ps))
        dx = ps[1] - ps[0]
        cuts = np.flatnonzero(np.diff(fates)) + 1
        for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(ps)]):
            ax.axvspan(ps[a] - dx / 2, ps[b - 1] + dx / 2, color=FATE_COLORS[names[int(fates[a])]], alpha=0.25, lw=0)
        ax.axhline(0, color="k", lw=1.0)
        k = load_kernels(params.MODEL, "reduced")
        theta = params.as_array(k.PARAMS)
        edges = np.r_[span[0], eqp[(eqp > span[0]) & (eqp < span[1])], span[1]]
        mids = 0.5 * (edges[:-1] + edges[1:])
        sign = np.sign(_rhs_grid(k, theta, mids)[0])
        for m, sg, w in zip(mids, sign, np.diff(edges)):
            if sg and w > 0.03:
                ax.annotate("", xy=(m + sg * 0.12 * min(w, 0.5), 0), xytext=(m - sg * 0.12 * min(w, 0.5), 0),
                            arrowprops={"arrowstyle": "-|>", "color": "k", "lw": 1.2})
        for x, st in zip(eqp, eq.stability):
            if span[0] <= x <= span[1]:
                ax.plot([x], [0], "o", ms=7, mfc="k" if st == "stable" else ("0.6" if st == "semi-stable" else "w"),
                        mec="k", zorder=5)
        ax.set_xlim(*span)
        ax.set_ylim(-1, 1)
        ax.set_yticks([])
        ax.spines["left"].set_visible(False)
        ax.set_title(f"{title}: regime {eq.regime}", fontsize=8, loc="left")
        plotted[title] = (params, eqp)
    axes[-1].set_xlabel(r"initial eigenvalue $p(0)$")
    axes[0].legend(handles=[Patch(color=FATE_COLORS[f], alpha=0.4, label=f) for f in FATE_COLORS],
                   loc="upper right", ncol=3, fontsize=7, frameon=False, bbox_to_anchor=(1.0, 1.6))
    phase_lines.last = plotted
    return save(fig, out_dir, "phase_lines")


def cosine_ps_plane(out_dir, fast=False, params=None):
    """(p, s) plane of one mode of Bao eq. 5 at frozen N_Phi, N_Psi, T: vector field, nullclines,
    the invariant parabola s = p^2 and trajectories converging to it."""
    from dynamics.integrate import integrate
    from dynamics.params import CosineParams
    from symbolic.codegen import load_kernels

    params = params or CosineParams(rho=0.05)
    k = load_kernels("cosine-simsiam", "eigen")
    theta = params.as_array(k.PARAMS)
    n = 25 if fast else 40
    P, S = np.meshgrid(np.linspace(-0.5, 1.4, n), np.linspace(0.0, 2.0, n))
    V = _rhs_grid(k, theta, P, S)
    fig, ax = figure(figsize=(5.4, 4.2))
    ax.streamplot(P, S, V[0], V[1], color="0.75", density=0.9, linewidth=0.6, arrowsize=0.7)
    ax.contour(P, S, V[0], levels=[0], colors=[PALETTE[0]], linewidths=1.2)
    ax.contour(P, S, V[1], levels=[0], colors=[PALETTE[1]], linewidths=1.2)
    pp = np.linspace(-0.5, 1.4, 200)
    ax.plot(pp, pp**2, color="k", lw=1.0, ls="--", label=r"invariant parabola $s=p^2$")
    starts = np.array([[1.2, 0.3], [0.9, 1.9], [0.2, 1.2], [-0.3, 1.5], [0.5, 0.05], [1.3, 1.0]])
    t = np.linspace(0, 60 if fast else 120, 400)
    r = integrate("cosine-simsiam", params, starts, t[-1], form="eigen", t_eval=t)
    for i in range(len(starts)):
        ax.plot(r.ys[:, i, 0], r.ys[:, i, 1], color=PALETTE[2], lw=1.2)
        ax.plot(*starts[i], "o", color=PALETTE[2], ms=3)
    ax.plot([], [], color=PALETTE[0], label=r"$\dot p=0$")
    ax.plot([], [], color=PALETTE[1], label=r"$\dot s=0$")
    ax.plot([], [], color=PALETTE[2], label="trajectories")
    ax.set_xlim(-0.5, 1.4)
    ax.set_ylim(0, 2.0)
    ax.set_xlabel(r"eigenvalue $p$ of $W$")
    ax.set_ylabel(r"eigenvalue $s$ of $\Phi\Phi^\top$")
    ax.set_title(rf"Bao eq. 5, one mode ($\rho$={params.rho:g}, $N_\Phi$={params.n_phi:g}, "
                 rf"$N_\Psi$={params.n_psi:g}, $T$={params.trace:g})", fontsize=8)
    ax.legend(loc="upper left", frameon=True, framealpha=0.9, fontsize=7)
    cosine_ps_plane.last = {"params": params, "t": t, "ys": r.ys, "starts": starts}
    return save(fig, out_dir, "phase_cosine_ps_plane")


def two_layer_plane(out_dir, fast=False, lam=-0.5):
    """(sigma_1, sigma_2) plane of the aligned two-layer flow with conserved hyperbolas
    sigma_1^2 - sigma_2^2 = C and trajectories (lam < 0: the smaller singular value collapses)."""
    from dynamics.integrate import integrate
    from dynamics.params import TwoLayerParams
    from symbolic.codegen import load_kernels

    k = load_kernels("two-layer", "eigen")
    theta = np.array([lam])
    n = 20 if fast else 30
    A, B = np.meshgrid(np.linspace(0.02, 2, n), np.linspace(0.02, 2, n))
    V = _rhs_grid(k, theta, A, B)
    fig, ax = figure(figsize=(4.8, 4.4))
    ax.streamplot(A, B, V[0], V[1], color="0.75", density=0.8, linewidth=0.6, arrowsize=0.7)
    s = np.linspace(0, 2, 300)
    for C in (-1.5, -0.75, -0.25, 0.0, 0.25, 0.75, 1.5):
        ok = s**2 - C >= 0
        ax.plot(s[ok], np.sqrt(s[ok] ** 2 - C), color=PALETTE[4], lw=0.8, alpha=0.8)
    starts = np.array([[1.8, 1.2], [1.2, 1.8], [1.5, 0.6], [0.6, 1.5], [1.9, 1.7]])
    t = np.linspace(0, 8, 300)
    r = integrate("two-layer", TwoLayerParams(lam=lam), starts, t[-1], form="eigen", t_eval=t)
    for i in range(len(starts)):
        ax.plot(r.ys[:, i, 0], r.ys[:, i, 1], color=PALETTE[2], lw=1.3)
        ax.plot(*starts[i], "o", color=PALETTE[2], ms=3)
    ax.plot([], [], color=PALETTE[4], label=r"$\sigma_1^2-\sigma_2^2=C$ (conserved)")
    ax.plot([], [], color=PALETTE[2], label="trajectories")
    ax.set_xlim(0, 2)
    ax.set_ylim(0, 2)
    ax.set_xlabel(r"$\sigma_1$ (layer 1)")
    ax.set_ylabel(r"$\sigma_2$ (layer 2)")
    ax.set_title(rf"Jing Thm. 3, aligned mode, $\lambda$={lam:g}", fontsize=8)
    ax.legend(loc="lower right", fontsize=7, framealpha=0.9)
    two_layer_plane.last = {"lam": lam, "t": t, "ys": r.ys, "starts": starts}
    return save(fig, out_dir, "phase_two_layer_plane")
