r"""
Bifurcation diagram: equilibria versus weight decay
===================================================

:func:`dynamics.equilibrium_branches` follows every real equilibrium of Bao eq. 7 along
:math:`\rho` and locates the saddle-node where :math:`p_3` and :math:`p_4` merge, at
:math:`\rho=\rho_c`: above it every non-zero eigenvalue collapses.
"""
import matplotlib.pyplot as plt
import numpy as np

import dynamics as dy

params = dy.CosineParams(sigma2=0.5, n_phi=2.0, n_psi=1.5, trace=0.5)
b = dy.equilibrium_branches("cosine-simsiam", "rho", np.linspace(0.0, 0.15, 301), fixed=params.to_dict())

fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
for j in range(b.p.shape[1]):
    for code, style in ((0, "-"), (1, "--")):
        y = np.where(b.stability[:, j] == code, b.p[:, j], np.nan)
        ax.plot(b.values, y, "k" + style, lw=1.5)
ax.plot(b.folds[:, 0], b.folds[:, 1], "o", color="C3", ms=7, label="fold (saddle-node)")
ax.axvline(dy.critical_value(params), color="C3", lw=0.8, ls=":")
ax.set_xlabel(r"weight decay $\rho$")
ax.set_ylabel("equilibrium eigenvalue $p$")
ax.set_title(rf"Bao eq. 7 along $\rho$ (stable solid, unstable dashed) at $\sigma^2$={params.sigma2:g}, "
             rf"$N_\Phi$={params.n_phi:g}, $N_\Psi$={params.n_psi:g}, $T$={params.trace:g}", fontsize=9)
ax.legend()
print("folds (rho, p):", b.folds.round(6).tolist(), " rho_c =", round(dy.critical_value(params), 6))
plt.show()
