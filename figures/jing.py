r"""Figures after Jing et al. (2022) that follow from the theory alone (the trained reproductions
belong to the landscape/contrastive work).

* Fig. 3 (one layer): :math:`W(t)=W(0)e^{Xt}`, so the singular values along an eigenvector of
  :math:`X` grow like :math:`e^{\lambda t}`. With isotropic data and augmentation noise of variance
  ``k`` on the last 8 of 16 coordinates, taking the weights of :math:`\hat\Sigma_0,\hat\Sigma_1`
  uniform (an assumption: the paper's weights depend on the kernel), :math:`X=I-\mathrm{diag}(0_8,kI_8)`
  and the noisy block's singular values relative to the clean ones are :math:`e^{-kt}`: they
  shrink monotonically with ``k`` and collapse as ``t`` grows.
* Fig. 6 style (two layers, aligned): singular values of :math:`W_1` from the aligned ODE
  (Theorem 3, :mod:`dynamics.integrate` on the ``two-layer`` kernels) from the paper's
  initialisation :math:`\sigma_k(0)=e^{-0.35k}`: small modes blow up much later
  (:math:`t^*\approx1/(2\lambda\sigma_0^2)`), so relative to the leading one they collapse.

Each is ``compute_figN -> result -> draw_figN(result, ax=None) -> Figure``; ``figN(out_dir, fast)``
is the registered target.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .registry import registered
from .style import PALETTE, axes_for, styled


@dataclass(frozen=True, eq=False)
class Fig3:
    """Noisy / clean singular value ratio ``rel[T]`` on the noise amplitudes ``k`` at times ``T``."""

    k: np.ndarray
    rel: dict               # T -> ratio on k


def compute_fig3(fast: bool = False) -> Fig3:
    r"""The noisy block's singular values relative to the clean ones, :math:`e^{-kT}`, on the noise
    variances :math:`k\in[0, 2]` at the times T = 0.5, 2 and 8 (the module docstring's derivation).

    Parameters
    ----------
    fast : bool, optional
        21 values of k instead of 81.

    Returns
    -------
    Fig3
        ``k`` and ``rel``: T -> the ratio on ``k``.
    """
    ks = np.linspace(0, 2, 21 if fast else 81)
    lam_noisy = 1.0 - ks                         # eigenvalues of X on the noisy block (clean block: 1)
    return Fig3(ks, {T: np.exp((lam_noisy - 1.0) * T) for T in (0.5, 2.0, 8.0)})


@styled
def draw_fig3(result: Fig3, ax=None):
    """Jing Fig. 3, one-layer theory: singular values of W(T) versus the noise amplitude k."""
    fig, (ax,) = axes_for(ax, figsize=(5.2, 3.6))
    for (T, rel), col in zip(result.rel.items(), (PALETTE[0], PALETTE[1], PALETTE[3])):
        ax.semilogy(result.k, rel, color=col, lw=1.5, label=f"t = {T:g}")
    ax.axhline(1.0, color="0.5", lw=0.8, ls=":", label="clean coordinates")
    ax.set_xlabel("augmentation noise variance k (last 8 of 16 coordinates)")
    ax.set_ylabel("singular value, noisy / clean")
    ax.set_title(r"Jing Fig. 3 (one layer): $W(t)=W(0)e^{Xt}$, $X=I-\mathrm{diag}(0,kI_8)$", fontsize=8)
    ax.legend(fontsize=7)
    return fig


fig3 = registered("jing-fig3", compute_fig3, draw_fig3, "jing_fig3_one_layer")


@dataclass(frozen=True, eq=False)
class Fig6:
    """The 16 singular values ``sigma`` (time, mode) of W_1 at times ``t`` for ``lam``."""

    lam: float
    t: np.ndarray
    sigma: np.ndarray


def compute_fig6(fast: bool = False, lam: float = 1.0) -> Fig6:
    """The aligned two-layer ODE from :math:`\\sigma_k(0)=e^{-0.35k}` (balanced layers) up to just
    before the leading mode blows up, by :func:`dynamics.integrate.integrate`.

    Parameters
    ----------
    fast : bool, optional
        120 output times instead of 400.
    lam : float, optional
        The eigenvalue :math:`\\lambda > 0` of the aligned mode (``TwoLayerParams.lam``); default 1. The
        run ends at :math:`0.995\\,t^*`, :math:`t^*=1/(2\\lambda)` the leading mode's blow-up time.

    Returns
    -------
    Fig6
        ``lam``, the times ``t`` and the 16 singular values ``sigma`` (time, mode) of :math:`W_1`.

    Raises
    ------
    ParameterError
        If ``lam`` is not a positive number (there is no blow-up to run up to).
    """
    from dynamics.integrate import integrate
    from dynamics.params import TwoLayerParams
    from symbolic.errors import check_range

    lam = check_range("lam", lam, 0.0, lo_open=True)

    s0 = np.exp(-0.35 * np.arange(16))
    t_star = 1.0 / (2 * lam * s0[0] ** 2)          # blow-up of the leading (balanced) mode
    t = np.linspace(0, 0.995 * t_star, 120 if fast else 400)
    r = integrate("two-layer", TwoLayerParams(lam=lam), np.column_stack([s0, s0]), t[-1], form="eigen", t_eval=t,
                  rtol=1e-10, atol=1e-14)
    return Fig6(lam, t, r.ys[:, :, 0])


@styled
def draw_fig6(result: Fig6, ax=None):
    """Jing Fig. 6 style: the singular values of W_1 over time, absolute and relative to the leading one."""
    fig, axes = axes_for(ax, 2, figsize=(9.6, 3.4))
    t, sv = result.t, result.sigma
    for k in range(sv.shape[1]):
        axes[0].semilogy(t, sv[:, k], color=PALETTE[k % 7], lw=1)
        axes[1].semilogy(t, sv[:, k] / sv[:, 0], color=PALETTE[k % 7], lw=1)
    axes[0].set_xlabel("time t")
    axes[0].set_ylabel(r"$\sigma_k(t)$ of $W_1$")
    axes[1].set_xlabel("time t")
    axes[1].set_ylabel(r"$\sigma_k/\sigma_0$")
    axes[0].set_title(rf"aligned two-layer ODE, $\sigma_k(0)=e^{{-0.35k}}$, $\lambda$={result.lam:g}", fontsize=8)
    axes[1].set_title("relative to the leading mode: the small ones collapse", fontsize=8)
    return fig


fig6 = registered("jing-fig6", compute_fig6, draw_fig6, "jing_fig6_two_layer", call="lam=2.0")
