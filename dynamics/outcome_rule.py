r"""The outcome rule of a linear SimSiam run and the fixed-norm theory it compares with, vectorised.

One rule for theory and training (:mod:`dynamics.recipe_outcome`'s module docstring states it):
``collapse`` when the whole spectrum fell below ``COLLAPSE_FRACTION`` of its start, ``survive``
when the largest eigenvalue lies within a factor ``SETTLED`` of the fixed-norm stable eigenvalue
:math:`p_4` at the final norms, ``unsettled`` otherwise; ``surviving_modes`` counts
:math:`p_j\ge` ``SURVIVE_FACTOR`` :math:`p_4`. The batched mean-field map
(:mod:`dynamics.mean_field_batch`), the recipe prediction and the trained run's summary all read
the rule from here.

Critical decay at the current norms (cosine). For :math:`p>0` Bao 2023 eq. 7 reads
:math:`\dot p=p\,[G(p)-\rho]`, :math:`G(p)=p(N_\Psi^2-Tp-2p^4)/(aN_\Phi N_\Psi^3)`; positive
equilibria exist iff :math:`\rho\le\rho_c=\max_{p>0}G`, attained at the one positive root of
:math:`10p^4+2Tp-N_\Psi^2=0` (Descartes: one sign change). L2 (Tian et al. 2021, :math:`\tau=1`):
:math:`\eta_c=1/(4a)`, :math:`p_4=(1+\sqrt{1-4a\eta})/(2a)`, independent of the norms.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from symbolic.errors import check_choice

from .sgd_mean_field import LOSSES

OUTCOMES = ("collapse", "survive", "unsettled")
COLLAPSE_FRACTION = 1e-3
SURVIVE_FACTOR = 0.25
SETTLED = 2.0


# --- fixed-norm theory, vectorised ----------------------------------------------------------
def _positive_quartic_root(n_psi2, trace):
    """The positive root of :math:`10p^4+2Tp-N_\\Psi^2=0` (Newton from above, vectorised)."""
    n_psi2 = np.asarray(n_psi2, dtype=np.float64)
    trace = np.asarray(trace, dtype=np.float64)
    # start above the root: 10 p^4 >= N^2 + 2|T| p is implied by p >= max((N^2/5)^(1/4), (|T|/5)^(1/3))
    p = np.maximum((n_psi2 / 5.0) ** 0.25, (np.abs(trace) / 5.0) ** (1.0 / 3.0)) + 1e-300
    for _ in range(200):
        f = 10.0 * p ** 4 + 2.0 * trace * p - n_psi2
        step = f / (40.0 * p ** 3 + 2.0 * trace)
        p = p - step
        if np.all(np.abs(step) <= 1e-15 * p):
            break
    return p


def critical_decay_at(n_phi: ArrayLike, n_psi: ArrayLike, trace: ArrayLike, sigma2: ArrayLike) -> np.ndarray:
    r"""Critical weight decay :math:`\rho_c=\max_{p>0}G(p)` of the cosine loss at given norms, vectorised.

    :math:`G(p)=p(N_\Psi^2-Tp-2p^4)/(aN_\Phi N_\Psi^3)`, :math:`a=1+\sigma^2` (Bao 2023 eq. 7 for
    :math:`p>0`); the maximum sits at the positive root of :math:`10p^4+2Tp-N_\Psi^2=0`.

    Parameters
    ----------
    n_phi, n_psi, trace, sigma2 : array_like
        :math:`N_\Phi>0`, :math:`N_\Psi>0`, :math:`T` and :math:`\sigma^2\ge0`, broadcast together.

    Returns
    -------
    numpy.ndarray
        :math:`\rho_c`, float64, the broadcast shape (NaN where a norm is not positive and finite).

    Examples
    --------
    The theory notes' worked example (``CosineParams`` defaults: :math:`N_\Phi=2`, :math:`N_\Psi=1.5`,
    :math:`T=0.5`, :math:`\sigma^2=0.5`), equal to ``dynamics.critical_value``:

    >>> from dynamics.outcome_rule import critical_decay_at
    >>> round(float(critical_decay_at(2.0, 1.5, 0.5, 0.5)), 6)
    0.116022
    """
    n_phi, n_psi, trace, sigma2 = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64)
                                                        for v in (n_phi, n_psi, trace, sigma2)))
    ok = np.isfinite(n_phi) & np.isfinite(n_psi) & np.isfinite(trace) & (n_phi > 0) & (n_psi > 0)
    n2 = np.where(ok, n_psi * n_psi, 1.0)
    tr = np.where(ok, trace, 0.0)
    p = _positive_quartic_root(n2, tr)
    a = 1.0 + sigma2
    with np.errstate(all="ignore"):
        g = p * (n2 - tr * p - 2.0 * p ** 4) / (a * np.where(ok, n_phi, 1.0) * n2 * np.sqrt(n2))
    return np.where(ok, g, np.nan)


def stable_eigenvalue(loss: str, rho: ArrayLike, sigma2: ArrayLike, n_phi: ArrayLike = 1.0,
                      n_psi: ArrayLike = 1.0, trace: ArrayLike = 0.0) -> np.ndarray:
    r"""The fixed-norm stable positive eigenvalue :math:`p_4` (NaN in the Collapse regime), vectorised.

    Cosine: the largest positive root of :math:`pQ` with :math:`Q(p)=2p^5+Tp^2-N_\Psi^2p+K`,
    :math:`K=\rho aN_\Phi N_\Psi^3` (Bao 2023 eq. 7), found by bisection on the decreasing branch of
    :math:`G-\rho` right of its maximum. L2 (Tian et al. 2021, :math:`\tau=1`, decay :math:`\eta=\rho`):
    :math:`p_4=(1+\sqrt{1-4a\rho})/(2a)`.

    Parameters
    ----------
    loss : {'cosine', 'l2'}
        The loss.
    rho : array_like
        Weight decay (:math:`\rho`, or :math:`\eta` for L2), >= 0.
    sigma2 : array_like
        Augmentation variance.
    n_phi, n_psi, trace : array_like, optional
        The norms (cosine only).

    Returns
    -------
    numpy.ndarray
        :math:`p_4`, NaN where no positive stable equilibrium exists (or the norms are invalid).

    Examples
    --------
    >>> from dynamics.outcome_rule import stable_eigenvalue
    >>> round(float(stable_eigenvalue("l2", 0.1, 0.5)), 6)        # (1 + sqrt(0.4)) / 3
    0.544152
    >>> round(float(stable_eigenvalue("cosine", 0.01, 0.5, 2.0, 1.5, 0.5)), 6)
    0.920364
    >>> bool(np.isnan(stable_eigenvalue("cosine", 0.2, 0.5, 2.0, 1.5, 0.5)))   # above rho_c = 0.116
    True
    """
    check_choice("loss", loss, LOSSES)
    rho, sigma2, n_phi, n_psi, trace = np.broadcast_arrays(*(np.asarray(v, dtype=np.float64)
                                                             for v in (rho, sigma2, n_phi, n_psi, trace)))
    a = 1.0 + sigma2
    if loss == "l2":
        disc = 1.0 - 4.0 * a * rho
        with np.errstate(invalid="ignore"):
            return np.where(disc >= 0, (1.0 + np.sqrt(np.maximum(disc, 0.0))) / (2.0 * a), np.nan)
    rc = critical_decay_at(n_phi, n_psi, trace, sigma2)
    ok = np.isfinite(rc) & (rho <= rc)
    n2 = np.where(ok, n_psi * n_psi, 1.0)
    tr = np.where(ok, trace, 0.0)
    den = a * np.where(ok, n_phi, 1.0) * n2 * np.sqrt(n2)
    lo = _positive_quartic_root(n2, tr)              # G's maximum: G(lo) >= rho
    hi = lo.copy()
    rr = np.where(ok, rho, 0.0)

    def excess(p):
        return p * (n2 - tr * p - 2.0 * p ** 4) / den - rr

    for _ in range(200):                             # G -> -inf: double until G(hi) < rho
        neg = excess(hi) < 0
        if np.all(neg | ~ok):
            break
        hi = np.where(neg, hi, 2.0 * hi)
    for _ in range(80):
        mid = 0.5 * (lo + hi)
        up = excess(mid) >= 0
        lo, hi = np.where(up, mid, lo), np.where(up, hi, mid)
    return np.where(ok, 0.5 * (lo + hi), np.nan)


def classify_outcome(collapsed: ArrayLike, p_max_final: ArrayLike, p_ref: ArrayLike):
    """Outcome codes (index into :data:`OUTCOMES`) from the collapse flag, the final largest
    eigenvalue and :func:`stable_eigenvalue` at the final norms (module docstring's rule), vectorised.

    Parameters
    ----------
    collapsed : array_like of bool
        Whether the whole spectrum fell below ``COLLAPSE_FRACTION`` of its start.
    p_max_final : array_like
        The largest eigenvalue at the end (NaN for a diverged run).
    p_ref : array_like
        :math:`p_4` at the final norms (NaN where none exists).

    Returns
    -------
    numpy.ndarray
        int8 codes: 0 collapse, 1 survive, 2 unsettled.

    Examples
    --------
    >>> from dynamics.outcome_rule import OUTCOMES, classify_outcome
    >>> [OUTCOMES[c] for c in classify_outcome([True, False, False, False], [1e-5, 0.6, 0.6, 3.0],
    ...                                        [0.5, 0.5, float("nan"), 0.5])]
    ['collapse', 'survive', 'unsettled', 'unsettled']
    """
    collapsed = np.asarray(collapsed, dtype=bool)
    pm = np.asarray(p_max_final, dtype=np.float64)
    pr = np.asarray(p_ref, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        settled = np.isfinite(pm) & np.isfinite(pr) & (pr > 0) & (pm >= pr / SETTLED) & (pm <= pr * SETTLED)
    return np.where(collapsed, 0, np.where(settled, 1, 2)).astype(np.int8)


def surviving_count(p: ArrayLike, p_ref: ArrayLike, collapsed: ArrayLike) -> np.ndarray:
    r"""Modes with :math:`p_j\ge` ``SURVIVE_FACTOR`` :math:`p_\mathrm{ref}` per row (0 when collapsed or
    without :math:`p_\mathrm{ref}`); ``p`` has the modes on its last axis.

    Examples
    --------
    >>> from dynamics.outcome_rule import surviving_count
    >>> surviving_count([[0.5, 0.3, 0.1, -0.2]], [0.5], [False]).tolist()
    [2]
    """
    p = np.atleast_2d(np.asarray(p, dtype=np.float64))
    pr = np.asarray(p_ref, dtype=np.float64).reshape(-1, 1)
    with np.errstate(invalid="ignore"):
        n = np.sum(p >= SURVIVE_FACTOR * pr, axis=-1)
    return np.where(np.asarray(collapsed, dtype=bool) | ~np.isfinite(pr[:, 0]), 0, n).astype(np.int64)
