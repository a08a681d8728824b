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
from .style import PALETTE, axes_for, save, styled

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from dynamics.continuation import Branches

STYLE = {0: dict(ls="-", lw=1.8), 1: dict(ls="--", lw=1.2), 2: dict(ls=":", lw=1.5)}


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

    Stable branches are solid, unstable dashed, semi-stable dotted; folds are black dots,
    transcritical points white diamonds, the operating point a star on each of its equilibria
    with a vertical line at its parameter value. The legend sits outside the Axes, on the right.

    Parameters
    ----------
    b : dynamics.continuation.Branches
        The branches, from :func:`dynamics.continuation.equilibrium_branches`.
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
    ['unstable', 'stable', 'semi-stable', 'fold', 'transcritical']
    >>> plt.close(fig)
    """
    fig, (ax,) = axes_for(ax, figsize=(6.6, 3.8))
    done = set()
    for j in range(b.p.shape[1]):
        col = b.p[:, j]
        st = b.stability[:, j]
        for code in (0, 1, 2):
            y = np.where(st == code, col, np.nan)
            if np.all(np.isnan(y)):
                continue
            lab = ("stable", "unstable", "semi-stable")[code]
            ax.plot(b.values, y, color=PALETTE[0] if code == 0 else PALETTE[3],
                    label=None if lab in done else lab, **STYLE[code])
            done.add(lab)
    if b.folds.size:
        ax.plot(b.folds[:, 0], b.folds[:, 1], "ko", ms=5, label="fold")
    tc = getattr(b, "transcritical", np.empty((0, 2)))
    if tc.size:
        ax.plot(tc[:, 0], tc[:, 1], "kD", ms=4, mfc="white", label="transcritical")
    if point is not None:
        draw_on_branches(ax, point, b.param)
    ax.axhline(0, color="0.7", lw=0.6, zorder=0)
    ax.set_xlabel(LABELS.get(b.param, b.param))
    ax.set_ylabel(r"equilibrium $p$")
    fixed = ", ".join(f"{k}={v:g}" for k, v in b.fixed.items())
    ax.set_title(f"{b.model}" + (f" ({fixed})" if fixed else ""), fontsize=8)
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
