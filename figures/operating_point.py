"""The user's operating point, marked on bifurcation diagrams and regime maps (``--mark``).

An operating point is the diagram's parameters with the marked fields replaced; a marked
field that is not one of the diagram's axes must equal the value the diagram is drawn at (else the
point is not on it). Its regime and equilibria come from :func:`dynamics.equilibria.find_equilibria`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .style import MARK_STYLE


@dataclass(frozen=True, eq=False)
class OperatingPoint:
    """``values``: the marked fields; ``params``: the full parameter dataclass at the point;
    ``equilibria``: its :class:`dynamics.equilibria.Equilibria`."""

    values: dict
    params: object
    equilibria: object

    @property
    def label(self) -> str:
        return "operating point " + ", ".join(f"{k}={v:g}" for k, v in self.values.items()) + \
            f" ({self.equilibria.regime})"


def operating_point(model: str, at: dict, axes: tuple[str, ...], mark: dict) -> OperatingPoint:
    """The point ``mark`` (field -> value) on a diagram of ``model`` along ``axes``, drawn at the
    parameters ``at`` (field -> value; an axis field there is the point's default on that axis).

    Parameters
    ----------
    model : str
        A registered model with equilibria (``cosine-simsiam``, ``l2-byol``, ...).
    at : dict
        The parameters the diagram is drawn at, ``{field: value}``; omitted fields take the
        dataclass defaults.
    axes : tuple of str
        The diagram's varied fields: one for a bifurcation diagram, two for a regime map.
    mark : dict
        The point, ``{field: value}``, at least one field; a field not in ``axes`` must equal its
        value in ``at`` (else the point is not on this diagram).

    Returns
    -------
    OperatingPoint
        ``values`` (``mark``), ``params`` (the dataclass at the point), ``equilibria`` (its
        :class:`dynamics.equilibria.Equilibria`, with the regime) and ``label`` for a legend.

    Raises
    ------
    ParameterError
        For an empty ``mark``, an unknown field, a value outside a field's range, or a marked
        field off the diagram's axes whose value differs from ``at``'s.

    Examples
    --------
    >>> from dynamics import CosineParams
    >>> from symbolic.errors import ParameterError
    >>> from figures import operating_point
    >>> at = CosineParams().to_dict()                    # rho_c = 0.1008 there
    >>> op = operating_point("cosine-simsiam", at, ("rho",), {"rho": 0.02})
    >>> op.params
    CosineParams(rho=0.02, sigma2=0.5, n_phi=2.0, n_psi=1.5, trace=0.5)
    >>> op.label, [round(float(p), 4) for p in op.equilibria.p]
    ('operating point rho=0.02 (Acute)', [-1.1054, 0.0, 0.0919, 0.9404])
    >>> try:
    ...     operating_point("cosine-simsiam", at, ("rho",), {"n_psi": 2.0})
    ... except ParameterError as e:
    ...     print(e)
    mark n_psi=2 is off this diagram, which is drawn at n_psi=1.5 (its axes: rho); set n_psi as a model
    parameter instead
    """
    from dynamics.equilibria import find_equilibria
    from dynamics.validate import make_params
    from symbolic.errors import ParameterError

    if not mark:
        raise ParameterError("mark must name at least one parameter, e.g. rho=0.02")
    base = make_params(model, dict(at))
    params = make_params(model, {**at, **mark})
    for k, v in mark.items():
        if k not in axes and v != getattr(base, k):
            raise ParameterError(f"mark {k}={v:g} is off this diagram, which is drawn at {k}={getattr(base, k):g} "
                                 f"(its axes: {', '.join(axes)}); set {k} as a model parameter instead")
    return OperatingPoint(dict(mark), params, find_equilibria(params))


def widen(lo: float, hi: float, value: float | None, log: bool) -> tuple:
    """``(lo, hi)`` extended to contain ``value`` with a margin (a factor 2 on a log axis)."""
    if value is None:
        return lo, hi
    if log:
        return (min(lo, value / 2), max(hi, value * 2)) if value > 0 else (lo, hi)
    return min(lo, value - 0.1 * (hi - lo)), max(hi, value + 0.1 * (hi - lo))


def draw_on_branches(ax, point: OperatingPoint, param: str):
    """A vertical line at the point's ``param`` and a star on each of its equilibria."""
    x = getattr(point.params, param)
    ax.axvline(x, color=MARK_STYLE["mfc"], lw=0.9, ls=":", zorder=9)
    p = np.asarray(point.equilibria.p, float)
    return ax.plot(np.full(p.shape, x), p, label=point.label, **MARK_STYLE)[0]


def draw_on_map(ax, point: OperatingPoint, x_name: str, y_name: str):
    """A star at the point's ``(x_name, y_name)``."""
    return ax.plot([getattr(point.params, x_name)], [getattr(point.params, y_name)], label=point.label,
                   **MARK_STYLE)[0]
