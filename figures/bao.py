"""Figures of Bao et al. (2023) that the theory reproduces: Fig. 2 (right-hand side of eq. 7 with
its equilibria), Fig. 3 (equilibria against the lumped K, regimes shaded, fold marked), Fig. 4
(L2 dynamics, eq. 8, for three weight decays), Fig. 5 (initial eigenvalues of W by sampling) and
Fig. 7 (Appendix C: roots of the quintic as intersections with a horizontal line).

The paper's parameter values were lost with its formulas; the ones used here are stated on each
figure. Each figure is ``compute_figN(fast) -> result -> draw_figN(result, ax=None) -> Figure``;
the registered target ``figN(out_dir, fast)`` computes, draws and saves. The math comes from
:mod:`dynamics` (``CosineParams.K``, ``L2Params.eta_c``, ``critical_value``, ``find_equilibria``,
``equilibrium_branches``, ``integrate`` and the generated equilibrium polynomial).
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .phase import draw_rhs_curve, fate_legend, rhs_curve
from .registry import registered
from .style import PALETTE, REGIME_COLORS, axes_for, caption, free_legend, number, params_caption, styled

FIG2_CASES = {   # (label, rho): N_Phi = 2, N_Psi = 1.5, T = 0.5, sigma2 = 0.5 (theory notes' example)
    "Collapse": 0.15, "Acute": 0.01, "Stable": 0.0,
}


# --- Fig. 2 ---------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Fig2:
    panels: dict            # label -> RhsCurve


def compute_fig2(fast: bool = False) -> Fig2:
    """pdot of eq. 7 at the three :data:`FIG2_CASES`.

    Parameters
    ----------
    fast : bool, optional
        Unused: the figure is cheap (801 points per curve either way).

    Returns
    -------
    Fig2
        ``panels``: regime label -> :func:`figures.phase.rhs_curve` on ``(-1.4, 1.3)``.
    """
    from dynamics.params import CosineParams

    return Fig2({label: rhs_curve(CosineParams(rho=rho), span=(-1.4, 1.3)) for label, rho in FIG2_CASES.items()})


@styled
def draw_fig2(result: Fig2, ax=None):
    """Bao Fig. 2: pdot of eq. 7 for the three regimes, equilibria marked, fates shaded."""
    fig, axes = axes_for(ax, len(result.panels), figsize=(10.5, 3.2))
    for ax, c in zip(axes, result.panels.values()):
        draw_rhs_curve(c, ax=ax)
        eq = c.equilibria
        ax.set_title(rf"{eq.regime}: $\rho$={number(c.params.rho)} ($\rho_c$={eq.critical_value:.4f})")
    axes[0].set_ylabel(r"$\dot p$ (Bao eq. 7)")
    caption(fig, "Bao Fig. 2, eq. 7 (cosine-simsiam): " + params_caption(c.params, skip=("rho",)))
    fate_legend(axes[-1], fates=np.concatenate([c.fates for c in result.panels.values()]), fontsize=7, frameon=False)
    return fig


fig2 = registered("bao-fig2", compute_fig2, draw_fig2, "bao_fig2_rhs_eq7")


# --- Fig. 3 ---------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Fig3:
    """Equilibrium branches along rho (``branches``), the same axis as K, and the fold ``(K_c, p_c)``."""

    base: object
    branches: object        # dynamics.continuation.Branches
    SWEPT = ("rho",)        # the field swept along the axis (not stated at one value)
    K: np.ndarray
    K_c: float
    p_c: float


def compute_fig3(fast: bool = False) -> Fig3:
    """Equilibria of eq. 7 along :math:`K=\\rho(1+\\sigma^2)N_\\Phi N_\\Psi^3` (``CosineParams.K``).

    Parameters
    ----------
    fast : bool, optional
        141 values of :math:`\\rho` in [0, 0.14] instead of 561.

    Returns
    -------
    Fig3
        The branches of :func:`dynamics.continuation.equilibrium_branches` along :math:`\\rho`, the same
        axis as ``K``, and the fold ``(K_c, p_c)``.
    """
    from dynamics.continuation import equilibrium_branches
    from dynamics.params import CosineParams

    base = CosineParams()
    rho = np.linspace(0.0, 0.14, 141 if fast else 561)
    fixed = {k: v for k, v in base.to_dict().items() if k != "rho"}
    b = equilibrium_branches("cosine-simsiam", "rho", rho, fixed)
    fold = b.folds[b.folds[:, 0] > 1e-9]
    K = np.array([replace(base, rho=r).K for r in rho])
    return Fig3(base, b, K, replace(base, rho=float(fold[0, 0])).K, float(fold[0, 1]))


@styled
def draw_fig3(result: Fig3, ax=None):
    """Bao Fig. 3: equilibria of eq. 7 against K at fixed T, N_Psi; regimes shaded, the fold marked."""
    fig, (ax,) = axes_for(ax, figsize=(5.6, 3.8))
    b, K, Kc = result.branches, result.K, result.K_c
    ax.axvspan(0, Kc, color=REGIME_COLORS["Acute"], alpha=0.35, lw=0, label="Acute")
    ax.axvspan(Kc, K[-1], color=REGIME_COLORS["Collapse"], alpha=0.25, lw=0, label="Collapse")
    ax.axvline(0, color=REGIME_COLORS["Stable"], lw=3, label="Stable (K = 0)")
    labels = {0: "stable", 1: "unstable"}
    for j in range(b.p.shape[1]):
        for code, ls, col in ((0, "-", PALETTE[0]), (1, "--", PALETTE[3])):
            y = np.where(b.stability[:, j] == code, b.p[:, j], np.nan)
            if np.isfinite(y).any():     # a legend entry for a branch only where one is drawn
                ax.plot(K, y, ls=ls, color=col, lw=1.6 if code == 0 else 1.1, label=labels.pop(code, None),
                        zorder=3 if code == 0 else 2)
    ax.plot([Kc], [result.p_c], "ko", ms=5, label=rf"fold $K_c$={Kc:.3f}", zorder=4)
    ax.set_xlabel(r"$K=\rho(1+\sigma^2)N_\Phi N_\Psi^3$")
    ax.set_ylabel(r"equilibria $p$")
    ax.set_title("Bao Fig. 3: " + params_caption(result.base, skip=result.SWEPT) + r", $\rho$ swept", fontsize=8)
    free_legend(ax, fontsize=7, ncol=2, framealpha=0.9, order=("lower right", "upper right", "lower left"))
    return fig


fig3 = registered("bao-fig3", compute_fig3, draw_fig3, "bao_fig3_regimes_vs_K")


# --- Fig. 4 ---------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Fig4:
    """Per weight decay: the phase curve (``curves``) and trajectories ``ys`` (time, start) at ``t``."""

    curves: tuple           # RhsCurve per eta
    t: np.ndarray
    p0: np.ndarray
    ys: tuple               # (time, start) per eta


def compute_fig4(fast: bool = False, sigma2: float = 0.5) -> Fig4:
    """L2 dynamics (eq. 8) below, at and above :math:`\\eta_c` (``L2Params.eta_c``).

    Parameters
    ----------
    fast : bool, optional
        Unused: the figure is cheap.
    sigma2 : float, optional
        The augmentation variance :math:`\\sigma^2 \\ge 0` of ``L2Params``; default 0.5. The weight
        decays are 0.05, :math:`\\eta_c=1/(4(1+\\sigma^2))` and 0.3.

    Returns
    -------
    Fig4
        Per weight decay the phase curve (:func:`figures.phase.rhs_curve` on ``(-0.2, 0.9)``) and the
        trajectories ``ys`` (time, start) from the 9 starts ``p0`` in [0.01, 0.85] at the times ``t``.

    Raises
    ------
    ParameterError
        If ``sigma2`` is negative.
    """
    from dynamics.integrate import integrate
    from dynamics.params import L2Params

    eta_c = L2Params(sigma2=sigma2).eta_c
    t = np.linspace(0, 60, 300)
    p0 = np.linspace(0.01, 0.85, 9)
    curves, ys = [], []
    for eta in (0.05, eta_c, 0.3):
        params = L2Params(eta=eta, sigma2=sigma2)
        curves.append(rhs_curve(params, span=(-0.2, 0.9)))
        ys.append(integrate("l2-byol", params, p0, t[-1], t_eval=t).ys)
    return Fig4(tuple(curves), t, p0, tuple(ys))


@styled
def draw_fig4(result: Fig4, ax=None):
    """Bao Fig. 4: phase curves (top) and trajectories p(t) (bottom) for three weight decays."""
    n = len(result.curves)
    fig, axes = axes_for(ax, 2 * n, nrows=2, ncols=n, figsize=(10.5, 5.6))
    for col, (c, ys) in enumerate(zip(result.curves, result.ys)):
        draw_rhs_curve(c, ax=axes[col])
        axes[col].set_title(rf"$\eta$={number(c.params.eta)} ({c.equilibria.regime})")
        for i in range(ys.shape[1]):
            axes[n + col].plot(result.t, ys[:, i], color=PALETTE[i % 4], lw=1)
        axes[n + col].set_xlabel("time t")
    axes[0].set_ylabel(r"$\dot p=p^2(1-(1+\sigma^2)p)-\eta p$")
    axes[n].set_ylabel(r"$p(t)$")
    caption(fig, "Bao Fig. 4, eq. 8 (l2-byol): " + params_caption(result.curves[0].params, skip=("eta",)))
    fate_legend(axes[n - 1], fates=np.concatenate([c.fates for c in result.curves]), fontsize=7, frameon=False)
    return fig


fig4 = registered("bao-fig4", compute_fig4, draw_fig4, "bao_fig4_l2_dynamics", call="sigma2=0.5")


# --- Fig. 5 ---------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Fig5:
    h: int
    d: int
    p: np.ndarray           # eigenvalues of (W + W^T)/2
    s: np.ndarray           # eigenvalues of Phi Phi^T
    seed: int = 0


def compute_fig5(fast: bool = False, h: int = 512, d: int = 512, seed: int = 0) -> Fig5:
    """Eigenvalues of the symmetrised head W (W_ij ~ N(0, 1/h)) and of Phi Phi^T (Phi_ij ~ N(0, 1/d)).

    Parameters
    ----------
    fast : bool, optional
        Sample 128 x 128 matrices, whatever ``h`` and ``d``.
    h : int, optional
        The head's size (W is h x h, Phi is h x d), at least 1; default 512.
    d : int, optional
        The input dimension, at least 1; default 512.
    seed : int, optional
        The seed of ``numpy.random.default_rng``, at least 0; default 0.

    Returns
    -------
    Fig5
        ``h``, ``d`` and the sampled eigenvalues ``p`` of :math:`(W+W^\\top)/2` and ``s`` of
        :math:`\\Phi\\Phi^\\top`.

    Raises
    ------
    ParameterError
        If ``h`` or ``d`` is not an integer of at least 1, or ``seed`` not one of at least 0.
    """
    from symbolic.errors import check_int

    h, d, seed = check_int("h", h, 1), check_int("d", d, 1), check_int("seed", seed, 0)
    rng = np.random.default_rng(seed)
    h, d = (128, 128) if fast else (h, d)
    W = rng.standard_normal((h, h)) / np.sqrt(h)
    Phi = rng.standard_normal((h, d)) / np.sqrt(d)
    return Fig5(h, d, np.linalg.eigvalsh((W + W.T) / 2), np.linalg.eigvalsh(Phi @ Phi.T), seed)


@styled
def draw_fig5(result: Fig5, ax=None):
    """Bao Fig. 5: sampled initial eigenvalues; the semicircle law of radius sqrt(2) overlaid."""
    fig, axes = axes_for(ax, 2, figsize=(8.4, 3.2))
    axes[0].hist(result.p, bins=40, density=True, color=PALETTE[0], alpha=0.7, label=f"sampled, h={result.h}")
    x = np.linspace(-np.sqrt(2), np.sqrt(2), 200)
    axes[0].plot(x, np.sqrt(np.maximum(2 - x**2, 0)) / np.pi, "k", lw=1.2, label="semicircle, radius $\\sqrt{2}$")
    axes[0].set_xlabel(r"eigenvalue $p$ of $(W+W^\top)/2$")
    axes[0].set_ylabel("density")
    axes[0].set_ylim(0, 0.68)                        # room above the semicircle (peak 0.45) for the legend
    axes[0].legend(fontsize=7, loc="upper center", ncol=2, frameon=False)
    axes[1].hist(result.s, bins=40, density=True, color=PALETTE[1], alpha=0.7)
    axes[1].set_xlabel(r"eigenvalue $s$ of $\Phi\Phi^\top$ (Marchenko-Pastur)")
    caption(fig, rf"Bao Fig. 5: initial eigenvalues, $W_{{ij}}\sim N(0,1/h)$, $\Phi_{{ij}}\sim N(0,1/d)$; "
                 f"h = {result.h}, d = {result.d}, seed {result.seed}")
    return fig


fig5 = registered("bao-fig5", compute_fig5, draw_fig5, "bao_fig5_initial_eigenvalues", call="seed=1")


# --- Fig. 7 ---------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Fig7:
    r""":math:`f(p)=K-Q(p)` on ``p`` (``f``), and per line K the parameters and equilibria found."""

    base: object
    p: np.ndarray
    f: np.ndarray
    SWEPT = ("rho",)        # the lines K are values of rho (K = rho (1 + sigma^2) N_Phi N_Psi^3)
    K_c: float
    lines: dict             # K -> (params, equilibria p)


def compute_fig7(fast: bool = False) -> Fig7:
    r"""Bao App. C: the generated equilibrium polynomial at :math:`\rho=0` is :math:`p\,f(p)` with
    :math:`f(p)=-(2p^5+Tp^2-N_\Psi^2p)`, so the non-zero equilibria at K solve :math:`f(p)=K`.

    Parameters
    ----------
    fast : bool, optional
        Unused: the figure is cheap.

    Returns
    -------
    Fig7
        :math:`f` on 600 points of [-1.3, 1.2], :math:`K_c`, and for K = 0.3, 1 and 1.6 times
        :math:`K_c` the parameters and the equilibria found there.
    """
    from dynamics.equilibria import critical_value, find_equilibria
    from dynamics.params import CosineParams
    from symbolic.codegen import load_kernels

    base = CosineParams()
    k = load_kernels(base.MODEL, "reduced")
    c0 = k.eqpoly(replace(base, rho=0.0).as_array(k.PARAMS))     # p f(p): drop the constant 0
    p = np.linspace(-1.3, 1.2, 600)
    Kc = replace(base, rho=critical_value(base)).K
    lines = {}
    for K in (0.3 * Kc, Kc, 1.6 * Kc):
        params = replace(base, rho=K / replace(base, rho=1.0).K)
        lines[K] = (params, find_equilibria(params).p)
    return Fig7(base, p, np.polyval(c0[:-1], p), Kc, lines)


@styled
def draw_fig7(result: Fig7, ax=None):
    """Bao Fig. 7: the equilibria as intersections of f(p) with the line K, below, at and above K_c."""
    fig, (ax,) = axes_for(ax, figsize=(5.4, 3.8))
    ax.plot(result.p, result.f, "k", lw=1.4, label=r"$-(2p^5+Tp^2-N_\Psi^2p)$")
    for (K, (_, roots)), col in zip(result.lines.items(), (PALETTE[0], "k", PALETTE[3])):
        at_c = K == result.K_c
        ax.axhline(K, color=col, lw=1, ls=":" if at_c else "--", label=rf"$K$={K:.3f}" + (" = $K_c$" if at_c else ""))
        nz = roots[roots != 0]
        ax.plot(nz, np.full(nz.shape, K), "o", color=col, ms=5, mfc="w", zorder=4)
    ax.set_ylim(-1.5, 2.8)          # room above the lines K for the legend
    ax.set_xlabel(r"$p$")
    ax.set_ylabel(r"$K=\rho(1+\sigma^2)N_\Phi N_\Psi^3$")
    ax.set_title("Bao App. C: non-zero equilibria solve $Q(p) = K$\n" + params_caption(result.base, skip=result.SWEPT),
                 fontsize=8)
    free_legend(ax, fontsize=7, framealpha=0.9, order=("upper right", "upper left", "lower right", "lower left"))
    return fig


fig7 = registered("bao-fig7", compute_fig7, draw_fig7, "bao_fig7_roots")
