r"""Figures: one module per figure (or family), each ``compute -> result -> draw``.

A compute function (``compute_*``, taking a model's parameter dataclass where the figure has one)
returns a small frozen result holding the plotted numbers, all of them from :mod:`dynamics`; a
draw function ``draw_*(result, ax=None)`` draws on the given matplotlib Axes (or a new Figure) and
returns the Figure. Nothing here selects a backend or writes a file: :func:`save` does.

The public names below are importable from ``figures`` itself and load on first use (matplotlib
is imported only then):

>>> import matplotlib.pyplot as plt
>>> import dynamics as dy, figures
>>> fig = figures.draw_ps_plane(figures.compute_ps_plane(dy.CosineParams(rho=0.02)))
>>> fig = figures.draw_bifurcation(figures.compute_bifurcation(dy.CosineParams(), mark={"rho": 0.02}))
>>> params = dy.CosineParams(rho=0.01)
>>> fig, ax = plt.subplots()
>>> p = figures.draw_phase_line(ax, params, dy.find_equilibria(params))

The registered targets (``bao_fig2`` ... ``bifurcation_figure``) compute, draw and write PNG and
PDF into a folder; :data:`FIGURES` lists them with a line each (``ssldyn figure --list``).
"""
from __future__ import annotations

from symbolic.lazy import make_lazy

#: public name -> "module:attribute"; a name that moves is a one-line change here
EXPORTS = {
    # compute -> result -> draw(result, ax=None) -> Figure
    "compute_ps_plane": "figures.phase:compute_ps_plane",
    "draw_ps_plane": "figures.phase:draw_ps_plane",
    "compute_phase_lines": "figures.phase:compute_phase_lines",
    "draw_phase_lines": "figures.phase:draw_phase_lines",
    "compute_two_layer_plane": "figures.phase:compute_two_layer_plane",
    "draw_two_layer_plane": "figures.phase:draw_two_layer_plane",
    "compute_l2_plane": "figures.l2_plane:compute_l2_plane",
    "draw_l2_plane": "figures.l2_plane:draw_l2_plane",
    "rhs_curve": "figures.phase:rhs_curve",
    "draw_rhs_curve": "figures.phase:draw_rhs_curve",
    "compute_bifurcation": "figures.bifurcation:compute_bifurcation",
    "draw_bifurcation": "figures.bifurcation:draw_bifurcation",
    "draw_branches": "figures.bifurcation:draw_branches",
    "compute_regime_map": "figures.regime_map:compute_regime_map",
    "draw_regime_figure": "figures.regime_map:draw_regime_figure",
    "draw_regime_map": "figures.regime_map:draw_regime_map",
    "draw_outcome_map": "figures.outcome_map:draw_outcome_map",
    "plot_outcome_map": "figures.outcome_map:plot_outcome_map",
    "operating_point": "figures.operating_point:operating_point",
    # drawing on a user's axes
    "draw_phase_line": "figures.phase:draw_phase_line",
    "plot_regime_map": "figures.regime_map:plot_regime_map",
    "plot_branches": "figures.bifurcation:plot_branches",
    "phase_line": "figures.demo:phase_line",
    "figure": "figures.style:figure",
    "save": "figures.style:save",
    "REGIME_COLORS": "figures.style:REGIME_COLORS",
    "FATE_COLORS": "figures.style:FATE_COLORS",
    # the theory figures (``ssldyn figure NAME``)
    "bao_fig2": "figures.bao:fig2",
    "bao_fig3": "figures.bao:fig3",
    "bao_fig4": "figures.bao:fig4",
    "bao_fig5": "figures.bao:fig5",
    "bao_fig7": "figures.bao:fig7",
    "jing_fig3_theory": "figures.jing:fig3",   # not "jing_fig3": that is the module of the trained figure
    "jing_fig6": "figures.jing:fig6",
    "phase_lines": "figures.phase:phase_lines",
    "cosine_ps_plane": "figures.phase:cosine_ps_plane",
    "two_layer_plane": "figures.phase:two_layer_plane",
    "l2_plane": "figures.l2_plane:l2_plane",
    "regime_map_figure": "figures.regime_map:regime_map_figure",
    "bifurcation_figure": "figures.bifurcation:bifurcation_figure",
    "FIGURES": "figures.registry:FIGURES",
    "TRAINED": "figures.registry:TRAINED",
    # training runs (metrics.jsonl of ``ssldyn validate``)
    "read_metrics": "figures.validation:read_metrics",
    "validation_figures": "figures.validation:validation_figures",
    "trajectory_figure": "figures.validation:trajectory_figure",
    "comparison_figure": "figures.validation:comparison_figure",
}

__all__ = sorted(EXPORTS)

make_lazy(__name__)
