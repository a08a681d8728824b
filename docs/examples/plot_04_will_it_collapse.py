r"""
Will my SimSiam run collapse? Cosine versus L2, in SGD steps
============================================================

The question for a training recipe: with this weight decay, does an eigenvalue of the predictor
survive, and if not, after how many steps is it gone? The regime answers the first part without
integrating: the cosine loss collapses iff :math:`\rho>\rho_c(N_\Phi,N_\Psi,T)` (Bao eq. 7, the
critical decay depends on the run's norms), the L2 loss iff
:math:`\eta>\eta_c=\tau^2/(4(1+\sigma^2))` (Tian eq. 16, a closed form).

For the second part, time is measured in steps of the recipe: heavy-ball SGD with the per-step
rates :math:`\eta_i` and momentum :math:`m` has covered the gradient-flow time
:math:`t_k=\sum_{i<k}\eta_i(1-m^{k-i})/(1-m)` after :math:`k` steps
(:func:`dynamics.flow_time`). The reduced flows below freeze the norms at their initial values
(a lower bound on how fast the real run moves: its norms shrink); for a whole run use
:func:`dynamics.sgd_mean_field` (see the last example).
"""
import matplotlib.pyplot as plt
import numpy as np

import dynamics as dy

# the recipe: SimSiam's default, lr 0.1 with per-epoch cosine annealing, 30 epochs of 100 steps
lrs = dy.epoch_lrs(0.1, epochs=30, steps_per_epoch=100)
recipe = dy.Recipe(lrs=lrs, momentum=0.9, rho=0.0, sigma2=0.5, d=512)
steps = np.unique(np.geomspace(1, len(lrs), 120).astype(int))   # log-spaced: L2 moves within tens of steps
t = dy.flow_time(recipe.lrs, recipe.momentum)[steps]

# the run's initial state (d = h = 512, sigma2 = 0.5): the norms at initialisation and the
# largest eigenvalue of the symmetric head, about sqrt(2)
cosine = dy.CosineParams(rho=0.0, sigma2=0.5, n_phi=22.6, n_psi=16.0, trace=0.87)
l2 = dy.L2Params(eta=0.0, sigma2=0.5)
rho_c, eta_c = dy.critical_value(cosine), dy.critical_value(l2)
p0 = np.array([1.4])

fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), layout="constrained", sharey=True)
print(f"{'model':15} {'decay':14} {'regime':9} p below 1% of p0 at step")
for ax, (model, base, name, crit) in zip(axes, (("cosine-simsiam", cosine, "rho", rho_c),
                                               ("l2-byol", l2, "eta", eta_c))):
    for factor, color in ((0.5, "C0"), (0.9, "C2"), (1.1, "C1"), (3.0, "C3")):
        params = type(base)(**{**base.to_dict(), name: factor * crit})
        run = dy.integrate(model, params, p0, t_end=float(t[-1]), t_eval=t)
        p = run.ys[:, 0]
        gone = steps[np.flatnonzero(p < 0.01 * p0[0])]
        regime = dy.classify(params)
        when = f"{gone[0]}" if gone.size else ("survives" if regime != "Collapse" else f"not within {len(lrs)} steps")
        print(f"{model:15} {name} = {factor:.1f} {name}_c {regime:9} {when}")
        ax.plot(steps, p, color=color, label=f"{name} = {factor} {name}_c")
    ax.set_title(f"{model}: {name}_c = {crit:.3g}")
    ax.set_xscale("log")
    ax.set_xlabel("SGD step (lr 0.1, cosine schedule, momentum 0.9)")
    ax.legend(fontsize=8)
axes[0].set_ylabel("top eigenvalue $p$ of the predictor")
plt.show()

# %%
# Reading the figure: below the critical decay both losses keep the eigenvalue (it converges to
# the stable equilibrium :math:`p_4` or :math:`p_+`); above it, it decays to 0, and the further
# above, the sooner. The cosine loss's critical decay is far smaller at these norms
# (:math:`\rho_c\propto 1/(N_\Phi\sqrt{N_\Psi})` at :math:`T=0`), which is why a weight decay of
# 0.01 sits above it at initialisation and below it once the norms shrink (the *lift* of the
# validation runs).
