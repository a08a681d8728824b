r"""Outcome maps in recipe space: the predicted outcome of every recipe on a grid of two recipe axes.

Each grid point is a :class:`dynamics.recipe_outcome.LinearRecipe` (the base recipe with the two
axis values put in, each validated); the points are integrated together by
:func:`dynamics.mean_field_batch.eigen_map_batch` (one array loop over steps for all points of a
width ``h``), classified by the module rule of :mod:`dynamics.recipe_outcome`, and returned beside
the classic answer: the fixed-norm regime at each point's initial norms (collapse above
:math:`\rho_c(\text{init})`, eq. 7; L2 above :math:`\eta_c=1/(4(1+\sigma^2))`).
"""
from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from dynamics.recipe_outcome import (AXES, INT_AXES, MAX_CELLS_X_MODES, MAX_WORK, OUTCOMES, LinearRecipe,
                                     classic_regime, classify_outcome, stable_eigenvalue, surviving_count)
from symbolic.errors import ParameterError, check_choice
from symbolic.results import Result


@dataclass(frozen=True)
class OutcomeMap(Result):
    r"""A predicted outcome map (:func:`outcome_map`); ``[i, j]`` is the point ``(x[j], y[i])``.

    ``outcome`` int8 codes into ``OUTCOMES`` (0 collapse, 1 survive, 2 unsettled);
    ``surviving_modes``; ``collapse_step`` and ``lift_step`` (-1: none); ``rho_c_init`` and
    ``classic_outcome`` (0 collapse, 1 survive) of the fixed-norm map at the initial norms;
    ``recipe`` the base recipe as a dict; ``init`` which initial weights were used; ``seconds``.

    Parameters
    ----------
    x_name, y_name : str
        The recipe axes.
    x, y : numpy.ndarray
        Their values.
    outcome, surviving_modes, collapse_step, lift_step : numpy.ndarray
        Per point, shape ``(y.size, x.size)``.
    rho_c_init, classic_outcome : numpy.ndarray
        The classic fixed-norm answer per point.
    recipe : dict
        The base recipe.
    init : str
        Which initial weights were used.
    seconds : float
        Time taken.

    Examples
    --------
    >>> from dynamics import LinearRecipe, outcome_map
    >>> m = outcome_map(LinearRecipe(loss="l2", d=4, h=4, epochs=10, steps_per_epoch=2), "rho", [0.01], "lr", [0.1])
    >>> m.outcome.shape, m.params["loss"]
    ((1, 1), 'l2')
    """

    x_name: str
    x: np.ndarray
    y_name: str
    y: np.ndarray
    outcome: np.ndarray
    surviving_modes: np.ndarray
    collapse_step: np.ndarray
    lift_step: np.ndarray
    rho_c_init: np.ndarray
    classic_outcome: np.ndarray
    recipe: dict
    init: str
    seconds: float

    @property
    def params(self) -> dict:
        return self.recipe


def check_axis(name: str, values) -> np.ndarray:
    """An axis of recipe values: a known name, a non-empty finite 1-d array (integers where needed)."""
    check_choice("axis", name, AXES)
    v = np.asarray(values, dtype=np.float64).ravel()
    if v.size == 0 or not np.all(np.isfinite(v)):
        raise ParameterError(f"the {name} axis must hold at least one finite value")
    if name in INT_AXES and np.any(v != np.round(v)):
        raise ParameterError(f"the {name} axis must hold integers; got {v[v != np.round(v)][0]!r}")
    return v


def outcome_map(base: LinearRecipe, x_name: str, x: "np.typing.ArrayLike", y_name: str, y: "np.typing.ArrayLike",
                weights: "Callable | None" = None, progress: "Callable[[int], object] | None" = None) -> OutcomeMap:
    r"""Predicted outcome, surviving modes, collapse and lift steps on a grid of two recipe axes.

    Parameters
    ----------
    base : LinearRecipe
        The recipe of every point but for the two axes.
    x_name, y_name : str
        Recipe axes, two different ones of ``rho, lr, sigma2, batch, momentum, epochs, h``.
    x, y : array_like
        Their values (each point's recipe is validated: a bad value is a ParameterError naming it).
    weights : callable, optional
        ``weights(recipe) -> (W0, Phi0, how)`` for a width; default a numpy draw of the initial
        distribution with ``base.seed`` (:func:`symbolic.linear_init.draw_initial_weights`).
    progress : callable, optional
        Called with the steps done of each width's batch.

    Returns
    -------
    OutcomeMap

    Raises
    ------
    ParameterError
        For an unknown or repeated axis, a bad value, or a grid over ``MAX_CELLS_X_MODES`` /
        ``MAX_WORK``.

    Examples
    --------
    L2 over weight decay and augmentation: collapse above :math:`\eta_c=1/(4(1+\sigma^2))`:

    >>> from dynamics.recipe_outcome import LinearRecipe
    >>> from dynamics.outcome_map import outcome_map
    >>> base = LinearRecipe(loss="l2", d=8, h=8, epochs=40, steps_per_epoch=5)
    >>> m = outcome_map(base, "rho", [0.05, 0.3], "sigma2", [0.0, 1.0])
    >>> m.outcome.tolist()                                   # eta_c = 0.25 and 0.125
    [[1, 0], [1, 0]]
    """
    from symbolic.linear_init import draw_initial_weights, eigen_state

    from dynamics.mean_field_batch import eigen_map_batch

    if x_name == y_name:
        raise ParameterError(f"the x and y axes must differ; got {x_name!r} twice")
    xv, yv = check_axis(x_name, x), check_axis(y_name, y)
    _check_size(base, x_name, xv, y_name, yv)
    t0 = time.perf_counter()
    flat = [dataclasses.replace(base, **{x_name: _value(x_name, a), y_name: _value(y_name, b)})
            for b in yv for a in xv]
    hs = np.array([r.h for r in flat])
    steps = np.array([r.steps for r in flat], dtype=np.float64)
    n = len(flat)
    code = np.full(n, 2, dtype=np.int8)
    surv = np.zeros(n, dtype=np.int64)
    cstep = np.full(n, -1, dtype=np.int64)
    lstep = np.full(n, -1, dtype=np.int64)
    rc = np.full(n, np.nan)
    classic = np.zeros(n, dtype=np.int8)
    how = "numpy draw of the initial distribution"
    for h in np.unique(hs):
        idx = np.flatnonzero(hs == h)
        r0 = flat[idx[0]]
        if weights is not None:
            W0, Phi0, how = weights(r0)
        else:
            W0, Phi0 = draw_initial_weights(r0.d, int(h), r0.seed)
            how = f"numpy draw of the initial distribution, seed {r0.seed}"
        p0, q0 = eigen_state(W0, Phi0)
        K = int(steps[idx].max())
        lrs = np.zeros((idx.size, K))
        for row, i in enumerate(idx):
            lrs[row, :flat[i].steps] = flat[i].lrs()
        sub = [flat[i] for i in idx]
        res = eigen_map_batch(p0, q0, lrs, [r.momentum for r in sub], [r.rho for r in sub], [r.batch for r in sub],
                              [r.sigma2 for r in sub], [r.d for r in sub], base.loss, base.steps_per_epoch,
                              progress=progress)
        s2 = np.array([r.sigma2 for r in sub])
        rho = np.array([r.rho for r in sub])
        ok = res.finite & (res.stability <= 1.0)          # a run expected to diverge is unsettled
        p_ref = np.where(ok, stable_eigenvalue(base.loss, rho, s2, res.n_phi, res.n_psi, res.trace), np.nan)
        collapsed = (res.collapse_step >= 0) & ok
        code[idx] = classify_outcome(collapsed, np.where(ok, res.p[:, 0], np.nan), p_ref)
        surv[idx] = surviving_count(np.nan_to_num(res.p, nan=-np.inf), p_ref, collapsed)
        cstep[idx], lstep[idx] = res.collapse_step, res.lift_step
        for row, i in enumerate(idx):
            rc[i] = sub[row].critical_init(W0, Phi0) if base.loss == "cosine" else 1.0 / (4.0 * (1.0 + s2[row]))
            classic[i] = 0 if classic_regime(sub[row], rc[i]) == "Collapse" else 1
    shape = (yv.size, xv.size)
    return OutcomeMap(x_name=x_name, x=xv, y_name=y_name, y=yv, outcome=code.reshape(shape),
                      surviving_modes=surv.reshape(shape), collapse_step=cstep.reshape(shape),
                      lift_step=lstep.reshape(shape), rho_c_init=rc.reshape(shape),
                      classic_outcome=classic.reshape(shape), recipe=dataclasses.asdict(base), init=how,
                      seconds=time.perf_counter() - t0)


def _check_size(base, x_name, xv, y_name, yv):
    """Refuse a grid over the memory or work limit before building it."""
    def per_axis(name, v, attr):
        return np.asarray(v, dtype=np.float64) if name == attr else np.full(v.size, float(getattr(base, attr)))
    hx, hy = per_axis(x_name, xv, "h"), per_axis(y_name, yv, "h")
    ex, ey = per_axis(x_name, xv, "epochs"), per_axis(y_name, yv, "epochs")
    h = np.outer(hy, np.ones(xv.size)) if y_name == "h" else np.outer(np.ones(yv.size), hx)
    steps = (np.outer(ey, np.ones(xv.size)) if y_name == "epochs" else np.outer(np.ones(yv.size), ex)) \
        * base.steps_per_epoch
    cells = float(np.sum(h))
    if cells > MAX_CELLS_X_MODES:
        raise ParameterError(f"the grid holds {xv.size * yv.size} points x h modes = {cells:.3g} values, over the "
                             f"limit {MAX_CELLS_X_MODES}; use fewer points or a smaller h")
    work = float(np.sum(h * steps))
    if work > MAX_WORK:
        raise ParameterError(f"the grid needs {work:.3g} mode-steps, over the limit {MAX_WORK:.3g}; use fewer "
                             "points, epochs or a smaller h")


def _value(name, v):
    return int(round(v)) if name in INT_AXES else float(v)


__all__ = ["OUTCOMES", "OutcomeMap", "outcome_map", "check_axis"]
