"""Figures: one module per figure (or family), each ``compute -> result -> draw``.

A compute function (``compute_*``, taking a model's parameter dataclass where the figure has one)
returns a small frozen result holding the plotted numbers, all of them from :mod:`dynamics`; a
draw function ``draw_*(result, ax=None)`` draws on the given matplotlib Axes (or a new Figure) and
returns the Figure. Nothing here selects a backend or writes a file: :func:`figures.style.save`
does, and each registered ``ssldyn figure`` target (:mod:`figures.registry`) is compute, draw, save.

>>> from dynamics.params import CosineParams
>>> from figures.phase import compute_ps_plane, draw_ps_plane
>>> fig = draw_ps_plane(compute_ps_plane(CosineParams(rho=0.02)))      # doctest: +SKIP
"""
