r"""
Phase portraits: L2 BYOL basins and the two-layer plane
=======================================================

Left: the :math:`(p, s)` plane of L2-loss BYOL (Tian et al. 2021, eqs. 11-13) with the EMA target
:math:`W_a=\tau W`. Every start of a grid is integrated (:func:`dynamics.integrate`, form
``eigen``) and coloured by its fate; the trajectories approach the invariant parabola
:math:`s=p^2/\alpha_p` (eq. 14: :math:`e^{2\eta t}(s-p^2/\alpha_p)` is constant), and the basin
boundary runs through the saddle :math:`p_-` of the reduced flow (eq. 16).

Right: one aligned mode of the two-layer linear network (Jing et al. 2022, Theorem 3) in a window
and from starts of our choosing, as ``ssldyn figure phase-two-layer --window 0,3,0,3 --starts
'2.5,1;1,2.5;2.8,2.6'`` draws it; each trajectory stays on its hyperbola
:math:`\sigma_1^2-\sigma_2^2=C`.
"""
import matplotlib.pyplot as plt
import numpy as np

import dynamics as dy
from figures import compute_l2_plane, compute_two_layer_plane, draw_l2_plane, draw_two_layer_plane

l2 = compute_l2_plane(dy.L2Params(eta=0.14, sigma2=0.5, beta=0.4))
k = 1 + l2.params.sigma2
p_minus = (1 - np.sqrt(1 - 4 * l2.params.eta * k)) / (2 * k)
print(f"saddle p_- = {p_minus:.4f} (Tian eq. 16); equilibria found: {np.round(l2.equilibria.p, 4)}")

plane = compute_two_layer_plane(dy.TwoLayerParams(lam=-0.5), window=(0, 3, 0, 3),
                                starts=[[2.5, 1.0], [1.0, 2.5], [2.8, 2.6]])
drift = np.abs(plane.ys[..., 0] ** 2 - plane.ys[..., 1] ** 2 - (plane.starts[:, 0] ** 2 - plane.starts[:, 1] ** 2))
print(f"largest drift of sigma_1^2 - sigma_2^2: {drift.max():.1e}")

fig, axes = plt.subplots(1, 2, figsize=(12, 4.6), layout="constrained")
draw_l2_plane(l2, ax=axes[0])
draw_two_layer_plane(plane, ax=axes[1])
plt.show()
