r"""Training-matched dynamics of linear SimSiam: a discrete mean-field map of heavy-ball SGD.

Why a map and not a flow. ``ssldyn validate linear`` trains :math:`z_1=W\Phi x_1`,
:math:`z_2=\mathrm{sg}(\Phi x_2)` on Gaussian data (:math:`x\sim\mathcal N(0,I_d)`, views
:math:`x+\epsilon`, :math:`\epsilon\sim\mathcal N(0,\sigma^2I)`, :math:`a=1+\sigma^2`) with
``torch.optim.SGD(lr_k, momentum=m, weight_decay=rho)``:

.. math:: v_{k+1}=m\,v_k+\nabla L_B(x_k)+\rho x_k,\qquad x_{k+1}=x_k-\eta_k v_{k+1}\quad(v_1=g_0).

The continuous flows (Bao 2023 eq. 4/5 under the time map
:math:`t_k=\sum_{i<k}\eta_i(1-m^{k-i})/(1-m)`) follow this only while the dimensionless step
:math:`\kappa\,\eta/(1-m)\ll1`, :math:`\kappa=s_j/(aN_\Phi N_\Psi\bar p)`; the rates grow like
:math:`1/(N_\Phi N_\Psi)` as the norms shrink and reach :math:`\kappa\eta/(1-m)\sim1` within a few
hundred steps (../shared/theory/trajectory_fidelity.md). This module therefore iterates the
optimiser's own update on the *expected* gradient, with the run's lr schedule and momentum: no
time map, valid for any :math:`\kappa\eta` at which SGD itself is stable. The flow
(:func:`dynamics.trajectory_errors.legacy_eq5`) is kept for comparison.

Approximations, each named where it enters:

(A1) Scale-invariant expected gradient. With the norms concentrated
(:math:`\|z_1\|^2\to aN_\Psi^2`, :math:`\|z_2\|^2\to aN_\Phi^2`, :math:`N_\Phi=\|\Phi\|_F`,
:math:`N_\Psi=\|W\Phi\|_F`, :math:`T=\mathrm{tr}(W\Phi\Phi^\top)`, :math:`A=W\Phi`) Isserlis gives
Bao's eq. 4 matrix (theory notes section 2; :math:`W` need not be symmetric here)

.. math:: \hat G=\frac{1}{aN_\Phi N_\Psi}\Big[\Phi-\frac{T\,A+AA^\top\Phi+A\Phi^\top A}{N_\Psi^2}\Big].

The exact expectation obeys :math:`\langle G,A\rangle_F=\mathrm{tr}(WG\Phi^\top)=0` (the online
branch is scale invariant, sample by sample); :math:`\hat G` misses it by its self-pairing terms,
:math:`\langle\hat G,A\rangle=-\mathrm{tr}(A^\top AA^\top\Phi+A^\top A\Phi^\top A)/(aN_\Phi N_\Psi^3)`, an
:math:`O(1/h)` residue that shrinks :math:`N_\Psi` to 0 in finite time (the flows' death). The
map uses the projection that restores the identity and changes nothing else,

.. math:: G=\hat G-\frac{\langle\hat G,A\rangle}{N_\Psi^2}A,\qquad \nabla_WL=-G\Phi^\top,\quad\nabla_\Phi L=-W^\top G .

Checked against the Monte-Carlo gradient of the real (symmetrised) loss, per mode
(tests/test_sgd_mean_field.py): at h = 64, 2e4 samples, all modes within 5 standard errors,
while dropping the self-pairing terms instead (the other way to keep the identity) leaves 22%
of the modes outside. ``symbolic.scale_invariant`` derives the projected form at the eigen level
and proves the identity.

(A2) Norm closure for a finite batch. Every per-sample gradient of the cosine loss is orthogonal
to :math:`W` and to :math:`\Phi` (scale invariance holds sample by sample), so a step adds
:math:`\eta^2\|g\|^2` to :math:`\|W\|_F^2` while decay removes :math:`2\eta\rho\|W\|_F^2`;
:math:`\mathbb E\|g_B\|^2=\|\bar g\|^2+q`, :math:`q=(\mathbb E\|g_i\|^2-\|\bar g\|^2)/B`. The mean
map carries :math:`\bar g`; the noise energy :math:`q` is added each step as a radial rescaling,
:math:`\|x\|^2\mathrel{+}=(\eta/(1-m))^2q` (a kick that enters the velocity moves the weights by
:math:`\eta\xi/(1-m)` in all). The second moments of the symmetrised per-sample gradient, with
the same concentration (Isserlis on the Gaussian views; :math:`c=T/(aN_\Phi N_\Psi)`,
:math:`M_n=\mathrm{tr}((W^\top W)^{\lfloor n/2\rfloor}W^{n\bmod2}\Phi\Phi^\top)`-type traces
:math:`M_1=\|W^\top\Phi\|^2`, :math:`M_2=\langle WA,A\rangle`, :math:`M_3=\|W^\top A\|^2`,
:math:`A=W\Phi`):

.. math:: \mathbb E\|g_{W,i}\|^2=\frac{N_\Phi^2}{2N_\Psi^2}\Big[(1-c^2)+\frac{1-2a^2c^2+c^2}{a^2}\Big],

.. math:: \mathbb E\|g_{\Phi,i}\|^2=\frac{d}{2N_\Psi^2}\Big[\frac{M_1}{N_\Phi^2}-\frac{2cM_2}{aN_\Phi N_\Psi}+\frac{c^2M_3}{N_\Psi^2}\Big]
          +\frac{d}{2aN_\Psi^2}\Big[\frac{M_1}{aN_\Phi^2}-\frac{2cM_2}{N_\Phi N_\Psi}+\frac{c^2M_3}{aN_\Psi^2}\Big],

(first bracket: one view's term; second: the cross term of the two halves of the symmetrised
loss). Checked against Monte-Carlo per-sample gradients in tests/test_sgd_mean_field.py.

(A3) Mean field. The map follows the mean of the weights; the noise enters only through the
norms. What it cannot carry is the *spread* the noise gives the spectrum: in training the
surviving eigenvalues of :math:`W` scatter about their mean with a width that scales like
:math:`\sqrt{\eta}`, and the top-8 are the upper tail of that scatter. The mean of the surviving
modes is predicted to about 1-3%; the top-8 are under-predicted by that tail (measured in
README, "Trajectory prediction"). The spread is added on top of this map by
:mod:`dynamics.spread_prediction` (band-noise linear response or the Langevin map, issue #22).

L2 loss (``loss="l2"``): the expected gradient is exact for Gaussian data,
:math:`\nabla_WL=aWS-S`, :math:`\nabla_\Phi L=W^\top(aW-I)\Phi` (:math:`S=\Phi\Phi^\top`, Tian et al.
2021 eq. 4 with :math:`\tau=1`); the L2 loss is not scale invariant and its gradient noise moves the
mean only at second order in :math:`\eta`, which (A2) does not model for it.

Two levels: the matrix map on :math:`(W,\Phi)` (any :math:`W`, asymmetry and commutator included;
:math:`\sim7` matmuls a step) and the eigen map on :math:`(p_j,q_j)`, :math:`q_j=\sqrt{s_j}`, which
is the matrix map restricted to aligned states (:math:`W=U\mathrm{diag}(p)U^\top`,
:math:`\Phi=U\mathrm{diag}(q)V^\top`, the form SGD on the mean preserves) started from the
eigenbasis of the symmetrised :math:`W_0`: :math:`O(h)` a step, so :math:`h=d=512` for thousands
of steps takes 1-2 s (6,000 steps, 2 cores, Python loop).

Size: over 400 lines only with its docstrings (the numpydoc sections and examples of the public
functions); the code itself stays under 400 lines (tests/test_module_size.py).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from numpy.typing import ArrayLike

from symbolic.errors import ParameterError, check_choice, check_int, check_range
from symbolic.results import Result

LOSSES = ("cosine", "l2")
LEVELS = ("eigen", "matrix", "lift")
#: the lift level switches to the eigen map once asymmetry and commutator are below this
ALIGN_TOL = 0.02


@dataclass(frozen=True)
class Recipe:
    r"""The optimiser recipe of a run: per-step learning rates, momentum, weight decay, batch,
    augmentation variance, input dimension and loss.

    The recipe of ``torch.optim.SGD(lr_k, momentum=m, weight_decay=rho)`` that
    :func:`sgd_mean_field` replays: :math:`v_{k+1}=m\,v_k+\nabla L_B(x_k)+\rho x_k`,
    :math:`x_{k+1}=x_k-\eta_k v_{k+1}` (module docstring).

    Parameters
    ----------
    lrs : sequence of float
        The learning rate :math:`\eta_k` of every step, non-empty, finite and > 0 (stored as a
        tuple of floats).
    momentum : float, optional
        Heavy-ball momentum :math:`m`, in [0, 1).
    rho : float, optional
        Weight decay :math:`\rho`, in [0, inf).
    batch : int, optional
        Batch size :math:`B`, >= 1 (the noise energy of (A2) scales as :math:`1/B`).
    sigma2 : float, optional
        Augmentation variance :math:`\sigma^2`, in [0, inf).
    d : int, optional
        Input dimension (the columns of :math:`\Phi`), >= 1.
    loss : {'cosine', 'l2'}, optional
        The loss trained.

    Raises
    ------
    ParameterError
        For any field outside the ranges above (naming it).

    Examples
    --------
    >>> from dynamics import Recipe, epoch_lrs
    >>> rec = Recipe(lrs=epoch_lrs(0.05, 2, 2), momentum=0.9, rho=0.01, batch=64, d=4)
    >>> rec.lrs, rec.loss
    ((0.05, 0.05, 0.025, 0.025), 'cosine')
    >>> Recipe(lrs=[0.1], momentum=1.0)
    Traceback (most recent call last):
    ...
    symbolic.errors.ParameterError: momentum must be in [0, 1); got 1.0
    """

    lrs: tuple
    momentum: float = 0.9
    rho: float = 0.01
    batch: int = 512
    sigma2: float = 0.5
    d: int = 512
    loss: str = "cosine"

    def __post_init__(self):
        lrs = np.asarray(self.lrs, dtype=np.float64)
        if lrs.ndim != 1 or lrs.size == 0:
            raise ParameterError(f"lrs must be a non-empty 1-d sequence of step sizes; got shape {lrs.shape}")
        if not np.all(np.isfinite(lrs)) or np.any(lrs <= 0):
            raise ParameterError("lrs must be finite and > 0 at every step; got "
                                 f"{float(lrs[~(np.isfinite(lrs) & (lrs > 0))][0])!r}")
        object.__setattr__(self, "lrs", tuple(float(x) for x in lrs))
        check_range("momentum", self.momentum, 0.0, 1.0, hi_open=True)
        check_range("rho", self.rho, 0.0, math.inf)
        check_int("batch", self.batch, 1)
        check_range("sigma2", self.sigma2, 0.0, math.inf)
        check_int("d", self.d, 1)
        check_choice("loss", self.loss, LOSSES)


def epoch_lrs(base_lr: float, epochs: int, steps_per_epoch: int) -> tuple[float, ...]:
    r"""Per-step rates of the SimSiam schedule: cosine annealing per epoch,
    :math:`\eta_e=\eta_0\tfrac12(1+\cos(\pi e/E))`, held for the epoch's steps (``sims.train.lr_at``).

    Parameters
    ----------
    base_lr : float
        The initial rate :math:`\eta_0`, in (0, inf).
    epochs : int
        The number of epochs :math:`E`, >= 1.
    steps_per_epoch : int
        The steps of each epoch, >= 1.

    Returns
    -------
    tuple of float
        ``epochs * steps_per_epoch`` rates, epoch :math:`e=0,\dots,E-1` at :math:`\eta_e`.

    Raises
    ------
    ParameterError
        If ``base_lr`` (named ``lr``) is not in (0, inf), or ``epochs`` or ``steps_per_epoch``
        (named ``steps-per-epoch``) is not an integer >= 1.

    Examples
    --------
    >>> from dynamics import epoch_lrs
    >>> epoch_lrs(0.1, 2, 2)                  # cos(0) = 1, cos(pi / 2) = 0
    (0.1, 0.1, 0.05, 0.05)
    """
    check_range("lr", base_lr, 0.0, math.inf, lo_open=True)
    check_int("epochs", epochs, 1)
    check_int("steps-per-epoch", steps_per_epoch, 1)
    return tuple(base_lr * 0.5 * (1.0 + math.cos(math.pi * e / epochs))
                 for e in range(epochs) for _ in range(steps_per_epoch))


def flow_time(lrs: ArrayLike, momentum: float) -> np.ndarray:
    r""":math:`t_k=\sum_{i<k}\eta_i(1-m^{k-i})/(1-m)`, k = 0..K: the gradient-flow time heavy-ball
    SGD has covered after k steps (``t[0] = 0``).

    The time map under which the continuous flows (Bao 2023 eq. 4/5) are compared with training;
    with :math:`m=0` it is :math:`t_k=\sum_{i<k}\eta_i`.

    Parameters
    ----------
    lrs : array_like
        The per-step rates :math:`\eta_0,\dots,\eta_{K-1}` (e.g. :attr:`Recipe.lrs`).
    momentum : float
        Heavy-ball momentum :math:`m`, in [0, 1) (not checked here; :class:`Recipe` checks it).

    Returns
    -------
    numpy.ndarray
        ``t``, shape ``(K + 1,)``, float64, non-decreasing for positive rates.

    Examples
    --------
    >>> from dynamics import flow_time
    >>> flow_time([0.1, 0.1, 0.1], 0.5).round(12).tolist()   # 0.1 (1 - 0.5^2) / 0.5 + 0.1 = 0.25, ...
    [0.0, 0.1, 0.25, 0.425]
    >>> flow_time([0.1, 0.2], 0.0).round(12).tolist()
    [0.0, 0.1, 0.3]
    """
    lrs = np.asarray(lrs, dtype=np.float64)
    t = np.zeros(lrs.size + 1)
    acc = 0.0   # sum_i lr_i m^{k-i}
    tot = 0.0   # sum_i lr_i
    for k, lr in enumerate(lrs, start=1):
        acc = momentum * (acc + lr)
        tot += lr
        t[k] = (tot - acc) / (1.0 - momentum)
    return t


# --- (A1) expected gradients -----------------------------------------------------------------
def cosine_gradient(W, Phi, sigma2: float):
    r"""Expected gradients :math:`(\nabla_WL,\nabla_\Phi L)=(-G\Phi^\top,-W^\top G)` of the cosine
    loss with the identity-preserving projection :math:`G` of :math:`\hat G` (module docstring, A1)."""
    a = 1.0 + sigma2
    A = W @ Phi
    n_phi = math.sqrt(float(np.sum(Phi * Phi)))
    n_psi2 = float(np.sum(A * A))
    T = float(np.sum(A * Phi))
    G = (Phi - (T * A + A @ (A.T @ Phi) + (A @ Phi.T) @ A) / n_psi2) / (a * n_phi * math.sqrt(n_psi2))
    G = G - (float(np.sum(G * A)) / n_psi2) * A
    return -G @ Phi.T, -W.T @ G


def l2_gradient(W, Phi, sigma2: float):
    r"""Exact expected gradients of the L2 loss, :math:`(aWS-S,\;W^\top(aW-I)\Phi)`, :math:`S=\Phi\Phi^\top`."""
    a = 1.0 + sigma2
    S = Phi @ Phi.T
    return a * W @ S - S, W.T @ (a * (W @ Phi) - Phi)


def cosine_sample_moments(n_phi2, n_psi2, T, M1, M2, M3, sigma2: float, d: int):
    r""":math:`(\mathbb E\|g_{W,i}\|^2,\mathbb E\|g_{\Phi,i}\|^2)` of the symmetrised per-sample
    gradient from the norms and the traces :math:`M_1, M_2, M_3` (module docstring, A2)."""
    a = 1.0 + sigma2
    n_phi, n_psi = math.sqrt(n_phi2), math.sqrt(n_psi2)
    c = T / (a * n_phi * n_psi)
    e_w = n_phi2 / (2 * n_psi2) * ((1 - c * c) + (1 - 2 * a * a * c * c + c * c) / (a * a))
    e_phi = (0.5 * d / n_psi2 * (M1 / n_phi2 - 2 * c * M2 / (a * n_phi * n_psi) + c * c * M3 / n_psi2)
             + 0.5 * d / (a * n_psi2) * (M1 / (a * n_phi2) - 2 * c * M2 / (n_phi * n_psi) + c * c * M3 / (a * n_psi2)))
    return e_w, e_phi


def matrix_traces(W, Phi):
    r""":math:`N_\Phi^2, N_\Psi^2, T, M_1=\|W^\top\Phi\|^2, M_2=\langle WA,A\rangle, M_3=\|W^\top A\|^2`, :math:`A=W\Phi`."""
    A = W @ Phi
    B = W.T @ Phi
    return (float(np.sum(Phi * Phi)), float(np.sum(A * A)), float(np.sum(A * Phi)), float(np.sum(B * B)),
            float(np.sum((W @ A) * A)), float(np.sum((W.T @ A) ** 2)))


def eigen_traces(p, q):
    """The same traces for an aligned state, :math:`W=U\\mathrm{diag}(p)U^\\top`, :math:`\\Phi\\Phi^\\top=U\\mathrm{diag}(q^2)U^\\top`."""
    s = q * q
    ps = p * s
    return (float(s.sum()), float((p * ps).sum()), float(ps.sum()), float((p * ps).sum()),
            float((p * p * ps).sum()), float((p ** 3 * ps).sum()))


def eigen_gradient(p, q, sigma2: float, loss: str):
    r"""Gradients of the aligned state on :math:`(p_j, q_j)`, the diagonals of the matrix gradients.
    Cosine: :math:`G_j=\hat g_j-\lambda p_jq_j`, :math:`\hat g_j=q_j[1-p_j(T+2p_js_j)/N_\Psi^2]/(aN_\Phi N_\Psi)`,
    :math:`\lambda=\sum_k\hat g_kp_kq_k/N_\Psi^2`; gradients :math:`(-G_jq_j,\,-p_jG_j)`. L2:
    :math:`((ap_j-1)q_j^2,\;p_j(ap_j-1)q_j)`."""
    a = 1.0 + sigma2
    s = q * q
    if loss == "l2":
        r = a * p - 1.0
        return r * s, p * r * q
    n_phi = math.sqrt(float(s.sum()))
    n_psi2 = float((p * p * s).sum())
    T = float((p * s).sum())
    g = q * (1.0 - p * (T + 2.0 * p * s) / n_psi2) / (a * n_phi * math.sqrt(n_psi2))
    pq = p * q
    g = g - (float((g * pq).sum()) / n_psi2) * pq
    return -g * q, -p * g


# --- the map ---------------------------------------------------------------------------------
@dataclass
class Prediction(Result):
    r"""The predicted trajectory at the requested steps. ``status`` 0 (SUCCESS): every step finite;
    1 (DIVERGED, the code the committed summaries carry): the state stopped being finite or a norm
    reached 0 at ``steps[-1]`` (later steps absent).

    Built by :func:`sgd_mean_field`; the per-step lists hold one entry per recorded step.

    Parameters
    ----------
    steps : numpy.ndarray
        The recorded step indices.
    t : numpy.ndarray
        Their flow times (:func:`flow_time`).
    p, s : list of list of float, optional
        Eigenvalues of the symmetrised :math:`W`, descending, and the :math:`s_j` of those modes.
    n_phi, n_psi, trace, norm_w : list of float, optional
        :math:`N_\Phi`, :math:`N_\Psi`, :math:`T` and :math:`\|W\|_F`.
    kappa_dt : list of float, optional
        The largest :math:`s_j/(aN_\Phi N_\Psi|p_j|)\,\eta/(1-m)` over the top modes.
    status : int, optional
        0 (SUCCESS) or 1 (DIVERGED).
    message : str, optional
        ``'ok'`` or where the state stopped being finite.
    switched_at : int or None, optional
        ``level='lift'``: the step at which the map went from the matrix to the eigen level (None:
        it never did, or another level).

    Examples
    --------
    >>> import numpy as np
    >>> from dynamics import Recipe, sgd_mean_field
    >>> pred = sgd_mean_field(0.5 * np.eye(2), np.eye(2), Recipe(lrs=[0.05] * 4, d=2), [0, 4])
    >>> pred.success, len(pred.p), pred.message
    (True, 2, 'ok')
    """

    steps: np.ndarray
    t: np.ndarray
    p: list = field(default_factory=list)        # eigenvalues of the symmetrised W, descending
    s: list = field(default_factory=list)        # s_j of those modes
    n_phi: list = field(default_factory=list)
    n_psi: list = field(default_factory=list)
    trace: list = field(default_factory=list)
    norm_w: list = field(default_factory=list)
    kappa_dt: list = field(default_factory=list)  # largest s_j/(a N_Phi N_Psi |p_j|) * lr/(1-m) over the top modes
    status: int = 0
    message: str = "ok"
    switched_at: int | None = None   # level 'lift': the step at which the map went from matrix to eigen


def alignment(W: ArrayLike, Phi: ArrayLike) -> tuple[float, float]:
    r"""How far :math:`(W,\Phi)` is from an aligned state: the asymmetry
    :math:`\|W-W^\top\|_F/\|W+W^\top\|_F` and the commutator
    :math:`\|[W_s,\Phi\Phi^\top]\|_F/(\|W_s\|_F\|\Phi\Phi^\top\|_F)`, :math:`W_s=(W+W^\top)/2`.

    The eigen map is the matrix map restricted to states where both vanish; ``level='lift'`` of
    :func:`sgd_mean_field` runs the matrix map until both are below :data:`ALIGN_TOL`.

    Parameters
    ----------
    W, Phi : array_like
        ``(h, h)`` and ``(h, d)``.

    Returns
    -------
    tuple of float
        ``(asymmetry, commutator)``.

    Examples
    --------
    >>> import numpy as np
    >>> from dynamics.sgd_mean_field import alignment
    >>> alignment(np.diag([1.0, 2.0]), np.diag([3.0, 1.0]))
    (0.0, 0.0)
    >>> [round(x, 3) for x in alignment(np.array([[1.0, 1.0], [0.0, 1.0]]), np.diag([2.0, 1.0]))]
    [0.447, 0.325]
    """
    W = np.asarray(W, dtype=np.float64)
    Phi = np.asarray(Phi, dtype=np.float64)
    Ws = 0.5 * (W + W.T)
    S = Phi @ Phi.T
    den = float(np.linalg.norm(Ws)) * float(np.linalg.norm(S))
    asym = float(np.linalg.norm(W - W.T)) / max(2.0 * float(np.linalg.norm(Ws)), 1e-300)
    return asym, float(np.linalg.norm(Ws @ S - S @ Ws)) / max(den, 1e-300)


def _to_eigen(x, v):
    """The aligned (eigen) state and velocities of a matrix state: p and U from sym(W), q_j the row
    norms of U^T Phi; the velocities projected on the same modes."""
    W, P = x
    p, U = np.linalg.eigh(0.5 * (W + W.T))
    R = U.T @ P
    q = np.sqrt(np.sum(R * R, axis=1))
    vp = np.diag(U.T @ v[0] @ U).copy()
    vq = np.sum(R * (U.T @ v[1]), axis=1) / np.where(q > 0, q, 1.0)
    return [p, q], [vp, vq]


def _record(pred, p, s, n_phi, n_psi, T, norm_w, lr, recipe, top):
    o = np.argsort(-p, kind="stable")
    pred.p.append(p[o].tolist())
    pred.s.append(s[o].tolist())
    pred.n_phi.append(n_phi)
    pred.n_psi.append(n_psi)
    pred.trace.append(T)
    pred.norm_w.append(norm_w)
    a = 1.0 + recipe.sigma2
    pt, st = p[o[:top]], s[o[:top]]
    with np.errstate(divide="ignore", invalid="ignore"):
        kap = st / (a * n_phi * n_psi * np.abs(pt))
    kap = kap[np.isfinite(kap)]
    pred.kappa_dt.append(float(kap.max()) * lr / (1.0 - recipe.momentum) if kap.size else None)


def _check_steps(steps, n):
    steps = np.asarray(steps)
    if steps.ndim != 1 or steps.size == 0 or not np.issubdtype(steps.dtype, np.integer):
        raise ParameterError("steps must be a non-empty 1-d array of integers")
    if np.any(np.diff(steps) < 0) or steps[0] < 0 or steps[-1] > n:
        raise ParameterError(f"steps must be non-decreasing in [0, {n}]; got {steps[0]}..{steps[-1]}")
    return steps.astype(np.int64)


def sgd_mean_field(W0: ArrayLike, Phi0: ArrayLike, recipe: Recipe, steps: ArrayLike, level: str = "eigen",
                   noise: bool = True, top: int = 8, progress: Callable[[int], object] | None = None) -> Prediction:
    r"""Iterate heavy-ball SGD on the expected gradient (A1) with the noise-energy closure (A2)
    from :math:`(W_0,\Phi_0)` and record eigenvalues and norms at ``steps`` (step indices,
    0 = initial state). ``level``: 'eigen' (aligned modes from :math:`W_0`'s eigenbasis),
    'matrix' (full :math:`W,\Phi`) or 'lift' (matrix, then eigen once aligned). ``noise=False`` drops (A2)
    (the noiseless map).

    Each step is the optimiser's own update on the projected expected gradient
    :math:`G=\hat G-\langle\hat G,A\rangle A/N_\Psi^2` (A1, from Bao 2023 eq. 4;
    :math:`\nabla_WL=-G\Phi^\top`, :math:`\nabla_\Phi L=-W^\top G`):
    :math:`v_{k+1}=m\,v_k+\nabla L(x_k)+\rho x_k`, :math:`x_{k+1}=x_k-\eta_kv_{k+1}`, then (A2) the
    radial kick :math:`\|x\|^2\mathrel{+}=(\eta_k/(1-m))^2q` (cosine loss only). The L2 loss uses
    its exact expected gradient (Tian et al. 2021 eq. 4, :math:`\tau=1`).

    Parameters
    ----------
    W0 : array_like
        The initial predictor :math:`W_0`, ``(h, h)``, finite.
    Phi0 : array_like
        The initial encoder :math:`\Phi_0`, ``(h, d)`` with ``d = recipe.d``, finite.
    recipe : Recipe
        The learning rates, momentum, weight decay, batch, :math:`\sigma^2`, ``d`` and loss.
    steps : array_like of int
        The step indices to record, non-decreasing, in ``[0, len(recipe.lrs)]``.
    level : {'eigen', 'matrix', 'lift'}, optional
        The eigen map on aligned modes, the full matrix map, or the matrix map through the lift
        (where W's asymmetry and the commutator break the eigen map's alignment) switching to the
        eigen map once both are below :data:`ALIGN_TOL` (:func:`alignment`, checked every 10
        steps; the step is ``switched_at``).
    noise : bool, optional
        Add the noise-energy closure (A2).
    top : int, optional
        The number of leading modes over which ``kappa_dt`` is taken.
    progress : callable, optional
        Called with the number of steps done after every step.

    Returns
    -------
    Prediction
        Per recorded step: ``p`` (eigenvalues of the symmetrised :math:`W`, descending), ``s``,
        ``n_phi``, ``n_psi``, ``trace``, ``norm_w``, ``kappa_dt``; ``t`` the flow time
        (:func:`flow_time`) of each; ``status`` 1 and fewer records if the state stopped being
        finite or a norm reached 0.

    Raises
    ------
    ParameterError
        For an unknown ``level``, ``W0`` not square or ``Phi0`` not ``(h, recipe.d)``, non-finite
        weights, or ``steps`` not a non-empty non-decreasing integer array in range.

    Examples
    --------
    On aligned weights the eigen and the matrix maps agree:

    >>> import numpy as np
    >>> from dynamics import Recipe, epoch_lrs, sgd_mean_field
    >>> rec = Recipe(lrs=epoch_lrs(0.05, 2, 5), momentum=0.9, rho=0.01, batch=64, sigma2=0.5, d=4)
    >>> W0, Phi0 = 0.5 * np.eye(4), np.diag([1.0, 0.8, 0.6, 0.4])
    >>> pred = sgd_mean_field(W0, Phi0, rec, [0, 5, 10])
    >>> pred.status, pred.steps.tolist(), [round(float(t), 4) for t in pred.t]
    (0, [0, 5, 10], [0.0, 0.6572, 1.7405])
    >>> [round(x, 4) for x in pred.p[-1]]
    [0.5586, 0.5586, 0.4865, 0.3799]
    >>> mat = sgd_mean_field(W0, Phi0, rec, [0, 5, 10], level="matrix")
    >>> bool(np.allclose(mat.p, pred.p, atol=1e-12))
    True
    """
    check_choice("level", level, LEVELS)
    W0 = np.asarray(W0, dtype=np.float64)
    Phi0 = np.asarray(Phi0, dtype=np.float64)
    h = W0.shape[0] if W0.ndim == 2 else 0
    if W0.ndim != 2 or W0.shape != (h, h) or Phi0.ndim != 2 or Phi0.shape[0] != h:
        raise ParameterError(f"W0 must be h x h and Phi0 h x d; got {W0.shape} and {Phi0.shape}")
    if Phi0.shape[1] != recipe.d:
        raise ParameterError(f"Phi0 must have d = {recipe.d} columns (the recipe's d); got {Phi0.shape[1]}")
    if not (np.all(np.isfinite(W0)) and np.all(np.isfinite(Phi0))):
        raise ParameterError("W0 and Phi0 must be finite")
    lrs = np.asarray(recipe.lrs)
    steps = _check_steps(steps, lrs.size)
    t_all = flow_time(lrs, recipe.momentum)
    pred = Prediction(steps=steps, t=t_all[steps])
    m, rho, B, loss = recipe.momentum, recipe.rho, recipe.batch, recipe.loss
    mode = "matrix" if level == "lift" else level
    if mode == "eigen":
        p0, U = np.linalg.eigh(0.5 * (W0 + W0.T))
        x = [p0, np.sqrt(np.sum((U.T @ Phi0) ** 2, axis=1))]
        grad = lambda p, q: eigen_gradient(p, q, recipe.sigma2, loss)   # noqa: E731
        traces = eigen_traces
    else:
        x = [W0.copy(), Phi0.copy()]
        grad = (lambda W, P: cosine_gradient(W, P, recipe.sigma2)) if loss == "cosine" else \
            (lambda W, P: l2_gradient(W, P, recipe.sigma2))
        traces = matrix_traces
    v = [np.zeros_like(x[0]), np.zeros_like(x[1])]
    want = iter(steps.tolist())
    nxt = next(want)

    def measure():
        if mode == "eigen":
            p, q = x
            s = q * q
            tr = eigen_traces(p, q)
            return p, s, math.sqrt(tr[0]), math.sqrt(tr[1]), tr[2], float(np.sqrt((p * p).sum()))
        W, P = x
        p, U = np.linalg.eigh(0.5 * (W + W.T))
        s = np.sum((U.T @ P) ** 2, axis=1)
        A = W @ P
        return p, s, float(np.linalg.norm(P)), float(np.linalg.norm(A)), float(np.sum(A * P)), float(np.linalg.norm(W))

    for k in range(lrs.size + 1):
        while nxt == k:
            _record(pred, *measure(), float(lrs[min(k, lrs.size - 1)]), recipe, top)
            try:
                nxt = next(want)
            except StopIteration:
                nxt = None
        if nxt is None or k == lrs.size:
            break
        lr = float(lrs[k])
        g = list(grad(*x))
        if noise and loss == "cosine":
            n_phi2, n_psi2, T, M1, M2, M3 = traces(*x)
            e_w, e_phi = cosine_sample_moments(n_phi2, n_psi2, T, M1, M2, M3, recipe.sigma2, recipe.d)
            q_w = max(e_w - float(np.sum(g[0] * g[0])), 0.0) / B
            q_phi = max(e_phi - float(np.sum(g[1] * g[1])), 0.0) / B
        for i in (0, 1):
            gi = g[i] + rho * x[i]
            v[i] = gi if k == 0 else m * v[i] + gi
            x[i] = x[i] - lr * v[i]
        if noise and loss == "cosine":
            le2 = (lr / (1.0 - m)) ** 2
            for i, qn in ((0, q_w), (1, q_phi)):
                nn = float(np.sum(x[i] * x[i]))
                if nn > 0:
                    x[i] = x[i] * math.sqrt(1.0 + le2 * qn / nn)
        ok = np.all(np.isfinite(x[0])) and np.all(np.isfinite(x[1]))
        if ok and loss == "cosine":
            ok = float(np.sum(x[1] * x[1])) > 0 and float(np.sum((x[0] @ x[1]) ** 2) if mode == "matrix"
                                                        else np.sum(x[0] ** 2 * x[1] ** 2)) > 0
        if not ok:
            pred.status, pred.message = 1, f"state not finite or a norm reached 0 at step {k + 1}"
            pred.steps = steps[:len(pred.p)]
            pred.t = pred.t[:len(pred.p)]
            return pred
        if progress is not None:
            progress(k + 1)
        if mode == "matrix" and level == "lift" and (k + 1) % 10 == 0 and max(alignment(*x)) < ALIGN_TOL:
            x, v = _to_eigen(x, v)
            mode, traces, pred.switched_at = "eigen", eigen_traces, k + 1
            grad = lambda p, q: eigen_gradient(p, q, recipe.sigma2, loss)   # noqa: E731
    return pred
