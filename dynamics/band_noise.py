r"""The surviving band of linear SimSiam: its minibatch-noise covariance and its 2x2 Jacobian.

After the Collapse -> Acute lift most modes of an aligned state (:math:`W=U\mathrm{diag}(p)U^\top`,
:math:`\Phi=U\mathrm{diag}(q)V^\top`) sit in a *band* of nearly equal :math:`(p_j,q_j)`. The mean
map (:mod:`dynamics.sgd_mean_field`) keeps the band degenerate; SGD noise spreads it. This module
gives the two ingredients of the spread's linear response (:mod:`dynamics.band_spread`).

Noise (derived here, checked against the Monte-Carlo gradient of the real loss in
tests/test_band_noise.py). With the norms concentrated (:math:`\|z_1\|^2\to aN_\Psi^2`,
:math:`\|z_2\|^2\to aN_\Phi^2`, the per-sample cosine at its mean :math:`c=T/(aN_\Phi N_\Psi)`),
:math:`a=1+\sigma^2`, and :math:`\tilde a=V_r^\top x_1`, :math:`\tilde b=V_r^\top x_2` the band's
coordinates of the two views, the band block (in :math:`U_r`) of the per-sample gradient of the
symmetrised loss :math:`-\tfrac12[\cos(W\Phi x_1,\Phi x_2)+\cos(W\Phi x_2,\Phi x_1)]` is

.. math:: G_W=-\frac{kq}{2}\big[\tilde a\tilde b^\top+\tilde b\tilde a^\top
          -\beta(\tilde a\tilde a^\top+\tilde b\tilde b^\top)\big],
          \qquad G_\Phi=\frac pq\,G_W\ \ (\text{columns in }V_r),

:math:`q=\sqrt s`, :math:`k=q/(aN_\Phi N_\Psi)`, :math:`\beta=cN_\Phi p/N_\Psi`: exactly symmetric
and rank one in :math:`(W,\Phi)` along :math:`(1,p/q)`. For a unit symmetric traceless
:math:`E`, Isserlis with :math:`\mathrm{Cov}(\tilde a)=aI`, :math:`\mathrm{Cov}(\tilde a,\tilde b)=I`
(:math:`\mathrm{Var}\,\tilde a^\top E\tilde b=a^2+1`, :math:`\mathrm{Var}\,\tilde a^\top E\tilde a=2a^2`,
:math:`\mathrm{Cov}(\tilde a^\top E\tilde b,\tilde a^\top E\tilde a)=2a`,
:math:`\mathrm{Cov}(\tilde a^\top E\tilde a,\tilde b^\top E\tilde b)=2`) gives, per batch of :math:`B`,

.. math:: \mathrm{Var}\langle G_W,E\rangle=\frac{(kq)^2}{B}\big[(1-\beta a)^2+(a-\beta)^2\big],\qquad
          \Sigma=\mathrm{Var}\begin{pmatrix}1&p/q\\p/q&p^2/q^2\end{pmatrix}.

This is the form quoted in ../shared/theory/trajectory_fidelity.md (last section); re-derived
here, it agrees. The antisymmetric part of the noise is 0 at this order.

L2 loss, same band: :math:`G_W=\tfrac12[(p\tilde a-\tilde b)\tilde a^\top q^2+(p\tilde b-\tilde a)\tilde b^\top q^2]`
symmetrised, i.e.
:math:`G_W=\tfrac{q^2}2[p(\tilde a\tilde a^\top+\tilde b\tilde b^\top)-(\tilde a\tilde b^\top+\tilde b\tilde a^\top)]`
plus an antisymmetric part that cancels between the halves, and :math:`G_\Phi=(p/q)G_W`: the same
structure with :math:`kq\to q^2`, :math:`\beta\to p`, so
:math:`\mathrm{Var}=q^4[(1-pa)^2+(a-p)^2]/B`.

Jacobian. On the band, with the collective sums :math:`N_\Phi,N_\Psi,T` and the projection
coefficient :math:`\lambda` fixed (a symmetric traceless perturbation leaves them unchanged at
first order; rotations inside the band make every such direction equivalent, so the diagonal ones
give the matrix answer), the per-mode force of :func:`dynamics.sgd_mean_field.eigen_gradient` plus
decay, :math:`F_p=-qG+\rho p`, :math:`F_q=-pG+\rho q`,
:math:`G=Cq(1-DpT-2Dp^2q^2)-\lambda pq`, :math:`C=1/(aN_\Phi N_\Psi)`, :math:`D=1/N_\Psi^2`, has

.. math:: J=\begin{pmatrix}-qG_p+\rho & -G-qG_q\\ -G-pG_p & -pG_q+\rho\end{pmatrix},\quad
          G_p=-Cq(DT+4Dpq^2)-\lambda q,\quad G_q=C(1-DpT-6Dp^2q^2)-\lambda p .

L2: :math:`F_p=(ap-1)q^2+\rho p`, :math:`F_q=p(ap-1)q+\rho q` (exact, no sums).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from symbolic.errors import ParameterError

#: a mode belongs to the surviving band when p > BAND_FRACTION * max p (the project's rule)
BAND_FRACTION = 0.2


@dataclass(frozen=True)
class Band:
    r"""The surviving band of an aligned state and the collective sums it sits in.

    Parameters
    ----------
    r : int
        The number of band modes (:math:`p_j>0.2\max p`).
    p, q : float
        The band's mean :math:`p` and :math:`q=\sqrt{\overline{s}}` over its modes.
    sd_p : float
        The standard deviation of :math:`p_j` over the band (0 for a degenerate band).
    n_phi, n_psi, trace : float
        :math:`N_\Phi`, :math:`N_\Psi`, :math:`T` of the whole state.
    lam : float
        The projection coefficient :math:`\lambda` of (A1) (:mod:`dynamics.sgd_mean_field`).

    Examples
    --------
    >>> import numpy as np
    >>> from dynamics.band_noise import band_of
    >>> b = band_of(np.array([0.5, 0.5, 0.01]), np.array([0.25, 0.25, 1e-4]))
    >>> b.r, round(b.p, 3), round(b.q, 3)
    (2, 0.5, 0.5)
    """

    r: int
    p: float
    q: float
    sd_p: float
    n_phi: float
    n_psi: float
    trace: float
    lam: float


def band_of(p: ArrayLike, s: ArrayLike, sigma2: float = 0.5, fraction: float = BAND_FRACTION) -> Band:
    r"""The :class:`Band` of an aligned state :math:`(p_j, s_j)`: modes with
    :math:`p_j>\mathrm{fraction}\cdot\max_kp_k`, their mean :math:`p`, :math:`q=\sqrt{\bar s}`, and
    the whole state's :math:`N_\Phi=\sqrt{\sum s}`, :math:`N_\Psi=\sqrt{\sum p^2s}`, :math:`T=\sum ps`,
    :math:`\lambda=\sum_k\hat g_kp_kq_k/N_\Psi^2` (:func:`dynamics.sgd_mean_field.eigen_gradient`).

    Parameters
    ----------
    p, s : array_like
        Eigenvalues of the symmetrised :math:`W` and the :math:`s_j` of the same modes.
    sigma2 : float, optional
        Augmentation variance (enters :math:`\lambda` only).
    fraction : float, optional
        The survival threshold relative to :math:`\max p`.

    Returns
    -------
    Band

    Raises
    ------
    ParameterError
        If ``p`` and ``s`` differ in shape or no mode has :math:`p>0`.

    Examples
    --------
    >>> import numpy as np
    >>> from dynamics.band_noise import band_of
    >>> band_of(np.array([0.3, 0.2, 0.0]), np.array([0.1, 0.1, 0.1])).r
    2
    """
    p = np.asarray(p, dtype=np.float64)
    s = np.asarray(s, dtype=np.float64)
    if p.shape != s.shape or p.ndim != 1:
        raise ParameterError(f"p and s must be 1-d of the same length; got {p.shape} and {s.shape}")
    top = float(p.max()) if p.size else 0.0
    if not top > 0:
        raise ParameterError(f"p must have a positive mode to define a band; got max p = {top!r}")
    mask = p > fraction * top
    a = 1.0 + sigma2
    n_phi = math.sqrt(float(s.sum()))
    n_psi2 = float((p * p * s).sum())
    T = float((p * s).sum())
    q_all = np.sqrt(np.maximum(s, 0.0))
    g = q_all * (1.0 - p * (T + 2.0 * p * s) / n_psi2) / (a * n_phi * math.sqrt(n_psi2))
    lam = float((g * p * q_all).sum()) / n_psi2
    pb = p[mask]
    return Band(r=int(mask.sum()), p=float(pb.mean()), q=math.sqrt(float(s[mask].mean())),
                sd_p=float(pb.std()), n_phi=n_phi, n_psi=math.sqrt(n_psi2), trace=T, lam=lam)


def band_noise(band: Band, sigma2: float, batch: int, loss: str = "cosine") -> np.ndarray:
    r"""The minibatch-noise covariance of the band per unit symmetric traceless direction,
    coordinates (W-shape, :math:`\Phi`-shape) (module docstring):
    :math:`\Sigma=\mathrm{Var}\,(1,p/q)^\top(1,p/q)`,
    cosine :math:`\mathrm{Var}=(kq)^2[(1-\beta a)^2+(a-\beta)^2]/B`, L2
    :math:`\mathrm{Var}=q^4[(1-pa)^2+(a-p)^2]/B`.

    Parameters
    ----------
    band : Band
        The band (:func:`band_of`).
    sigma2 : float
        Augmentation variance :math:`\sigma^2`.
    batch : int
        Batch size :math:`B`.
    loss : {'cosine', 'l2'}, optional
        The loss trained.

    Returns
    -------
    numpy.ndarray
        ``(2, 2)`` covariance of one batch's gradient along one unit direction.

    Examples
    --------
    >>> from dynamics.band_noise import Band, band_noise
    >>> b = Band(r=4, p=1.0, q=1.0, sd_p=0.0, n_phi=2.0, n_psi=2.0, trace=4.0, lam=0.0)
    >>> band_noise(b, 0.0, 1, "l2").tolist()      # a = 1, p = 1: no noise at the L2 fixed point
    [[0.0, 0.0], [0.0, 0.0]]
    >>> band_noise(b, 0.5, 1).round(6).tolist()   # k q = 1/6, beta = 2/3: (1/36) (0 + (5/6)^2)
    [[0.01929, 0.01929], [0.01929, 0.01929]]
    """
    a = 1.0 + sigma2
    if loss == "l2":
        var = band.q ** 4 * ((1.0 - band.p * a) ** 2 + (a - band.p) ** 2) / batch
    else:
        kq = band.q * band.q / (a * band.n_phi * band.n_psi)
        beta = band.trace * band.p / (a * band.n_psi ** 2)
        var = kq * kq * ((1.0 - beta * a) ** 2 + (a - beta) ** 2) / batch
    u = np.array([1.0, band.p / band.q])
    return var * np.outer(u, u)


def band_jacobian(band: Band, sigma2: float, rho: float, loss: str = "cosine") -> np.ndarray:
    r"""The 2x2 Jacobian :math:`J=\partial(F_p,F_q)/\partial(p,q)` of the band's force (expected
    gradient plus decay) along a symmetric traceless direction (module docstring).

    Parameters
    ----------
    band : Band
        The band (:func:`band_of`).
    sigma2 : float
        Augmentation variance.
    rho : float
        Weight decay.
    loss : {'cosine', 'l2'}, optional
        The loss trained.

    Returns
    -------
    numpy.ndarray
        ``(2, 2)``; heavy ball on :math:`\dot z=-Jz` is stable when its eigenvalues times the
        step lie in :math:`(0, 2(1+m))`.

    Examples
    --------
    >>> from dynamics.band_noise import Band, band_jacobian
    >>> b = Band(r=4, p=0.5, q=1.0, sd_p=0.0, n_phi=2.0, n_psi=1.0, trace=2.0, lam=0.0)
    >>> J = band_jacobian(b, 0.5, 0.1, "l2")   # [[a q^2 + rho, 2 q (a p - 1)], [(2 a p - 1) q, p (a p - 1) + rho]]
    >>> J.round(12).tolist()
    [[1.6, -0.5], [0.5, -0.025]]
    """
    a = 1.0 + sigma2
    p, q = band.p, band.q
    if loss == "l2":
        r = a * p - 1.0
        return np.array([[a * q * q + rho, 2.0 * q * r], [(2.0 * a * p - 1.0) * q, p * r + rho]])
    C = 1.0 / (a * band.n_phi * band.n_psi)
    D = 1.0 / band.n_psi ** 2
    T, lam = band.trace, band.lam
    G = C * q * (1.0 - D * p * T - 2.0 * D * p * p * q * q) - lam * p * q
    Gp = -C * q * (D * T + 4.0 * D * p * q * q) - lam * q
    Gq = C * (1.0 - D * p * T - 6.0 * D * p * p * q * q) - lam * p
    return np.array([[-q * Gp + rho, -G - q * Gq], [-G - p * Gp, -p * Gq + rho]])
