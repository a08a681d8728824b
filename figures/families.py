r"""Figures of the two families: stepwise Barlow Twins (Simon et al. 2023, Fig. 1 A/B on digits) and
DirectSet / IsoLoss (Halvagal et al. 2023, Fig. 2 toy), trained runs against the derived theory,
and the reduced forms' phase lines. Training in :mod:`sims.reproductions.simon` and
:mod:`sims.reproductions.directset`; this module only plots and writes.

``python -m sims.reproductions.families --out DIR [--only barlow|directset]`` trains, draws and writes ``DIR/<stem>.png`` and
``DIR/<stem>.json`` (the measured numbers, :func:`sims.reproductions.report.save_numbers`).
"""
from __future__ import annotations


import matplotlib.ticker
import numpy as np
import sympy as sp

from .style import PALETTE, figure, save


def draw_barlow(res: dict, out_dir) -> list:
    """Fig. 1 A/B: eigenvalues of C (solid, measured) and theory (dashed) against t = lr x step, with
    the predicted step times (dotted), no decay and decay; right: measured vs predicted step times."""
    fig, axes = figure(1, 4, figsize=(18.0, 3.8))
    c = res["decay-after-training"]
    ax = axes[3]
    for j in range(c["measured"].shape[1]):
        ax.semilogy(c["t"], np.maximum(c["measured"][:, j], 1e-16), color=PALETTE[j % 8], lw=1.2)
    ax.axhline(1e-3 * c["measured"][-1, 0], color="k", ls=":", lw=0.8)
    ax.set_xlabel(r"$t$ = lr $\times$ step (decay switched on at $t$ = 0)")
    ax.set_ylabel("eigenvalue of $C$")
    ax.set_title(rf"C: $\rho$ = {c['rho']:.3g} after training: modes {[int(j) + 1 for j in c['switched_off']]} off,"
                 f"\nmax/largest {c['switched_off_max_over_largest']:.1e}", fontsize=8)
    for ax, name in zip(axes[:2], ("no-decay", "decay")):
        c = res[name]
        for j in range(len(c["gamma"])):
            col = PALETTE[j % 8]
            ax.plot(c["t"], c["measured"][:, j], color=col, lw=1.2)
            ax.plot(c["t"], c["theory"][:, j], color="k", ls="--", lw=0.7)
            if j in c["learned"]:
                ax.axvline(c["predicted_step_time"][j], color=col, ls=":", lw=0.8)
        ax.set_xlabel(r"$t$ = lr $\times$ step")
        ax.set_ylabel("eigenvalue of $C$")
        ax.set_ylim(-0.03, 1.08)
        ax.set_title(rf"{'A' if name == 'no-decay' else 'B'}: $\rho$ = {c['rho']:.3g}: step-time error "
                     f"{100 * c['median_step_time_rel_error']:.2f}% (median),\nplateau "
                     f"{100 * c['median_plateau_rel_error']:.1e}%", fontsize=8)
    ax = axes[2]
    for name, mk in (("no-decay", "o"), ("decay", "s")):
        c = res[name]
        L = c["learned"]
        ax.loglog(c["predicted_step_time"][L], c["measured_step_time"][L], mk, ms=4,
                  label=rf"{name} ($\rho$ = {c['rho']:.3g})")
    lim = ax.get_xlim()
    ax.plot(lim, lim, "k-", lw=0.6)
    for axis in (ax.xaxis, ax.yaxis):          # a short log axis: plain labels at 1-2-5, no overlapping minor ones
        axis.set_major_locator(matplotlib.ticker.LogLocator(subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        axis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_xlabel(r"predicted step time $\ln(c^*/c_0-1)/(8\gamma c^*)$")
    ax.set_ylabel("measured step time")
    ax.legend(fontsize=7)
    ax.set_title("linear Barlow Twins on digits\n(Simon et al. 2023, Fig. 1)", fontsize=8)
    return save(fig, out_dir, "barlow_stepwise", formats=("png",))


def draw_directset(res: dict, out_dir) -> list:
    """Eigenvalues of W W^T (solid, trained) against the derived flow (dashed), per alpha and loss."""
    keys = [k for k in res if k != "acceptance"]
    fig, axes = figure(1, len(keys), figsize=(3.6 * len(keys), 3.4), squeeze=False)
    for ax, k in zip(axes[0], keys):
        c = res[k]
        for j in range(c["measured"].shape[1]):
            ax.plot(c["t"], c["measured"][:, j], color=PALETTE[j % 8], lw=1.2)
            ax.plot(c["t"], c["flow"][:, j], color="k", ls="--", lw=0.7)
        ax.set_xlabel(r"$t$ = lr $\times$ step")
        ax.set_ylabel(r"eigenvalue of $WW^\top$")
        ax.set_title(k.replace("alpha=", r"$\alpha$=").replace("/", ", ") + f":\nmedian rel. error "
                     f"{100 * c['median_rel_error']:.2f}% (transient {100 * c['median_rel_error_transient']:.2f}%)",
                     fontsize=8)
    return save(fig, out_dir, "directset_toy", formats=("png",))


def _phase_axes(ax, x, curves, title, xlabel):
    for k, (label, y) in enumerate(curves):
        ax.plot(x, y, color=PALETTE[k % 8], label=label)
    ax.axhline(0, color="0.5", lw=0.6)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel(xlabel)
    ax.legend(fontsize=6)


def draw_barlow_phase_line(out_dir) -> list:
    """Barlow's reduced form :math:`\\dot c` at gamma = 1 for decays below and above :math:`\\rho_c=4`."""
    from symbolic import barlow_linear as bl

    f = sp.lambdify([bl.c, bl.gamma, bl.rho], bl.reduced_form().rhs["c"])
    c = np.linspace(0, 1.2, 300)
    fig, ax = figure(1, 1, figsize=(4.4, 3.4))
    _phase_axes(ax, c, [(rf"$\rho$ = {r:g}", f(c, 1.0, r)) for r in (0.0, 1.0, 3.0, 4.0, 5.0)],
                r"linear Barlow Twins: $\dot c$ at $\gamma$ = 1, $\rho_c$ = 4", r"$c$ (eigenvalue of $C$)")
    return save(fig, out_dir, "barlow_phase_line", formats=("png",))


def draw_directset_phase_lines(out_dir) -> list:
    """DirectSet's reduced form :math:`\\dot p` (alpha = 1, sigma2 = 0.01), both losses, around
    :math:`\\eta_c`."""
    from symbolic import directset as ds

    f = sp.lambdify([ds.p, ds.alpha, ds.sigma2, ds.eta, ds.iso], ds.reduced_form().rhs["p"])
    pp = np.linspace(0, 1.2, 300)
    fig, axes = figure(1, 2, figsize=(8.8, 3.4))
    for ax, i in zip(axes, (0, 1)):
        ec = ds.critical_decay(0.01, i)
        _phase_axes(ax, pp, [(rf"$\eta$ = {k:g} $\eta_c$", f(pp, 1.0, 0.01, k * ec, i)) for k in (0.0, 0.5, 0.9, 1.0, 1.2)],
                    rf"DirectSet ({'IsoLoss' if i else 'Euclidean'}): $\dot p$ at $\alpha$ = 1, $\sigma^2$ = 0.01, "
                    rf"$\eta_c$ = {ec:.4g}", r"$p$ (eigenvalue of $W_P$)")
    return save(fig, out_dir, "directset_phase_lines", formats=("png",))


def _thin(res: dict, every: int, drop=()) -> dict:
    """The runs of ``res`` for the JSON file: time series (``t`` and arrays of its length) every
    ``every``-th record plus the last, keys in ``drop`` left out (the figure has them in full)."""
    out = {}
    for name, run in res.items():
        if name == "acceptance":
            continue
        n = len(run["t"])
        keep = np.unique(np.r_[np.arange(0, n, every), n - 1])
        out[name] = {k: (v[keep] if isinstance(v, np.ndarray) and v.shape[:1] == (n,) else v)
                     for k, v in run.items() if k not in drop}
    return out
