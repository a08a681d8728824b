"""The demo figure: the right-hand side of Bao eq. 7 at one parameter point, with its
equilibria (filled: stable, open: unstable) and the three fates shaded (diverge, collapse,
converge). The curve is :func:`figures.phase.rhs_curve`; this module only styles and saves it."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from .phase import draw_rhs_curve, fate_legend, rhs_curve
from .style import params_caption, save, styled

if TYPE_CHECKING:
    from dynamics.equilibria import Equilibria


@styled
def draw_demo(curve, ax=None):
    r"""Draw a :class:`figures.phase.RhsCurve` as the demo figure (:math:`\dot p(p)`, Bao eq. 7)."""
    fig = draw_rhs_curve(curve, ax=ax)
    ax = fig.axes[0] if ax is None else ax
    ax.set_xlabel(r"eigenvalue $p$ of $W$")
    ax.set_ylabel(r"$\dot p$ (Bao eq. 7)")
    ax.set_title(f"{curve.params.MODEL}: regime {curve.equilibria.regime}\n{params_caption(curve.params)}", fontsize=8)
    fate_legend(ax, fates=curve.fates, frameon=False)
    return fig


def phase_line(params: Any, equilibria: Equilibria, out_dir: str | Path, name: str = "demo_phase_line") -> list[Path]:
    r"""Plot :math:`\dot p(p)` of the reduced cosine model; returns the written paths.

    ``equilibria`` is a :class:`dynamics.equilibria.Equilibria` for ``params``; the curve is the
    generated kernel evaluated on a grid (no integration).

    Parameters
    ----------
    params : parameter dataclass
        A point of a model with the ``equilibria`` capability (the demo's: ``CosineParams``).
    equilibria : Equilibria
        The equilibria of ``params`` (:func:`dynamics.equilibria.find_equilibria`), marked on the curve.
    out_dir : str or pathlib.Path
        The folder written to (created when missing).
    name : str, optional
        The files' stem: ``name.png`` and ``name.pdf``; default ``demo_phase_line``.

    Returns
    -------
    list of pathlib.Path
        The files written, ``[out_dir/name.png, out_dir/name.pdf]``.

    Raises
    ------
    ParameterError
        If the model has no equilibria (``two-layer``), or ``out_dir`` or a file in it cannot be
        written.

    See Also
    --------
    figures.phase.rhs_curve : the curve's numbers.

    Examples
    --------
    >>> import tempfile
    >>> from dynamics import CosineParams, find_equilibria
    >>> from figures import phase_line
    >>> params = CosineParams(rho=0.01)
    >>> with tempfile.TemporaryDirectory() as out:
    ...     paths = phase_line(params, find_equilibria(params), out)
    >>> [p.name for p in paths]
    ['demo_phase_line.png', 'demo_phase_line.pdf']
    """
    return save(draw_demo(rhs_curve(params, equilibria)), out_dir, name)
