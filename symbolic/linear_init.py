r"""Weights of the linear SimSiam model: the initial distribution, and the norms the theory reads.

The linear model of Bao 2023 Section 5.4 (theory notes section 1; ``sims.train`` trains it):
:math:`\Phi\in\mathbb R^{h\times d}`, :math:`\Phi_{ij}\sim\mathcal N(0,1/d)`, and the symmetric head
:math:`W=(A+A^\top)/2`, :math:`A_{ij}\sim\mathcal N(0,1/h)`. The fixed-norm theory (eq. 7) reads the
weights only through :math:`N_\Phi=\|\Phi\|_F`, :math:`N_\Psi=\|W\Phi\|_F` and
:math:`T=\mathrm{tr}(W\Phi\Phi^\top)`; the eigen-level maps read :math:`p_j` (eigenvalues of the
symmetrised :math:`W`) and :math:`q_j=\|U^\top\Phi\|_j` (:math:`U` its eigenvectors).

``sims.trajectory.initial_weights`` rebuilds a trained run's exact :math:`(W_0,\Phi_0)` with torch's
generator; :func:`draw_initial_weights` draws from the same distribution with numpy (no torch), so
its weights are statistically, not bitwise, those of a run with the same seed.
"""
from __future__ import annotations

import math

import numpy as np

from symbolic.errors import ParameterError, check_int


def draw_initial_weights(d: int, h: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    r"""A draw of the linear model's initial :math:`(W_0,\Phi_0)` with numpy (module docstring).

    Parameters
    ----------
    d : int
        Input dimension, >= 2.
    h : int
        Representation dimension, >= 2.
    seed : int, optional
        Seed of ``numpy.random.default_rng``, >= 0.

    Returns
    -------
    tuple of numpy.ndarray
        ``W0`` (h x h, symmetric) and ``Phi0`` (h x d), float64.

    Raises
    ------
    ParameterError
        If ``d`` or ``h`` is not an integer >= 2 or ``seed`` is negative.

    Examples
    --------
    >>> from symbolic.linear_init import draw_initial_weights
    >>> W0, Phi0 = draw_initial_weights(4, 3, seed=1)
    >>> W0.shape, Phi0.shape, bool((W0 == W0.T).all())
    ((3, 3), (3, 4), True)
    """
    check_int("d", d, 2)
    check_int("h", h, 2)
    check_int("seed", seed, 0)
    rng = np.random.default_rng(seed)
    phi = rng.standard_normal((h, d)) / math.sqrt(d)
    A = rng.standard_normal((h, h)) / math.sqrt(h)
    return 0.5 * (A + A.T), phi


def weight_norms(W, Phi) -> tuple[float, float, float]:
    r""":math:`(N_\Phi,N_\Psi,T)=(\|\Phi\|_F,\|W\Phi\|_F,\mathrm{tr}(W\Phi\Phi^\top))` of given weights.

    Examples
    --------
    >>> import numpy as np
    >>> from symbolic.linear_init import weight_norms
    >>> weight_norms(0.5 * np.eye(2), np.eye(2))         # sqrt(2), sqrt(0.5), 1
    (1.4142135623730951, 0.7071067811865476, 1.0)
    """
    W, Phi = _weights(W, Phi)
    A = W @ Phi
    return float(np.linalg.norm(Phi)), float(np.linalg.norm(A)), float(np.sum(A * Phi))


def eigen_state(W, Phi) -> tuple[np.ndarray, np.ndarray]:
    r""":math:`(p_j, q_j)`: eigenvalues of :math:`(W+W^\top)/2` (ascending) and :math:`q_j=\|U^\top\Phi\|_j`.

    Examples
    --------
    >>> import numpy as np
    >>> from symbolic.linear_init import eigen_state
    >>> p, q = eigen_state(np.diag([0.2, 0.5]), np.diag([3.0, 4.0]))
    >>> p.tolist(), q.tolist()
    ([0.2, 0.5], [3.0, 4.0])
    """
    W, Phi = _weights(W, Phi)
    p, U = np.linalg.eigh(0.5 * (W + W.T))
    return p, np.sqrt(np.sum((U.T @ Phi) ** 2, axis=1))


def _weights(W, Phi):
    W = np.asarray(W, dtype=np.float64)
    Phi = np.asarray(Phi, dtype=np.float64)
    if W.ndim != 2 or W.shape[0] != W.shape[1] or Phi.ndim != 2 or Phi.shape[0] != W.shape[0]:
        raise ParameterError(f"W must be h x h and Phi h x d; got {W.shape} and {Phi.shape}")
    if not (np.all(np.isfinite(W)) and np.all(np.isfinite(Phi))):
        raise ParameterError("W and Phi must be finite")
    return W, Phi
