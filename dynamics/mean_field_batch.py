r"""The eigen-level SGD mean-field map of linear SimSiam for many recipes at once.

The same map as :func:`dynamics.sgd_mean_field.sgd_mean_field` with ``level="eigen"`` (heavy-ball
SGD on the projected expected gradient of aligned modes, (A1), plus the noise-energy closure (A2),
module docstring there), written on arrays of shape ``(rows, h)``: every row is one recipe (its own
lr schedule, momentum, weight decay, batch, :math:`\sigma^2`, :math:`d`), the modes are the last
axis, and all rows step together, so a whole outcome map is one loop over steps of numpy array
operations rather than a Python loop of single runs. Rows with fewer steps are padded with
:math:`\eta=0`, which leaves their state unchanged. ``tests/test_recipe_outcome.py`` checks that
each row equals :func:`~dynamics.sgd_mean_field.sgd_mean_field` run alone.

Stability (L2). Heavy ball on a quadratic of curvature :math:`\lambda` is stable iff
:math:`\eta\lambda<2(1+m)`; a minibatch of :math:`B` Gaussian inputs in :math:`\mathbb R^d`
stretches the largest curvature of the expected loss by about the top eigenvalue of a sample
Gram matrix, :math:`(1+\sqrt{d/B})^2` (Marchenko-Pastur edge). The map records, at every
checkpoint, :math:`\eta(1+\sqrt{d/B})^2\max_j|\mathrm{eig}\,J_j|/(2(1+m))` with :math:`J_j` the
2 x 2 Jacobian of mode :math:`j`'s gradient plus decay; above 1 the trained run is expected to
diverge (an unsettled outcome), which the expected-gradient map itself does not.

Per step (row-wise, :math:`a=1+\sigma^2`, :math:`s=q^2`): cosine
:math:`\hat g_j=q_j[1-p_j(T+2p_js_j)/N_\Psi^2]/(aN_\Phi N_\Psi)`,
:math:`G_j=\hat g_j-\lambda p_jq_j`, :math:`\lambda=\sum_k\hat g_kp_kq_k/N_\Psi^2`, gradients
:math:`(-G_jq_j,-p_jG_j)`; L2 :math:`((ap_j-1)s_j,\;p_j(ap_j-1)q_j)`; then
:math:`v\leftarrow mv+g+\rho x` (:math:`v=g+\rho x` at the first step),
:math:`x\leftarrow x-\eta v`, and for the cosine loss the radial kick
:math:`\|x\|^2\mathrel{+}=(\eta/(1-m))^2q_x` with the noise energy :math:`q_x` of (A2).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dynamics.outcome_rule import COLLAPSE_FRACTION, critical_decay_at
from symbolic.results import Result


@dataclass
class BatchMapResult(Result):
    """What :func:`eigen_map_batch` returns (arrays over rows ``R`` and modes ``h``)."""

    p: np.ndarray            # (R, h) final eigenvalues, descending
    s: np.ndarray            # (R, h) their s_j
    n_phi: np.ndarray        # (R,) final norms
    n_psi: np.ndarray
    trace: np.ndarray
    collapse_step: np.ndarray   # (R,) first checkpoint with max|p| < COLLAPSE_FRACTION of the start; -1 if none
    lift_step: np.ndarray       # (R,) first checkpoint with rho <= rho_c(current norms) after starting above; -1 if none
    finite: np.ndarray          # (R,) the state stayed finite with positive norms
    stopped_step: np.ndarray    # (R,) the step at which a row stopped being finite; -1 if it did not
    stability: np.ndarray       # (R,) largest heavy-ball stability ratio over the checkpoints (L2; 0 for cosine)


def _rows(v, R):
    v = np.asarray(v, dtype=np.float64)
    return np.broadcast_to(v, (R,)).copy() if v.ndim == 0 else v.astype(np.float64).reshape(R)


def eigen_map_batch(p0: np.ndarray, q0: np.ndarray, lrs: np.ndarray, momentum, rho, batch, sigma2, d,
                    loss: str, checkpoint_every: int, noise: bool = True,
                    progress=None) -> BatchMapResult:
    r"""Iterate the eigen-level mean-field map for ``R`` recipes at once (module docstring).

    Parameters
    ----------
    p0, q0 : numpy.ndarray
        ``(R, h)`` or ``(h,)`` initial eigenvalues of the symmetrised :math:`W_0` and
        :math:`q_j=\|U^\top\Phi_0\|_j` (broadcast over rows).
    lrs : numpy.ndarray
        ``(R, K)`` per-step learning rates (0 pads a row past its own last step).
    momentum, rho, batch, sigma2, d : float or array_like
        Per-row recipe values (scalars broadcast).
    loss : {'cosine', 'l2'}
        The loss.
    checkpoint_every : int
        Collapse and lift are judged at steps ``0, c, 2c, ...`` (the trained run's checkpoints).
    noise : bool, optional
        The noise-energy closure (A2) of the cosine loss.
    progress : callable, optional
        Called with the number of steps done.

    Returns
    -------
    BatchMapResult
        The final spectra and norms, collapse and lift checkpoints, and finiteness per row.

    Examples
    --------
    >>> import numpy as np
    >>> from dynamics.mean_field_batch import eigen_map_batch
    >>> res = eigen_map_batch(np.array([0.5, 0.4]), np.array([1.0, 0.8]), np.full((2, 10), 0.05),
    ...                       0.9, [0.01, 0.5], 64, 0.5, 2, "l2", 5)
    >>> res.collapse_step.tolist(), bool(res.p[0, 0] > res.p[1, 0])
    ([-1, -1], True)
    """
    lrs = np.atleast_2d(np.asarray(lrs, dtype=np.float64))
    R, K = lrs.shape
    p = np.array(np.broadcast_to(np.asarray(p0, dtype=np.float64), (R, np.shape(p0)[-1])))
    q = np.array(np.broadcast_to(np.asarray(q0, dtype=np.float64), p.shape))
    m, rho, B, s2, dd = (_rows(v, R)[:, None] for v in (momentum, rho, batch, sigma2, d))
    a = 1.0 + s2
    cosine = loss == "cosine"
    vp = np.zeros_like(p)
    vq = np.zeros_like(q)
    pmax0 = np.max(np.abs(p), axis=1)
    collapse = np.full(R, -1, dtype=np.int64)
    lift = np.full(R, -1, dtype=np.int64)
    stopped = np.full(R, -1, dtype=np.int64)
    alive = np.ones(R, dtype=bool)
    above0 = None
    stab = np.zeros(R)
    stretch = (1.0 + np.sqrt(dd / B)) ** 2 / (2.0 * (1.0 + m))

    def checkpoint(k):
        nonlocal above0
        if not cosine:
            lr_now = lrs[:, min(k, K - 1):min(k, K - 1) + 1]
            stab[:] = np.maximum(stab, np.nan_to_num(np.max(lr_now * stretch * _l2_curvature(p, q, a, rho), axis=1)))
        pm = np.max(np.abs(p), axis=1)
        hit = alive & (collapse < 0) & (pm < COLLAPSE_FRACTION * pmax0)
        collapse[hit] = k
        if cosine:
            s = q * q
            n_psi2 = np.sum(p * p * s, axis=1)
            rc = critical_decay_at(np.sqrt(np.sum(s, axis=1)), np.sqrt(n_psi2), np.sum(p * s, axis=1), s2[:, 0])
            above = rho[:, 0] > rc
            if above0 is None:
                above0 = above.copy()
            lifted = alive & above0 & (lift < 0) & ~above
            lift[lifted] = k

    checkpoint(0)
    with np.errstate(over="ignore", invalid="ignore"):   # a diverging row is flagged (finite), not warned
        for k in range(K):
            lr = lrs[:, k:k + 1]
            s = q * q
            if cosine:
                n_phi2 = np.sum(s, axis=1, keepdims=True)
                ps = p * s
                n_psi2 = np.sum(p * ps, axis=1, keepdims=True)
                T = np.sum(ps, axis=1, keepdims=True)
                n_phi, n_psi = np.sqrt(n_phi2), np.sqrt(n_psi2)
                with np.errstate(all="ignore"):
                    g = q * (1.0 - p * (T + 2.0 * p * s) / n_psi2) / (a * n_phi * n_psi)
                    pq = p * q
                    g = g - (np.sum(g * pq, axis=1, keepdims=True) / n_psi2) * pq
                gp, gq = -g * q, -p * g
                if noise:
                    with np.errstate(all="ignore"):
                        M1 = n_psi2
                        M2 = np.sum(p * p * ps, axis=1, keepdims=True)
                        M3 = np.sum(p ** 3 * ps, axis=1, keepdims=True)
                        c = T / (a * n_phi * n_psi)
                        e_w = n_phi2 / (2 * n_psi2) * ((1 - c * c) + (1 - 2 * a * a * c * c + c * c) / (a * a))
                        e_phi = (0.5 * dd / n_psi2 * (M1 / n_phi2 - 2 * c * M2 / (a * n_phi * n_psi) + c * c * M3 / n_psi2)
                                 + 0.5 * dd / (a * n_psi2) * (M1 / (a * n_phi2) - 2 * c * M2 / (n_phi * n_psi)
                                                               + c * c * M3 / (a * n_psi2)))
                        qw = np.maximum(e_w - np.sum(gp * gp, axis=1, keepdims=True), 0.0) / B
                        qphi = np.maximum(e_phi - np.sum(gq * gq, axis=1, keepdims=True), 0.0) / B
            else:
                r = a * p - 1.0
                gp, gq = r * s, p * r * q
            gp = gp + rho * p
            gq = gq + rho * q
            if k == 0:
                vp, vq = gp, gq
            else:
                vp = m * vp + gp
                vq = m * vq + gq
            p = p - lr * vp
            q = q - lr * vq
            if cosine and noise:
                le2 = (lr / (1.0 - m)) ** 2
                with np.errstate(all="ignore"):
                    for x, qn in ((p, qw), (q, qphi)):
                        nn = np.sum(x * x, axis=1, keepdims=True)
                        x *= np.where(nn > 0, np.sqrt(1.0 + le2 * qn / np.where(nn > 0, nn, 1.0)), 1.0)
            with np.errstate(all="ignore"):
                ok = np.all(np.isfinite(p), axis=1) & np.all(np.isfinite(q), axis=1)
                if cosine:
                    s = q * q
                    ok &= (np.sum(s, axis=1) > 0) & (np.sum(p * p * s, axis=1) > 0)
            died = alive & ~ok
            if np.any(died):
                stopped[died] = k + 1
                alive &= ok
                p[died] = np.nan
                q[died] = np.nan
            if (k + 1) % checkpoint_every == 0 or k + 1 == K:
                checkpoint(k + 1)
            if progress is not None:
                progress(k + 1)
    s = q * q
    order = np.argsort(-np.where(np.isfinite(p), p, -np.inf), axis=1, kind="stable")
    p_sorted = np.take_along_axis(p, order, axis=1)
    s_sorted = np.take_along_axis(s, order, axis=1)
    return BatchMapResult(p=p_sorted, s=s_sorted, n_phi=np.sqrt(np.sum(s, axis=1)),
                          n_psi=np.sqrt(np.sum(p * p * s, axis=1)), trace=np.sum(p * s, axis=1),
                          collapse_step=collapse, lift_step=lift, finite=alive, stopped_step=stopped,
                          stability=stab)


def _l2_curvature(p, q, a, rho):
    """Largest |eigenvalue| of each mode's 2 x 2 Jacobian of the L2 gradient plus decay, (R, h)."""
    s = q * q
    j11 = a * s + rho
    j12 = 2.0 * (a * p - 1.0) * q
    j21 = (2.0 * a * p - 1.0) * q
    j22 = p * (a * p - 1.0) + rho
    tr, det = j11 + j22, j11 * j22 - j12 * j21
    disc = tr * tr / 4.0 - det
    root = np.sqrt(np.abs(disc))
    return np.where(disc >= 0, np.maximum(np.abs(tr / 2 + root), np.abs(tr / 2 - root)), np.sqrt(np.abs(det)))
