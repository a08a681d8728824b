"""Bifurcation diagram: equilibria versus one parameter, stable solid, unstable dashed,
semi-stable dotted, folds marked, and optionally the user's operating point (Bao 2023 Fig. 3 with
the exact branches from :func:`dynamics.continuation.equilibrium_branches`)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .operating_point import OperatingPoint, draw_on_branches, operating_point, widen
from .regime_map import LABELS
from .style import PALETTE, axes_for, save, styled, target

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


def compute_bifurcation(params=None, fast: bool = False, mark: dict | None = None, param: str | None = None,
                        values=None) -> Bifurcation:
    r"""Equilibria of ``params``' reduced flow (default: ``CosineParams()``, Bao eq. 7 at the theory
    notes' example) along ``param`` (default: its weight decay) over ``values`` (default: from 0 to
    1.4 times the critical decay of :func:`dynamics.equilibria.critical_value`, widened to hold
    the mark)."""
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
def draw_branches(b, ax=None, point: OperatingPoint | None = None):
    """Draw a :class:`dynamics.continuation.Branches` (and the operating point); returns the Figure."""
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


def draw_bifurcation(result: Bifurcation, ax=None):
    """Draw a :class:`Bifurcation`; returns the Figure."""
    return draw_branches(result.branches, ax=ax, point=result.point)


def plot_branches(b, path, point: OperatingPoint | None = None):
    """Draw ``b`` and write ``path`` (PNG) and its PDF; returns the written paths."""
    return save(draw_branches(b, point=point), path)


bifurcation_figure = target(compute_bifurcation, draw_bifurcation, "bifurcation_rho")
