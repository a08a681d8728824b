"""The house style of the figures, checked on the drawn artists of every registered figure.

After ``fig.canvas.draw()`` everything is compared in display coordinates (pixels), so the
checks see what a reader sees: a legend box that covers a plotted point or a marked operating
point, text outside the saved area, a title without the parameter values the figure was drawn
at, a log axis with data at or below zero (matplotlib clamps or drops it silently), an unstable
marker drawn over a stable one, a legend entry for an artist that is not drawn, a bare
identifier as a title. The parameters a figure used are read from its result object (every
parameter dataclass inside it), not from the drawing.
"""
import dataclasses
import importlib
import io
import re

import numpy as np
import pytest

from figures.registry import FIGURES, PARTS


#: figures drawn once more with an operating point (``--mark``): the legend must clear the star too
MARKED = {"regime-map+mark": ("regime-map", {"mark": {"rho": 0.02, "n_psi": 1.5}}),
          "bifurcation+mark": ("bifurcation", {"mark": {"rho": 0.02}})}
CASES = sorted(FIGURES) + sorted(MARKED)


@pytest.fixture(scope="module")
def drawn():
    """Each theory figure (fast) computed and drawn once: name -> (result, Figure)."""
    import matplotlib.pyplot as plt

    done = {}

    def _get(name):
        if name not in done:
            figure, kw = MARKED.get(name, (name, {}))
            compute, draw = PARTS[figure]
            mod = importlib.import_module(FIGURES[figure][0])
            result = getattr(mod, compute)(fast=True, **kw)
            fig = getattr(mod, draw)(result)
            fig.canvas.draw()
            done[name] = (result, fig)
        return done[name]
    yield _get
    plt.close("all")


# --- what is drawn, in pixels -----------------------------------------------------------------
def data_points(ax):
    """Display coordinates (n, 2) of every plotted vertex and marker of ``ax``: Line2D data
    (markers and line vertices) and PathCollection offsets (scatter); invisible and empty artists
    left out."""
    from matplotlib.collections import PathCollection
    from matplotlib.lines import Line2D

    pts = []
    for art in ax.get_children():
        if not art.get_visible():
            continue
        if isinstance(art, Line2D):
            xy = np.column_stack([np.asarray(a, float) for a in art.get_data()]) if len(art.get_xdata()) else None
            if xy is not None and art.get_marker() not in (None, "None", "", " "):
                pts.append(art.get_transform().transform(xy))
        elif isinstance(art, PathCollection) and len(art.get_offsets()):
            pts.append(art.get_offset_transform().transform(np.asarray(art.get_offsets(), float)))
    pts = [p[np.all(np.isfinite(p), axis=1)] for p in pts]
    return np.concatenate(pts) if pts else np.empty((0, 2))


def line_vertices(ax):
    """Display coordinates of points along the visible plotted lines (their drawn segments
    sampled every 2 px: a horizontal line has only two vertices, yet a legend over its middle
    hides it); a segment with a non-finite end is a gap, not drawn."""
    pts = []
    for art in ax.lines:
        if art.get_visible() and len(art.get_xdata()) and art.get_linestyle() not in ("None", "", " "):
            xy = art.get_transform().transform(np.column_stack([np.asarray(a, float) for a in art.get_data()]))
            good = np.all(np.isfinite(xy), axis=1)
            for a, b in zip(xy[:-1][good[:-1] & good[1:]], xy[1:][good[:-1] & good[1:]]):
                k = max(1, min(int(np.hypot(*(b - a)) / 2.0), 5000))
                pts.append(a + (b - a) * (np.arange(0, k + 1)[:, None] / k))
            pts.append(xy[good])
    return np.concatenate(pts) if pts else np.empty((0, 2))


def inside(bbox, pts, pad=0.0):
    return (pts[:, 0] > bbox.x0 - pad) & (pts[:, 0] < bbox.x1 + pad) & (pts[:, 1] > bbox.y0 - pad) & (pts[:, 1] < bbox.y1 + pad)


def legends(fig):
    out = [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    return out + list(fig.legends)


def texts(fig):
    """Every drawn, non-empty Text of the figure: suptitle and figure texts, and per Axes the
    titles, axis labels, the tick labels of the ticks inside the view (matplotlib keeps label
    objects for ticks beyond it, never drawn), annotations and legend texts."""
    out = list(fig.texts) + ([fig._suptitle] if fig._suptitle is not None else [])
    for ax in fig.axes:
        out += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label] + list(ax.texts)
        for axis in (ax.xaxis, ax.yaxis):
            for tick in axis._update_ticks():
                out += [tick.label1, tick.label2]
    for leg in legends(fig):
        out += list(leg.get_texts()) + [leg.get_title()]
    return [t for t in out if t.get_visible() and t.get_text().strip()]


def params_in(result, seen=None):
    """Every parameter dataclass (an object with ``to_dict`` and ``MODEL``) inside ``result``."""
    seen = set() if seen is None else seen
    if id(result) in seen:
        return []
    seen.add(id(result))
    if hasattr(result, "to_dict") and hasattr(result, "MODEL"):
        return [result]
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return [q for f in dataclasses.fields(result) for q in params_in(getattr(result, f.name), seen)]
    if isinstance(result, (tuple, list)):
        return [q for x in result for q in params_in(x, seen)]
    if isinstance(result, dict):
        return [q for x in result.values() for q in params_in(x, seen)]
    return []


def caption_text(fig):
    """The text that states a figure's parameters: titles, suptitle and figure-level texts."""
    parts = [ax.get_title(loc=loc) for ax in fig.axes for loc in ("left", "center", "right")]
    parts += [t.get_text() for t in fig.texts]
    if fig._suptitle is not None:
        parts.append(fig._suptitle.get_text())
    return "\n".join(parts)


# --- the checks ----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", CASES)
def test_legends_cover_no_plotted_point(name, drawn):
    """No legend box holds a plotted point or marked point of any Axes (markers, scatter), nor
    more than 1% of the length of the plotted lines (pixels, 1 px inside the box: a point on its
    edge is not covered)."""
    _, fig = drawn(name)
    boxes = [leg.get_window_extent() for leg in legends(fig)]
    for ax in fig.axes:
        marks, verts = data_points(ax), line_vertices(ax)
        for box in boxes:
            covered = marks[inside(box, marks, pad=-1.0)]
            assert not len(covered), f"{name}: legend covers {len(covered)} marker(s), e.g. {covered[:3]}"
            hidden = verts[inside(box, verts, pad=-1.0)]
            assert len(hidden) <= 0.01 * max(len(verts), 1), f"{name}: legend covers {len(hidden)} points of lines"


@pytest.mark.parametrize("name", CASES)
def test_nothing_is_clipped_when_saved(name, drawn, tmp_path):
    """The figure as :func:`figures.save` writes it holds every text: the saved PNG has the size of
    the tight bounding box, and that box contains every text's extent; saved plainly
    (``fig.savefig``, the user's way) every text lies inside the canvas too."""
    from PIL import Image


    _, fig = drawn(name)
    renderer = fig.canvas.get_renderer()
    canvas = fig.bbox
    for t in texts(fig):
        box = t.get_window_extent(renderer)
        assert box.x0 >= canvas.x0 - 1 and box.x1 <= canvas.x1 + 1 and box.y0 >= canvas.y0 - 1 and box.y1 <= canvas.y1 + 1, \
            f"{name}: {t.get_text()[:40]!r} outside the canvas {canvas.bounds}: {box.bounds}"
    tight = fig.get_tightbbox(renderer)                    # inches
    for t in texts(fig):
        box = t.get_window_extent(renderer).transformed(fig.dpi_scale_trans.inverted())
        assert box.x0 >= tight.x0 - 0.02 and box.x1 <= tight.x1 + 0.02 and box.y0 >= tight.y0 - 0.02 \
            and box.y1 <= tight.y1 + 0.02, f"{name}: {t.get_text()[:40]!r} outside the tight box"
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight", pad_inches=0)
    w, h = Image.open(io.BytesIO(buf.getvalue())).size
    assert abs(w - tight.width * 100) <= 2 and abs(h - tight.height * 100) <= 2


@pytest.mark.parametrize("name", CASES)
def test_titles_state_the_parameters(name, drawn):
    """Every value of every parameter dataclass in the figure's result appears in its titles,
    suptitle or caption (defaults included), to four significant digits; a field the result
    declares swept (``SWEPT``: it varies along an axis) is exempt."""
    result, fig = drawn(name)
    text = caption_text(fig)
    swept = getattr(result, "SWEPT", ())            # a field swept along an axis has no one value
    for q in params_in(result):
        for field, value in q.to_dict().items():
            if field in swept:
                continue
            assert f"{value:.4g}" in text, f"{name}: {type(q).__name__}.{field}={value:g} not in the caption {text!r}"


@pytest.mark.parametrize("name", CASES)
def test_log_axes_hold_no_data_at_or_below_zero(name, drawn):
    """A log axis shows no clamped zero: every finite plotted value on it is positive."""
    from matplotlib.collections import PathCollection

    _, fig = drawn(name)
    for ax in fig.axes:
        for axis, i in (("x", 0), ("y", 1)):
            if getattr(ax, f"get_{axis}scale")() != "log":
                continue
            for line in ax.lines:
                v = np.asarray(line.get_data()[i], float)
                v = v[np.isfinite(v)]
                assert np.all(v > 0), f"{name}: {axis} <= 0 on a log axis ({line.get_label()!r}: {v[v <= 0][:3]})"
            for c in ax.collections:
                if isinstance(c, PathCollection) and len(c.get_offsets()):
                    v = np.asarray(c.get_offsets(), float)[:, i]
                    v = v[np.isfinite(v)]
                    assert np.all(v > 0), f"{name}: scatter at {axis} <= 0 on a log axis"


@pytest.mark.parametrize("name", CASES)
def test_stable_points_are_drawn_above_unstable_ones(name, drawn):
    """Equilibrium markers carry gid 'stable' / 'unstable' / 'semi-stable'; on each Axes every
    stable one has a higher zorder than every unstable one (an unstable marker never hides a
    stable point it overlaps)."""
    from matplotlib.lines import Line2D

    _, fig = drawn(name)
    for ax in fig.axes:
        z = {}
        for art in ax.findobj(Line2D):
            z.setdefault(art.get_gid(), []).append(art.get_zorder())
        if z.get("stable") and z.get("unstable"):
            assert min(z["stable"]) > max(z["unstable"]), f"{name}: stable zorder {z['stable']} vs unstable {z['unstable']}"


def _colour(c):
    from matplotlib.colors import to_rgb

    try:
        return tuple(np.round(to_rgb(c), 3))
    except (ValueError, TypeError):
        arr = np.asarray(c, float).reshape(-1, 4) if np.size(c) else np.zeros((0, 4))
        return tuple(np.round(arr[0, :3], 3)) if len(arr) else None


def drawn_colours(ax):
    """The colours of the artists drawn with data on ``ax`` (lines, markers, collections, patches)."""
    from matplotlib.collections import Collection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    out = set()
    for art in ax.findobj(lambda a: a.get_visible()):
        if isinstance(art, Line2D) and len(art.get_xdata()):
            out |= {_colour(art.get_color()), _colour(art.get_markerfacecolor()), _colour(art.get_markeredgecolor())}
        elif isinstance(art, Collection) and len(art.get_paths()):
            for c in (art.get_facecolor(), art.get_edgecolor()):
                out |= {_colour(x) for x in np.asarray(c).reshape(-1, 4)} if np.size(c) else set()
            if hasattr(art, "get_array") and art.get_array() is not None and art.get_cmap() is not None:
                a = np.asarray(art.get_array(), float).ravel()
                a = a[np.isfinite(a)]
                out |= {_colour(x) for x in art.get_cmap()(art.norm(np.unique(a)))}
        elif isinstance(art, Patch) and art is not ax.patch and art.get_figure() is not None:
            out |= {_colour(art.get_facecolor()), _colour(art.get_edgecolor())}
    out.discard(None)
    return out


@pytest.mark.parametrize("name", CASES)
def test_legends_list_only_drawn_artists(name, drawn):
    """Each legend entry stands for an artist that is drawn: its colour is the colour of a
    plotted artist with data on the legend's Axes (for a figure legend, on any Axes)."""
    from matplotlib.legend import Legend

    _, fig = drawn(name)
    for leg in legends(fig):
        axes = [leg.axes] if leg.axes is not None else fig.axes
        colours = set().union(*(drawn_colours(a) for a in axes))
        for handle, label in zip(leg.legend_handles, leg.get_texts()):
            cs = set()
            for getter in ("get_color", "get_markerfacecolor", "get_facecolor", "get_edgecolor"):
                if hasattr(handle, getter):
                    c = getter and getattr(handle, getter)()
                    cs |= {_colour(x) for x in (np.asarray(c).reshape(-1, 4) if not isinstance(c, str) and np.size(c) > 4
                                                else [c])} if c is not None and np.size(c) else set()
            cs.discard(None)
            cs -= {(1.0, 1.0, 1.0)}
            assert cs & colours, f"{name}: legend entry {label.get_text()!r} ({cs}) matches no drawn artist"
    assert all(isinstance(x, Legend) for x in legends(fig))


IDENTIFIER = re.compile(r"^[A-Za-z0-9_.\-]+$")


@pytest.mark.parametrize("name", CASES)
def test_no_plain_identifier_as_title(name, drawn):
    """A title is prose or mathematics, never a bare identifier (``phase_lines``, ``l2-byol``)."""
    _, fig = drawn(name)
    titles = [ax.get_title(loc=loc) for ax in fig.axes for loc in ("left", "center", "right")]
    titles += [fig._suptitle.get_text()] if fig._suptitle is not None else []
    bad = [t for t in titles if t.strip() and IDENTIFIER.match(t.strip())]
    assert not bad, f"{name}: plain identifiers as titles: {bad}"


# --- specific cases of the issue -----------------------------------------------------------------
def test_l2_phase_line_at_small_eta_shows_the_stable_zero():
    """At eta = 5e-4 the unstable p_- = 3.3e-4 sits on the stable 0 (one marker width apart):
    the stable marker is drawn above it, and its pixels overlap the unstable one's."""
    from dynamics.params import L2Params
    from figures import compute_phase_lines, draw_phase_lines

    fig = draw_phase_lines(compute_phase_lines(L2Params(eta=5e-4), fast=True))
    fig.canvas.draw()
    ax = fig.axes[0]
    marks = {ln.get_gid(): ln for ln in ax.lines if ln.get_gid() in ("stable", "unstable")}
    p_minus = (1 - np.sqrt(1 - 4 * 5e-4 * 1.5)) / 3               # Tian eq. 16, tau = 1, sigma2 = 0.5
    assert marks["unstable"].get_xdata()[0] == pytest.approx(p_minus, rel=1e-6)
    stable = [ln for ln in ax.lines if ln.get_gid() == "stable" and ln.get_xdata()[0] == 0.0]
    assert stable and stable[0].get_zorder() > marks["unstable"].get_zorder()
    a, b = (ln.get_window_extent(fig.canvas.get_renderer()) for ln in (stable[0], marks["unstable"]))
    assert a.overlaps(b)                                           # the case the zorder decides


def test_draw_branches_savefig_keeps_the_outside_legend(tmp_path):
    """``draw_branches(...).savefig(path)`` (no bbox_inches, the user's plain call) keeps the
    legend that sits right of the Axes inside the saved canvas."""
    from PIL import Image

    import dynamics as dy
    from figures import draw_branches

    b = dy.equilibrium_branches("cosine-simsiam", "rho", np.linspace(0.0, 0.2, 41), dy.CosineParams().to_dict())
    fig = draw_branches(b)
    path = tmp_path / "b.png"
    fig.savefig(path, dpi=100)
    fig.canvas.draw()
    leg = fig.axes[0].get_legend().get_window_extent()
    assert leg.x0 > fig.axes[0].get_window_extent().x1                      # outside the Axes, on the right
    assert leg.x1 <= fig.bbox.x1 and leg.y0 >= 0 and leg.y1 <= fig.bbox.y1   # inside the canvas
    with Image.open(path) as im:
        size = im.size
    assert size == (round(fig.bbox.width * 100 / fig.dpi), round(fig.bbox.height * 100 / fig.dpi))


# --- the L2 BYOL (p, s) plane: basins and invariant, against scipy ------------------------------
def tian_rhs(params):
    """Tian et al. (2021) eqs. 11-13 for one mode, written from the paper (not the generated kernel)."""
    a, b, eta, k = params.alpha_p, params.beta, params.eta, 1 + params.sigma2

    def f(t, y):
        p, s, tau = y
        g = tau - k * p
        sdot = 2 * p * s * g - 2 * eta * s
        return [a * s * g - eta * p, sdot, b * (1 - tau) - tau * sdot / (2 * s)]
    return f


def scipy_fate(params, p0, s0, t_end):
    """collapse / converge from an independent DOP853 run (rtol 1e-10): converge when the end is
    within 1e-4 of (p_+, p_+^2/alpha_p, 1) (Tian eq. 16), collapse when s has fallen below 1e-6
    of its start or tau runs away (s -> 0 relative to the target)."""
    from scipy.integrate import solve_ivp

    k = 1 + params.sigma2
    p_plus = (params.tau + np.sqrt(params.tau**2 - 4 * params.eta * k)) / (2 * k)
    away = lambda t, y: y[2] - 1e6                                      # noqa: E731
    away.terminal = True
    r = solve_ivp(tian_rhs(params), (0, t_end), [p0, s0, params.tau], method="DOP853", rtol=1e-10, atol=1e-14,
                  events=away)
    p, s, tau = r.y[:, -1]
    if r.status == 1 or s < 1e-6 * s0:
        return "collapse"
    if abs(p - p_plus) < 1e-4 and abs(s - p_plus**2 / params.alpha_p) < 1e-4 and abs(tau - 1) < 1e-4:
        return "converge"
    return f"unsettled at {r.y[:, -1]}"


@pytest.fixture(scope="module")
def l2():
    from figures.l2_plane import compute_l2_plane, draw_l2_plane

    r = compute_l2_plane(fast=True)
    fig = draw_l2_plane(r)
    fig.canvas.draw()
    yield r, fig
    import matplotlib.pyplot as plt

    plt.close(fig)


def test_l2_basin_boundary_agrees_with_scipy_on_either_side(l2):
    """Pairs of neighbouring grid starts that the drawn fate map (the QuadMesh's colours) puts on
    either side of the basin boundary get the same fates from an independent scipy run."""
    from matplotlib.collections import QuadMesh

    from figures.l2_plane import FATES

    r, fig = l2
    (mesh,) = [c for c in fig.axes[0].collections if isinstance(c, QuadMesh)]
    drawn = np.asarray(mesh.get_array()).reshape(r.P.shape)
    assert np.array_equal(drawn, r.codes)
    pairs = [((i, j), (i, j + 1)) for i in range(drawn.shape[0]) for j in range(drawn.shape[1] - 1)
             if drawn[i, j] != drawn[i, j + 1]]
    pairs += [((i, j), (i + 1, j)) for i in range(drawn.shape[0] - 1) for j in range(drawn.shape[1])
              if drawn[i, j] != drawn[i + 1, j]]
    assert len(pairs) >= 6                                        # the boundary crosses the window
    for pair in [pairs[k] for k in np.linspace(0, len(pairs) - 1, 6).astype(int)]:
        for cell in pair:
            want = scipy_fate(r.params, r.P[cell], r.S[cell], r.t_end)
            assert FATES[drawn[cell]] == want, (cell, r.P[cell], r.S[cell], want)


def test_l2_invariant_is_conserved_along_the_drawn_trajectories(l2):
    r"""Tian eq. 14: :math:`e^{2\eta t}(s-p^2/\alpha_p)` is constant along each drawn trajectory
    (read from the Line2D data at the result's times): :math:`s-p^2/\alpha_p=c_0e^{-2\eta t}`
    to 1e-7 (compared in this form: the constant itself multiplies round-off by :math:`e^{2\eta t}`)."""
    r, fig = l2
    q = r.params
    lines = [ln for ln in fig.axes[0].lines if len(ln.get_xdata()) == len(r.t)]
    assert len(lines) == len(r.starts)
    for ln in lines:
        p, s = (np.asarray(a, float) for a in ln.get_data())
        ok = np.isfinite(p) & np.isfinite(s)
        c0 = s[0] - p[0] ** 2 / q.alpha_p
        resid = s[ok] - p[ok] ** 2 / q.alpha_p - c0 * np.exp(-2 * q.eta * r.t[ok])
        # the run's tolerances (rtol 1e-8, atol 1e-10) on s and p, summed over the run: 1e-7 of the scale
        assert np.max(np.abs(resid)) <= 1e-7 * max(1.0, np.max(s[ok])), (c0, np.max(np.abs(resid)))
    (parabola,) = [ln for ln in fig.axes[0].lines if ln.get_linestyle() == "--"]    # the invariant set is drawn
    x, y = parabola.get_data()
    assert np.allclose(y, np.asarray(x) ** 2 / q.alpha_p, rtol=1e-12) and x[0] == r.window[0][0] and x[-1] == r.window[0][1]


# --- --window and --starts ---------------------------------------------------------------------
def test_two_layer_window_and_starts_are_used():
    from figures import compute_two_layer_plane

    r = compute_two_layer_plane(fast=True, window=(0.5, 3, 0, 2.5), starts=[[2.0, 1.0], [1.0, 2.0]])
    assert r.A.min() == 0.5 and r.A.max() == 3 and r.B.max() == 2.5
    assert np.array_equal(r.ys[0], [[2.0, 1.0], [1.0, 2.0]])
    c = r.ys[:, :, 0] ** 2 - r.ys[:, :, 1] ** 2                    # Jing Thm. 3: conserved
    assert np.allclose(c, c[0], atol=1e-6)


@pytest.mark.parametrize("kw, msg", [
    ({"window": (-1, 2, 0, 2)}, r"window range of sigma_1 must satisfy 0 <= lo < hi; got \(-1, 2\)"),
    ({"window": (0, 2, 2, 1)}, r"window range of sigma_2 must satisfy 0 <= lo < hi; got \(2, 1\)"),
    ({"window": (0, 2, 0)}, "window must be four finite numbers sigma_1_lo"),
    ({"window": (0, 2, 0, np.inf)}, "window must be four finite numbers"),
    ({"starts": [[3.0, 1.0]]}, r"starts must lie in the window sigma_1 in \[0, 2\], sigma_2 in \[0, 2\]; got \(3, 1\)"),
    ({"starts": np.ones((51, 2))}, "starts must be 1 to 50 points"),
    ({"starts": [[1, 2, 3]]}, "starts must be 1 to 50 points"),
])
def test_two_layer_window_and_starts_are_checked(kw, msg):
    from figures import compute_two_layer_plane
    from symbolic.errors import ParameterError

    with pytest.raises(ParameterError, match=msg):
        compute_two_layer_plane(fast=True, **kw)


def test_l2_window_keeps_s_positive():
    from figures.l2_plane import compute_l2_plane
    from symbolic.errors import ParameterError

    with pytest.raises(ParameterError, match=r"window range of s must satisfy 0 < lo < hi; got \(0, 0.5\)"):
        compute_l2_plane(fast=True, window=(-0.2, 0.8, 0.0, 0.5))


@pytest.mark.parametrize("argv, msg", [
    (["phase-two-layer", "--window", "0,3,0"], "--window must be 4 numbers separated by commas; got '0,3,0'"),
    (["phase-two-layer", "--window", "-1,3,0,3"], "window range of sigma_1 must satisfy 0 <= lo < hi"),
    (["phase-two-layer", "--starts", "1,x"], "--starts must be 2 numbers separated by commas; got '1,x'"),
    (["phase-l2", "--starts", "5,5"], "starts must lie in the window p in"),
    (["phase-ps", "--window", "0,1,0,1"], "--window and --starts apply to phase-two-layer, phase-l2; got figure phase-ps"),
    (["all", "--window", "0,1,0,1"], "--window and --starts apply to one figure by name"),
])
def test_cli_window_and_starts_errors_are_one_line(argv, msg, tmp_path):
    import subprocess
    import sys

    r = subprocess.run([sys.executable, "-m", "sims.cli", "figure", *argv, "--fast", "--out", str(tmp_path)],
                       capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    assert r.stderr.count("\n") == 1 and msg in r.stderr, r.stderr
    assert not list(tmp_path.iterdir())


def test_cli_window_and_starts_reach_the_figure():
    """The flags become the figure's keyword arguments, and the figure draws that window and
    those starts (``-1`` style negative values included: argparse would read them as options)."""
    import matplotlib.pyplot as plt

    from figures import compute_two_layer_plane, draw_two_layer_plane
    from sims.cli import build_parser
    from sims.commands.figure import figure_kwargs

    args = build_parser().parse_args(["figure", "phase-two-layer", "--window", "0,3,0.5,2.5",
                                      "--starts", "2,1;1,2", "--starts", "2.5,1.5"])
    kw = figure_kwargs("phase-two-layer", args)
    assert kw == {"window": [0.0, 3.0, 0.5, 2.5], "starts": [[2.0, 1.0], [1.0, 2.0], [2.5, 1.5]]}
    r = compute_two_layer_plane(fast=True, **kw)
    fig = draw_two_layer_plane(r)
    ax = fig.axes[0]
    assert ax.get_xlim() == (0.0, 3.0) and ax.get_ylim() == (0.5, 2.5)
    starts = [ln for ln in ax.lines if ln.get_marker() == "o"]
    assert [tuple(np.ravel(ln.get_xydata())) for ln in starts] == [(2.0, 1.0), (1.0, 2.0), (2.5, 1.5)]
    plt.close(fig)
    args = build_parser().parse_args(["figure", "phase-l2", "--window=-0.2,0.8,0.01,0.5"])
    assert figure_kwargs("phase-l2", args) == {"window": [-0.2, 0.8, 0.01, 0.5]}
