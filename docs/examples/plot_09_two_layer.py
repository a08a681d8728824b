r"""
Two-layer singular values (Jing et al. 2022, Theorem 3)
=======================================================

In the aligned two-layer linear network the singular values of one mode follow
:math:`\dot\sigma_1=\lambda\sigma_1\sigma_2^2`, :math:`\dot\sigma_2=\lambda\sigma_2\sigma_1^2`, with
:math:`\lambda=v^\top Xv` (negative when augmentation beats the data: the mode collapses).
:math:`\sigma_1^2-\sigma_2^2` is conserved, so the layers stay balanced. Integrated for several
:math:`\lambda` in one batch (one parameter row per trajectory).
"""
import matplotlib.pyplot as plt
import numpy as np

import dynamics as dy

lam = np.array([-1.0, -0.3, 0.3, 1.0])
y0 = np.tile([0.6, 0.5], (lam.size, 1))
t = np.linspace(0.0, 3.0, 301)
run = dy.integrate("two-layer", lam[:, None], y0, t_end=t[-1], t_eval=t, form="eigen", diverge_bound=50.0)
print(run.message)
drift = np.nanmax(np.abs(run.ys[..., 0] ** 2 - run.ys[..., 1] ** 2 - (0.6**2 - 0.5**2)))
print(f"largest drift of sigma_1^2 - sigma_2^2 along the runs: {drift:.1e}")

fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
for i, l in enumerate(lam):
    ax.plot(t, run.ys[:, i, 0], color=f"C{i}", label=rf"$\lambda={l}$: $\sigma_1$")
    ax.plot(t, run.ys[:, i, 1], color=f"C{i}", ls="--")
ax.set_ylim(0, 5)
ax.set_xlabel("$t$")
ax.set_ylabel(r"singular values ($\sigma_2$ dashed)")
ax.set_title(r"aligned two-layer flow (Jing Thm. 3) from $(\sigma_1, \sigma_2)=(0.6, 0.5)$", fontsize=9)
ax.legend(fontsize=8)
plt.show()
