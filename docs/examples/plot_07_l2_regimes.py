r"""
L2 loss: regimes and the closed-form critical decay
===================================================

For the L2 loss (Tian et al. 2021, eq. 16; Bao eq. 8) the reduced flow is
:math:`\dot p=p^2[\tau-(1+\sigma^2)p]-\eta p`; non-collapsed equilibria exist iff
:math:`\eta\le\eta_c=\tau^2/(4(1+\sigma^2))`. The regime map from the generated polynomial
agrees with the closed form drawn over it.
"""
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap

import dynamics as dy
from figures import REGIME_COLORS

eta = np.linspace(0.0, 0.4, 161)
sigma2 = np.linspace(0.0, 2.0, 101)
m = dy.regime_map("l2-byol", "eta", eta, "sigma2", sigma2, fixed={"tau": 1.0})

fig, ax = plt.subplots(figsize=(5.5, 4), layout="constrained")
ax.pcolormesh(m.x, m.y, m.regime, cmap=ListedColormap([REGIME_COLORS[r] for r in dy.REGIMES]),
              vmin=-0.5, vmax=3.5, shading="nearest")
ax.plot(1 / (4 * (1 + sigma2)), sigma2, "k--", lw=2, label=r"$\eta_c=1/(4(1+\sigma^2))$")
ax.set_xlabel(r"weight decay $\eta$")
ax.set_ylabel(r"augmentation variance $\sigma^2$")
ax.set_title(r"l2-byol regimes (Collapse: red, Acute: yellow) at $\tau$=1, $\alpha_p$=1", fontsize=9)
ax.legend(loc="upper right")
mismatch = np.mean((m.regime == 0) != (m.x[None, :] > 1 / (4 * (1 + m.y[:, None]))))
print(f"map versus closed form: {mismatch:.2%} of the points differ")
plt.show()
