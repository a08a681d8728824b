r"""The Langevin matrix map: heavy-ball SGD on the expected gradient plus minibatch noise of the
derived covariance, a few noise seeds, the ensemble mean of the ordered spectra.

The reference stochastic theory for large lr (where the linear response of
:mod:`dynamics.band_spread` is 80-90% of the measured spread). Each step is the optimiser's update
(:mod:`dynamics.sgd_mean_field`) on :math:`\nabla L+\xi_k`, with

.. math:: \xi_k=\sqrt{n/B}\,\Big(\frac1n\sum_{i=1}^{n}g_i-\mathbb E\,g\Big),

:math:`g_i` the per-sample gradient of the symmetrised loss with the norms concentrated (cosine:
:math:`\|z_1\|^2\to aN_\Psi^2`, :math:`\|z_2\|^2\to aN_\Phi^2`, the cosine at its mean
:math:`c=T/(aN_\Phi N_\Psi)`, exactly the approximation of :mod:`dynamics.band_noise`), drawn on
:math:`n` virtual Gaussian views, and :math:`\mathbb E\,g` its exact Isserlis mean:

.. math:: g_{W,i}=-\tfrac12(f_1y_1^\top+f_2y_2^\top),\quad g_{\Phi,i}=-\tfrac12W^\top(f_1x_1^\top+f_2x_2^\top),\quad
          f_1=\frac{1}{\sqrt aN_\Psi}\Big(\frac{y_2}{\sqrt aN_\Phi}-\frac{cWy_1}{\sqrt aN_\Psi}\Big),\ y=\Phi x,

so :math:`\xi_k` has the per-batch covariance :math:`\mathrm{Cov}(g_i)/B` of the concentrated
per-sample gradient in *every* direction and at the current state (state-dependent noise; in the
band it is the closure of :func:`dynamics.band_noise.band_noise`). The true per-sample cosine
gradient is orthogonal to :math:`W` and :math:`\Phi` (scale invariance sample by sample); the
concentrated one is not, so the radial parts of :math:`\xi_k` are projected out, and the noise
energy reaches the norms through the orthogonal steps themselves (the radial kick (A2) of the
mean map is therefore not applied). L2: the exact per-sample gradient
:math:`g_{W,i}=\tfrac12[(Wy_1-y_2)y_1^\top+(Wy_2-y_1)y_2^\top]`, mean :func:`l2_gradient`.

Cost: :math:`\approx7h^3+4nhd` flops a step and seed; with :math:`n=64` and 2 seeds, 0.05x the wall
time of training the run on CPU (d = h = 128, benchmarks/bench_trajectory.py).
"""
from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from symbolic.errors import ParameterError, check_int

from .band_spread import band_stats
from .sgd_mean_field import Recipe, _check_steps, cosine_gradient, l2_gradient


def _noise(W, Phi, sigma2, loss, n, batch, rng):
    """One draw of xi (module docstring) for W and Phi."""
    d = Phi.shape[1]
    a = 1.0 + sigma2
    x = rng.normal(size=(n, d))
    s = math.sqrt(sigma2)
    x1 = x + s * rng.normal(size=(n, d))
    x2 = x + s * rng.normal(size=(n, d))
    y1, y2 = x1 @ Phi.T, x2 @ Phi.T
    w1, w2 = y1 @ W.T, y2 @ W.T
    S = Phi @ Phi.T
    if loss == "l2":
        f1, f2 = -(w1 - y2), -(w2 - y1)                   # g_W = -f y^T / 2 summed over halves
        EfyT = -(a * W @ S - S)                           # E[f1 y1^T] = E[f2 y2^T]
        EfxT = -(a * W @ Phi - Phi)
    else:
        A = W @ Phi
        n_phi = math.sqrt(float(np.sum(Phi * Phi)))
        n_psi = math.sqrt(float(np.sum(A * A)))
        c = float(np.sum(A * Phi)) / (a * n_phi * n_psi)
        u, v = 1.0 / (a * n_psi * n_phi), c / (a * n_psi * n_psi)
        f1, f2 = u * y2 - v * w1, u * y1 - v * w2
        EfyT = u * S - v * a * W @ S
        EfxT = u * Phi - v * a * A
    scale = math.sqrt(n / batch)
    gW = -0.5 * (f1.T @ y1 + f2.T @ y2) / n + EfyT
    gP = -0.5 * W.T @ ((f1.T @ x1 + f2.T @ x2) / n - 2.0 * EfxT)
    gW, gP = scale * gW, scale * gP
    if loss == "cosine":
        gW = gW - (float(np.sum(gW * W)) / float(np.sum(W * W))) * W
        gP = gP - (float(np.sum(gP * Phi)) / float(np.sum(Phi * Phi))) * Phi
    return gW, gP


def langevin_map(W0: ArrayLike, Phi0: ArrayLike, recipe: Recipe, steps: ArrayLike, seeds: int = 2,
                 virtual: int = 64, top: int = 8, fraction: float = 0.2) -> dict:
    r"""Run the Langevin matrix map (module docstring) from :math:`(W_0,\Phi_0)` for ``seeds`` noise
    seeds and record, at ``steps``, the ensemble mean of the ordered spectra of the symmetrised
    :math:`W`, of the band statistics and of the norms.

    Parameters
    ----------
    W0, Phi0 : array_like
        The initial weights, ``(h, h)`` and ``(h, recipe.d)``.
    recipe : Recipe
        The run's recipe (:class:`dynamics.sgd_mean_field.Recipe`).
    steps : array_like of int
        The step indices to record, non-decreasing, in ``[0, len(recipe.lrs)]``.
    seeds : int, optional
        Noise seeds (0..seeds-1), >= 1.
    virtual : int, optional
        Virtual samples :math:`n` per step (the noise covariance does not depend on it), >= 2.
    top : int, optional
        Recorded leading eigenvalues.
    fraction : float, optional
        The band threshold (modes above ``fraction`` of the top eigenvalue).

    Returns
    -------
    dict
        ``p`` (per recorded step, the ensemble-mean ordered spectrum, all ``h``), ``band_mean``,
        ``band_sd``, ``band_r``, ``n_phi``, ``n_psi``, ``trace`` (ensemble means), ``status`` (0, or
        1 if a seed stopped being finite: the records stop there) and ``seeds``.

    Raises
    ------
    ParameterError
        For bad shapes, ``seeds`` < 1, ``virtual`` < 2, or bad ``steps``.

    Examples
    --------
    >>> import numpy as np
    >>> from dynamics import Recipe
    >>> from dynamics.langevin_map import langevin_map
    >>> rng = np.random.default_rng(0)
    >>> W0 = 0.5 * np.eye(6); Phi0 = rng.normal(size=(6, 6)) / 2
    >>> rec = Recipe(lrs=[0.05] * 20, batch=64, d=6)
    >>> out = langevin_map(W0, Phi0, rec, [0, 20], seeds=2, virtual=8)
    >>> out["status"], len(out["p"]), len(out["p"][0])
    (0, 2, 6)
    """
    check_int("seeds", seeds, 1)
    check_int("virtual", virtual, 2)
    W0 = np.asarray(W0, dtype=np.float64)
    Phi0 = np.asarray(Phi0, dtype=np.float64)
    h = W0.shape[0]
    if W0.shape != (h, h) or Phi0.shape != (h, recipe.d):
        raise ParameterError(f"W0 must be h x h and Phi0 h x d = {recipe.d}; got {W0.shape} and {Phi0.shape}")
    lrs = np.asarray(recipe.lrs)
    steps = _check_steps(steps, lrs.size)
    m, rho, loss = recipe.momentum, recipe.rho, recipe.loss
    grad = cosine_gradient if loss == "cosine" else l2_gradient
    keys = ("p", "band_mean", "band_sd", "band_r", "n_phi", "n_psi", "trace")
    runs, status = [], 0
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        x, v = [W0.copy(), Phi0.copy()], [None, None]
        rec = {k: [] for k in keys}
        want = steps.tolist()
        j = 0
        for k in range(lrs.size + 1):
            while j < len(want) and want[j] == k:
                W, P = x
                p = np.linalg.eigvalsh(0.5 * (W + W.T))[::-1]
                bm, bs, br = band_stats(p, fraction)
                A = W @ P
                for key, val in zip(keys, (p, bm, bs, br, np.linalg.norm(P), np.linalg.norm(A), np.sum(A * P))):
                    rec[key].append(val)
                j += 1
            if j == len(want) or k == lrs.size:
                break
            g = grad(x[0], x[1], recipe.sigma2)
            xi = _noise(x[0], x[1], recipe.sigma2, loss, virtual, recipe.batch, rng)
            for i in (0, 1):
                gi = g[i] + xi[i] + rho * x[i]
                v[i] = gi if k == 0 else m * v[i] + gi
                x[i] = x[i] - lrs[k] * v[i]
            if not (np.all(np.isfinite(x[0])) and np.all(np.isfinite(x[1]))):
                status = 1
                break
        runs.append(rec)
    n = min(len(r["p"]) for r in runs)
    out = {k: [np.mean([r[k][i] for r in runs], axis=0) for i in range(n)] for k in keys}
    out["p"] = [x.tolist() for x in out["p"]]
    for k in keys[1:]:
        out[k] = [float(x) for x in out[k]]
    out["status"], out["seeds"], out["steps"] = status, seeds, steps[:n]
    return out
