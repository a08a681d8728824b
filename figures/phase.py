"""Phase portraits: the 1-D phase line of a reduced flow with its basins, the (p, s) plane of the
cosine eigen system (Bao eq. 5) with nullclines and the invariant parabola, and the
(sigma_1, sigma_2) plane of the two-layer flow (Jing Theorem 3) with its conserved hyperbolas.

Each figure is ``compute_* -> result -> draw_*(result, ax=None) -> Figure``: the compute functions
take the model's parameter dataclass, evaluate generated right-hand sides on grids, find the
equilibria (:mod:`dynamics.equilibria`) and take trajectories from :func:`dynamics.integrate.integrate`
(they never integrate themselves); the draw functions only plot the result. The registered
targets (``phase_lines``, ``cosine_ps_plane``, ``two_layer_plane``) compute, draw and save.

Size: over 400 lines only with its docstrings (the numpydoc sections and examples of the public
functions); the code itself stays under 400 lines (tests/test_module_size.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .registry import registered
from .style import FATE_COLORS, PALETTE, axes_for, free_legend, mark_equilibrium, number, params_caption, styled

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from dynamics.equilibria import Equilibria


def rhs_grid(k, theta, *grids):
    """The generated kernel ``k.rhs`` evaluated at every point of ``grids`` (one array per state)."""
    out = np.empty(len(k.STATE))
    vals = np.empty((len(k.STATE),) + grids[0].shape)
    for idx in np.ndindex(grids[0].shape):
        k.rhs(np.array([g[idx] for g in grids], dtype=float), theta, out)
        vals[(slice(None),) + idx] = out
    return vals


def grid(span, n) -> tuple:
    """``(span, points)``: ``span`` checked to be two finite numbers ``lo < hi`` and ``n`` an integer
    of at least 2, the points ``np.linspace(lo, hi, n)``; else a ParameterError naming them."""
    from symbolic.errors import ParameterError, check_int

    n = check_int("n", n, 2)
    try:
        lo, hi = (float(x) for x in span)
    except (TypeError, ValueError):
        raise ParameterError(f"span must be two numbers (lo, hi); got {span!r}") from None
    if not (np.isfinite(lo) and np.isfinite(hi) and lo < hi):
        raise ParameterError(f"span must be two finite numbers lo < hi; got {span!r}")
    return (lo, hi), np.linspace(lo, hi, n)


def fit_span(values, margin: float = 0.15, min_width: float = 0.5) -> tuple:
    """An interval containing ``values`` and 0 with ``margin`` of its width on each side."""
    v = np.asarray(values, float)
    lo, hi = min(float(v.min(initial=0.0)), 0.0), max(float(v.max(initial=0.0)), 0.0)
    w = max(hi - lo, min_width)
    return (lo - margin * w, hi + margin * w)


def _fates(params, ps):
    from dynamics.regimes import FATE_CODES, predict_fate

    names = {v: key for key, v in FATE_CODES.items()}
    return np.array([names[int(f)] for f in np.asarray(predict_fate(params, ps))])


def shade_fates(ax, ps, fates, alpha):
    """Colour ``ax``'s background by the fate of each grid point ``ps`` (contiguous runs)."""
    dx = ps[1] - ps[0]
    cuts = np.flatnonzero(fates[1:] != fates[:-1]) + 1
    for s, e in zip(np.r_[0, cuts], np.r_[cuts, len(ps)]):
        ax.axvspan(ps[s] - dx / 2, ps[e - 1] + dx / 2, color=FATE_COLORS[fates[s]], alpha=alpha, lw=0)


def fate_legend(ax, alpha=0.3, fates=None, **kw):
    """The legend of the fate colours (those in ``fates``, default all): at ``bbox_to_anchor``
    when given, else in a corner free of plotted points (:func:`figures.style.free_legend`)."""
    from matplotlib.patches import Patch

    shown = [f for f in FATE_COLORS if fates is None or f in set(np.asarray(fates).ravel())]
    handles = [Patch(color=FATE_COLORS[f], alpha=alpha, label=f) for f in shown]
    if "bbox_to_anchor" in kw:
        return ax.legend(handles=handles, **kw)
    kw.pop("loc", None)
    return free_legend(ax, handles, **kw)


def _mark_equilibria(ax, eq, span, ms):
    for x, st in zip(eq.p, eq.stability):
        if span[0] <= x <= span[1]:
            mark_equilibrium(ax, x, 0.0, st, ms=ms)


# --- pdot(p) with equilibria and fates (Bao Figs. 2, 4; the demo) --------------------------------
@dataclass(frozen=True, eq=False)
class RhsCurve:
    r""":math:`\dot p(p)` of a reduced flow on a grid, its equilibria and the fate of each grid point."""

    params: object
    equilibria: object          # dynamics.equilibria.Equilibria
    p: np.ndarray
    rhs: np.ndarray
    fates: np.ndarray           # fate name per grid point
    span: tuple


def rhs_curve(params: Any, equilibria: Equilibria | None = None, span: tuple | None = None,
              n: int = 801) -> RhsCurve:
    r"""The right-hand side :math:`\dot p(p)` of ``params``' reduced flow on a grid of ``span``.

    The generated ``reduced`` kernel is evaluated at ``n`` points (no integration), and each point
    gets the fate of :func:`dynamics.regimes.predict_fate`; for the cosine model this is Bao et
    al. (2023) eq. 7, :math:`\dot p=p^2(N_\Psi^2-Tp-2p^4)/((1+\sigma^2)N_\Phi N_\Psi^3)-\rho p`.

    Parameters
    ----------
    params : parameter dataclass
        A point of a model with the ``equilibria`` capability (``CosineParams``, ``L2Params``, ...).
    equilibria : Equilibria, optional
        The equilibria of ``params`` (:func:`dynamics.equilibria.find_equilibria`, found when None).
    span : (float, float), optional
        The grid's interval ``(lo, hi)``, ``lo < hi``; default: the equilibria and 0 with a 15% margin.
    n : int, optional
        The number of grid points (at least 2); default 801.

    Returns
    -------
    RhsCurve
        ``p`` (the grid), ``rhs`` (:math:`\dot p` there), ``fates`` (a fate name per point),
        ``span``, ``params`` and ``equilibria``.

    Raises
    ------
    ParameterError
        If the model has no equilibria (``two-layer``), or ``span`` is not two finite numbers
        ``lo < hi``, or ``n`` is not an integer of at least 2.

    See Also
    --------
    draw_rhs_curve : draws the result.

    Examples
    --------
    >>> from dynamics import CosineParams
    >>> from figures import rhs_curve
    >>> c = rhs_curve(CosineParams(rho=0.01), span=(-1.4, 1.3), n=10)
    >>> [round(float(x), 4) for x in c.p[:3]], [round(float(x), 4) for x in c.rhs[:3]]
    ([-1.4, -1.1, -0.8], [-0.9023, -0.0043, 0.1237])
    >>> [round(float(x), 4) for x in c.equilibria.p], c.equilibria.regime
    ([-1.0964, 0.0, 0.0455, 0.9554], 'Acute')
    >>> [str(f) for f in c.fates[[0, 3, 8]]]
    ['diverge', 'collapse', 'converge']
    """
    from dynamics.equilibria import find_equilibria
    from symbolic.codegen import load_kernels

    eq = find_equilibria(params) if equilibria is None else equilibria
    span, ps = grid(fit_span(eq.p) if span is None else span, n)
    k = load_kernels(params.MODEL, "reduced")
    return RhsCurve(params, eq, ps, rhs_grid(k, params.as_array(k.PARAMS), ps)[0], _fates(params, ps), span)


@styled
def draw_rhs_curve(curve: RhsCurve, ax: Axes | None = None) -> Figure:
    r"""Draw :math:`\dot p(p)` (black), the equilibria (filled: stable) and the fates shaded.

    Parameters
    ----------
    curve : RhsCurve
        The curve of :func:`rhs_curve`.
    ax : matplotlib.axes.Axes, optional
        The Axes to draw on; None (default) draws on a new Figure.

    Returns
    -------
    matplotlib.figure.Figure
        The Figure drawn on (``ax``'s when given).

    Raises
    ------
    ParameterError
        If ``ax`` is not one matplotlib Axes (or None).

    See Also
    --------
    rhs_curve : the curve's numbers.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from dynamics import CosineParams
    >>> from figures import draw_rhs_curve, rhs_curve
    >>> fig = draw_rhs_curve(rhs_curve(CosineParams(rho=0.01), n=50))
    >>> fig.axes[0].get_xlabel()
    'eigenvalue $p$'
    >>> plt.close(fig)
    """
    fig, (ax,) = axes_for(ax, figsize=(5.2, 3.4))
    shade_fates(ax, curve.p, curve.fates, 0.15)
    ax.axhline(0, color="0.4", lw=0.8)
    ax.plot(curve.p, curve.rhs, color="k", lw=1.3)
    _mark_equilibria(ax, curve.equilibria, curve.span, 5)
    lo_y, hi_y = np.percentile(curve.rhs, [3, 97])
    pad = 0.3 * max(hi_y - lo_y, 1e-6)
    ax.set_ylim(lo_y - pad, hi_y + pad)
    ax.set_xlabel(r"eigenvalue $p$")
    return fig


def draw_phase_line(ax: Axes | None, params: Any, eq: Equilibria, span: tuple | None = None,
                    n: int = 801) -> np.ndarray:
    r"""Draw :math:`\dot p(p)` of ``params``' reduced flow on ``ax`` with the equilibria ``eq``
    (filled: stable) and the fates shaded; returns the plotted equilibria. (:func:`rhs_curve`
    drawn by :func:`draw_rhs_curve`.)

    Parameters
    ----------
    ax : matplotlib.axes.Axes or None
        The Axes to draw on (None: a new Figure).
    params : parameter dataclass
        A point of a model with the ``equilibria`` capability.
    eq : Equilibria
        The equilibria of ``params`` (:func:`dynamics.equilibria.find_equilibria`).
    span : (float, float), optional
        The interval drawn, ``lo < hi``; default: the equilibria and 0 with a 15% margin.
    n : int, optional
        The number of grid points (at least 2); default 801.

    Returns
    -------
    numpy.ndarray
        The equilibria ``eq.p`` (float), all of them, also those outside ``span``.

    Raises
    ------
    ParameterError
        If ``ax`` is not one matplotlib Axes, ``span`` not two finite numbers ``lo < hi``, or ``n``
        not an integer of at least 2.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from dynamics import CosineParams, find_equilibria
    >>> from figures import draw_phase_line
    >>> params = CosineParams(rho=0.01)
    >>> fig, ax = plt.subplots()
    >>> p = draw_phase_line(ax, params, find_equilibria(params), n=50)
    >>> [round(float(x), 4) for x in p]
    [-1.0964, 0.0, 0.0455, 0.9554]
    >>> plt.close(fig)
    """
    draw_rhs_curve(rhs_curve(params, eq, span, n), ax=ax)
    return np.asarray(eq.p, float)


# --- phase lines ----------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class PhaseLine:
    """One phase line: equilibria, fates of the initial values ``p``, and the flow's direction
    (``signs``) at the midpoints ``mids`` of the intervals (widths ``widths``) between equilibria."""

    title: str
    params: object
    equilibria: object
    p: np.ndarray
    fates: np.ndarray
    span: tuple
    mids: np.ndarray
    signs: np.ndarray
    widths: np.ndarray


@dataclass(frozen=True, eq=False)
class PhaseLines:
    rows: tuple


PHASE_LINE_CASES = (   # (title, params class, fields, span): Acute and Collapse of each reduced model
    ("cosine-simsiam, Bao eq. 7", "CosineParams", {"rho": 0.01}, (-1.4, 1.3)),
    ("cosine-simsiam, Collapse", "CosineParams", {"rho": 0.15}, (-1.4, 1.3)),
    ("l2-byol, Bao eq. 8", "L2Params", {"eta": 0.05}, (-0.3, 0.9)),
    ("l2-byol, Collapse", "L2Params", {"eta": 0.3}, (-0.3, 0.9)),
)


def phase_line(title: str, params: Any, span: tuple | None = None, n: int = 1201) -> PhaseLine:
    r"""The phase line of ``params``' reduced flow on ``span`` (default: fitted to the equilibria).

    The equilibria come from :func:`dynamics.equilibria.find_equilibria`, the fate of each grid
    point from :func:`dynamics.regimes.predict_fate`, and the direction of the flow between
    neighbouring equilibria from the sign of the generated :math:`\dot p` at the midpoints.

    Parameters
    ----------
    title : str
        The row's title (drawn before its regime).
    params : parameter dataclass
        A point of a model with the ``equilibria`` capability (``CosineParams``, ``L2Params``, ...).
    span : (float, float), optional
        The interval of initial values, ``lo < hi``; default: the equilibria and 0 with a 15% margin.
    n : int, optional
        The number of grid points of the fates (at least 2); default 1201.

    Returns
    -------
    PhaseLine
        ``equilibria``, ``p`` and ``fates`` (the grid and a fate name per point), ``mids``,
        ``signs`` (+1: :math:`p` grows) and ``widths`` of the intervals between the equilibria.

    Raises
    ------
    ParameterError
        If the model has no equilibria (``two-layer``), or ``span`` is not two finite numbers
        ``lo < hi``, or ``n`` is not an integer of at least 2.

    Examples
    --------
    At :math:`\rho=0.01` (Acute) the flow runs away below :math:`p=-1.0964`, to 0 from either side,
    and to :math:`p=0.9554` from above :math:`p=0.0455`:

    >>> from dynamics import CosineParams
    >>> from figures.phase import phase_line
    >>> line = phase_line("cosine", CosineParams(rho=0.01), n=11)
    >>> [round(float(x), 4) for x in line.equilibria.p]
    [-1.0964, 0.0, 0.0455, 0.9554]
    >>> [int(s) for s in line.signs]
    [-1, 1, -1, 1, -1]
    >>> [str(f) for f in line.fates[[0, 4, 10]]]
    ['diverge', 'collapse', 'converge']
    """
    from dynamics.equilibria import find_equilibria
    from symbolic.codegen import load_kernels

    eq = find_equilibria(params)
    span, ps = grid(fit_span(eq.p) if span is None else span, n)
    k = load_kernels(params.MODEL, "reduced")
    edges = np.r_[span[0], eq.p[(eq.p > span[0]) & (eq.p < span[1])], span[1]]
    mids = 0.5 * (edges[:-1] + edges[1:])
    signs = np.sign(rhs_grid(k, params.as_array(k.PARAMS), mids)[0])
    return PhaseLine(title, params, eq, ps, _fates(params, ps), span, mids, signs, np.diff(edges))


def compute_phase_lines(params: Any = None, fast: bool = False) -> PhaseLines:
    """The phase lines of the four default cases (:data:`PHASE_LINE_CASES`), or the one of ``params``.

    The default cases are the Acute and the Collapse regime of each reduced model: cosine-simsiam
    (Bao eq. 7) at :math:`\\rho` = 0.01 and 0.15, l2-byol (Bao eq. 8) at :math:`\\eta` = 0.05 and 0.3.

    Parameters
    ----------
    params : parameter dataclass, optional
        One point of a model with the ``equilibria`` capability (``ssldyn figure phase-lines
        --model ...``): one line, titled by its fields, on a span fitted to its equilibria.
        None (default): the four cases.
    fast : bool, optional
        401 grid points per line instead of 1201.

    Returns
    -------
    PhaseLines
        ``rows``: a :func:`phase_line` result per line.

    Raises
    ------
    ParameterError
        If the model of ``params`` has no equilibria (``two-layer``).

    See Also
    --------
    draw_phase_lines : draws the result.
    phase_lines : computes, draws and saves it.

    Examples
    --------
    >>> from dynamics import L2Params
    >>> from figures import compute_phase_lines
    >>> r = compute_phase_lines(fast=True)
    >>> [row.equilibria.regime for row in r.rows]
    ['Acute', 'Collapse', 'Acute', 'Collapse']
    >>> (row,) = compute_phase_lines(L2Params(eta=0.05), fast=True).rows
    >>> row.title
    'l2-byol, eta=0.05, sigma2=0.5, tau=1, alpha_p=1, beta=0'
    >>> [round(float(x), 4) for x in row.equilibria.p], len(row.p)
    ([0.0, 0.0544, 0.6122], 401)
    """
    import dynamics.params as P

    n = 401 if fast else 1201
    if params is not None:
        return PhaseLines((phase_line(f"{params.MODEL}, {_fields(params)}", params, n=n),))
    return PhaseLines(tuple(phase_line(title, getattr(P, cls)(**kw), span, n) for title, cls, kw, span in PHASE_LINE_CASES))


def _fields(params) -> str:
    return ", ".join(f"{k}={v:g}" for k, v in params.to_dict().items())


@styled
def draw_phase_lines(result: PhaseLines, ax: Axes | None = None) -> Figure:
    r"""1-D phase lines of the reduced flows with their basins.

    Each row is the line of initial values :math:`p(0)`: equilibria from
    :func:`dynamics.equilibria.find_equilibria` (filled: stable, open: unstable, grey:
    semi-stable), arrows for the sign of :math:`\dot p` between them (from the generated kernel),
    and the background coloured by the fate of :func:`dynamics.regimes.predict_fate`
    (diverge / collapse / converge). Bao et al. (2023) eqs. 7 and 8.

    Parameters
    ----------
    result : PhaseLines
        The lines of :func:`compute_phase_lines`.
    ax : matplotlib.axes.Axes or sequence of Axes, optional
        One Axes per row of ``result``; None (default) draws on a new Figure, the rows stacked.

    Returns
    -------
    matplotlib.figure.Figure
        The Figure drawn on.

    Raises
    ------
    ParameterError
        If ``ax`` is not one Axes per row (or None).

    See Also
    --------
    compute_phase_lines : the lines' numbers.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from figures import compute_phase_lines, draw_phase_lines
    >>> fig = draw_phase_lines(compute_phase_lines(fast=True))
    >>> [ax.get_title(loc="left").split("   (")[0] for ax in fig.axes]  # doctest: +NORMALIZE_WHITESPACE
    ['cosine-simsiam, Bao eq. 7: regime Acute', 'cosine-simsiam, Collapse: regime Collapse',
     'l2-byol, Bao eq. 8: regime Acute', 'l2-byol, Collapse: regime Collapse']
    >>> fig.axes[2].get_title(loc="left").split("   ")[1]     # the parameters, defaults included
    '($\\eta$=0.05, $\\sigma^2$=0.5, $\\tau$=1, $\\alpha_p$=1, $\\beta$=0)'
    >>> plt.close(fig)
    """
    n = len(result.rows)
    fig, axes = axes_for(ax, n, nrows=n, ncols=1, figsize=(6.4, 1.05 * n + 0.8))
    for ax, row in zip(axes, result.rows):
        shade_fates(ax, row.p, row.fates, 0.25)
        ax.axhline(0, color="k", lw=1.0)
        for m, sg, w in zip(row.mids, row.signs, row.widths):
            if sg and w > 0.03 * (row.span[1] - row.span[0]) / 2.7:
                d = 0.12 * min(w, 0.5 * (row.span[1] - row.span[0]) / 2.7)
                ax.annotate("", xy=(m + sg * d, 0), xytext=(m - sg * d, 0),
                            arrowprops={"arrowstyle": "-|>", "color": "k", "lw": 1.2})
        _mark_equilibria(ax, row.equilibria, row.span, 7)
        ax.set_xlim(*row.span)
        ax.set_ylim(-1, 1)
        ax.set_yticks([])
        ax.spines["left"].set_visible(False)
        ax.set_title(f"{row.title}: regime {row.equilibria.regime}   ({params_caption(row.params)})", fontsize=8, loc="left")
    axes[-1].set_xlabel(r"initial eigenvalue $p(0)$")
    from matplotlib.transforms import offset_copy

    below = offset_copy(axes[-1].transAxes, fig=fig, y=-26, units="points")   # under the x label: never on a title
    fate_legend(axes[-1], alpha=0.4, fates=np.concatenate([row.fates for row in result.rows]), loc="upper center", ncol=3,
                fontsize=7, frameon=False,
                bbox_to_anchor=(0.5, 0.0), bbox_transform=below)
    return fig


phase_lines = registered("phase-lines", compute_phase_lines, draw_phase_lines, "phase_lines",
                         call="params=CosineParams(rho=0.02)", needs="CosineParams")


# --- the (p, s) plane of one cosine mode ---------------------------------------------------------
@dataclass(frozen=True, eq=False)
class PsPlane:
    """The (p, s) plane of Bao eq. 5: the field ``V`` on the grid ``P, S``, the equilibria
    (:class:`dynamics.equilibria.EigenEquilibria`), and trajectories ``ys`` (time, start, state)
    from ``starts`` at times ``t``, inside ``window = ((p_lo, p_hi), (s_lo, s_hi))``."""

    params: object
    equilibria: object
    window: tuple
    P: np.ndarray
    S: np.ndarray
    V: np.ndarray
    starts: np.ndarray
    t: np.ndarray
    ys: np.ndarray


def ps_window(p, s, margin: float = 0.25) -> tuple:
    """A (p, s) window containing the equilibria ``(p, s)`` and the origin, ``margin`` of the
    extent added on each side (s from 0: it is an eigenvalue of :math:`\\Phi\\Phi^\\top`)."""
    pw = fit_span(p, margin=margin, min_width=1.0)
    s_hi = max(float(np.max(s, initial=0.0)), 0.5)
    return (pw, (0.0, s_hi * (1 + 2 * margin)))


def _ps_starts(eq, window):
    """Initial points inside the window and inside the basins of the stable equilibria: between the
    outermost equilibria (and above the largest one when it is stable), at several heights s."""
    (p_lo, p_hi), (_, s_hi) = window
    lo, hi = float(np.min(eq.p)), float(np.max(eq.p))
    if hi - lo < 1e-9:
        lo, hi = p_lo + 0.3 * (p_hi - p_lo), p_hi - 0.3 * (p_hi - p_lo)
    ps = list(lo + (hi - lo) * np.array([0.15, 0.4, 0.6, 0.85]))
    if eq.stability[int(np.argmax(eq.p))] == "stable":
        ps.append(hi + 0.6 * (p_hi - hi))
    ps.append(lo + 0.97 * (hi - lo))
    heights = np.array([0.9, 0.6, 0.15, 0.75, 0.4, 0.02])[:len(ps)] * s_hi
    return np.column_stack([ps, heights])


def compute_ps_plane(params: Any = None, fast: bool = False) -> PsPlane:
    r"""One mode of Bao eq. 5 at frozen :math:`N_\Phi, N_\Psi, T` (default ``CosineParams(rho=0.05)``),
    on a window fitted to its equilibria (:func:`dynamics.equilibria.find_eigen_equilibria`).

    The field :math:`(\dot p,\dot s)` is the generated ``eigen`` kernel on a grid of the window
    (:func:`ps_window`); the trajectories start inside the basins of the stable equilibria and come
    from :func:`dynamics.integrate.integrate`.

    Parameters
    ----------
    params : CosineParams, optional
        A point of the cosine-simsiam model; None (default): ``CosineParams(rho=0.05)``.
    fast : bool, optional
        A 25 x 25 grid and trajectories to t = 60 instead of 40 x 40 and t = 120.

    Returns
    -------
    PsPlane
        ``equilibria``, ``window``, the grid ``P, S`` with the field ``V`` (shape ``(2,) + P.shape``),
        ``starts``, the times ``t`` and the trajectories ``ys`` (time, start, (p, s)).

    Raises
    ------
    ParameterError
        If ``params`` is not a point of the cosine-simsiam model.

    See Also
    --------
    draw_ps_plane : draws the result.
    cosine_ps_plane : computes, draws and saves it.

    Examples
    --------
    The equilibria lie on the invariant parabola :math:`s=p^2`; the trajectories end close to it, near
    the stable equilibrium :math:`p=0.8866`:

    >>> import numpy as np
    >>> from figures import compute_ps_plane
    >>> r = compute_ps_plane(fast=True)
    >>> [round(float(x), 4) for x in r.equilibria.p], r.equilibria.stability
    ([-1.1302, 0.0, 0.2383, 0.8866], ('unstable', 'stable', 'unstable', 'stable'))
    >>> [round(float(x), 4) for x in r.equilibria.s]
    [1.2773, 0.0, 0.0568, 0.786]
    >>> r.P.shape, r.V.shape, r.ys.shape
    ((25, 25), (2, 25, 25), (400, 6, 2))
    >>> p_end, s_end = r.ys[-1].T
    >>> bool(np.allclose(s_end, p_end**2, atol=5e-3)), bool(np.allclose(p_end, 0.8866, atol=1e-3))
    (True, True)
    """
    from dynamics.equilibria import find_eigen_equilibria
    from dynamics.integrate import integrate
    from dynamics.params import CosineParams
    from symbolic.codegen import load_kernels
    from symbolic.errors import ParameterError

    params = CosineParams(rho=0.05) if params is None else params
    if params.MODEL != "cosine-simsiam":
        raise ParameterError(f"model must be cosine-simsiam for the (p, s) plane; got {params.MODEL!r}")
    eq = find_eigen_equilibria(params)
    window = ps_window(eq.p, eq.s)
    k = load_kernels("cosine-simsiam", "eigen")
    n = 25 if fast else 40
    P, S = np.meshgrid(np.linspace(*window[0], n), np.linspace(*window[1], n))
    starts = _ps_starts(eq, window)
    t = np.linspace(0, 60 if fast else 120, 400)
    r = integrate("cosine-simsiam", params, starts, t[-1], form="eigen", t_eval=t)
    return PsPlane(params, eq, window, P, S, rhs_grid(k, params.as_array(k.PARAMS), P, S), starts, t, r.ys)


@styled
def draw_ps_plane(result: PsPlane, ax: Axes | None = None) -> Figure:
    r"""Vector field, nullclines, the invariant parabola :math:`s=p^2`, the equilibria (filled:
    stable) and trajectories converging to the parabola (Bao eqs. 5, 6).

    Parameters
    ----------
    result : PsPlane
        The plane of :func:`compute_ps_plane`.
    ax : matplotlib.axes.Axes, optional
        The Axes to draw on; None (default) draws on a new Figure.

    Returns
    -------
    matplotlib.figure.Figure
        The Figure drawn on, the Axes limited to ``result.window``.

    Raises
    ------
    ParameterError
        If ``ax`` is not one matplotlib Axes (or None).

    See Also
    --------
    compute_ps_plane : the plane's numbers.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from dynamics import CosineParams
    >>> from figures import compute_ps_plane, draw_ps_plane
    >>> r = compute_ps_plane(CosineParams(rho=0.02), fast=True)
    >>> fig = draw_ps_plane(r)
    >>> ax = fig.axes[0]
    >>> ax.get_xlim() == r.window[0], ax.get_ylim() == r.window[1]
    (True, True)
    >>> ax.get_xlabel()
    'eigenvalue $p$ of $W$'
    >>> plt.close(fig)
    """
    fig, (ax,) = axes_for(ax, figsize=(5.4, 4.2))
    P, S, V = result.P, result.S, result.V
    ax.streamplot(P, S, V[0], V[1], color="0.75", density=0.9, linewidth=0.6, arrowsize=0.7)
    ax.contour(P, S, V[0], levels=[0], colors=[PALETTE[0]], linewidths=1.2)
    ax.contour(P, S, V[1], levels=[0], colors=[PALETTE[1]], linewidths=1.2)
    pp = np.linspace(*result.window[0], 200)
    ax.plot(pp, pp**2, color="k", lw=1.0, ls="--", label=r"invariant parabola $s=p^2$")
    for i in range(len(result.starts)):
        ax.plot(result.ys[:, i, 0], result.ys[:, i, 1], color=PALETTE[2], lw=1.2)
        ax.plot(*result.starts[i], "o", color=PALETTE[2], ms=3)
    eq = result.equilibria
    for p, s, st in zip(eq.p, eq.s, eq.stability):
        mark_equilibrium(ax, p, s, st)
    ax.plot([], [], color=PALETTE[0], label=r"$\dot p=0$")
    ax.plot([], [], color=PALETTE[1], label=r"$\dot s=0$")
    ax.plot([], [], color=PALETTE[2], label="trajectories")
    ax.plot([], [], "o", ms=6, mec="k", mfc="k", label="equilibria (open: unstable)")
    ax.set_xlim(*result.window[0])
    ax.set_ylim(*result.window[1])
    ax.set_xlabel(r"eigenvalue $p$ of $W$")
    ax.set_ylabel(r"eigenvalue $s$ of $\Phi\Phi^\top$")
    q = result.params
    ax.set_title(rf"Bao eq. 5, one mode ($\rho$={q.rho:g}, $\sigma^2$={q.sigma2:g}, $N_\Phi$={q.n_phi:g}, "
                 rf"$N_\Psi$={q.n_psi:g}, $T$={q.trace:g})", fontsize=8)
    free_legend(ax, frameon=True, framealpha=0.9, fontsize=7)
    return fig


cosine_ps_plane = registered("phase-ps", compute_ps_plane, draw_ps_plane, "phase_cosine_ps_plane",
                             call="params=CosineParams(rho=0.02)", needs="CosineParams")


# --- the (sigma_1, sigma_2) plane of the two-layer flow ------------------------------------------
@dataclass(frozen=True, eq=False)
class TwoLayerPlane:
    """The aligned two-layer field ``V`` on ``A, B`` and trajectories ``ys`` from ``starts``, inside
    ``window = ((sigma_1 lo, hi), (sigma_2 lo, hi))``."""

    params: object
    window: tuple
    A: np.ndarray
    B: np.ndarray
    V: np.ndarray
    starts: np.ndarray
    t: np.ndarray
    ys: np.ndarray


def compute_two_layer_plane(params: Any = None, fast: bool = False, window: Any = None,
                            starts: Any = None) -> TwoLayerPlane:
    r"""(sigma_1, sigma_2) plane of Jing Theorem 3 (default ``TwoLayerParams(lam=-0.5)``).

    One aligned mode of the two-layer linear network: the field of the generated ``eigen`` kernel on
    a grid of the window (default :math:`[0, 2]^2`), and trajectories to t = 8 from
    :func:`dynamics.integrate.integrate`. The flow conserves :math:`\sigma_1^2-\sigma_2^2`.

    Parameters
    ----------
    params : TwoLayerParams, optional
        A point of the two-layer model; None (default): ``TwoLayerParams(lam=-0.5)``.
    fast : bool, optional
        A 20 x 20 grid instead of 30 x 30 (the trajectories are the same).
    window : sequence of 4 floats, optional
        ``(sigma_1 lo, sigma_1 hi, sigma_2 lo, sigma_2 hi)`` with ``0 <= lo < hi`` (singular
        values); default ``(0, 2, 0, 2)`` (``ssldyn figure phase-two-layer --window``).
    starts : array_like (n, 2), optional
        Initial points :math:`(\sigma_1, \sigma_2)` inside the window, 1 to 50 of them; default
        five points spread over the window (``--starts``).

    Returns
    -------
    TwoLayerPlane
        The grid ``A, B`` (:math:`\sigma_1, \sigma_2`) with the field ``V`` (shape ``(2,) + A.shape``),
        ``starts``, the times ``t`` and the trajectories ``ys`` (time, start, (sigma_1, sigma_2)).

    Raises
    ------
    ParameterError
        If ``params`` is not a point of the two-layer model, or ``window`` / ``starts`` are not
        as described (the message names which, the allowed range and the value).

    See Also
    --------
    draw_two_layer_plane : draws the result.
    two_layer_plane : computes, draws and saves it.

    Examples
    --------
    With :math:`\lambda<0` the smaller singular value collapses while
    :math:`\sigma_1^2-\sigma_2^2` (1.8 from the start (1.8, 1.2)) is conserved:

    >>> from figures import compute_two_layer_plane
    >>> r = compute_two_layer_plane(fast=True)
    >>> r.A.shape, r.ys.shape
    ((20, 20), (300, 5, 2))
    >>> s1, s2 = r.ys[-1, 0]
    >>> round(float(s1), 4), round(float(s2), 4), round(float(s1**2 - s2**2), 4)
    (1.3416, 0.0007, 1.8)
    """
    from dynamics.integrate import integrate
    from dynamics.params import TwoLayerParams
    from symbolic.codegen import load_kernels

    from symbolic.errors import ParameterError

    from .windows import check_starts, check_window, spread_starts

    params = TwoLayerParams(lam=-0.5) if params is None else params
    if params.MODEL != "two-layer":
        raise ParameterError(f"model must be two-layer for the (sigma_1, sigma_2) plane; got {params.MODEL!r}")
    names = ("sigma_1", "sigma_2")
    window = check_window((0, 2, 0, 2) if window is None else window, names, floors=(0.0, 0.0))
    starts = spread_starts(window, TWO_LAYER_STARTS) if starts is None else check_starts(starts, window, names)
    k = load_kernels("two-layer", "eigen")
    n = 20 if fast else 30
    A, B = np.meshgrid(np.linspace(*window[0], n), np.linspace(*window[1], n))
    t = np.linspace(0, 8, 300)
    r = integrate("two-layer", params, starts, t[-1], form="eigen", t_eval=t)
    return TwoLayerPlane(params, window, A, B, rhs_grid(k, params.as_array(k.PARAMS), A, B), starts, t, r.ys)


#: the default starts, as fractions of the window (at the default window: (1.8, 1.2), (1.2, 1.8), ...)
TWO_LAYER_STARTS = ((0.9, 0.6), (0.6, 0.9), (0.75, 0.3), (0.3, 0.75), (0.95, 0.85))


@styled
def draw_two_layer_plane(result: TwoLayerPlane, ax: Axes | None = None) -> Figure:
    r"""Field, conserved hyperbolas :math:`\sigma_1^2-\sigma_2^2=C` and trajectories (lam < 0: the
    smaller singular value collapses).

    Parameters
    ----------
    result : TwoLayerPlane
        The plane of :func:`compute_two_layer_plane`.
    ax : matplotlib.axes.Axes, optional
        The Axes to draw on; None (default) draws on a new Figure.

    Returns
    -------
    matplotlib.figure.Figure
        The Figure drawn on.

    Raises
    ------
    ParameterError
        If ``ax`` is not one matplotlib Axes (or None).

    See Also
    --------
    compute_two_layer_plane : the plane's numbers.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from figures import compute_two_layer_plane, draw_two_layer_plane
    >>> fig = draw_two_layer_plane(compute_two_layer_plane(fast=True))
    >>> fig.axes[0].get_title()
    'Jing Thm. 3, aligned mode, $\\lambda$=-0.5, to $t$ = 8'
    >>> plt.close(fig)
    """
    fig, (ax,) = axes_for(ax, figsize=(4.8, 4.4))
    V = result.V
    (x_lo, x_hi), (y_lo, y_hi) = result.window
    ax.streamplot(result.A, result.B, V[0], V[1], color="0.75", density=0.8, linewidth=0.6, arrowsize=0.7)
    s = np.linspace(x_lo, x_hi, 400)
    for i, (a, b) in enumerate(result.starts):      # the conserved hyperbola through each start
        C = a * a - b * b
        ok = s**2 - C >= 0
        ax.plot(s[ok], np.sqrt(s[ok] ** 2 - C), color=PALETTE[4], lw=0.8, ls=":",
                label=r"$\sigma_1^2-\sigma_2^2=C$ (conserved)" if i == 0 else None)
    for i in range(len(result.starts)):
        ax.plot(result.ys[:, i, 0], result.ys[:, i, 1], color=PALETTE[2], lw=1.3, label="trajectories" if i == 0 else None)
        ax.plot(*result.starts[i], "o", color=PALETTE[2], ms=3)
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.set_xlabel(r"$\sigma_1$ (layer 1)")
    ax.set_ylabel(r"$\sigma_2$ (layer 2)")
    ax.set_title(rf"Jing Thm. 3, aligned mode, $\lambda$={number(result.params.lam)}, to $t$ = {result.t[-1]:g}",
                 fontsize=8)
    free_legend(ax, fontsize=7, framealpha=0.9, order=("lower right", "upper left", "lower left", "upper right"))
    return fig


two_layer_plane = registered("phase-two-layer", compute_two_layer_plane, draw_two_layer_plane,
                             "phase_two_layer_plane", call="params=TwoLayerParams(lam=-1.0)",
                             needs="TwoLayerParams")
