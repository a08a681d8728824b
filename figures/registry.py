"""Every figure the project can draw: name -> (module, target, description).

Each target has the signature ``fn(out_dir, fast=False) -> list[pathlib.Path]``: it computes the
figure's result, draws it (``draw_*(result, ax=None) -> Figure``, in the same module) and writes
PNG and PDF through :func:`figures.style.save`; ``fast=True`` draws a reduced version for tests.
The targets of :func:`parametric` figures also take ``params=`` (a model's parameter dataclass)
and, where marked, ``mark=`` (an operating point, {field: value}). ``ssldyn figure NAME --out
DIR`` looks names up here.

``FIGURES`` follow from the theory alone (no torch; ``ssldyn figure all`` draws all of them in well
under 5 minutes). ``TRAINED`` are the training reproductions (``ssldyn figure trained``, or by
name): they need torch and take up to about 5 minutes each on 2 CPU cores, so ``all`` leaves them
out. Their targets live in :mod:`sims.reproductions` (figures may not import sims); the plotting
itself is in ``figures/ziyin_*.py`` and ``figures/jing_*.py``. Each trained target also writes its
measured numbers and the theory's to ``<name>.json`` beside the images.
"""
FIGURES = {
    "bao-fig2": ("figures.bao", "fig2", "Bao Fig. 2: right-hand side of eq. 7 in the three regimes, equilibria marked"),
    "bao-fig3": ("figures.bao", "fig3", "Bao Fig. 3: equilibria versus the lumped K, regimes shaded, fold marked"),
    "bao-fig4": ("figures.bao", "fig4", "Bao Fig. 4: L2 dynamics (eq. 8) for three weight decays"),
    "bao-fig5": ("figures.bao", "fig5", "Bao Fig. 5: initial eigenvalue distributions by sampling"),
    "bao-fig7": ("figures.bao", "fig7", "Bao Fig. 7 (App. C): equilibria as roots of the quintic"),
    "jing-fig3": ("figures.jing", "fig3", "Jing Fig. 3 (one-layer theory): noisy-block singular values versus k"),
    "jing-fig6": ("figures.jing", "fig6", "Jing Fig. 6 style: two-layer singular values over time (aligned ODE)"),
    "phase-lines": ("figures.phase", "phase_lines", "1-D phase lines of Bao eqs. 7 and 8 with equilibria and basins"),
    "phase-ps": ("figures.phase", "cosine_ps_plane", "(p, s) plane of Bao eq. 5: field, nullclines, parabola"),
    "phase-two-layer": ("figures.phase", "two_layer_plane", "(sigma_1, sigma_2) plane of the two-layer flow"),
    "phase-l2": ("figures.l2_plane", "l2_plane",
                 "(p, s) plane of L2 BYOL (Tian eqs. 11-14): basins by fate, invariant parabola, trajectories"),
    "regime-map": ("figures.regime_map", "regime_map_figure",
                   "cosine regimes in the (rho, N_Psi) plane with the continued fold curve"),
    "bifurcation": ("figures.bifurcation", "bifurcation_figure",
                    "equilibria of Bao eq. 7 versus rho: stable solid, unstable dashed, folds"),
}

#: training reproductions (torch): name -> (module, function, description)
TRAINED = {
    "ziyin-fig2": ("sims.reproductions.ziyin", "fig2_figure",
                   "Ziyin Fig. 2 trained: InfoNCE eigenvalues vs sigma (slope -4); weighted InfoNCE vs N, "
                   "printed eq. 3 and the self-term variant (torch)"),
    "ziyin-fig3": ("sims.reproductions.ziyin", "fig3_figure",
                   "Ziyin Fig. 3 trained: normalised outputs, smallest eigenvalues vs sigma (torch)"),
    "jing-fig3-trained": ("sims.reproductions.jing", "fig3_figure",
                          "Jing Fig. 3 trained: one-layer spectrum vs noise k, Gaussian and dot kernels (torch)"),
    "jing-fig56": ("sims.reproductions.jing", "fig56_figure",
                   "Jing Figs. 5/6 trained: alignment |V2^T U1|, singular values, aligned ODE vs two-layer "
                   "flow (torch)"),
    "jing-fig11-trained": ("sims.reproductions.jing", "fig11_figure",
                           "Jing Fig. 11 trained: collapsed embedding dimensions vs depth, linear and ReLU (torch)"),
}

#: the default plane of each model's regime map (:func:`figures.regime_map.map_axes`):
#: ((x field, lo, hi), (y field, lo, hi)), log axes
PLANES = {"cosine-simsiam": (("rho", 1e-4, 1e-1), ("n_psi", 0.1, 20.0)),
          "l2-byol": (("eta", 1e-3, 1.0), ("sigma2", 1e-2, 10.0))}


def parametric() -> dict:
    """Figures drawn at the user's model parameters: name -> (models, draws an operating point).

    The first model is the figure's default. Models come from :mod:`symbolic.registry` (user
    models from ``--models FILE`` included) by capability: equilibria for the phase lines and the
    bifurcation diagram; the regime map also needs a default plane (:func:`figures.regime_map.map_axes`)."""
    from symbolic.registry import model_names

    with_equilibria = model_names("equilibria")
    return {
        "phase-ps": (("cosine-simsiam",), False),
        "phase-lines": (with_equilibria, False),
        "phase-two-layer": (("two-layer",), False),
        "phase-l2": (("l2-byol",), False),
        "bifurcation": (with_equilibria, True),
        "regime-map": (tuple(m for m in model_names("regimes") if m in PLANES), True),
    }


#: the phase planes that take a window and starts (``--window``, ``--starts``): name -> the names
#: of their two coordinates, as the messages write them
WINDOWED = {"phase-two-layer": ("sigma_1", "sigma_2"), "phase-l2": ("p", "s")}

#: the parts of each theory figure: name -> (compute function, draw function), both in the
#: figure's module: ``draw(compute(fast=...), ax=None) -> matplotlib Figure``
PARTS = {
    "bao-fig2": ("compute_fig2", "draw_fig2"), "bao-fig3": ("compute_fig3", "draw_fig3"),
    "bao-fig4": ("compute_fig4", "draw_fig4"), "bao-fig5": ("compute_fig5", "draw_fig5"),
    "bao-fig7": ("compute_fig7", "draw_fig7"), "jing-fig3": ("compute_fig3", "draw_fig3"),
    "jing-fig6": ("compute_fig6", "draw_fig6"), "phase-lines": ("compute_phase_lines", "draw_phase_lines"),
    "phase-ps": ("compute_ps_plane", "draw_ps_plane"), "phase-two-layer": ("compute_two_layer_plane", "draw_two_layer_plane"),
    "phase-l2": ("compute_l2_plane", "draw_l2_plane"),
    "regime-map": ("compute_regime_map", "draw_regime_figure"), "bifurcation": ("compute_bifurcation", "draw_bifurcation"),
}

#: the parts of each training reproduction (in its :mod:`sims.reproductions` module): name ->
#: (compute(fast, device) -> result, write(result, out_dir) -> paths); the target runs both
TRAINED_PARTS = {
    "ziyin-fig2": ("fig2_compute", "fig2_write"), "ziyin-fig3": ("fig3_compute", "fig3_write"),
    "jing-fig3-trained": ("fig3_compute", "fig3_write"), "jing-fig56": ("fig56_compute", "fig56_write"),
    "jing-fig11-trained": ("fig11_compute", "fig11_write"),
}


def _section(doc: str, title: str) -> list:
    """The body lines of the numpydoc section ``title`` of ``doc`` (cleaned), [] when it has none."""
    lines = doc.splitlines()
    for i in range(len(lines) - 1):
        if lines[i] == title and set(lines[i + 1]) == {"-"}:
            body = []
            for j in range(i + 2, len(lines)):
                if j + 1 < len(lines) and lines[j] and set(lines[j + 1]) == {"-"} and not lines[j].startswith(" "):
                    break
                body.append(lines[j])
            while body and not body[-1].strip():
                body.pop()
            return body
    return []


def _entries(body: list, drop=(), keep=None) -> list:
    """The lines of a Parameters / Raises body without the entries named in ``drop`` (only those
    in ``keep``, when given)."""
    out, use = [], True
    for line in body:
        if line and not line.startswith(" "):
            name = line.split(":")[0].strip()
            use = name not in drop and (keep is None or name in keep)
        if use:
            out.append(line)
    return out


def target_doc(figure: str, compute, draw, stem: str, call: str = "", needs: str = "") -> str:
    """The numpydoc docstring of the registered target of theory figure ``figure`` (a key of
    :data:`FIGURES`): its description, ``out_dir`` and ``fast``, the keyword arguments copied from
    ``compute``'s Parameters, what it returns and raises, and an example that calls the target
    (``fast=True`` and the keyword arguments ``call``, after ``from dynamics import {needs}``)."""
    import inspect
    import textwrap

    from . import EXPORTS

    module, fn, desc = FIGURES[figure]
    if PARTS[figure] != (compute.__name__, draw.__name__):
        raise ValueError(f"{figure}: PARTS names {PARTS[figure]}, not {(compute.__name__, draw.__name__)}")
    public = next(name for name, where in EXPORTS.items() if where == f"{module}:{fn}")
    cdoc = inspect.getdoc(compute) or ""
    kw = _entries(_section(cdoc, "Parameters"), drop=("fast",))
    raises = _section(cdoc, "Raises")
    c, d = f"{module}.{compute.__name__}", f"{module}.{draw.__name__}"
    about = (f"The target of ``ssldyn figure {figure}``: computes the result with :func:`{c}`, draws it with "
             f":func:`{d}` and writes ``{stem}.png`` and ``{stem}.pdf`` into ``out_dir`` through "
             ":func:`figures.style.save` (atomically; the figure is closed afterwards).")
    summary = f"{desc[:1].upper()}{desc[1:]}."
    head = [summary, ""] + textwrap.wrap(about, 100, break_long_words=False, break_on_hyphens=False) + [
            "",
            "Parameters", "----------",
            "out_dir : str or pathlib.Path", "    The folder the two files are written to (created when missing).",
            "fast : bool, optional", "    A reduced version (smaller grids, fewer points), as ``ssldyn figure --fast``",
            "    draws it; default False."]
    if kw:
        head += ["**kw", f"    Passed on to :func:`{c}`, which takes:"] + kw
    head += ["", "Returns", "-------", "list of pathlib.Path",
             f"    The files written, ``[out_dir/{stem}.png, out_dir/{stem}.pdf]``.", "",
             "Raises", "------",
             "ParameterError",
             "    If ``out_dir`` or a file in it cannot be written (a file in its place, no permission)."]
    head += _entries(raises, keep=("ParameterError",))[1:] + _entries(raises, drop=("ParameterError",))
    head += ["TypeError", f"    For a keyword argument that :func:`{c}` does not take."]
    head += ["", "See Also", "--------", f"{c} : the figure's numbers.", f"{d} : draws them on given Axes.", "",
             "Examples", "--------", ">>> import tempfile"]
    head += [f">>> from dynamics import {needs}"] * bool(needs) + [
        f">>> from figures import {public}",
        ">>> with tempfile.TemporaryDirectory() as out:",
        f"...     paths = {public}(out, fast=True{', ' + call if call else ''})",
        ">>> [p.name for p in paths]",
        f"['{stem}.png', '{stem}.pdf']"]
    return "\n".join(head) + "\n"


def registered(figure: str, compute, draw, stem: str, call: str = "", needs: str = ""):
    """:func:`figures.style.target` ``(compute, draw, stem)`` with its signature's type hints and
    the docstring of :func:`target_doc`: the function :data:`FIGURES` names for ``figure``."""
    from .style import target

    fn = target(compute, draw, stem)
    fn.__annotations__ = {"out_dir": "str | Path", "fast": "bool", "return": "list[Path]"}
    fn.__doc__ = target_doc(figure, compute, draw, stem, call, needs)
    return fn
