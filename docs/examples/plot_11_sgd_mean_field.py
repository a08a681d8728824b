r"""
A whole run, step by step: the discrete mean-field map
======================================================

A flow under a time map breaks down once the dimensionless step :math:`\kappa\,dt` reaches
order 1, which SimSiam's learning rates do within a few hundred steps. The discrete mean-field
map (:func:`dynamics.sgd_mean_field`) iterates the optimiser's own update (heavy-ball, the
recipe's per-step rates, weight decay) on the expected gradient, with the noise-energy closure
for the norms. Here a small linear SimSiam (d = h = 48) from the initialisation of
``ssldyn validate linear``, predicted without training.
"""
import matplotlib.pyplot as plt
import numpy as np

import dynamics as dy

d = h = 48
rng = np.random.default_rng(0)
Phi0 = rng.normal(0.0, 1.0 / np.sqrt(d), (h, d))
A = rng.normal(0.0, 1.0 / np.sqrt(h), (h, h))
W0 = (A + A.T) / 2
recipe = dy.Recipe(lrs=dy.epoch_lrs(0.05, epochs=10, steps_per_epoch=50), momentum=0.9, rho=0.01,
                   batch=256, sigma2=0.5, d=d, loss="cosine")
steps = np.arange(0, len(recipe.lrs) + 1, 5)
pred = dy.sgd_mean_field(W0, Phi0, recipe, steps)
print(pred.message, f"; N_Phi {pred.n_phi[0]:.3f} -> {pred.n_phi[-1]:.3f}, N_Psi {pred.n_psi[0]:.3f} -> {pred.n_psi[-1]:.3f}")

p = np.array([row[:8] for row in pred.p])
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6), layout="constrained")
ax1.plot(pred.steps, p, lw=1)
ax1.set_xlabel("SGD step")
ax1.set_ylabel("top-8 eigenvalues of $W$")
ax2.plot(pred.steps, pred.n_phi, label=r"$N_\Phi$")
ax2.plot(pred.steps, pred.n_psi, label=r"$N_\Psi$")
ax2.set_xlabel("SGD step")
ax2.legend()
fig.suptitle(rf"predicted run: lr 0.05, cosine schedule, $\rho$ = {recipe.rho}")
plt.show()
