r"""
Batch integration with per-trajectory parameters
================================================

:func:`dynamics.integrate` steps N trajectories at once, each with its own parameters if given
as rows (columns in the kernel's order, ``load_kernels(model).PARAMS``). Here 400 trajectories of
Bao eq. 7 from the same :math:`p_0`, each with its own weight decay, on an output grid; the
status of each (:class:`dynamics.Status`) says whether it reached the end or diverged.
"""
import matplotlib.pyplot as plt
import numpy as np

import dynamics as dy

base = dy.CosineParams(sigma2=0.5, n_phi=2.0, n_psi=1.5, trace=0.5)
names = dy.load_kernels("cosine-simsiam").PARAMS
rho = np.linspace(0.0, 0.2, 400)
theta = np.tile(base.as_array(names), (rho.size, 1))
theta[:, names.index("rho")] = rho
t = np.linspace(0.0, 150.0, 301)
run = dy.integrate("cosine-simsiam", theta, np.full(rho.size, 0.9), t_end=t[-1], t_eval=t)
print(run.message)

fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
colors = plt.cm.viridis(rho / rho.max())
for i in range(0, rho.size, 8):
    ax.plot(t, run.ys[:, i], color=colors[i], lw=0.9)
ax.axhline(0, color="0.5", lw=0.6)
sm = plt.cm.ScalarMappable(cmap="viridis", norm=plt.Normalize(0, rho.max()))
fig.colorbar(sm, ax=ax, label=r"weight decay $\rho$")
ax.set_xlabel("flow time $t$")
ax.set_ylabel("$p(t)$")
ax.set_title(rf"$p_0=0.9$: converge for $\rho<\rho_c={dy.critical_value(base):.4f}$, collapse above")
plt.show()
