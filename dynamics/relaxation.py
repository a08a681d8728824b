r"""The slowest relaxation rate of a flow: the time scale a run must cover to settle.

For the reduced flow of a model with equilibria it is the smallest non-zero
:math:`|\partial_p\dot p|` at its stable equilibria (where trajectories settle); otherwise
(the eigen form, whose invariant :math:`s-p^2` relaxes at a rate of order the decay, Bao 2023
eq. 6) the decay parameter itself when it is positive.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from symbolic.model import model_of

from .equilibria import equilibria_of

if TYPE_CHECKING:
    from symbolic.model import Model


def slowest_rate(params: Any, *, model: str | Model | None = None,
                 form: str | None = None) -> tuple[float, str] | None:
    r"""``(rate, what)`` of the flow's slowest relaxation at ``params``, or None when none is known.

    Parameters
    ----------
    params : parameter dataclass
        The point.
    model : str or symbolic.model.Model, optional
        The model with its convention (default ``params.MODEL``, looked up once here).
    form : {'reduced', 'eigen'}, optional
        The form integrated (default the model object's form).

    Returns
    -------
    tuple of (float, str) or None
        The rate and what it is: ``'|d rhs/dp| at the stable equilibria'`` (the reduced flow of
        a model with equilibria) or the decay field's name (``'rho'``), else None.

    Examples
    --------
    The L2 reduced flow (Tian et al. 2021 eq. 16), :math:`\dot p=-\eta p+p^2(\tau-(1+\sigma^2)p)`,
    at :math:`\eta=0.05`, :math:`\sigma^2=0.5`, :math:`\tau=1`: its stable equilibria are 0,
    relaxing at :math:`\eta`, and :math:`p_+`, at :math:`|2\tau p_+-3(1+\sigma^2)p_+^2-\eta|\approx0.512`:

    >>> from dynamics import L2Params
    >>> from dynamics.relaxation import slowest_rate
    >>> slowest_rate(L2Params(eta=0.05, sigma2=0.5))
    (0.05, '|d rhs/dp| at the stable equilibria')
    """
    m = model_of(params, model)
    form = m.form if form is None else form
    if form == "reduced" and m.has("equilibria"):
        k = m.kernels("reduced")
        theta = np.ascontiguousarray(params.as_array(k.PARAMS), dtype=np.float64)
        eq = equilibria_of(m, params)
        rates = []
        for r, st in zip(eq.p, eq.stability):
            J = np.zeros((1, 1))
            k.jac(np.array([float(r)]), theta, J)
            if st == "stable" and np.isfinite(J[0, 0]) and abs(J[0, 0]) > 1e-300:
                rates.append(abs(float(J[0, 0])))
        return (min(rates), "|d rhs/dp| at the stable equilibria") if rates else None
    if m.decay is not None and getattr(params, m.decay) > 0:
        return float(getattr(params, m.decay)), m.decay
    return None
