r"""Theory overlay: the regime, equilibria and basins predicted from measured norms at one epoch.

Cosine loss: Bao 2023 eq. 7 on the parabola, with the measured :math:`N_\Phi, N_\Psi, T` treated as
parameters at a fixed time (theory notes section 4),

.. math:: \dot p=\frac{p^2(N_\Psi^2-Tp-2p^4)}{(1+\sigma^2)N_\Phi N_\Psi^3}-\rho p .

L2 loss: Bao eq. 8 / Tian et al. eq. 16 with :math:`\tau=\alpha_p=1`,
:math:`\dot p=p^2(1-(1+\sigma^2)p)-\rho p` (norm-independent; weight decay as :math:`\eta`).

The stable positive equilibrium is called :math:`p_4` (Bao's naming in the Acute regime); it is
``None`` in the Collapse regime, where no positive equilibrium exists.
"""
from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from dynamics.regimes import FATES   # fate names by code


def theory_params(loss: str, rho: float, sigma2: float, n_phi: float, n_psi: float, trace: float):
    """The dynamics parameter object for ``loss`` at the measured norms."""
    from dynamics.params import CosineParams, L2Params

    if loss == "cosine":
        return CosineParams(rho=rho, sigma2=sigma2, n_phi=n_phi, n_psi=n_psi, trace=trace)
    return L2Params(eta=rho, sigma2=sigma2, tau=1.0, alpha_p=1.0)


def fates(params, p0) -> np.ndarray:
    """``dynamics.regimes.predict_fate`` with a writable per-point parameter array (numba rejects
    the read-only broadcast view ``predict_fate`` builds when there is a single point)."""
    from dynamics.regimes import predict_fate_batch
    from symbolic.model import as_model

    p0 = np.ascontiguousarray(p0, dtype=np.float64).ravel()
    m = as_model(params)
    k = m.kernels("reduced", "equilibria")
    theta = np.tile(params.as_array(k.PARAMS), (p0.size, 1))
    return predict_fate_batch(m, theta, p0)


def _edges_probes(eq_p):
    """The interval ends (the sorted equilibria between -inf and inf) and one probe inside each."""
    roots = np.sort(np.asarray(eq_p, dtype=np.float64))
    if roots.size == 0:
        return [-math.inf, math.inf], np.array([0.0])
    span = max(1.0, float(np.max(np.abs(roots))))
    probes = np.array([roots[0] - span] + [0.5 * (a + b) for a, b in zip(roots[:-1], roots[1:])]
                      + [roots[-1] + span])
    return [-math.inf, *roots.tolist(), math.inf], probes


def _intervals(edges, codes) -> list:
    return [[None if not math.isfinite(lo) else lo, None if not math.isfinite(hi) else hi,
             FATES[int(f)]] for lo, hi, f in zip(edges[:-1], edges[1:], codes)]


def intervals(params, eq_p) -> list:
    """Fate intervals ``[lo, hi, fate]`` of the line split at the equilibria (``None`` = infinite)."""
    edges, probes = _edges_probes(eq_p)
    return _intervals(edges, fates(params, probes))


def overlay(loss: str, rho: float, sigma2: float, n_phi: float, n_psi: float, trace: float,
            p_top: ArrayLike) -> dict:
    r"""Regime, equilibria, fate intervals, :math:`p_4`, and per leading eigenvalue its predicted
    fate, whether it lies in the converge basin, and :math:`|p-p_4|/p_4`.

    Returns ``{"ok": False, "reason": ...}`` when the measured norms are not valid parameters
    (zero or non-finite norms after a divergence or a complete collapse).

    Parameters
    ----------
    loss : {'cosine', 'l2'}
        The training loss: ``cosine`` is the ``cosine-simsiam`` model, anything else the
        ``l2-byol`` model (whose flow does not depend on the norms).
    rho : float
        The weight decay: :math:`\rho` of the cosine model, :math:`\eta` of the L2 model.
    sigma2 : float
        The augmentation variance :math:`\sigma^2`.
    n_phi, n_psi, trace : float
        The measured :math:`N_\Phi=\|\Phi\|_F`, :math:`N_\Psi=\|W\Phi\|_F` and
        :math:`T=\mathrm{tr}(W\Phi\Phi^\top)` (cosine loss; ignored for L2).
    p_top : array_like
        The leading eigenvalues of the symmetrised :math:`W`, 1-D (may be empty).

    Returns
    -------
    dict
        JSON-ready. ``ok`` True: ``model``, ``regime``, ``critical_name`` and ``critical_value``
        (the critical decay), ``equilibria`` (ascending) and their ``stability``, ``p4`` (the
        largest stable positive equilibrium, ``None`` in the Collapse regime), ``intervals`` (the
        fate ``[lo, hi, fate]`` of each interval between equilibria, ``None`` for an infinite end),
        and per entry of ``p_top``: ``fates_top``, ``in_basin_top`` (its fate is converge) and
        ``rel_dist_p4_top`` (``None`` without :math:`p_4`). ``ok`` False: ``reason``, the message
        of the parameter check that failed.

    See Also
    --------
    dynamics.find_equilibria, dynamics.predict_fate

    Examples
    --------
    The L2 flow at :math:`\eta=0.1`, :math:`\sigma^2=0.5` has the equilibria 0 and
    :math:`(1\pm\sqrt{1-4\eta(1+\sigma^2)})/(2(1+\sigma^2))=(1\pm\sqrt{0.4})/3`, below
    :math:`\eta_c=1/(4(1+\sigma^2))=1/6`:

    >>> from sims import overlay
    >>> o = overlay("l2", 0.1, 0.5, 1.0, 1.0, 0.0, [0.6, 0.3, 0.05])
    >>> o["regime"], round(o["critical_value"], 4), [round(p, 4) for p in o["equilibria"]], o["stability"]
    ('Acute', 0.1667, [0.0, 0.1225, 0.5442], ['stable', 'unstable', 'stable'])
    >>> round(o["p4"], 4), o["fates_top"], [round(r, 4) for r in o["rel_dist_p4_top"]]
    (0.5442, ['converge', 'converge', 'collapse'], [0.1026, 0.4487, 0.9081])

    Norms that are not valid parameters (after a complete collapse) are reported, not raised:

    >>> overlay("cosine", 0.01, 0.5, 0.0, 1.0, 0.5, [0.6])
    {'ok': False, 'reason': 'n_phi must be in (0, inf); got 0.0'}
    """
    from dynamics.equilibria import find_equilibria
    from symbolic.errors import ParameterError

    try:
        params = theory_params(loss, rho, sigma2, n_phi, n_psi, trace)
        eq = find_equilibria(params)
    except (ParameterError, TypeError, ValueError) as e:
        return {"ok": False, "reason": str(e)}
    p_top = np.atleast_1d(np.asarray(p_top, dtype=np.float64)).ravel()
    pos_stable = [float(x) for x, st in zip(eq.p, eq.stability) if x > 0 and st == "stable"]
    p4 = max(pos_stable) if pos_stable else None
    # one fate batch for the interval probes and the top modes (each row is its own point)
    edges, probes = _edges_probes(eq.p)
    both = fates(params, np.concatenate([probes, p_top]))
    codes = both[probes.size:]
    in_basin = [bool(f == 2) for f in codes]
    rel = [abs(float(x) - p4) / p4 for x in p_top] if p4 else [None] * p_top.size
    return {
        "ok": True,
        "model": eq.model,
        "regime": eq.regime,
        "critical_name": eq.critical_name,
        "critical_value": float(eq.critical_value),
        "equilibria": [float(x) for x in eq.p],
        "stability": list(eq.stability),
        "p4": p4,
        "intervals": _intervals(edges, both[:probes.size]),
        "fates_top": [FATES[int(f)] for f in codes],
        "in_basin_top": in_basin,
        "rel_dist_p4_top": rel,
    }
