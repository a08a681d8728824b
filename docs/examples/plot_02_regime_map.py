r"""
Regime map with the fold curve
==============================

Regimes of the cosine model on the :math:`(\rho, N_\Psi)` plane (:func:`dynamics.regime_map`,
classified without time stepping: Collapse where :math:`\rho>\rho_c`, Acute below), and the fold
:math:`\rho=\rho_c(N_\Psi)` continued by pseudo-arclength continuation of :math:`P=P'=0`
(:func:`dynamics.saddle_node_curve`).
"""
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap

import dynamics as dy
from figures import REGIME_COLORS

fixed = dy.CosineParams(sigma2=0.5, n_phi=2.0, trace=0.5).to_dict()
rho = np.linspace(0.0, 0.2, 101)
n_psi = np.linspace(0.5, 3.0, 101)
m = dy.regime_map("cosine-simsiam", "rho", rho, "n_psi", n_psi, fixed=fixed)
fold = dy.saddle_node_curve("cosine-simsiam", "rho", "n_psi", fixed=fixed, x_range=(0.01, 0.3), y_range=(0.5, 3.0))

cmap = ListedColormap([REGIME_COLORS[r] for r in dy.REGIMES])
fig, ax = plt.subplots(figsize=(5.5, 4), layout="constrained")
ax.pcolormesh(m.x, m.y, m.regime, cmap=cmap, vmin=-0.5, vmax=len(dy.REGIMES) - 0.5, shading="nearest")
ax.plot(fold.x, fold.y, "k-", lw=2, label="fold (continuation)")
ax.set_xlabel(r"weight decay $\rho$")
ax.set_ylabel(r"$N_\Psi=\|W\Phi\|_F$")
ax.set_title(r"cosine SimSiam: Collapse (red), Acute (yellow) at "
             rf"$\sigma^2$={fixed['sigma2']:g}, $N_\Phi$={fixed['n_phi']:g}, $T$={fixed['trace']:g}", fontsize=9)
ax.legend(loc="lower right")
print(f"{(m.regime == 0).mean():.0%} of the grid collapses; fold from N_Psi = {fold.y.min():.2f} to {fold.y.max():.2f}")
plt.show()
