r"""The critical decay of a reduced flow and the regime it implies, per point, in batches and on grids.

The decay term of every model that supports regimes (:mod:`symbolic.registry`, capability
``regimes``) is linear, :math:`\dot p=D\,(G(p)-\rho)\,p` up to a positive factor (cosine:
:math:`\rho`; L2: :math:`\eta`), so non-zero equilibria solve :math:`G(p)=\rho`. Positive
equilibria exist iff :math:`\rho\le\rho_c=\max_{p>0}G(p)`; at :math:`\rho=\rho_c` two of them
merge in a saddle-node. For Bao eq. 7 this is :math:`\rho_c=K_c/((1+\sigma^2)N_\Phi N_\Psi^3)`,
:math:`K_c=-\min_{p>0}(2p^5+Tp^2-N_\Psi^2p)`; for Tian eq. 16 it is :math:`\eta_c=\tau^2/(4(1+\sigma^2))`.
Regime codes (:data:`REGIMES`): 0 Collapse (:math:`\rho>\rho_c`), 1 Acute (:math:`0<\rho<\rho_c`),
2 Stable (:math:`\rho=0`), 3 Boundary (:math:`\rho=\rho_c` within :data:`BOUNDARY_RTOL`).
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from symbolic.errors import ParameterError
from symbolic.model import as_model, model_of

# the compiled core, where callers have always found it
from .critical_core import (BOUNDARY_RTOL, OVERFLOW, REGIMES, _bound, _regimes_batch, critical_decay,  # noqa: F401
                            critical_decay_memo, critical_decay_ws, raw_critical, regime_code, regimes_grid_unchecked)
from .overflow import overflow_error, raise_row
from .validate import check_columns, float_array, grid_values, theta_rows

if TYPE_CHECKING:
    from symbolic.model import Model


def critical_value(params: Any, model: str | Model | None = None) -> float:
    r"""The critical decay (``rho_c`` or ``eta_c``) with every other parameter fixed.

    :math:`\rho_c=\max_{p>0}G(p)`, where the non-zero equilibria solve :math:`G(p)=\rho` (see the
    module docstring). Bao 2023 eq. 7: :math:`\rho_c=K_c/((1+\sigma^2)N_\Phi N_\Psi^3)`,
    :math:`K_c=-\min_{p>0}(2p^5+Tp^2-N_\Psi^2p)`; Tian et al. 2021 eq. 16:
    :math:`\eta_c=\tau^2/(4(1+\sigma^2))`. The decay field of ``params`` is ignored.

    Parameters
    ----------
    params : parameter dataclass
        A point of a model with the ``regimes`` capability (``params.MODEL``).
    model : str or symbolic.model.Model, optional
        The model (its convention included); default ``params.MODEL`` in the frobenius convention.

    Returns
    -------
    float
        The critical decay; :math:`\le0` when no positive equilibrium exists at any decay,
        ``inf`` when :math:`G` is unbounded above on :math:`p>0` (then positive equilibria exist at
        every decay: the regime is Acute for every decay > 0).

    Raises
    ------
    ParameterError
        If the model has no regimes (``two-layer``), or if the critical decay overflows float64
        (naming the parameter that makes it so and its range that does not).

    Examples
    --------
    >>> from dynamics import CosineParams, L2Params, critical_value
    >>> round(critical_value(CosineParams(rho=0.01, sigma2=0.5, n_phi=2, n_psi=1.5, trace=0.5)), 6)
    0.100805
    >>> round(critical_value(L2Params(eta=0.05, sigma2=0.5, tau=1.0)), 6)   # 1 / (4 * 1.5)
    0.166667
    """
    m = model_of(params, model).require("regimes", "regimes and critical decays")
    crit = raw_critical(m, params)
    if math.isnan(crit):
        raise overflow_error(m, params, "critical")
    return crit


def regimes_grid(model: str | Model, base_theta, ix: int, xs, iy: int, ys):
    r"""Regime codes and critical decays on the grid ``ys`` x ``xs`` of kernel parameters ``iy``, ``ix``.

    The critical decay does not depend on the decay itself (it is :math:`\max_{p>0}G(p)`, see the
    module docstring), so when one axis is the decay parameter it is computed once per line of
    the other axis (n instead of n^2 polynomial root searches) and the codes are an outer
    comparison; otherwise every grid point gets its own root search.
    """
    model = as_model(model)
    k = model.kernels("reduced", "regimes")
    m = len(k.PARAMS)
    xs, ys = grid_values("xs", xs), grid_values("ys", ys)
    base_theta = float_array("base_theta", base_theta, ndim=1)
    if base_theta.size != m:
        raise ParameterError(f"base_theta must have shape ({m},) in the order {', '.join(k.PARAMS)}; "
                             f"got shape {base_theta.shape}")
    for nm, i in (("ix", ix), ("iy", iy)):
        if not (isinstance(i, (int, np.integer)) and 0 <= i < m):
            raise ParameterError(f"{nm} must be an integer in [0, {m - 1}]; got {i!r}")
    # every value of each axis (not only the corners: a discrete field or the magnitude limit is
    # not an interval), each with the base values of the other columns
    for i, values in ((ix, xs), (iy, ys)):
        rows = np.tile(base_theta, (values.size, 1))
        rows[:, i] = values
        check_columns(model, rows, k.PARAMS, "grid")
    codes, crits = regimes_grid_unchecked(model, k, base_theta, ix, xs, iy, ys)
    bad = np.isnan(crits)
    if np.any(bad):
        a, b = np.argwhere(bad)[0]
        t = base_theta.copy()
        t[ix], t[iy] = xs[b], ys[a]
        raise_row(model, k.PARAMS, t, f"grid point (x = {float(xs[b])!r}, y = {float(ys[a])!r})", "critical")
    return codes, crits


def regimes_batch(model: str | Model, theta: np.ndarray):
    """Regime codes and critical decays for a batch of kernel parameter rows ``theta`` (n, m).

    ``theta``: real (float or int), finite, columns in the order ``kernel.PARAMS``, each inside
    its parameter's range. Raises ParameterError otherwise, or if a critical decay overflows.
    """
    m = as_model(model)
    k = m.kernels("reduced", "regimes")
    theta = theta_rows(m, theta, k.PARAMS)
    codes = np.empty(theta.shape[0], dtype=np.int8)
    crits = np.empty(theta.shape[0])
    _bound(_regimes_batch, k, "eqpoly_into")(theta, m.decay_index(k.PARAMS), k.NPOLY, codes, crits)
    bad = np.flatnonzero(np.isnan(crits))
    if bad.size:
        raise_row(m, k.PARAMS, theta[bad[0]], f"theta row {int(bad[0])}", "critical")
    return codes, crits
