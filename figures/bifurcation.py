"""Bifurcation diagram: equilibria versus one parameter, stable solid, unstable dashed,
semi-stable dotted, folds marked, and optionally the user's operating point (Bao 2023 Fig. 3 with
the exact branches from :func:`dynamics.continuation.equilibrium_branches`)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .operating_point import OperatingPoint, draw_on_branches, operating_point, widen
from .regime_map import LABELS
from .registry import registered
from .style import PALETTE, axes_for, params_caption, save, styled

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from dynamics.continuation import Branches

STYLE = {0: dict(ls="-", lw=1.8), 1: dict(ls="--", lw=1.2), 2: dict(ls=":", lw=1.5)}
#: marker and face of each special point type
MARKERS = {"fold": ("o", "k"), "transcritical": ("D", "white"), "pitchfork": ("s", "white"), "hopf": ("^", "k")}


def stability_runs(x: np.ndarray, y: np.ndarray, codes: np.ndarray) -> list:
    """Split one branch into runs of one stability code: ``[(x, y, code), ...]``.

    A point of code 2 (a special point: semi-stable) between two runs ends the one before and
    starts the one after, so the drawn runs meet there and never bridge two branches. Runs of
    code 2 longer than one point are kept as semi-stable runs.

    Parameters
    ----------
    x, y : numpy.ndarray
        The branch's parameter values and states, shape ``(m,)``.
    codes : numpy.ndarray
        Its stability codes, shape ``(m,)`` (0 stable, 1 unstable, 2 semi-stable).

    Returns
    -------
    list of (numpy.ndarray, numpy.ndarray, int)
        The runs in order along the branch.

    Examples
    --------
    >>> import numpy as np
    >>> from figures.bifurcation import stability_runs
    >>> runs = stability_runs(np.arange(5.0), np.zeros(5), np.array([0, 0, 2, 1, 1]))
    >>> [(r[0].tolist(), r[2]) for r in runs]
    [([0.0, 1.0, 2.0], 0), ([2.0, 3.0, 4.0], 1)]
    """
    codes = np.asarray(codes)
    m = len(codes)
    cut = np.flatnonzero(np.diff(codes) != 0) + 1
    runs = []
    for i, j in zip(np.r_[0, cut], np.r_[cut, m]):              # codes[i:j] is one code
        code = int(codes[i])
        if code == 2 and j - i == 1:
            continue                                            # a lone special point: a joint only
        a = i - 1 if i > 0 and codes[i - 1] == 2 else i
        b = j + 1 if j < m and codes[j] == 2 else j
        runs.append((x[a:b], y[a:b], code))
    return runs


def decay_field(model: str) -> str:
    """The weight-decay field of ``model`` (the default axis of the diagram), from the registry."""
    from symbolic.errors import ParameterError
    from symbolic.registry import get_model, model_names

    spec = get_model(model)
    if spec.decay is None or "equilibria" not in spec.supports:
        raise ParameterError(f"model must be one of {', '.join(model_names('equilibria'))} for a bifurcation "
                             f"diagram (a weight decay and equilibria); got {model!r}")
    return spec.decay


@dataclass(frozen=True, eq=False)
class Bifurcation:
    """Branches along one parameter and the marked operating point (or None)."""

    branches: object            # dynamics.continuation.Branches
    point: OperatingPoint | None = None

    @property
    def SWEPT(self) -> tuple:
        """The continued field: it varies along the axis (the mark's value is in its legend entry)."""
        return (self.branches.param,)


def compute_bifurcation(params: object | None = None, fast: bool = False, mark: dict | None = None,
                        param: str | None = None, values: np.ndarray | None = None) -> Bifurcation:
    r"""Equilibria of ``params``' reduced flow (default: ``CosineParams()``, Bao eq. 7 at the theory
    notes' example) along ``param`` (default: its weight decay) over ``values`` (default: from 0 to
    1.4 times the critical decay of :func:`dynamics.equilibria.critical_value`, widened to hold
    the mark).

    Parameters
    ----------
    params : parameter dataclass, optional
        The model and its parameters (``CosineParams``, ``L2Params``, ...; its ``MODEL`` must have a
        weight decay and equilibria); the varied field's value in it is the mark's default.
        Default ``CosineParams()``.
    fast : bool, optional
        141 default grid points instead of 701 (for tests); ignored when ``values`` is given.
    mark : dict, optional
        An operating point to draw, ``{field: value}`` (:func:`operating_point`); a field other
        than ``param`` must keep the value of ``params``.
    param : str, optional
        The varied field; default the model's weight decay (``rho`` for the cosine model).
    values : array_like, optional
        The grid of ``param``; default ``linspace(0, hi, 701)`` with ``hi`` 1.4 times the critical
        decay (1.0 for a field other than the decay), widened to hold the mark.

    Returns
    -------
    Bifurcation
        ``branches`` (:class:`dynamics.continuation.Branches`: roots, stability codes, folds) and
        ``point`` (the :class:`OperatingPoint`, or None without ``mark``).

    Raises
    ------
    ParameterError
        For a model without a weight decay or equilibria, an unknown ``param``, a grid outside the
        parameter's range, or a ``mark`` that is unknown or off the diagram.

    See Also
    --------
    draw_bifurcation : draw the result.
    dynamics.continuation.equilibrium_branches : the branches themselves.

    Notes
    -----
    For Bao eq. 7 the fold is at :math:`\rho_c=K_c/((1+\sigma^2)N_\Phi N_\Psi^3)`, with
    :math:`K_c=-\min_{p>0}(2p^5+Tp^2-N_\Psi^2p)`; at ``CosineParams()`` (:math:`\sigma^2=0.5`,
    :math:`N_\Phi=2`, :math:`N_\Psi=1.5`, :math:`T=0.5`) the minimum is at :math:`p=0.634`, and
    :math:`\rho_c=0.1008`.

    Examples
    --------
    >>> import numpy as np
    >>> from dynamics import CosineParams
    >>> from figures import compute_bifurcation
    >>> res = compute_bifurcation(CosineParams(), values=np.linspace(0.0, 0.14, 15), mark={"rho": 0.02})
    >>> res.branches.param, res.branches.values.shape
    ('rho', (15,))
    >>> [round(float(v), 4) for v in res.branches.folds[0]]      # the fold: (rho_c, double root)
    [0.1008, 0.634]
    >>> res.point.label
    'operating point rho=0.02 (Acute)'
    >>> eq = res.point.equilibria
    >>> [round(float(p), 4) for p in eq.p], eq.stability
    ([-1.1054, 0.0, 0.0919, 0.9404], ('unstable', 'stable', 'unstable', 'stable'))
    """
    from dynamics.continuation import equilibrium_branches
    from dynamics.equilibria import critical_value
    from dynamics.params import CosineParams

    params = CosineParams() if params is None else params
    model = params.MODEL
    param = decay_field(model) if param is None else param
    fixed = {k: v for k, v in params.to_dict().items() if k != param}
    point = operating_point(model, params.to_dict(), (param,), mark) if mark else None
    if values is None:
        crit = critical_value(params) if param == decay_field(model) else None
        hi = 1.4 * crit if crit else 1.0
        _, hi = widen(0.0, hi, getattr(point.params, param) if point else None, log=False)
        values = np.linspace(0.0, hi, 141 if fast else 701)
    b = equilibrium_branches(model, param, values, fixed)
    return Bifurcation(b, point)


@styled
def draw_branches(b: Branches, ax: Axes | None = None, point: OperatingPoint | None = None) -> Figure:
    """Draw a :class:`dynamics.continuation.Branches` (and the operating point); returns the Figure.

    Each connected branch is its own line (never joined to another across a gap), split where its
    stability changes: stable solid, unstable dashed, semi-stable dotted. The special points are
    labelled by type in the legend: folds (LP) black dots, transcritical points (BP) white
    diamonds, pitchforks (BP) white squares, Hopf points (HB) black triangles. The operating point
    is a star on each of its equilibria with a vertical line at its parameter value. The legend
    sits outside the Axes, on the right.

    Parameters
    ----------
    b : dynamics.continuation.Branches or dynamics.state_branches.SystemBranches
        The branches, from :func:`dynamics.continuation.equilibrium_branches` or
        :func:`dynamics.state_branches.system_branches` (its first state is drawn).
    ax : matplotlib.axes.Axes, optional
        The Axes to draw on; default a new Figure in the project style.
    point : OperatingPoint, optional
        An operating point to mark (:func:`operating_point`).

    Returns
    -------
    matplotlib.figure.Figure
        The Figure holding ``ax`` (or the new one).

    Raises
    ------
    ParameterError
        When ``ax`` is neither None nor one matplotlib Axes.

    See Also
    --------
    plot_branches : draw and write PNG and PDF.

    Examples
    --------
    >>> import numpy as np
    >>> import matplotlib.pyplot as plt
    >>> from dynamics import equilibrium_branches
    >>> from figures import draw_branches
    >>> b = equilibrium_branches("cosine-simsiam", "rho", np.linspace(0.0, 0.14, 15))
    >>> fig = draw_branches(b)
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['unstable', 'stable', 'fold (LP)', 'transcritical (BP)']
    >>> plt.close(fig)
    """
    from dynamics.branches import SPECIAL_LABELS, SPECIAL_TYPES

    fig, (ax,) = axes_for(ax, figsize=(6.6, 3.8))
    done = set()
    for br in b.branches:
        for x, y, code in stability_runs(br.values, br.p, br.stability):
            lab = ("stable", "unstable", "semi-stable")[code]
            ax.plot(x, y, color=PALETTE[0] if code == 0 else PALETTE[3], label=None if lab in done else lab,
                    **STYLE[code])
            done.add(lab)
    for kind in SPECIAL_TYPES:
        pts = [s for s in b.special_points if s.type == kind]
        if pts:
            ax.plot([s.param_value for s in pts], [s.state[0] for s in pts], MARKERS[kind][0], color="k",
                    mfc=MARKERS[kind][1], ms=5, ls="none", label=SPECIAL_LABELS[kind], zorder=5)
    if point is not None:
        draw_on_branches(ax, point, b.param)
    ax.axhline(0, color="0.7", lw=0.6, zorder=0)
    ax.set_xlabel(LABELS.get(b.param, b.param))
    ax.set_ylabel(f"equilibrium ${getattr(b, 'state', ('p',))[0]}$")
    fixed = params_caption(dict(b.fixed))
    ax.set_title(f"Equilibria of {b.model} along {LABELS.get(b.param, b.param)}" + (f"\n({fixed})" if fixed else ""),
                 fontsize=8)
    ax.legend(frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1.0))   # outside: never on a branch
    return fig


def draw_bifurcation(result: Bifurcation, ax: Axes | None = None) -> Figure:
    """Draw a :class:`Bifurcation`; returns the Figure.

    The branches and the operating point of ``result``, as :func:`draw_branches` draws them.

    Parameters
    ----------
    result : Bifurcation
        From :func:`compute_bifurcation`.
    ax : matplotlib.axes.Axes, optional
        As in :func:`draw_branches`: the Axes to draw on, or None for a new Figure.

    Returns
    -------
    matplotlib.figure.Figure
        The Figure drawn on.

    Raises
    ------
    ParameterError
        For an ``ax`` that is not one Axes (or None).

    Examples
    --------
    >>> import numpy as np
    >>> import matplotlib.pyplot as plt
    >>> from dynamics import CosineParams
    >>> from figures import compute_bifurcation, draw_bifurcation
    >>> res = compute_bifurcation(CosineParams(), values=np.linspace(0.0, 0.14, 15), mark={"rho": 0.02})
    >>> fig, ax = plt.subplots()
    >>> draw_bifurcation(res, ax=ax) is fig
    True
    >>> ax.get_legend().get_texts()[-1].get_text()
    'operating point rho=0.02 (Acute)'
    >>> plt.close(fig)
    """
    return draw_branches(result.branches, ax=ax, point=result.point)


def plot_branches(b: Branches, path: str | Path, point: OperatingPoint | None = None) -> list[Path]:
    """Draw ``b`` and write ``path`` (PNG) and its PDF; returns the written paths.

    Parameters
    ----------
    b : dynamics.continuation.Branches
        The branches, from :func:`dynamics.continuation.equilibrium_branches`.
    path : str or pathlib.Path
        The PNG to write (its folder is created); the PDF goes beside it, with the suffix ``.pdf``.
    point : OperatingPoint, optional
        An operating point to mark (:func:`operating_point`).

    Returns
    -------
    list of pathlib.Path
        The PNG and the PDF.

    Raises
    ------
    ParameterError
        When a file cannot be written (:func:`save`).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from dynamics import equilibrium_branches
    >>> from figures import plot_branches
    >>> b = equilibrium_branches("cosine-simsiam", "rho", np.linspace(0.0, 0.14, 15))
    >>> with tempfile.TemporaryDirectory() as d:
    ...     print([p.name for p in plot_branches(b, Path(d) / "branches.png")])
    ['branches.png', 'branches.pdf']
    """
    return save(draw_branches(b, point=point), path)


bifurcation_figure = registered("bifurcation", compute_bifurcation, draw_bifurcation, "bifurcation_rho",
                                call="values=[0.0, 0.035, 0.07, 0.105, 0.14]")
