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

Critical decay at the current norms (cosine). For :math:`p>0` eq. 7 reads
:math:`\dot p=p\,[G(p)-\rho]`, :math:`G(p)=p(N_\Psi^2-Tp-2p^4)/(aN_\Phi N_\Psi^3)`; positive
equilibria exist iff :math:`\rho\le\rho_c=\max_{p>0}G`, attained at the one positive root of
:math:`10p^4+2Tp-N_\Psi^2=0` (Descartes: one sign change). L2 (Tian et al. 2021, :math:`\tau=1`):
:math:`\eta_c=1/(4a)`, :math:`p_4=(1+\sqrt{1-4a\eta})/(2a)`, independent of the norms, so an L2
run has no lift.

Size: over 400 lines only with its docstrings (the numpydoc sections of the recipe, the result and
the vectorised theory); the code itself stays under 400 lines.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike

from symbolic.errors import ParameterError, check_choice, check_int, check_range

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

    >>> from dynamics.recipe_outcome import critical_decay_at
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
    >>> from dynamics.recipe_outcome import stable_eigenvalue
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
    >>> from dynamics.recipe_outcome import OUTCOMES, classify_outcome
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
    >>> from dynamics.recipe_outcome import surviving_count
    >>> surviving_count([[0.5, 0.3, 0.1, -0.2]], [0.5], [False]).tolist()
    [2]
    """
    p = np.atleast_2d(np.asarray(p, dtype=np.float64))
    pr = np.asarray(p_ref, dtype=np.float64).reshape(-1, 1)
    with np.errstate(invalid="ignore"):
        n = np.sum(p >= SURVIVE_FACTOR * pr, axis=-1)
    return np.where(np.asarray(collapsed, dtype=bool) | ~np.isfinite(pr[:, 0]), 0, n).astype(np.int64)


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
    from dynamics.mean_field_batch import eigen_map_batch

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
