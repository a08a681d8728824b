r"""The (p, s) phase portrait of L2-loss BYOL (Tian et al. 2021): basins, invariant, trajectories.

One mode of the eigen system (Tian eqs. 11-13) with the EMA target :math:`W_a=\tau W`,

.. math::

    \dot p=\alpha_p s[\tau-(1+\sigma^2)p]-\eta p,\quad
    \dot s=2ps[\tau-(1+\sigma^2)p]-2\eta s,\quad
    \dot\tau=\beta(1-\tau)-\tau\dot s/(2s),

started in the (p, s) plane at :math:`\tau(0)` = ``params.tau``. Every start of a grid is
integrated with :func:`dynamics.integrate.integrate` (form ``eigen``) and coloured by its fate;
the trajectories drawn obey eq. 14, :math:`e^{2\eta t}(s-p^2/\alpha_p)` constant, so they all
approach the invariant parabola :math:`s=p^2/\alpha_p`, on which the reduced flow (eq. 16) lives.

The fate of a start is read from its state at ``t_end`` (long enough that the invariant has decayed
by :math:`e^{-50}` at most): the fate under the reduced flow at the end's :math:`\tau` of its
:math:`p` (:func:`dynamics.regimes.predict_fate`): *collapse* below the saddle :math:`p_-`,
*converge* above it. A run stopped as diverged whose :math:`s` has shrunk (below half its start)
is the online network collapsing relative to its target (:math:`\tau=\|W_a\|/\|W\|\to\infty`
while :math:`s\to0`): *collapse*; any other stopped run is *diverge*.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from .registry import registered
from .style import FATE_COLORS, PALETTE, axes_for, free_legend, mark_equilibrium, params_caption, styled

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: fate names in the order of their codes in :attr:`L2Plane.codes`
FATES = ("diverge", "collapse", "converge")
#: default starts of the drawn trajectories, as fractions of the window (both sides of the boundary)
L2_STARTS = ((0.05, 0.95), (0.2, 0.45), (0.3, 0.08), (0.38, 0.03), (0.55, 0.9), (0.95, 0.6), (0.95, 0.1))


@dataclass(frozen=True, eq=False)
class L2Plane:
    """The fate of every start ``(P, S)`` of the grid (``codes``: indices into :data:`FATES`), the
    equilibria (:class:`dynamics.equilibria.EigenEquilibria`), and trajectories ``ys`` (time,
    start, (p, s, tau)) from ``starts`` at times ``t``, in ``window = ((p_lo, p_hi), (s_lo, s_hi))``."""

    params: object
    equilibria: object
    window: tuple
    P: np.ndarray
    S: np.ndarray
    codes: np.ndarray
    starts: np.ndarray
    t: np.ndarray
    ys: np.ndarray
    t_end: float


def l2_window(params) -> tuple:
    """The default window: p from :math:`-p_+/2` to :math:`1.8p_+`, s from 1% to 100% of
    :math:`2.2p_+^2/\\alpha_p` (:math:`p_+` the stable non-collapsed root of eq. 16, or
    :math:`\\tau/(1+\\sigma^2)` when there is none)."""
    disc = params.tau**2 - 4 * params.eta * (1 + params.sigma2)
    p_plus = (params.tau + np.sqrt(max(disc, 0.0))) / (2 * (1 + params.sigma2)) if disc >= 0 else \
        params.tau / (1 + params.sigma2)
    s_hi = 2.2 * p_plus**2 / params.alpha_p
    return ((-0.5 * p_plus, 1.8 * p_plus), (0.01 * s_hi, s_hi))


def end_fates(params, ys: np.ndarray, status: np.ndarray) -> np.ndarray:
    """The fate code (index into :data:`FATES`) of each run from its last finite state ``ys``
    (time, run, (p, s, tau)) and its status (see the module docstring)."""
    from dynamics.regimes import FATE_CODES, predict_fate

    finite = np.isfinite(ys).all(axis=2)
    last = np.array([ys[np.flatnonzero(finite[:, i])[-1], i] if finite[:, i].any() else np.full(3, np.nan)
                     for i in range(ys.shape[1])])
    codes = np.full(len(last), FATES.index("diverge"))
    ok = (np.asarray(status) == 0) & np.isfinite(last).all(axis=1)
    for tau in np.unique(np.round(last[ok, 2], 6)):
        sel = ok & (np.round(last[:, 2], 6) == tau)
        f = np.asarray(predict_fate(replace(params, tau=float(tau)), last[sel, 0]))
        names = {v: k for k, v in FATE_CODES.items()}
        codes[sel] = [FATES.index(names[int(x)]) for x in f]
    lost = ~ok & np.isfinite(last[:, 1]) & (last[:, 1] < 0.5 * ys[0, :, 1])    # s shrinking as tau runs away
    codes[lost] = FATES.index("collapse")
    return codes


def compute_l2_plane(params: Any = None, fast: bool = False, window: Any = None, starts: Any = None) -> L2Plane:
    r"""The basins of the L2/BYOL (p, s) plane at ``params`` (default ``L2Params(eta=0.14, beta=0.4)``).

    A grid of starts over the window (61 x 61, or 25 x 25 with ``fast``), each at
    :math:`\tau(0)` = ``params.tau``, integrated to ``t_end`` :math:`=\min(5000, \max(250, 25/\eta))`
    and classified by :func:`end_fates`; the trajectories of ``starts`` on 400 times to ``t_end`` (geometric: dense early).

    Parameters
    ----------
    params : L2Params, optional
        A point of the l2-byol model with :math:`\eta>0` and :math:`\beta>0` (the equilibria of the
        (p, s, tau) system are isolated only then); None (default): ``L2Params(eta=0.14, beta=0.4)``.
    fast : bool, optional
        A 25 x 25 grid of starts instead of 61 x 61.
    window : sequence of 4 floats, optional
        ``(p_lo, p_hi, s_lo, s_hi)`` with ``p_lo < p_hi`` and ``0 < s_lo < s_hi`` (:math:`\dot\tau`
        divides by s); default :func:`l2_window` (``ssldyn figure phase-l2 --window``).
    starts : array_like (n, 2), optional
        Starts ``(p, s)`` of the drawn trajectories inside the window, 1 to 50 of them; default
        seven spread over the window, on both sides of the basin boundary (``--starts``).

    Returns
    -------
    L2Plane
        The grid ``P, S``, the fate ``codes`` there, the equilibria, ``starts``, ``t``, ``ys``.

    Raises
    ------
    ParameterError
        If ``params`` is not an l2-byol point with positive ``eta`` and ``beta``, or ``window`` /
        ``starts`` are not as described (the message names which, the range and the value).

    See Also
    --------
    draw_l2_plane : draws the result.
    l2_plane : computes, draws and saves it.

    Examples
    --------
    At :math:`\eta=0.14` the saddle is :math:`p_-=0.2` and the stable point :math:`p_+=0.4667`
    (Tian eq. 16); starts well above the saddle converge, those at small p and s collapse:

    >>> from figures.l2_plane import FATES, compute_l2_plane
    >>> r = compute_l2_plane(fast=True)
    >>> [round(float(x), 4) for x in r.equilibria.p], r.equilibria.stability
    ([0.0, 0.2, 0.4667], ('stable', 'unstable', 'stable'))
    >>> FATES[r.codes[-1, -1]], FATES[r.codes[0, 0]]
    ('converge', 'collapse')
    """
    from dynamics.equilibria import find_eigen_equilibria
    from dynamics.integrate import integrate
    from dynamics.params import L2Params
    from symbolic.errors import ParameterError

    from .windows import check_starts, check_window, spread_starts

    params = L2Params(eta=0.14, beta=0.4) if params is None else params
    if params.MODEL != "l2-byol":
        raise ParameterError(f"model must be l2-byol for the L2 (p, s) plane; got {params.MODEL!r}")
    eq = find_eigen_equilibria(params)
    names = ("p", "s")
    window = check_window(l2_window(params) if window is None else window, names, floors=(-np.inf, 0.0),
                          open_floor=(False, True))
    starts = spread_starts(window, L2_STARTS) if starts is None else check_starts(starts, window, names)
    n = 25 if fast else 61
    P, S = np.meshgrid(np.linspace(*window[0], n), np.linspace(*window[1], n))
    t_end = float(min(5000.0, max(250.0, 25.0 / params.eta)))
    grid0 = np.column_stack([P.ravel(), S.ravel(), np.full(P.size, params.tau)])
    coarse = np.linspace(0.0, t_end, 41)
    g = integrate("l2-byol", params, grid0, t_end, form="eigen", t_eval=coarse)
    codes = end_fates(params, g.ys, g.status).reshape(P.shape)
    t = np.r_[0.0, np.geomspace(1e-5 * t_end, t_end, 399)]      # dense early, where the flow is fast
    y0 = np.column_stack([starts, np.full(len(starts), params.tau)])
    r = integrate("l2-byol", params, y0, t_end, form="eigen", t_eval=t)
    return L2Plane(params, eq, window, P, S, codes, starts, t, r.ys, t_end)


@styled
def draw_l2_plane(result: L2Plane, ax: Axes | None = None) -> Figure:
    r"""The basins (background coloured by fate), the invariant parabola :math:`s=p^2/\alpha_p`
    (Tian eq. 14), trajectories and the equilibria (filled: stable, drawn above open: unstable).

    Parameters
    ----------
    result : L2Plane
        The plane of :func:`compute_l2_plane`.
    ax : matplotlib.axes.Axes, optional
        The Axes to draw on; None (default) draws on a new Figure.

    Returns
    -------
    matplotlib.figure.Figure
        The Figure drawn on; the parameters (with :math:`\tau(0)`) in its caption.

    Raises
    ------
    ParameterError
        If ``ax`` is not one matplotlib Axes (or None).

    See Also
    --------
    compute_l2_plane : the plane's numbers.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from figures.l2_plane import compute_l2_plane, draw_l2_plane
    >>> fig = draw_l2_plane(compute_l2_plane(fast=True))
    >>> fig.axes[0].get_xlabel()
    'predictor eigenvalue $p$'
    >>> plt.close(fig)
    """
    from matplotlib.colors import ListedColormap

    fig, (ax,) = axes_for(ax, figsize=(6.8, 4.4))
    q, (p_lo, p_hi), (_, s_hi) = result.params, *result.window
    cmap = ListedColormap([FATE_COLORS[f] for f in FATES])
    ax.pcolormesh(result.P, result.S, result.codes, cmap=cmap, vmin=-0.5, vmax=len(FATES) - 0.5, alpha=0.3,
                  shading="nearest", lw=0, rasterized=True)
    pp = np.linspace(p_lo, p_hi, 300)
    ax.plot(pp, pp**2 / q.alpha_p, color="k", lw=1.1, ls="--", label=r"invariant set $s=p^2/\alpha_p$ (eq. 14)")
    for i in range(len(result.starts)):
        ax.plot(result.ys[:, i, 0], result.ys[:, i, 1], color=PALETTE[2], lw=1.2,
                label="trajectories" if i == 0 else None)
        ax.plot(*result.starts[i], "o", color=PALETTE[2], ms=3)
    eq = result.equilibria
    for p, s, st in zip(eq.p, eq.s, eq.stability):
        mark_equilibrium(ax, p, s, st, clip_on=False)
    from matplotlib.patches import Patch

    present = sorted(set(np.unique(result.codes).tolist()))
    handles = [Patch(color=FATE_COLORS[FATES[c]], alpha=0.3, label=FATES[c]) for c in present]
    handles += ax.get_legend_handles_labels()[0]
    ax.set_xlim(p_lo, p_hi)
    ax.set_ylim(0.0, s_hi)
    ax.set_xlabel(r"predictor eigenvalue $p$")
    ax.set_ylabel(r"eigenvalue $s$ of $WW^\top$")
    ax.set_title(rf"L2 BYOL, Tian et al. eqs. 11-14: fate of each start $(p, s)$ at $t$ = {result.t_end:g}"
                 + "\n" + params_caption(q, names={"tau": r"$\tau(0)$"}), fontsize=8)
    free_legend(ax, handles, fontsize=7, framealpha=0.9)
    return fig


l2_plane = registered("phase-l2", compute_l2_plane, draw_l2_plane, "phase_l2_ps_plane",
                      call="params=L2Params(eta=0.12, beta=0.4)", needs="L2Params")
