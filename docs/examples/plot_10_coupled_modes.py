r"""
Coupled modes: the h-mode eigen system
======================================

In a real network the modes are coupled: :math:`N_\Phi^2=\sum_ks_k`,
:math:`N_\Psi^2=\sum_kp_k^2s_k` and :math:`T=\sum_kp_ks_k` change as every mode moves (Bao eq. 5 for
all modes at once, :func:`dynamics.integrate_coupled`). Two systems in one batch, from the
magnitudes of a random symmetric head's spectrum (negative modes below :math:`p_1` would diverge)
with an isotropic encoder: at :math:`\rho=3\cdot10^{-4}` every mode survives; at
:math:`\rho=10^{-3}` the norms shrink with the modes until :math:`N_\Psi\to0`, where the flow is
singular and the run stops with ``Status.NONFINITE``: complete collapse, reported, not a NaN.
"""
import matplotlib.pyplot as plt
import numpy as np

import dynamics as dy

h = 64
rng = np.random.default_rng(1)
A = rng.normal(0.0, 1.0 / np.sqrt(h), (h, h))
p0 = np.abs(np.linalg.eigvalsh((A + A.T) / 2))
s0 = np.ones(h)                                  # Phi Phi^T = I
rho = np.array([3e-4, 1e-3])
t = np.linspace(0.0, 400.0, 201)
run = dy.integrate_coupled("cosine-simsiam", rho, 0.5, np.tile(p0, (2, 1)), np.tile(s0, (2, 1)), t_end=t[-1], t_eval=t)
print(run.message, "; stops at t =", run.t_event.round(1))

fig, axes = plt.subplots(1, 3, figsize=(11, 3.4), layout="constrained")
for b, ax in enumerate(axes[:2]):
    ax.plot(t, run.ys[:, b, :h], color=f"C{b}", lw=0.5)
    ax.set_title(rf"$\rho={rho[b]:g}$: {dy.Status(run.status[b]).name}")
    ax.set_xlabel("$t$")
axes[0].set_ylabel("eigenvalues $p_k$")
for b in range(2):
    p, s = run.ys[:, b, :h], run.ys[:, b, h:]
    axes[2].plot(t, np.sqrt((p**2 * s).sum(1)), color=f"C{b}", label=rf"$N_\Psi$, $\rho={rho[b]:g}$")
axes[2].set_xlabel("$t$")
axes[2].legend(fontsize=8)
plt.show()
