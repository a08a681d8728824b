"""Figures of Bao et al. (2023) that the theory reproduces: Fig. 2 (right-hand side of eq. 7 with
its equilibria), Fig. 3 (equilibria against the lumped K, regimes shaded, fold marked), Fig. 4
(L2 dynamics, eq. 8, for three weight decays), Fig. 5 (initial eigenvalues of W by sampling) and
Fig. 7 (Appendix C: roots of the quintic as intersections with a horizontal line).

The paper's parameter values were lost with its formulas; the ones used here are stated on each
figure. Each function returns the written paths and attaches the plotted equilibria as
``fn.last`` (a dict) so tests can compare them with ``ssldyn equilibria``.
"""
from __future__ import annotations

import numpy as np

from .phase import draw_phase_line
from .style import FATE_COLORS, PALETTE, REGIME_COLORS, figure, save

FIG2_CASES = {   # (label, rho): N_Phi = 2, N_Psi = 1.5, T = 0.5, sigma2 = 0.5 (theory notes' example)
    "Collapse": 0.15, "Acute": 0.01, "Stable": 0.0,
}


def fig2(out_dir, fast=False):
    """Bao Fig. 2: pdot of eq. 7 for the three regimes, equilibria marked, fates shaded."""
    from dynamics.equilibria import find_equilibria
    from dynamics.params import CosineParams

    fig, axes = figure(1, 3, figsize=(10.5, 3.2))
    plotted = {}
    for ax, (label, rho) in zip(axes, FIG2_CASES.items()):
        params = CosineParams(rho=rho)
        eq = find_equilibria(params)
        plotted[label] = (params, draw_phase_line(ax, params, eq, span=(-1.4, 1.3)))
        ax.set_title(rf"{eq.regime}: $\rho$={rho:g} ($\rho_c$={eq.critical_value:.4f})")
    axes[0].set_ylabel(r"$\dot p$ (Bao eq. 7)")
    from matplotlib.patches import Patch

    axes[2].legend(handles=[Patch(color=FATE_COLORS[f], alpha=0.3, label=f) for f in FATE_COLORS],
                   loc="lower left", fontsize=7, frameon=False)
    fig2.last = plotted
    return save(fig, out_dir, "bao_fig2_rhs_eq7")


def fig3(out_dir, fast=False):
    """Bao Fig. 3: equilibria of eq. 7 against K = rho (1+sigma2) N_Phi N_Psi^3 at fixed T, N_Psi."""
    from dynamics.continuation import equilibrium_branches
    from dynamics.params import CosineParams

    base = CosineParams()
    scale = (1 + base.sigma2) * base.n_phi * base.n_psi**3           # K = scale * rho
    rho = np.linspace(0.0, 0.14, 141 if fast else 561)
    b = equilibrium_branches("cosine-simsiam", "rho", rho,
                             {"sigma2": base.sigma2, "n_phi": base.n_phi, "n_psi": base.n_psi, "trace": base.trace})
    K = rho * scale
    fold = b.folds[b.folds[:, 0] > 1e-9]
    Kc = fold[0, 0] * scale
    fig, ax = figure(figsize=(5.6, 3.8))
    ax.axvspan(0, Kc, color=REGIME_COLORS["Acute"], alpha=0.35, lw=0, label="Acute")
    ax.axvspan(Kc, K[-1], color=REGIME_COLORS["Collapse"], alpha=0.25, lw=0, label="Collapse")
    ax.axvline(0, color=REGIME_COLORS["Stable"], lw=3, label="Stable (K = 0)")
    for j in range(b.p.shape[1]):
        for code, ls, col in ((0, "-", PALETTE[0]), (1, "--", PALETTE[3])):
            y = np.where(b.stability[:, j] == code, b.p[:, j], np.nan)
            ax.plot(K, y, ls=ls, color=col, lw=1.6 if code == 0 else 1.1)
    ax.plot([Kc], [fold[0, 1]], "ko", ms=5, label=rf"fold $K_c$={Kc:.3f}")
    ax.plot([], [], "-", color=PALETTE[0], label="stable")
    ax.plot([], [], "--", color=PALETTE[3], label="unstable")
    ax.set_xlabel(r"$K=\rho(1+\sigma^2)N_\Phi N_\Psi^3$")
    ax.set_ylabel(r"equilibria $p$")
    ax.set_title(rf"Bao Fig. 3: $N_\Psi$={base.n_psi:g}, $T$={base.trace:g}", fontsize=8)
    ax.legend(fontsize=7, ncol=2, loc="lower right", bbox_to_anchor=(1.0, 0.18), framealpha=0.9)
    fig3.last = {"K_c": Kc, "branches": b}
    return save(fig, out_dir, "bao_fig3_regimes_vs_K")


def fig4(out_dir, fast=False):
    """Bao Fig. 4: L2 dynamics (eq. 8) for weight decays below, at and above eta_c = 1/(4(1+sigma2))."""
    from dynamics.equilibria import find_equilibria
    from dynamics.integrate import integrate
    from dynamics.params import L2Params

    s2 = 0.5
    eta_c = 1 / (4 * (1 + s2))
    fig, axes = figure(2, 3, figsize=(10.5, 5.6))
    plotted = {}
    t = np.linspace(0, 60, 300)
    for col, eta in enumerate((0.05, eta_c, 0.3)):
        params = L2Params(eta=eta, sigma2=s2)
        eq = find_equilibria(params)
        plotted[eta] = (params, draw_phase_line(axes[0, col], params, eq, span=(-0.2, 0.9)))
        axes[0, col].set_title(rf"$\eta$={eta:.4g} ({eq.regime})")
        p0 = np.linspace(0.01, 0.85, 9)
        r = integrate("l2-byol", params, p0, t[-1], t_eval=t)
        for i in range(len(p0)):
            axes[1, col].plot(t, r.ys[:, i], color=PALETTE[i % 4], lw=1)
        axes[1, col].set_xlabel("time t")
    axes[0, 0].set_ylabel(r"$\dot p=p^2(1-(1+\sigma^2)p)-\eta p$")
    axes[1, 0].set_ylabel(r"$p(t)$")
    from matplotlib.patches import Patch

    axes[0, 2].legend(handles=[Patch(color=FATE_COLORS[f], alpha=0.3, label=f) for f in FATE_COLORS],
                      loc="lower left", fontsize=7, frameon=False)
    fig4.last = plotted
    return save(fig, out_dir, "bao_fig4_l2_dynamics")


def fig5(out_dir, fast=False, h=512, d=512, seed=0):
    """Bao Fig. 5: eigenvalues of the symmetrised head W (W_ij ~ N(0, 1/h)) at initialisation, and of
    Phi Phi^T (Phi_ij ~ N(0, 1/d)), sampled; the semicircle law of radius sqrt(2) overlaid."""
    rng = np.random.default_rng(seed)
    h = 128 if fast else h
    d = 128 if fast else d
    W = rng.standard_normal((h, h)) / np.sqrt(h)
    p = np.linalg.eigvalsh((W + W.T) / 2)
    Phi = rng.standard_normal((h, d)) / np.sqrt(d)
    s = np.linalg.eigvalsh(Phi @ Phi.T)
    fig, axes = figure(1, 2, figsize=(8.4, 3.2))
    axes[0].hist(p, bins=40, density=True, color=PALETTE[0], alpha=0.7, label=f"sampled, h={h}")
    x = np.linspace(-np.sqrt(2), np.sqrt(2), 200)
    axes[0].plot(x, np.sqrt(np.maximum(2 - x**2, 0)) / np.pi, "k", lw=1.2, label="semicircle, radius $\\sqrt{2}$")
    axes[0].set_xlabel(r"eigenvalue $p$ of $(W+W^\top)/2$")
    axes[0].set_ylabel("density")
    axes[0].legend(fontsize=7)
    axes[1].hist(s, bins=40, density=True, color=PALETTE[1], alpha=0.7)
    axes[1].set_xlabel(r"eigenvalue $s$ of $\Phi\Phi^\top$ (Marchenko-Pastur)")
    fig5.last = {"p": p, "s": s}
    return save(fig, out_dir, "bao_fig5_initial_eigenvalues")


def fig7(out_dir, fast=False):
    """Bao Fig. 7 (Appendix C): the equilibria as intersections of f(p) = -(2p^5 + T p^2 - N_Psi^2 p)
    with the line K, for K below, at and above K_c."""
    from dynamics.equilibria import critical_value, find_equilibria
    from dynamics.params import CosineParams

    base = CosineParams()
    scale = (1 + base.sigma2) * base.n_phi * base.n_psi**3
    Kc = critical_value(base) * scale
    p = np.linspace(-1.3, 1.2, 600)
    f = -(2 * p**5 + base.trace * p**2 - base.n_psi**2 * p)
    fig, ax = figure(figsize=(5.4, 3.8))
    ax.plot(p, f, "k", lw=1.4, label=r"$-(2p^5+Tp^2-N_\Psi^2p)$")
    plotted = {}
    for K, col in ((0.3 * Kc, PALETTE[0]), (Kc, "k"), (1.6 * Kc, PALETTE[3])):
        ax.axhline(K, color=col, lw=1, ls="--" if K != Kc else ":", label=rf"$K$={K:.3f}" + (" = $K_c$" if K == Kc else ""))
        params = CosineParams(rho=K / scale)
        eq = find_equilibria(params)
        nz = eq.p[eq.p != 0]
        ax.plot(nz, np.full(nz.shape, K), "o", color=col, ms=5, mfc="w")
        plotted[K] = (params, eq.p)
    ax.set_ylim(-1.5, 2.0)
    ax.set_xlabel(r"$p$")
    ax.set_ylabel(r"$K=\rho(1+\sigma^2)N_\Phi N_\Psi^3$")
    ax.set_title("Bao App. C: non-zero equilibria solve Q(p) = 0", fontsize=8)
    ax.legend(fontsize=7, loc="lower right", bbox_to_anchor=(0.86, 0.02), framealpha=0.9)
    fig7.last = plotted
    return save(fig, out_dir, "bao_fig7_roots")
