r"""Equilibria of the reduced (scalar) flows and their stability.

For the models whose reduced right-hand side is a polynomial over a positive constant
denominator (:mod:`symbolic.registry`, capability ``equilibria``), the equilibria are the real
roots of the generated equilibrium polynomial (``kernel.eqpoly``), found by :mod:`dynamics.roots`
(derivative bracketing: every real root, no spurious complex pair, double roots flagged).

Stability: the sign of :math:`\partial_p\dot p` at the root (negative: stable); a root of even
multiplicity (a fold, or :math:`p=0` at zero weight decay) is semi-stable. The critical decay and
the regime it implies are in :mod:`dynamics.critical_decay`.

Size: over 400 lines only with its docstrings (the numpydoc sections and examples of the public
functions); the code itself stays under 400 lines (tests/test_module_size.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numba import njit

from symbolic.errors import ParameterError
from symbolic.model import as_model, model_of
from symbolic.results import Result

from .critical_core import REGIMES, raw_critical, regime_code

# where callers have always found them (the regime logic itself lives in dynamics.critical_decay)
from .critical_decay import critical_value, regimes_batch, regimes_grid  # noqa: F401
from .overflow import ill_conditioned_error, overflow_error, params_from_row, raise_row, roots_rows
from .roots import horner
from .validate import theta_rows

if TYPE_CHECKING:
    from symbolic.model import Model


@dataclass(frozen=True)
class Equilibria(Result):
    r"""Real equilibria of a reduced flow, ascending, with stability and the regime.

    The roots of the equilibrium polynomial :math:`P(p)` (the numerator of :math:`\dot p`, Bao
    2023 eq. 7 for the cosine models: :math:`\dot p\propto -pQ(p)`), each with its stability from
    the sign of :math:`\partial_p\dot p` there. Built by :func:`find_equilibria`.

    Parameters
    ----------
    model : str
        The registered model name (``params.MODEL``).
    params : parameter dataclass
        The point the equilibria were computed at (e.g. :class:`~symbolic.params.CosineParams`).
    p : numpy.ndarray
        The real equilibria, ascending, shape ``(n,)``.
    multiplicity : numpy.ndarray
        The multiplicity of each root as a root of :math:`P` (int, shape ``(n,)``).
    stability : tuple of str
        ``'stable'``, ``'unstable'`` or ``'semi-stable'`` (even multiplicity) per root.
    regime : str or None
        One of :data:`dynamics.critical_decay.REGIMES`; None for a model without a decay parameter.
    critical_name : str or None
        The name of the critical decay (``'rho_c'``, ``'eta_c'``), None without regimes.
    critical_value : float or None
        Its value at ``params`` with every other parameter fixed, None without regimes.

    Examples
    --------
    >>> from dynamics import CosineParams, Equilibria, find_equilibria
    >>> eq = find_equilibria(CosineParams(rho=0.01, sigma2=0.5, n_phi=2, n_psi=1.5, trace=0.5))
    >>> isinstance(eq, Equilibria), eq.critical_name, eq.to_json()["regime"]
    (True, 'rho_c', 'Acute')
    """

    model: str
    params: object
    p: np.ndarray
    multiplicity: np.ndarray
    stability: tuple
    regime: str | None                 # None for a model without a decay parameter (no regimes)
    critical_name: str | None
    critical_value: float | None

    def to_json(self) -> dict:
        # an unbounded G (the critical decay is +inf) is the string "inf", as JSON has no Infinity
        crit = None if self.critical_value is None else {
            "name": self.critical_name,
            "value": float(self.critical_value) if self.critical_value < math.inf else "inf"}
        return {"model": self.model, "params": self.params.to_dict(), "regime": self.regime,
                "equilibria": [{"p": float(x), "stability": s} for x, s in zip(self.p, self.stability)],
                "critical": crit}


@njit(cache=True)
def stability_code(c, root, mult):
    """0 stable, 1 unstable, 2 semi-stable, from the polynomial ``c`` (same sign as the rhs)."""
    if mult % 2 == 0:
        return 2
    n = c.size - 1
    if root == 0.0:
        # sign of the first non-vanishing derivative at 0 = sign of the coefficient of p^mult
        v = c[n - mult]
    else:
        _, v = horner(c, n, root)
    if v < 0.0:
        return 0
    if v > 0.0:
        return 1
    return 2


STABILITY = ("stable", "unstable", "semi-stable")




def find_equilibria(params: Any, convention: str | None = None, *, model: str | Model | None = None) -> Equilibria:
    r"""All real equilibria of ``params.MODEL``'s reduced flow at ``params``, ascending
    (``convention``: the cosine models' normalisers, 'frobenius' or 'feature-norm').

    For the cosine model (Bao 2023 eq. 7) the equilibria are :math:`p=0` and the real roots of
    the quintic :math:`Q(p)=2p^5+Tp^2-N_\Psi^2p+K`, :math:`K=\rho(1+\sigma^2)N_\Phi N_\Psi^3`;
    for the L2 model (Tian et al. 2021 eq. 16) :math:`p=0` and
    :math:`p_\pm=\big(\tau\pm\sqrt{\tau^2-4\eta(1+\sigma^2)}\big)/(2(1+\sigma^2))`.
    A root is stable where :math:`\partial_p\dot p<0`, semi-stable at even multiplicity.

    Parameters
    ----------
    params : parameter dataclass
        A point of a model with the ``equilibria`` capability (:class:`~symbolic.params.CosineParams`,
        :class:`~symbolic.params.CosineDeltaParams`, :class:`~symbolic.params.L2Params` or a user
        model's class); ``params.MODEL`` names the model.
    convention : {'frobenius', 'feature-norm'}, optional
        The cosine models' normalisers (the other models have 'frobenius' only); default the
        model object's, else 'frobenius'.
    model : str or symbolic.model.Model, optional
        The model (with its convention); default ``params.MODEL``, looked up once here.

    Returns
    -------
    Equilibria
        The roots ascending, their multiplicities and stability, the regime and the critical decay.

    Raises
    ------
    ParameterError
        If the model has no equilibria (``two-layer``: lines of equilibria) or no such
        ``convention``; if the equilibrium polynomial, its roots' rounding scale or the critical
        decay overflow float64 (then no regime can be trusted); the message names the parameter
        responsible. If the polynomial is ill-conditioned: rounding of its coefficients may move
        a root by more than :data:`~dynamics.roots.RESOLVED_RTOL` of itself (a Wilkinson-like
        user model), so that float64 cannot tell its roots (nor a complex pair from a real one).

    Examples
    --------
    >>> from dynamics import CosineParams, L2Params, find_equilibria
    >>> eq = find_equilibria(CosineParams(rho=0.01, sigma2=0.5, n_phi=2, n_psi=1.5, trace=0.5))
    >>> [round(float(x), 4) for x in eq.p]
    [-1.0964, 0.0, 0.0455, 0.9554]
    >>> eq.stability, eq.regime
    (('unstable', 'stable', 'unstable', 'stable'), 'Acute')
    >>> round(eq.critical_value, 4)
    0.1008
    >>> l2 = find_equilibria(L2Params(eta=0.05, sigma2=0.5))
    >>> [round(float(x), 4) for x in l2.p], l2.regime
    ([0.0, 0.0544, 0.6122], 'Acute')
    """
    return equilibria_of(model_of(params, model, convention), params)


def equilibria_of(m: Model, params: Any) -> Equilibria:
    """:func:`find_equilibria` for the model object ``m`` (no lookup)."""
    k = m.kernels("reduced", "equilibria")
    theta = params.as_array(k.PARAMS)
    c = k.eqpoly(theta)
    r, mu, n, over, bad = roots_rows(k, np.ascontiguousarray(theta, np.float64).reshape(1, -1))
    roots, mult = r[0, :n[0]], mu[0, :n[0]]
    crit = raw_critical(m, params, k) if m.has("regimes") else None
    if (crit is not None and math.isnan(crit)) or over[0]:     # the kernel checked the overflow
        raise overflow_error(m, params, "equilibria")
    if bad[0] >= 0:
        raise ill_conditioned_error(m, params, c, roots[bad[0]], mult[bad[0]])
    stab = tuple(STABILITY[stability_code(c, x, j)] for x, j in zip(roots, mult))
    regime = REGIMES[regime_code(getattr(params, m.decay), crit)] if crit is not None else None
    return Equilibria(m.name, params, roots, mult, stab, regime, m.critical, crit)


def equilibria_batch(model: str | Model, theta: np.ndarray):
    """Real equilibria for each row of ``theta`` (n, m): ``(roots (n, deg) NaN-padded ascending,
    count (n,))``; multiplicities via :func:`equilibria_batch_full`.

    ``theta``: real (float or int), finite, columns in the order ``kernel.PARAMS`` (one row may be
    given as a vector), each inside its parameter's range. Raises ParameterError otherwise, or if
    a row's polynomial overflows float64 (naming the row and the parameter)."""
    r, m, n = equilibria_batch_full(model, theta)
    return r, n


def equilibria_batch_full(model: str | Model, theta: np.ndarray):
    """:func:`equilibria_batch` plus the multiplicities: ``(roots, mult, counts)`` (``model``: a
    name, resolved here, or a :class:`~symbolic.model.Model`)."""
    model = as_model(model)
    k = model.kernels("reduced", "equilibria")
    theta = theta_rows(model, theta, k.PARAMS)
    roots, mult, counts, over, ill = roots_rows(k, theta)
    bad = np.flatnonzero(over)
    if bad.size:
        raise_row(model, k.PARAMS, theta[bad[0]], f"theta row {int(bad[0])}", "equilibria")
    bad = np.flatnonzero(ill >= 0)
    if bad.size:
        i = int(bad[0])
        err = ill_conditioned_error(model, params_from_row(model, k.PARAMS, theta[i]), k.eqpoly(theta[i]),
                                    roots[i, ill[i]], mult[i, ill[i]])
        raise ParameterError(f"theta row {i}: {err}")
    return roots, mult, counts


# --- eigen systems: the cosine (p, s) system per mode, the L2 (p, s, tau) system ---------------
@dataclass(frozen=True)
class EigenEquilibria(Result):
    r"""Equilibria of an eigen system: one mode ``(p, s)`` of the cosine model at frozen N_Phi, N_Psi,
    T, or ``(p, s, tau)`` of the L2 model (``tau`` is None for the cosine models).

    Built by :func:`find_eigen_equilibria`.

    Parameters
    ----------
    p, s : numpy.ndarray
        The equilibria's coordinates, shape ``(n,)``.
    jacobian_eigenvalues : numpy.ndarray
        The eigenvalues of the Jacobian at each, complex, shape ``(n, dim)``.
    stability : tuple of str
        'stable', 'unstable' or 'semi-stable' per equilibrium.
    tau : numpy.ndarray or None, optional
        The L2 model's :math:`\tau` coordinate; None for the cosine models.
    params : parameter dataclass, optional
        The point they were computed at.

    Examples
    --------
    L2 (Tian et al. 2021 eqs. 11-16): :math:`\tau=\beta/(\beta-\eta)` at the collapsed state,
    :math:`\tau=1` at :math:`p_\pm`:

    >>> from dynamics import L2Params, find_eigen_equilibria
    >>> ee = find_eigen_equilibria(L2Params(eta=0.05, sigma2=0.5, beta=0.5))
    >>> [round(float(x), 4) for x in ee.p], [round(float(x), 4) for x in ee.tau]
    ([0.0, 0.0544, 0.6122], [1.1111, 1.0, 1.0])
    >>> ee.stability, ee.jacobian_eigenvalues.shape
    (('stable', 'unstable', 'stable'), (3, 3))
    """

    p: np.ndarray
    s: np.ndarray
    jacobian_eigenvalues: np.ndarray   # (n, dim) complex
    stability: tuple
    tau: np.ndarray | None = None
    params: object = None


def _jacobian_stability(k, states, theta):
    n = len(k.STATE)
    J = np.zeros((n, n))
    eigs, stab = [], []
    for y in states:
        k.jac(np.asarray(y, float), theta, J)
        ev = np.linalg.eigvals(J)
        eigs.append(ev)
        re = ev.real
        stab.append("stable" if np.all(re < 0) else ("unstable" if np.any(re > 0) else "semi-stable"))
    return np.array(eigs).reshape(len(states), n), tuple(stab)


def find_eigen_equilibria(params: Any, convention: str | None = None, *, model: str | Model | None = None) -> EigenEquilibria:
    r"""Equilibria of the eigen system and their stability from the Jacobian's eigenvalues.

    Cosine (Bao eq. 5, one mode, :math:`N_\Phi,N_\Psi,T` frozen): with :math:`\rho>0`,
    :math:`\frac{d}{dt}(s-p^2)=-2\rho(s-p^2)` (eq. 6) forces :math:`s=p^2`, so the equilibria are
    the reduced roots lifted to the parabola.

    L2 (Tian eqs. 11-13, state :math:`(p,s,\tau)`, :math:`\eta>0`, :math:`\beta>0`): eq. 14 forces
    :math:`s=p^2/\alpha_p`; :math:`p\ne0` then gives :math:`p(\tau-(1+\sigma^2)p)=\eta`, which
    turns :math:`\dot\tau` into :math:`\beta(1-\tau)`, so :math:`\tau=1` and :math:`p=p_\pm`
    (eq. 16 at :math:`\tau=1`); :math:`p=0` gives :math:`s=0`, :math:`\tau=\beta/(\beta-\eta)`
    (needs :math:`\beta>\eta`; the notes' collapsed-state limit).

    Parameters
    ----------
    params : parameter dataclass
        A point of a model with the ``eigen-equilibria`` capability (``cosine-simsiam``,
        ``cosine-simsiam-delta``, ``l2-byol``), with a positive decay (and, for L2, positive
        ``beta``).
    convention : {'frobenius', 'feature-norm'}, optional
        The cosine models' normalisers, for the reduced roots and the eigen system alike; default
        the model object's, else 'frobenius'.
    model : str or symbolic.model.Model, optional
        The model (with its convention); default ``params.MODEL``, looked up once here.

    Returns
    -------
    EigenEquilibria
        ``p``, ``s`` (and ``tau`` for L2) of every equilibrium, ascending in ``p``, the Jacobian's
        eigenvalues ``(n, dim)`` there, and ``stability``: 'stable' if every eigenvalue has a
        negative real part, 'unstable' if one has a positive one, else 'semi-stable'.

    Raises
    ------
    ParameterError
        If the model lacks the capability; if ``rho`` (cosine) or ``eta`` (L2) is not in
        (0, inf); if ``beta`` (L2) is not in (0, inf); or as :func:`find_equilibria` does.

    Examples
    --------
    >>> from dynamics import CosineParams, find_eigen_equilibria
    >>> ee = find_eigen_equilibria(CosineParams(rho=0.01, sigma2=0.5, n_phi=2, n_psi=1.5, trace=0.5))
    >>> [round(float(x), 4) for x in ee.s]      # s = p^2 (eq. 6)
    [1.2022, 0.0, 0.0021, 0.9128]
    >>> ee.stability
    ('unstable', 'stable', 'unstable', 'stable')
    """
    from dataclasses import replace as _replace

    m = model_of(params, model, convention).require("eigen-equilibria", "eigen equilibria")
    if m.name == "l2-byol":
        if params.eta <= 0:
            raise ParameterError(f"eta must be in (0, inf) for eigen equilibria (at eta = 0 they form lines); "
                                 f"got {params.eta!r}")
        if params.beta <= 0:
            raise ParameterError(f"beta must be in (0, inf) for eigen equilibria of the (p, s, tau) system "
                                 f"(at beta = 0 they form a curve); got {params.beta!r}")
        red = equilibria_of(m, _replace(params, tau=1.0))
        k = m.kernels("eigen")
        states = []
        for pv in red.p:
            if pv == 0.0:
                if params.beta > params.eta:
                    states.append((0.0, 0.0, params.beta / (params.beta - params.eta)))
            else:
                states.append((pv, pv * pv / params.alpha_p, 1.0))
        Y = np.array(states, float).reshape(-1, 3)
        eigs, stab = _jacobian_stability(k, Y, params.as_array(k.PARAMS))
        return EigenEquilibria(Y[:, 0].copy(), Y[:, 1].copy(), eigs, stab, Y[:, 2].copy(), params)
    if params.rho <= 0:
        raise ParameterError(f"rho must be in (0, inf) for eigen equilibria (at rho = 0 the parabola "
                             f"is not attracting); got {params.rho!r}")
    red = equilibria_of(m, params)
    k = m.kernels("eigen")
    Y = np.column_stack([red.p, red.p**2])
    eigs, stab = _jacobian_stability(k, Y, params.as_array(k.PARAMS))
    return EigenEquilibria(red.p.copy(), red.p**2, eigs, stab, params=params)
