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
"""
from __future__ import annotations

import numpy as np

from .style import PALETTE, figure, save


def fig3(out_dir, fast=False):
    """Jing Fig. 3, one-layer theory: singular values of W(T) versus the noise amplitude k."""
    ks = np.linspace(0, 2, 21 if fast else 81)
    fig, ax = figure(figsize=(5.2, 3.6))
    for T, col in ((0.5, PALETTE[0]), (2.0, PALETTE[1]), (8.0, PALETTE[3])):
        lam_noisy = 1.0 - ks                     # eigenvalues of X on the noisy block
        rel = np.exp((lam_noisy - 1.0) * T)      # relative to the clean block, sigma(0) equal
        ax.semilogy(ks, rel, color=col, lw=1.5, label=f"t = {T:g}")
    ax.axhline(1.0, color="0.5", lw=0.8, ls=":", label="clean coordinates")
    ax.set_xlabel("augmentation noise variance k (last 8 of 16 coordinates)")
    ax.set_ylabel("singular value, noisy / clean")
    ax.set_title(r"Jing Fig. 3 (one layer): $W(t)=W(0)e^{Xt}$, $X=I-\mathrm{diag}(0,kI_8)$", fontsize=8)
    ax.legend(fontsize=7)
    fig3.last = {"k": ks}
    return save(fig, out_dir, "jing_fig3_one_layer")


def fig6(out_dir, fast=False, lam=1.0):
    """Jing Fig. 6 style: the 16 singular values of W_1 over time from the aligned two-layer ODE."""
    from dynamics.integrate import integrate
    from dynamics.params import TwoLayerParams

    s0 = np.exp(-0.35 * np.arange(16))
    t_star = 1.0 / (2 * lam * s0[0] ** 2)          # blow-up of the leading (balanced) mode
    t = np.linspace(0, 0.995 * t_star, 120 if fast else 400)
    r = integrate("two-layer", TwoLayerParams(lam=lam), np.column_stack([s0, s0]), t[-1], form="eigen", t_eval=t,
                  rtol=1e-10, atol=1e-14)
    sv = r.ys[:, :, 0]                             # (time, mode): sigma_1
    fig, axes = figure(1, 2, figsize=(9.6, 3.4))
    for k in range(16):
        axes[0].semilogy(t, sv[:, k], color=PALETTE[k % 7], lw=1)
        axes[1].semilogy(t, sv[:, k] / sv[:, 0], color=PALETTE[k % 7], lw=1)
    axes[0].set_xlabel("time t")
    axes[0].set_ylabel(r"$\sigma_k(t)$ of $W_1$")
    axes[1].set_xlabel("time t")
    axes[1].set_ylabel(r"$\sigma_k/\sigma_0$")
    axes[0].set_title(r"aligned two-layer ODE, $\sigma_k(0)=e^{-0.35k}$, $\lambda$=1", fontsize=8)
    axes[1].set_title("relative to the leading mode: the small ones collapse", fontsize=8)
    fig6.last = {"t": t, "sigma": sv}
    return save(fig, out_dir, "jing_fig6_two_layer")
