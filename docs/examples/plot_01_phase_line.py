r"""
Phase line of Bao eq. 7: equilibria and fates
=============================================

The reduced cosine-SimSiam flow (Bao et al. 2023, eq. 7) for one eigenvalue :math:`p` of the
predictor, with the norms :math:`N_\Phi, N_\Psi` and the trace :math:`T` frozen:

.. math:: \dot p=\frac{p^2(N_\Psi^2-Tp-2p^4)}{(1+\sigma^2)N_\Phi N_\Psi^3}-\rho p .

SymPy derives it (:func:`dynamics.derive`), :func:`dynamics.find_equilibria` finds every real
root, and :func:`dynamics.basins` gives the fate of every initial condition without time stepping.
"""
import matplotlib.pyplot as plt

import dynamics as dy
from figures import draw_phase_line

derivation = dy.derive("cosine-simsiam", "reduced")
print(derivation.rhs["p"])

params = dy.CosineParams(rho=0.01, sigma2=0.5, n_phi=2.0, n_psi=1.5, trace=0.5)
eq = dy.find_equilibria(params)
print(f"{eq.regime}: {eq.critical_name} = {eq.critical_value:.6f}")
for p, stability in zip(eq.p, eq.stability):
    print(f"  p = {p: .6f}  {stability}")
for lo, hi, fate in dy.basins(params):
    print(f"  ({lo: .4f}, {hi: .4f}) -> {fate}")

# %%
# The same line drawn on our own axes: filled circles are stable, shading is the fate
# (red: diverge, grey: collapse to 0, blue: converge to :math:`p_4`).
fig, ax = plt.subplots(figsize=(6, 3.2), layout="constrained")
draw_phase_line(ax, params, eq)
ax.set_ylabel(r"$\dot p$")
ax.set_title(rf"Bao eq. 7: {eq.regime} at $\rho$={params.rho:g}, $\sigma^2$={params.sigma2:g}, "
             rf"$N_\Phi$={params.n_phi:g}, $N_\Psi$={params.n_psi:g}, $T$={params.trace:g}", fontsize=9)
plt.show()
