r"""
Predicted fates against integration
===================================

On a one-dimensional flow an initial condition moves monotonically to the next equilibrium in
the direction of :math:`\dot p`, so its fate is an interval lookup (:func:`dynamics.predict_fate`).
Here the predicted fates on a grid of (:math:`\rho`, :math:`p_0`) next to the fates found by
integrating every point to a long time, and the fraction that agree.
"""
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap

import dynamics as dy
from figures import FATE_COLORS

base = dy.CosineParams(sigma2=0.5, n_phi=2.0, n_psi=1.5, trace=0.5)
rho = np.linspace(0.0, 0.15, 61)
p0 = np.linspace(-1.5, 1.5, 61)
predicted = np.array([dy.predict_fate(dy.CosineParams(**{**base.to_dict(), "rho": r}), p0) for r in rho])

names = dy.load_kernels("cosine-simsiam").PARAMS
theta = np.tile(base.as_array(names), (rho.size * p0.size, 1))
theta[:, names.index("rho")] = np.repeat(rho, p0.size)
run = dy.integrate("cosine-simsiam", theta, np.tile(p0, rho.size), t_end=5000.0)
final = run.final.reshape(rho.size, p0.size)
integrated = np.where(run.status.reshape(final.shape) == dy.Status.DIVERGED, 0,
                      np.where(np.abs(final) < 1e-2, 1, 2))
agree = (predicted == integrated)[np.abs(p0) > 0.02]   # p0 next to 0 collapses too slowly to tell by t = 5000
print(f"predicted fate equals integrated fate at {agree.mean():.1%} of the points")

cmap = ListedColormap([FATE_COLORS[f] for f in dy.FATES])
fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), layout="constrained", sharey=True)
for ax, codes, title in zip(axes, (predicted, integrated), ("predicted (no time stepping)", "integrated to t = 5000")):
    ax.pcolormesh(p0, rho, codes, cmap=cmap, vmin=-0.5, vmax=2.5, shading="nearest")
    ax.set_xlabel("$p_0$")
    ax.set_title(title)
axes[0].set_ylabel(r"$\rho$")
fig.suptitle("fates: diverge (red), collapse (grey), converge (blue); "
             rf"$\sigma^2$={base.sigma2:g}, $N_\Phi$={base.n_phi:g}, $N_\Psi$={base.n_psi:g}, $T$={base.trace:g}")
plt.show()
