r"""Spread models on top of the mean-field map: the predicted band (mean, sd, surviving count) and
top-:math:`k` of a run at its checkpoints.

``'none'``: the mean map alone (:func:`dynamics.sgd_mean_field.sgd_mean_field`, its band has
almost no width). ``'linear'``: the same mean map, plus the linear response of the band to the
minibatch noise (:mod:`dynamics.band_noise`, :mod:`dynamics.band_spread`): the band state of the
map at every step gives :math:`J_k,\Sigma_k`, the heavy-ball Lyapunov recursion along the run's lr
schedule gives the variance per direction, and the spectrum is the map's plus a GOE deviation of
that variance (ensemble of fixed-seed samples). The mean trajectory is the map's, unchanged.
``'langevin'``: the Langevin matrix map (:mod:`dynamics.langevin_map`), a few noise seeds.

What each leaves out (measured on the committed reference runs, README "Trajectory prediction"):
the linear response is the :math:`\eta\to0` limit; at lr 0.1 it gives 82-97% of the measured sd,
and the noiseless mean sits 10-15% above training around steps 70-100 (the noise-induced drift of
the mean, which the Langevin map contains).
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from numpy.typing import ArrayLike

from symbolic.errors import check_choice

from .band_noise import band_jacobian, band_noise, band_of
from .band_spread import spread_recursion, spread_spectrum
from .sgd_mean_field import Recipe, sgd_mean_field

SPREAD_MODELS = ("none", "linear", "langevin")


def _band_terms(p, s, recipe):
    """(J, Sigma) of the band of an aligned state; none (zeros) when no mode has p > 0 (collapse)."""
    p = np.asarray(p)
    if p.size == 0 or not p.max() > 0:
        return np.zeros((2, 2)), np.zeros((2, 2))
    b = band_of(p, np.asarray(s), recipe.sigma2)
    return band_jacobian(b, recipe.sigma2, recipe.rho, recipe.loss), band_noise(b, recipe.sigma2, recipe.batch,
                                                                               recipe.loss)


def spread_prediction(W0: ArrayLike, Phi0: ArrayLike, recipe: Recipe, steps: ArrayLike, model: str = "linear",
                      level: str = "eigen", top: int = 8, seeds: int = 2, samples: int = 8,
                      progress: Callable[[int], object] | None = None) -> dict:
    r"""Predict the band and the top-:math:`k` at ``steps`` with a spread model (module docstring).

    Parameters
    ----------
    W0, Phi0 : array_like
        The run's initial weights.
    recipe : Recipe
        The run's recipe.
    steps : array_like of int
        The checkpoints (step indices), non-decreasing.
    model : {'none', 'linear', 'langevin'}, optional
        The spread model.
    level : {'eigen', 'matrix'}, optional
        The mean map's level (``'none'``, ``'linear'``); the Langevin map is matrix level.
    top : int, optional
        How many leading eigenvalues to predict.
    seeds : int, optional
        Noise seeds of the Langevin map.
    samples : int, optional
        GOE samples of the linear model's spectrum.
    progress : callable, optional
        Passed to the mean map (:func:`dynamics.sgd_mean_field.sgd_mean_field`).

    Returns
    -------
    dict
        Per checkpoint (lists): ``top`` (predicted top-:math:`k`), ``band_mean``, ``band_sd``,
        ``band_r``, ``var_w`` (linear: the variance per direction), and ``mean_field`` (the
        :class:`dynamics.sgd_mean_field.Prediction` of the mean map, None for Langevin), ``langevin``
        (the Langevin output, else None), ``model``, ``status``. ``mean_field`` holds, per
        checkpoint reached, ``p``, ``s``, ``n_phi``, ``n_psi``, ``trace``, ``norm_w``, ``kappa_dt`` (the
        Langevin map's ensemble means where it is the model) and ``message``.

    Raises
    ------
    ParameterError
        For an unknown ``model`` or ``level``, or as :func:`dynamics.sgd_mean_field.sgd_mean_field`.

    Examples
    --------
    >>> import numpy as np
    >>> from dynamics import Recipe, epoch_lrs
    >>> from dynamics.spread_prediction import spread_prediction
    >>> rng = np.random.default_rng(0)
    >>> W0 = 0.5 * np.eye(12); Phi0 = np.abs(rng.normal(size=(12, 12))) / 3
    >>> rec = Recipe(lrs=epoch_lrs(0.05, 2, 10), batch=64, d=12)
    >>> out = spread_prediction(W0, Phi0, rec, [0, 10, 20])
    >>> out["status"], len(out["top"]), len(out["top"][0]), out["band_sd"][0] >= 0
    (0, 3, 8, True)
    """
    check_choice("model", model, SPREAD_MODELS)
    steps = np.asarray(steps)
    if model == "langevin":
        from .langevin_map import langevin_map

        lg = langevin_map(W0, Phi0, recipe, steps, seeds=seeds, top=top)
        n = len(lg["p"])
        mean = {"p": lg["p"], "s": [None] * n, "n_phi": lg["n_phi"], "n_psi": lg["n_psi"], "trace": lg["trace"],
                "norm_w": [None] * n, "kappa_dt": [None] * n,
                "message": "ok" if lg["status"] == 0 else "a noise seed stopped being finite"}
        return {"top": [p[:top] for p in lg["p"]], "band_mean": lg["band_mean"], "band_sd": lg["band_sd"],
                "band_r": lg["band_r"], "var_w": [None] * n, "mean_field": mean, "langevin": lg,
                "model": model, "status": lg["status"]}
    K = len(recipe.lrs)
    if model == "none":
        mf = sgd_mean_field(W0, Phi0, recipe, steps, level=level, top=top, progress=progress)
        var = np.zeros(K + 1)
        at = np.arange(len(mf.p))
    else:
        stride = 1 if level == "eigen" else 5
        grid = np.union1d(np.arange(0, K + 1, stride), steps).astype(np.int64)
        full = sgd_mean_field(W0, Phi0, recipe, grid, level=level, top=top, progress=progress)
        n = len(full.p)
        # the band state in force at every step: the latest recorded one
        idx = np.searchsorted(grid[:n], np.arange(K), side="right") - 1
        terms = [_band_terms(p, s, recipe) for p, s in zip(full.p, full.s)]
        J = np.array([terms[i][0] for i in idx])
        N = np.array([terms[i][1] for i in idx])
        var = spread_recursion(recipe.lrs, recipe.momentum, J, N)[:, 0]
        keep = np.searchsorted(grid, steps[steps <= grid[n - 1]])
        mf = full
        at = keep
    out = {"top": [], "band_mean": [], "band_sd": [], "band_r": [], "var_w": [], "mean_field": mf,
           "langevin": None, "model": model, "status": mf.status}
    for j, i in enumerate(at):
        v = float(var[int(steps[j])])
        sp = spread_spectrum(np.asarray(mf.p[i]), v, k=top, samples=samples, seed=j)
        out["top"].append(sp["top"].tolist())
        out["band_mean"].append(sp["mean"])
        out["band_sd"].append(sp["sd"])
        out["band_r"].append(sp["r"])
        out["var_w"].append(v)
    out["mean_field"] = {k: [getattr(mf, k)[i] for i in at] for k in ("p", "s", "n_phi", "n_psi", "trace", "norm_w",
                                                                       "kappa_dt")}
    out["mean_field"]["message"] = mf.message
    return out
