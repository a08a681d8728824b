r"""
The (p, s) plane of Bao eq. 5
=============================

The eigen form keeps, per mode, the predictor eigenvalue :math:`p` and
:math:`s=u^\top\Phi\Phi^\top u`. With weight decay the invariant
:math:`\frac{d}{dt}(s-p^2)=-2\rho(s-p^2)` (eq. 6) draws every trajectory onto the parabola
:math:`s=p^2`, where the reduced flow of eq. 7 lives. Trajectories of the two-dimensional system,
integrated in one batch (``form="eigen"``).
"""
import matplotlib.pyplot as plt
import numpy as np

import dynamics as dy

params = dy.CosineParams(rho=0.05, sigma2=0.5, n_phi=2.0, n_psi=1.5, trace=0.5)
rng = np.random.default_rng(0)
y0 = np.column_stack([rng.uniform(-0.2, 1.4, 40), rng.uniform(0.0, 2.0, 40)])
t = np.linspace(0.0, 120.0, 400)
run = dy.integrate("cosine-simsiam", params, y0, t_end=t[-1], t_eval=t, form="eigen")
print(run.message)

fig, ax = plt.subplots(figsize=(7.6, 4.2), layout="constrained")
for i in range(y0.shape[0]):
    ax.plot(run.ys[:, i, 0], run.ys[:, i, 1], color="C0", lw=0.8, alpha=0.8)
    ax.plot(*y0[i], "o", color="C0", ms=3)
pp = np.linspace(-0.3, 1.5, 200)
ax.plot(pp, pp**2, "k--", lw=1.5, label="$s=p^2$ (eq. 6)")
eq = dy.find_equilibria(params)
stable = np.array([st == "stable" for st in eq.stability])
ax.plot(eq.p[~stable], eq.p[~stable] ** 2, "o", mfc="w", mec="C3", ms=7, zorder=3, label="unstable equilibria of eq. 7")
ax.plot(eq.p[stable], eq.p[stable] ** 2, "o", color="C3", ms=7, zorder=4, label="stable equilibria of eq. 7")
ax.set_xlim(-0.3, 1.5)
ax.set_ylim(-0.05, 2.1)
ax.set_xlabel("$p$")
ax.set_ylabel("$s$")
ax.set_title(rf"Bao eq. 5, one mode: $\rho$={params.rho:g}, $\sigma^2$={params.sigma2:g}, $N_\Phi$={params.n_phi:g}, "
             rf"$N_\Psi$={params.n_psi:g}, $T$={params.trace:g}", fontsize=9)
ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)   # beside the plane: clear of every start
plt.show()
