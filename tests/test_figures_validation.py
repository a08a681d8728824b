"""Validation figures (figures/validation.py) on synthetic records: RankMe and effective rank on
their own Axes, the 1/sqrt(h) reference on the std panel, a log eigenvalue axis, human legend
labels, titles inside the figure, readable log ticks and formatted numbers."""
import math
import re

import numpy as np
import pytest

from figures import validation as V

H = 64


def _records(n=12, negative=False):
    """Records shaped like ``ssldyn validate``'s metrics.jsonl lines: top eigenvalues relaxing from
    1.4 towards p4 = 0.26 (the run in the theory notes), ranks, std just below 1/sqrt(h)."""
    out = []
    for i in range(n):
        top = [0.26 + (1.4 - 0.26) * math.exp(-i / 3) * (1 - 0.02 * j) for j in range(8)]
        if negative:
            top[-1] = -0.1
        out.append({
            "epoch": i, "finite": True, "p_top": top, "n_phi": 8 - 0.3 * i, "n_psi": 5.8 - 0.3 * i, "trace": 0.4,
            "asymmetry": 1e-3 * (i + 1), "commutator": 0.1, "rankme": 49.4 - 0.5 * i, "effective_rank": 49.4 - 0.5 * i - 1e-3,
            "stable_rank": 15.0, "std_l2": 1 / math.sqrt(H) - 1e-4 * (1 + 0.1 * i), "t": 3.0 * (i + 1),
            "prediction": {"p_top": top, "n_phi": 8 - 0.3 * i, "n_psi": 5.8 - 0.3 * i},
            "theory": {"regime": "Acute" if i > 5 else "Collapse", "p4": 0.26,
                       "intervals": [[None, 0.0, "diverge"], [0.0, 0.1, "collapse"], [0.1, None, "converge"]]}})
    return out


def _render(fig):
    fig.canvas.draw()          # the figures' own (constrained) layout is applied by the draw
    return fig.canvas.get_renderer()


def test_rankme_and_effective_rank_have_their_own_axes():
    recs = _records()
    fig = V.draw_collapse(recs, h=H)
    where = {}
    for key in ("rankme", "effective_rank", "stable_rank", "std_l2"):
        want = np.array([r[key] for r in recs])
        hits = [ax for ax in fig.axes for ln in ax.get_lines() if np.array_equal(np.asarray(ln.get_ydata(), float), want)]
        assert len(hits) == 1, key
        where[key] = hits[0]
    assert where["rankme"] is not where["effective_rank"]   # 1e-3 apart: one Axes would draw one curve


def test_std_panel_has_the_one_over_sqrt_h_reference():
    recs = _records()
    fig = V.draw_collapse(recs, h=H)
    (ax,) = [a for a in fig.axes if any(np.allclose(ln.get_ydata(), [r["std_l2"] for r in recs]) for ln in a.get_lines())]
    refs = [ln for ln in ax.get_lines() if np.allclose(ln.get_ydata(), 0.125)]    # 1/sqrt(64)
    assert len(refs) == 1 and "sqrt" in refs[0].get_label()
    lo, hi = ax.get_ylim()
    assert lo <= min(r["std_l2"] for r in recs) and hi >= 0.125
    assert hi - lo < 0.01                        # still magnified to the data (the reference at its edge)
    assert not any(np.allclose(ln.get_ydata(), 0.125) for ln in V.draw_collapse(recs).axes[2].get_lines())  # no h: none


def test_eigenvalue_axis_is_logarithmic_and_shows_p4():
    fig = V.draw_eigen(_records())
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    lo, hi = ax.get_ylim()
    assert lo < 0.26 < 1.4 < hi                  # p4 and the initial values both on the axis
    assert V.draw_eigen(_records(negative=True)).axes[0].get_yscale() == "symlog"   # a negative top eigenvalue


def test_legends_use_human_labels():
    recs = _records()
    keys = set(recs[0]) | {"p4", "std_l2", "top8"}
    figs = [V.draw_eigen(recs), V.draw_norms(recs), V.draw_collapse(recs, h=H), V.draw_trajectory(recs),
            V.draw_comparison({V.run_label({"loss": "cosine", "rho": 0.1 + 0.2, "lr": 0.025}): recs})]
    labels = [t.get_text() for f in figs for ax in f.axes if ax.get_legend() for t in ax.get_legend().get_texts()]
    assert labels and "RankMe (Garrido et al. 2023)" in [ax.get_title() for ax in figs[2].axes]
    prose = [re.sub(r"\$[^$]*\$", "", lab) for lab in labels]              # outside the math: no code names
    assert not [lab for lab, p in zip(labels, prose) if lab in keys or "_" in p]
    assert "cosine loss, rho = 0.3, lr = 0.025" in labels         # 0.30000000000000004 formatted


def test_titles_fit_in_the_figure():
    recs = _records()
    for fig in (V.draw_eigen(recs, title=V.run_title({"mode": "linear", "loss": "cosine", "rho": 0.01})),
                V.draw_norms(recs), V.draw_collapse(recs, h=H), V.draw_trajectory(recs, title="t")):
        r = _render(fig)
        box = fig.bbox
        texts = [ax.title for ax in fig.axes] + ([fig._suptitle] if fig._suptitle else [])
        for t in texts:
            if t.get_text():
                e = t.get_window_extent(r)
                assert e.x0 >= box.x0 - 1 and e.x1 <= box.x1 + 1 and e.y1 <= box.y1 + 1, t.get_text()


def test_log_tick_labels_do_not_overlap():
    fig = V.draw_trajectory(_records(40))
    r = _render(fig)
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            boxes = [t.get_window_extent(r) for t in axis.get_ticklabels(which="both") if t.get_visible() and t.get_text()]
            assert boxes
            for i, a in enumerate(boxes):
                for b in boxes[i + 1:]:
                    assert not a.overlaps(b)


def test_numbers_are_formatted():
    assert V.run_title({"mode": "linear", "loss": "cosine", "rho": 0.1 + 0.2}) == r"linear / cosine loss, $\rho$ = 0.3"
    assert V.run_label({"loss": "l2", "rho": 1 / 3, "lr": 0.05}) == "l2 loss, rho = 0.333333, lr = 0.05"


def test_records_without_what_a_figure_draws_are_refused_with_a_message():
    """No record with a prediction (trajectory) or a run without finite records (comparison): a
    ParameterError naming the missing part, not an IndexError from deep inside the drawing."""
    from symbolic.errors import ParameterError

    with pytest.raises(ParameterError, match="prediction"):
        V.draw_trajectory([{k: v for k, v in r.items() if k != "prediction"} for r in _records()])
    with pytest.raises(ParameterError, match="'b' has none"):
        V.draw_comparison({"a": _records(), "b": [dict(r, finite=False) for r in _records()]})


@pytest.fixture(autouse=True)
def _close():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")



def test_validate_log_lines_format_their_numbers(tmp_path, capsys):
    """The per-epoch and trajectory log lines print 6 and 3 significant digits, not 17-digit reprs."""
    pytest.importorskip("torch")
    from sims.cli import main

    assert main(["validate", "linear", "--d", "8", "--h", "8", "--batch", "16", "--epochs", "1", "--steps-per-epoch",
                 "2", "--eval-size", "32", "--no-figures", "--out", str(tmp_path / "run")]) == 0
    out = capsys.readouterr()
    lines = [ln for ln in (out.out + out.err).splitlines() if ln.startswith(("epoch 1/1", "trajectory:"))]
    assert len(lines) == 2, lines
    numbers = re.findall(r"(?<![\w/])-?\d+\.\d+(?:e-?\d+)?", " ".join(lines))
    assert numbers and all(len(re.sub(r"e.*|[-.]|^0+", "", n)) <= 6 for n in numbers), numbers


@pytest.mark.parametrize("draw,n", [(V.draw_eigen, 1), (V.draw_norms, 2), (V.draw_collapse, 3), (V.draw_trajectory, 2),
                                    (lambda recs, ax=None: V.draw_comparison({"a": recs}, ax=ax), 2)])
def test_validation_draws_on_given_axes(draw, n):
    import matplotlib.pyplot as plt

    host, axes = plt.subplots(1, n, squeeze=False)
    assert draw(_records(), ax=axes[0, 0] if n == 1 else axes[0]) is host
    assert all(a.has_data() for a in axes[0])


def test_log_axes_hold_no_zero_and_legends_clear_the_points():
    """An exactly symmetric W at the first record (asymmetry 0) is not drawn on the log axis
    (matplotlib would clamp it to the bottom), the legend says so, and no legend box covers a
    plotted marker or more than 1% of the lines (checks of tests/test_figure_style.py)."""
    import test_figure_style as S

    recs = _records()
    recs[0]["asymmetry"] = 0.0
    for fig in (V.draw_eigen(recs), V.draw_norms(recs), V.draw_collapse(recs, h=H), V.draw_trajectory(recs)):
        _render(fig)
        for ax in fig.axes:
            for axis, i in (("x", 0), ("y", 1)):
                if getattr(ax, f"get_{axis}scale")() == "log":
                    for line in ax.lines:
                        v = np.asarray(line.get_data()[i], float)
                        assert np.all(v[np.isfinite(v)] > 0), (line.get_label(), axis)
            marks, verts = S.data_points(ax), S.line_vertices(ax)
            for leg in S.legends(fig):
                box = leg.get_window_extent()
                assert not S.inside(box, marks, pad=-1.0).any()
                assert S.inside(box, verts, pad=-1.0).sum() <= 0.01 * max(len(verts), 1)
    labels = [t.get_text() for t in V.draw_norms(recs).axes[1].get_legend().get_texts()]
    assert any("zeros not drawn" in lab for lab in labels)
