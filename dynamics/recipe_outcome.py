r"""The outcome of a linear SimSiam *training recipe*: collapse, survive or unsettled, from the recipe.

The fixed-norm regime map (Bao 2023 eq. 7 at the initial :math:`N_\Phi,N_\Psi,T`) answers
"collapse?" for weights that do not move. Training moves them: weight decay shrinks
:math:`N_\Phi,N_\Psi`, the critical decay at the current norms rises and a cosine run that starts in
Collapse is lifted into Acute within tens of steps (../shared/theory/recipe_outcome.md: the classic
map got 9 of 28 trained cosine runs right, the SGD mean-field map 28 of 28). This module answers
from the recipe: it iterates the eigen-level SGD mean-field map
(:func:`dynamics.sgd_mean_field.sgd_mean_field`, ``level="eigen"``: heavy-ball SGD on the expected
gradient with the noise-energy closure, module docstring there) for many recipes at once,
vectorised over rows, and classifies the predicted spectrum with the *same* rule that
``sims.train.summary`` applies to a trained run's measured spectrum (:func:`classify_outcome`).

The outcome rule (one rule for theory and training; :math:`p_j` the eigenvalues of the
symmetrised :math:`W`, measured at checkpoints every ``steps_per_epoch`` steps):

- ``collapse``: the whole spectrum fell below ``COLLAPSE_FRACTION`` (1e-3) of its start,
  :math:`\max_j|p_j(k)|<10^{-3}\max_j|p_j(0)|`; the collapse step is the first checkpoint where
  it holds.
- ``survive``: not collapsed, the fixed-norm stable eigenvalue :math:`p_\mathrm{ref}` exists at
  the final norms (:func:`stable_eigenvalue`: :math:`p_4` of eq. 7 / Tian's flow) and the largest
  eigenvalue lies within a factor ``SETTLED`` (2) of it.
- ``unsettled``: anything else (a mode lingering near a fold, a frozen annealed run, a diverged run;
  for a prediction also a recipe whose heavy-ball steps are expected to be unstable:
  :mod:`dynamics.mean_field_batch`'s stability ratio above 1, L2 loss).

``surviving_modes`` counts the modes with :math:`p_j\ge` ``SURVIVE_FACTOR`` (0.25)
:math:`\,p_\mathrm{ref}` (0 for a collapsed spectrum): scale free, since :math:`p_\mathrm{ref}` carries
the scale of the current norms.

The thresholds, the rule and the fixed-norm theory (critical decay and :math:`p_4` at given
norms) live in :mod:`dynamics.outcome_rule` and stay importable from here; an L2 run has no lift
(its :math:`\eta_c=1/(4a)` does not depend on the norms).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from symbolic.errors import ParameterError, check_choice, check_int, check_range

from .mean_field_batch import eigen_map_batch
from .outcome_rule import (COLLAPSE_FRACTION, OUTCOMES, SETTLED, SURVIVE_FACTOR, classify_outcome,  # noqa: F401
                           critical_decay_at, stable_eigenvalue, surviving_count)
from .sgd_mean_field import LOSSES

# --- the recipe and its prediction -----------------------------------------------------------
AXES = ("rho", "lr", "sigma2", "batch", "momentum", "epochs", "h")
INT_AXES = ("batch", "epochs", "h")
MAX_CELLS_X_MODES = 4_000_000        # rows x modes held at once (about 32 MB an array)
MAX_WORK = 3e10                      # rows x modes x steps of one call (minutes on 2 cores)


@dataclass(frozen=True)
class LinearRecipe:
    r"""A linear SimSiam training recipe, as ``ssldyn validate linear`` trains it.

    Heavy-ball SGD (``torch.optim.SGD(lr, momentum, weight_decay=rho)``) with the per-epoch cosine
    schedule :math:`\eta_e=\eta_0\tfrac12(1+\cos(\pi e/E))` for ``epochs`` x ``steps_per_epoch``
    steps, batch ``batch`` of Gaussian inputs in :math:`\mathbb R^d` with augmentation variance
    :math:`\sigma^2`, representation width ``h``, loss ``cosine`` or ``l2``; ``seed`` the weights' seed.

    Parameters
    ----------
    loss : {'cosine', 'l2'}, optional
    d, h : int, optional
        Input and representation dimensions, >= 2.
    sigma2 : float, optional
        Augmentation variance, in [0, inf).
    rho : float, optional
        Weight decay, in [0, inf).
    lr : float, optional
        Base learning rate, in (0, inf).
    momentum : float, optional
        In [0, 1).
    batch, epochs, steps_per_epoch : int, optional
        Each >= 1.
    seed : int, optional
        >= 0.

    Raises
    ------
    ParameterError
        Naming the field (as its command-line flag) and its allowed range.

    Examples
    --------
    >>> from dynamics.recipe_outcome import LinearRecipe
    >>> LinearRecipe(d=32, h=32).steps
    600
    >>> LinearRecipe(momentum=1.0)
    Traceback (most recent call last):
    ...
    symbolic.errors.ParameterError: momentum must be in [0, 1); got 1.0
    """

    loss: str = "cosine"
    d: int = 32
    h: int = 32
    sigma2: float = 0.5
    rho: float = 0.01
    lr: float = 0.1
    momentum: float = 0.9
    batch: int = 512
    epochs: int = 120
    steps_per_epoch: int = 5
    seed: int = 0

    def __post_init__(self):
        check_choice("loss", self.loss, LOSSES)
        for name in ("d", "h"):
            object.__setattr__(self, name, check_int(name, getattr(self, name), 2))
        for name in ("batch", "epochs"):
            object.__setattr__(self, name, check_int(name, getattr(self, name), 1))
        object.__setattr__(self, "steps_per_epoch", check_int("steps-per-epoch", self.steps_per_epoch, 1))
        object.__setattr__(self, "seed", check_int("seed", self.seed, 0, 2 ** 63 - 1))
        for name, lo, lo_open, hi, hi_open in (("sigma2", 0.0, False, math.inf, True), ("rho", 0.0, False, math.inf, True),
                                               ("lr", 0.0, True, math.inf, True), ("momentum", 0.0, False, 1.0, True)):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)):
                raise ParameterError(f"{name} must be a number; got {v!r}")
            v = check_range(name, float(v), lo, hi, lo_open=lo_open, hi_open=hi_open)
            if not math.isfinite(v):
                raise ParameterError(f"{name} must be finite; got {v!r}")
            object.__setattr__(self, name, v)

    @property
    def steps(self) -> int:
        """Optimiser steps of the whole run."""
        return self.epochs * self.steps_per_epoch

    def lrs(self) -> np.ndarray:
        """The per-step rates of the schedule (``dynamics.epoch_lrs``)."""
        e = np.arange(self.epochs)
        return np.repeat(self.lr * 0.5 * (1.0 + np.cos(np.pi * e / self.epochs)), self.steps_per_epoch)

    def critical_init(self, W0, Phi0) -> float:
        """The fixed-norm critical decay at the initial weights (the classic map's boundary)."""
        from symbolic.linear_init import weight_norms
        if self.loss == "l2":
            return 1.0 / (4.0 * (1.0 + self.sigma2))
        return float(critical_decay_at(*weight_norms(W0, Phi0), self.sigma2))


@dataclass(frozen=True)
class RecipeOutcome:
    r"""The predicted outcome of a training recipe (:func:`predict_outcome`); JSON keys are its fields.

    ``outcome`` in {collapse, survive, unsettled}; ``collapse_step`` / ``lift_step`` the first
    checkpoint (step index) of collapse / of the lift from Collapse into Acute at the current norms
    (None if none); ``surviving_modes``; ``p_top8``, ``n_phi``, ``n_psi``, ``trace`` at the end;
    ``p_ref`` the stable eigenvalue at the final norms; ``rho_c_init`` the critical decay at the
    initial norms and ``classic_regime`` / ``classic_outcome`` the fixed-norm map's answer there;
    ``norms_init`` and ``init`` say which weights were used; ``seconds`` the time taken.

    Parameters
    ----------
    outcome : str
        One of ``OUTCOMES``.
    collapse_step, lift_step : int or None
        Checkpoint steps of collapse and of the lift.
    surviving_modes : int
        Modes at or above 0.25 p4 at the end.
    p_top8 : list of float
        The largest eigenvalues at the end.
    n_phi, n_psi, trace : float or None
        The norms at the end.
    p_ref : float or None
        p4 at the end.
    rho_c_init : float
        The critical decay at the initial norms.
    classic_regime, classic_outcome : str
        The fixed-norm map's regime and outcome at the initial norms.
    norms_init : dict
        The initial norms.
    init : str
        Which initial weights were used.
    recipe : dict
        The recipe.
    steps : int
        Steps of the run.
    finite : bool
        The map stayed finite.
    seconds : float, optional
        Time taken.
    rule : str, optional
        The outcome rule, in words.

    Examples
    --------
    >>> from dynamics import LinearRecipe, predict_outcome
    >>> r = predict_outcome(LinearRecipe(loss="l2", d=4, h=4, rho=0.5, epochs=40, steps_per_epoch=5))
    >>> r.outcome, r.surviving_modes, r.to_json()["outcome"]
    ('collapse', 0, 'collapse')
    """

    outcome: str
    collapse_step: int | None
    lift_step: int | None
    surviving_modes: int
    p_top8: list
    n_phi: float | None
    n_psi: float | None
    trace: float | None
    p_ref: float | None
    rho_c_init: float
    classic_regime: str
    classic_outcome: str
    norms_init: dict
    init: str
    recipe: dict
    steps: int
    finite: bool
    seconds: float = 0.0
    rule: str = field(default="collapse: max|p| < 1e-3 of its start at a checkpoint; survive: max p within a "
                              "factor 2 of p4 at the final norms; surviving modes: p_j >= 0.25 p4")

    def to_json(self) -> dict:
        """The fields as plain JSON values (non-finite floats as None)."""
        from symbolic.results import plain
        from dataclasses import asdict
        return plain(asdict(self))


def classic_regime(recipe: LinearRecipe, rho_c: float) -> str:
    """'Stable' at rho = 0, 'Collapse' above ``rho_c``, else 'Acute' (the fixed-norm map)."""
    return "Stable" if recipe.rho == 0 else ("Collapse" if recipe.rho > rho_c else "Acute")


def _initial(recipe: LinearRecipe, W0, Phi0):
    from symbolic.linear_init import draw_initial_weights
    if W0 is None or Phi0 is None:
        W0, Phi0 = draw_initial_weights(recipe.d, recipe.h, recipe.seed)
        return W0, Phi0, f"numpy draw of the initial distribution, seed {recipe.seed}"
    W0, Phi0 = np.asarray(W0, dtype=np.float64), np.asarray(Phi0, dtype=np.float64)
    if W0.shape != (recipe.h, recipe.h) or Phi0.shape != (recipe.h, recipe.d):
        raise ParameterError(f"W0 must be h x h and Phi0 h x d for h = {recipe.h}, d = {recipe.d}; "
                             f"got {W0.shape} and {Phi0.shape}")
    return W0, Phi0, "given weights"


def predict_outcome(recipe: LinearRecipe, W0: ArrayLike | None = None, Phi0: ArrayLike | None = None,
                    init: str | None = None) -> RecipeOutcome:
    r"""Predict whether a linear SimSiam recipe collapses, when, and how many modes survive.

    Iterates the eigen-level SGD mean-field map (:func:`dynamics.mean_field_batch.eigen_map_batch`,
    equal to :func:`dynamics.sgd_mean_field.sgd_mean_field`) along the recipe's schedule from
    :math:`(W_0,\Phi_0)` and classifies the end with :func:`classify_outcome` (module docstring).
    Never trains.

    Parameters
    ----------
    recipe : LinearRecipe
        The training recipe.
    W0, Phi0 : array_like, optional
        The initial weights (h x h, h x d); default a numpy draw of the initial distribution
        (:func:`symbolic.linear_init.draw_initial_weights`) with ``recipe.seed``.
    init : str, optional
        How the given weights were obtained (recorded in the result).

    Returns
    -------
    RecipeOutcome

    Examples
    --------
    An L2 recipe above its threshold :math:`\eta_c=1/(4(1+\sigma^2))=1/6` collapses; below, it survives:

    >>> from dynamics.recipe_outcome import LinearRecipe, predict_outcome
    >>> predict_outcome(LinearRecipe(loss="l2", rho=0.25, sigma2=0.5)).outcome
    'collapse'
    >>> r = predict_outcome(LinearRecipe(loss="l2", rho=0.05, sigma2=0.5))
    >>> r.outcome, r.classic_regime, round(r.rho_c_init, 4)
    ('survive', 'Acute', 0.1667)
    """
    import time

    from symbolic.linear_init import eigen_state, weight_norms

    t0 = time.perf_counter()
    W0, Phi0, how = _initial(recipe, W0, Phi0)
    p0, q0 = eigen_state(W0, Phi0)
    res = eigen_map_batch(p0, q0, recipe.lrs()[None, :], recipe.momentum, recipe.rho, recipe.batch,
                          recipe.sigma2, recipe.d, recipe.loss, recipe.steps_per_epoch)
    rc = recipe.critical_init(W0, Phi0)
    regime = classic_regime(recipe, rc)
    return _outcome_of(res, 0, recipe, rc, regime, weight_norms(W0, Phi0), init or how, time.perf_counter() - t0)


def _outcome_of(res, i, recipe, rc, regime, norms0, how, seconds):
    collapsed = res.collapse_step[i] >= 0
    finite = bool(res.finite[i]) and res.stability[i] <= 1.0      # a run expected to diverge is unsettled
    collapsed = collapsed and finite
    p_ref = float(stable_eigenvalue(recipe.loss, recipe.rho, recipe.sigma2, res.n_phi[i], res.n_psi[i],
                                    res.trace[i])) if finite else math.nan
    code = int(classify_outcome(collapsed, res.p[i, 0] if finite else math.nan, p_ref))
    surv = int(surviving_count(res.p[i], p_ref, collapsed)[0]) if finite else 0

    def num(x):
        return float(x) if finite and math.isfinite(float(x)) else None
    from dataclasses import asdict
    return RecipeOutcome(
        outcome=OUTCOMES[code], collapse_step=int(res.collapse_step[i]) if collapsed else None,
        lift_step=int(res.lift_step[i]) if res.lift_step[i] >= 0 else None, surviving_modes=surv,
        p_top8=[float(x) for x in res.p[i, :8]] if finite else [], n_phi=num(res.n_phi[i]),
        n_psi=num(res.n_psi[i]), trace=num(res.trace[i]), p_ref=p_ref if math.isfinite(p_ref) else None,
        rho_c_init=float(rc), classic_regime=regime, classic_outcome="collapse" if regime == "Collapse" else "survive",
        norms_init=dict(zip(("n_phi", "n_psi", "trace"), norms0)), init=how, recipe=asdict(recipe),
        steps=recipe.steps, finite=finite, seconds=float(seconds))
