"""The demo figure: the right-hand side of Bao eq. 7 at one parameter point, with its
equilibria (filled: stable, open: unstable) and the three fates shaded (diverge, collapse,
converge). The curve is :func:`figures.phase.rhs_curve`; this module only styles and saves it."""
from __future__ import annotations

from .phase import draw_rhs_curve, fate_legend, rhs_curve
from .style import save, styled


@styled
def draw_demo(curve, ax=None):
    r"""Draw a :class:`figures.phase.RhsCurve` as the demo figure (:math:`\dot p(p)`, Bao eq. 7)."""
    fig = draw_rhs_curve(curve, ax=ax)
    ax = fig.axes[0] if ax is None else ax
    ax.set_xlabel(r"eigenvalue $p$ of $W$")
    ax.set_ylabel(r"$\dot p$ (Bao eq. 7)")
    ax.set_title(f"{curve.params.MODEL}: regime {curve.equilibria.regime}")
    fate_legend(ax, loc="lower left", frameon=False)
    return fig


def phase_line(params, equilibria, out_dir, name="demo_phase_line"):
    """Plot :math:`\\dot p(p)` of the reduced cosine model; returns the written paths.

    ``equilibria`` is a :class:`dynamics.equilibria.Equilibria` for ``params``; the curve is the
    generated kernel evaluated on a grid (no integration).
    """
    return save(draw_demo(rhs_curve(params, equilibria)), out_dir, name)
