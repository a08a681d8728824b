"""Validation figures (like Bao 2023 Fig. 6, 9, 12) drawn from measured training records.

Each record is one line of a run's ``metrics.jsonl`` (see ``ssldyn validate``): measured
eigenvalues, norms, assumption checks and the theory overlay (regime, fate intervals, p4) computed
by ``sims.overlay``. The records are the result these figures draw: ``draw_*(records, ax=None)``
returns the Figure, and ``*_figure(records, out_dir, ...)`` draws and saves it.

Command line (after two runs): ``python -m figures.validation compare RUN_DIR... --out DIR``.

The examples read a run shipped with the package (``sims/results/trajectory/cosine-h128``: 40
records of a d = h = 128 linear SimSiam run, cosine loss, rho = 0.0313).

Size: over 400 lines only with its docstrings (the numpydoc sections and examples of the public
functions); the code itself stays under 400 lines (tests/test_module_size.py).
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np

from symbolic.errors import ParameterError

from .style import FATE_COLORS, PALETTE, REGIME_COLORS, axes_for, save, styled


def read_metrics(run_dir: str | Path) -> list:
    """Records of ``run_dir/metrics.jsonl`` (or its gzipped copy ``metrics.jsonl.gz``).

    Parameters
    ----------
    run_dir : str or pathlib.Path
        The folder of a run of ``ssldyn validate``; ``metrics.jsonl`` is read when it exists, else
        ``metrics.jsonl.gz``.

    Returns
    -------
    list of dict
        One record per non-blank line, in file order (epoch 0, the early steps, then each epoch).

    Raises
    ------
    FileNotFoundError
        When ``run_dir`` holds neither file.
    json.JSONDecodeError
        For a line that is not JSON (a truncated file).

    Examples
    --------
    >>> from pathlib import Path
    >>> import figures
    >>> from figures import read_metrics
    >>> run = Path(figures.__file__).parents[1] / "sims" / "results" / "trajectory" / "cosine-h128"
    >>> recs = read_metrics(run)                         # this run ships metrics.jsonl.gz
    >>> len(recs), recs[0]["epoch"], recs[1]["epoch"], recs[-1]["epoch"]
    (40, 0, 0.1, 30)
    >>> last = recs[-1]
    >>> last["theory"]["regime"], round(last["p_top"][0], 4), round(last["theory"]["p4"], 4)
    ('Acute', 0.0398, 0.0372)
    """
    path = Path(run_dir) / "metrics.jsonl"
    if path.exists():
        text = path.read_text()
    else:
        import gzip
        with gzip.open(path.with_suffix(".jsonl.gz"), "rt") as fh:
            text = fh.read()
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _epochs(records):
    return np.array([r["epoch"] for r in records], dtype=float)


def _col(records, key):
    return np.array([np.nan if r.get(key) is None else r[key] for r in records], dtype=float)


def _tops(records, k=8):
    out = np.full((len(records), k), np.nan)
    for i, r in enumerate(records):
        p = r.get("p_top") or []
        out[i, :len(p[:k])] = p[:k]
    return out


def _background(ax, records, ylim):
    """Fate intervals (diverge / collapse / converge) of each epoch as coloured columns."""
    e = _epochs(records)
    edges = np.concatenate([[e[0]], 0.5 * (e[1:] + e[:-1]), [e[-1]]]) if e.size > 1 else np.array([e[0] - .5, e[0] + .5])
    lo_y, hi_y = ylim
    for i, r in enumerate(records):
        th = r.get("theory") or {}
        for lo, hi, fate in th.get("intervals") or []:
            a = lo_y if lo is None else max(lo, lo_y)
            b = hi_y if hi is None else min(hi, hi_y)
            if b > a:
                ax.fill_between([edges[i], edges[i + 1]], a, b, color=FATE_COLORS[fate], alpha=0.25, lw=0)


def _fate_handles(alpha=0.4):
    from matplotlib.patches import Patch

    return [Patch(color=c, alpha=alpha, label=f"{f} (predicted)") for f, c in FATE_COLORS.items()]


def _log_ticks(ax, axis="both"):
    """Readable log axes: labels at 1, 2 and 5 times the powers of ten, written as plain numbers
    (the default minor labels, 3x10^0 4x10^0 ..., overlap; a range under a decade has no major one)."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    for a in ((ax.xaxis, ax.yaxis) if axis == "both" else (getattr(ax, f"{axis}axis"),)):
        a.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        a.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
        a.set_minor_formatter(NullFormatter())


def _p4(records):
    return np.array([np.nan if (r.get("theory") or {}).get("p4") is None else r["theory"]["p4"] for r in records])


@styled
def draw_eigen(records, ax=None, title=""):
    """Leading eigenvalues of W (signs kept) over the predicted fate intervals, and p4.

    The eigenvalue axis is logarithmic when every plotted value is positive (the usual case: the
    top eigenvalues), so the final distance to :math:`p_4` stays visible next to the large
    initial values; symmetric-log otherwise."""
    fig, (ax,) = axes_for(ax, figsize=(6.4, 3.8))
    e = _epochs(records)
    tops = _tops(records)
    p4 = _p4(records)
    vals = np.concatenate([tops[np.isfinite(tops)], p4[np.isfinite(p4)]])
    if vals.size and vals.min() > 0:
        ylim = (vals.min() / 1.5, vals.max() * 1.5)
        ax.set_yscale("log")
        _log_ticks(ax, "y")
    else:
        vals = np.concatenate([vals, [0.0]])
        span = float(np.max(np.abs(vals))) or 1.0
        ylim = (min(-0.15 * span, float(np.min(vals)) * 1.15), 1.15 * span)
        ax.set_yscale("symlog", linthresh=max(1e-3 * span, 1e-12))
    _background(ax, records, ylim)
    for j in range(tops.shape[1]):
        ax.plot(e, tops[:, j], color=PALETTE[0], lw=0.9, alpha=0.8, label="top-8 eigenvalues $p_j$ of $W$" if j == 0 else None)
    ax.plot(e, p4, "k--", lw=1.2, label=r"predicted stable $p_4$ (Bao eq. 7)")
    ax.set_ylim(*ylim)
    ax.set_xlabel("epoch")
    ax.set_ylabel("eigenvalue $p$")
    ax.legend(handles=ax.get_legend_handles_labels()[0] + _fate_handles(), fontsize=7, loc="best", framealpha=0.9)
    ax.set_title(title or "eigenvalues of $W$ over the predicted intervals (Bao eq. 7)", fontsize=9)
    return fig


def eigen_figure(records, out_dir, name="validation_eigenvalues", title=""):
    """:func:`draw_eigen`, saved as ``name``.png/.pdf; returns the paths."""
    return save(draw_eigen(records, title=title), out_dir, name)


@styled
def draw_norms(records, ax=None):
    """N_Phi, N_Psi, |T| over the regime of each epoch (background); asymmetry and commutator."""
    from matplotlib.patches import Patch

    fig, axs = axes_for(ax, 2, figsize=(8.6, 3.4))
    e = _epochs(records)
    ax = axs[0]
    for key, lab in (("n_phi", r"$N_\Phi=\|\Phi\|_F$"), ("n_psi", r"$N_\Psi=\|W\Phi\|_F$"), ("trace", r"$|T|$")):
        y = np.abs(_col(records, key))
        if np.any(y > 0):
            ax.semilogy(e, _positive(y), label=lab)
    seen = []
    for i, r in enumerate(records):
        reg = (r.get("theory") or {}).get("regime")
        if reg:
            ax.axvspan(e[i] - 0.5, e[i] + 0.5, color=REGIME_COLORS.get(reg, "#ffffff"), alpha=0.12, lw=0)
            seen += [reg] if reg not in seen else []
    ax.set_xlabel("epoch")
    ax.set_title("norms over the predicted regime", fontsize=9)
    ax.legend(handles=ax.get_legend_handles_labels()[0]
              + [Patch(color=REGIME_COLORS.get(g, "#ffffff"), alpha=0.3, label=f"regime {g}") for g in seen],
              fontsize=7, framealpha=0.9)
    ax = axs[1]
    for key, lab in (("asymmetry", r"$\|W-W^\top\|/\|W\|$"), ("commutator", r"$\|[W,\Phi\Phi^\top]\|/(\|W\|\|\Phi\Phi^\top\|)$")):
        y = _col(records, key)
        if np.any(y > 0):
            ax.semilogy(e, _positive(y), label=lab + (" (zeros not drawn)" if np.any(y <= 0) else ""))
    ax.set_xlabel("epoch")
    ax.set_title("assumption checks (0: exact)", fontsize=9)
    ax.legend(fontsize=7)
    return fig


def _positive(y):
    """``y`` with its values at or below 0 as NaN: a log axis would clamp them to its bottom."""
    y = np.asarray(y, float)
    return np.where(y > 0, y, np.nan)


def norms_figure(records, out_dir, name="validation_norms"):
    """:func:`draw_norms`, saved as ``name``.png/.pdf; returns the paths."""
    return save(draw_norms(records), out_dir, name)


#: the collapse diagnostics of sims.diagnostics, by record key: human label
RANK_LABELS = {"rankme": "RankMe (Garrido et al. 2023)", "effective_rank": "effective rank (Roy & Vetterli 2007)",
               "stable_rank": r"stable rank $\|Z\|_F^2/\|Z\|_2^2$"}


@styled
def draw_collapse(records, ax=None, h=None):
    r"""RankMe, effective and stable rank, and the std of l2-normalised outputs.

    RankMe is the effective rank with a small :math:`\epsilon` added (``sims.diagnostics``), so the
    two curves coincide to within the line width: each gets its own Axes. The std axis is magnified
    to the data and shows :math:`1/\sqrt h`, the std of outputs spread uniformly over the unit
    sphere of :math:`\mathbb R^h` (no collapse; 0 is complete collapse), when the representation
    dimension ``h`` is given.
    """
    fig, axs = axes_for(ax, 3, figsize=(11.0, 3.2))
    e = _epochs(records)
    axs[0].plot(e, _col(records, "rankme"), color=PALETTE[0])
    axs[0].set_title(RANK_LABELS["rankme"], fontsize=9)
    axs[1].plot(e, _col(records, "effective_rank"), color=PALETTE[1], label=RANK_LABELS["effective_rank"])
    axs[1].plot(e, _col(records, "stable_rank"), color=PALETTE[2], label=RANK_LABELS["stable_rank"])
    axs[1].set_title("effective and stable rank", fontsize=9)
    axs[1].legend(fontsize=7)
    axs[2].plot(e, _col(records, "std_l2"), color=PALETTE[3], label="measured")
    if h:
        axs[2].axhline(1 / math.sqrt(h), color="k", ls=":", lw=1.0,
                       label=rf"$1/\sqrt{{h}}$ = {1 / math.sqrt(h):.4g}: no collapse (h = {h})")
        axs[2].legend(fontsize=7, loc="best")
    axs[2].set_title("std of l2-normalised outputs\n(0: complete collapse)", fontsize=9)
    for a in axs:
        a.set_xlabel("epoch")
    return fig


def collapse_figure(records, out_dir, name="validation_collapse", h=None):
    """:func:`draw_collapse`, saved as ``name``.png/.pdf; returns the paths."""
    return save(draw_collapse(records, h=h), out_dir, name)


def run_title(summary) -> str:
    """``linear / cosine loss, rho = 0.01`` with the numbers formatted."""
    rho = summary.get("rho")
    return f"{summary.get('mode')} / {summary.get('loss')} loss, " + \
        (rf"$\rho$ = {rho:g}" if isinstance(rho, (int, float)) else f"rho = {rho}")


def validation_figures(records: list, summary: dict, out_dir: str | Path) -> list:
    r"""All figures of one run (records without the early-step lines are used for backgrounds).

    Only the records with ``finite`` true are drawn: the eigenvalues over the predicted fate
    intervals, the norms and assumption checks, the collapse diagnostics (with the
    :math:`1/\sqrt h` reference when ``summary`` has ``h``) and, when any record holds a
    ``prediction``, the measured trajectory against the predicted one.

    Parameters
    ----------
    records : list of dict
        The run's records (:func:`read_metrics`).
    summary : dict
        The run's ``summary.json``: ``mode``, ``loss`` and ``rho`` make the title, ``h`` the
        reference of the collapse figure.
    out_dir : str or pathlib.Path
        The folder to write into (created if missing).

    Returns
    -------
    list of pathlib.Path
        PNG and PDF of each figure: ``validation_eigenvalues``, ``validation_norms``,
        ``validation_collapse`` and ``validation_trajectory``; empty when no record is finite.

    Raises
    ------
    ParameterError
        When a file cannot be written (:func:`save`).

    See Also
    --------
    trajectory_figure, comparison_figure

    Examples
    --------
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> import figures
    >>> from figures import read_metrics, validation_figures
    >>> run = Path(figures.__file__).parents[1] / "sims" / "results" / "trajectory" / "cosine-h128"
    >>> recs, summary = read_metrics(run), json.loads((run / "summary.json").read_text())
    >>> with tempfile.TemporaryDirectory() as d:
    ...     print([p.name for p in validation_figures(recs[:12], summary, d)])
    ...     print(validation_figures([{"epoch": 0, "finite": False}], summary, d))
    ['validation_eigenvalues.png', 'validation_eigenvalues.pdf', 'validation_norms.png', 'validation_norms.pdf',
     'validation_collapse.png', 'validation_collapse.pdf', 'validation_trajectory.png', 'validation_trajectory.pdf']
    []
    """
    recs = [r for r in records if r.get("finite")]
    if not recs:
        return []
    title = run_title(summary)
    paths = eigen_figure(recs, out_dir, title=title)
    paths += norms_figure(recs, out_dir)
    paths += collapse_figure(recs, out_dir, h=summary.get("h"))
    if any(r.get("prediction") for r in recs):
        paths += trajectory_figure(recs, out_dir, title=title)
    return paths


@styled
def draw_trajectory(records, ax=None, title=""):
    """Predicted lines (mean-field map with its spread model; legacy eq. 5 dashed) over measured
    points: the top-8 eigenvalues of W (log axis), the predicted surviving band (mean +- sd,
    shaded) over the measured band mean (crosses), and the norms N_Phi, N_Psi against the
    heavy-ball time t."""
    recs = [r for r in records if r.get("prediction")]
    if not recs:
        raise ParameterError(f"records must include one with a 'prediction' (ssldyn validate's trajectory); "
                             f"got none among {len(records)}")
    t = np.array([r["t"] for r in recs], dtype=float)
    tt = np.maximum(t, t[t > 0].min() if np.any(t > 0) else 1.0)
    fig, axs = axes_for(ax, 2, figsize=(9.0, 3.6))

    def top(block_key, k):
        rows = []
        for r in recs:
            got = (r.get(block_key) or {}).get("p_top") or []
            rows.append([got[j] if j < len(got) and got[j] is not None else np.nan for j in range(k)])
        return np.array(rows, dtype=float)

    meas = _tops(recs)
    pred = top("prediction", meas.shape[1])
    leg = top("legacy_eq5", meas.shape[1]) if any(r.get("legacy_eq5") for r in recs) else None
    for j in range(meas.shape[1]):
        c = PALETTE[j % len(PALETTE)]
        axs[0].loglog(tt, np.abs(meas[:, j]), "o", ms=2.5, color=c, alpha=0.7)
        axs[0].loglog(tt, np.abs(pred[:, j]), "-", lw=1.0, color=c)
        if leg is not None:
            axs[0].loglog(tt, np.abs(leg[:, j]), "--", lw=0.7, color=c, alpha=0.6)
    bm = np.array([(r["prediction"].get("band_mean") or np.nan) for r in recs], dtype=float)
    bs = np.array([(r["prediction"].get("band_sd") or 0.0) for r in recs], dtype=float)
    if np.any(np.isfinite(bm)):
        lo = np.where(bm - bs > 0, bm - bs, np.nan)
        axs[0].fill_between(tt, lo, bm + bs, color="0.6", alpha=0.35, lw=0, label="predicted band, mean $\\pm$ sd")
        axs[0].loglog(tt, bm, "-", color="0.35", lw=0.8)
        axs[0].loglog(tt, [r["prediction"].get("band_mean_measured") or np.nan for r in recs], "x", ms=3,
                      color="0.2", label="training band mean")
        axs[0].legend(fontsize=7, loc="lower left")
    axs[0].set_xlabel("t (heavy-ball time)")
    axs[0].set_ylabel(r"top-8 $|p_j|$")
    model = recs[-1]["prediction"].get("spread_model") or ""
    axs[0].set_title(f"points: training; lines: mean-field map{' + ' + model + ' spread' if model else ''}; "
                     "dashed: Bao eq. 5", fontsize=8)
    for key, label, c in (("n_phi", r"$N_\Phi$", PALETTE[0]), ("n_psi", r"$N_\Psi$", PALETTE[1])):
        axs[1].loglog(tt, _col(recs, key), "o", ms=2.5, color=c, label=label + " training")
        axs[1].loglog(tt, [r["prediction"][key] or np.nan for r in recs], "-", color=c, label=label + " map")
        if leg is not None:
            axs[1].loglog(tt, [(r.get("legacy_eq5") or {}).get(key) or np.nan for r in recs], "--", color=c,
                          lw=0.7, label=label + " eq. 5")
    axs[1].set_xlabel("t (heavy-ball time)")
    axs[1].legend(fontsize=7)
    for a in axs:
        _log_ticks(a)
    if title:
        fig.suptitle(title, fontsize=9)
    return fig


def trajectory_figure(records: list, out_dir: str | Path, name: str = "validation_trajectory",
                      title: str = "") -> list:
    r""":func:`draw_trajectory`, saved as ``name``.png/.pdf; returns the paths.

    The top-8 eigenvalues of W and the norms :math:`N_\Phi`, :math:`N_\Psi` measured in training
    (points) against the mean-field prediction (lines; Bao eq. 5 dashed where the records hold
    it), over the heavy-ball time t on log axes.

    Parameters
    ----------
    records : list of dict
        The run's records; those with a ``prediction`` (``ssldyn validate``'s trajectory) are drawn.
    out_dir : str or pathlib.Path
        The folder to write into (created if missing).
    name : str, optional
        The file name without suffix.
    title : str, optional
        A title above both panels; default none.

    Returns
    -------
    list of pathlib.Path
        ``name.png`` and ``name.pdf`` in ``out_dir``.

    Raises
    ------
    ParameterError
        When no record holds a ``prediction``, or a file cannot be written.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import figures
    >>> from figures import read_metrics, trajectory_figure
    >>> run = Path(figures.__file__).parents[1] / "sims" / "results" / "trajectory" / "cosine-h128"
    >>> recs = read_metrics(run)
    >>> sum(1 for r in recs if r.get("prediction"))
    40
    >>> with tempfile.TemporaryDirectory() as d:
    ...     print([p.name for p in trajectory_figure(recs, d, title="cosine loss, rho = 0.0313")])
    ['validation_trajectory.png', 'validation_trajectory.pdf']
    """
    return save(draw_trajectory(records, title=title), out_dir, name)


@styled
def draw_comparison(runs: dict, ax=None):
    """max |p| of the top-8 eigenvalues relative to initial, and the predicted regime, per run
    (label -> records)."""
    fig, axs = axes_for(ax, 2, figsize=(8.6, 3.4))
    codes = {"Collapse": 0, "Boundary": 1, "Acute": 2, "Stable": 3}
    for i, (label, records) in enumerate(runs.items()):
        recs = [r for r in records if r.get("finite")]
        if not recs:
            raise ParameterError(f"each run must have a finite record; run {label!r} has none among {len(records)}")
        e = _epochs(recs)
        m = np.nanmax(np.abs(_tops(recs)), axis=1)
        axs[0].semilogy(e, m / m[0], color=PALETTE[i % len(PALETTE)], label=label)
        regs = [(r.get("theory") or {}).get("regime") for r in recs]
        axs[1].step(e, [codes.get(g, math.nan) for g in regs], where="mid",
                    color=PALETTE[i % len(PALETTE)], label=label)
    axs[0].axhline(1e-3, color="k", ls=":", lw=0.8, label="collapse threshold 1e-3")
    axs[0].set_xlabel("epoch")
    axs[0].set_ylabel(r"$\max_j|p_j|$ / initial")
    axs[0].legend(fontsize=7)
    axs[1].set_yticks(list(codes.values()), list(codes))
    axs[1].set_xlabel("epoch")
    axs[1].set_title("predicted regime", fontsize=9)
    return fig


def comparison_figure(runs: dict, out_dir: str | Path, name: str = "validation_l2_vs_cosine") -> list:
    r""":func:`draw_comparison`, saved as ``name``.png/.pdf; returns the paths.

    Left: :math:`\max_j|p_j|` of the top-8 eigenvalues over its initial value, per run, with the
    collapse threshold :math:`10^{-3}`; right: the predicted regime of each epoch.

    Parameters
    ----------
    runs : dict
        Legend label -> the run's records (:func:`read_metrics`); the finite records are drawn.
    out_dir : str or pathlib.Path
        The folder to write into (created if missing).
    name : str, optional
        The stem of both files (default ``validation_l2_vs_cosine``, the L2 versus cosine runs).

    Returns
    -------
    list of pathlib.Path
        The PNG, then the PDF.

    Raises
    ------
    ParameterError
        For a run without a finite record, or when :func:`save` cannot write.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from figures import comparison_figure, read_metrics
    >>> import figures
    >>> runs = Path(figures.__file__).parents[1] / "sims" / "results" / "trajectory"
    >>> cos, l2 = read_metrics(runs / "cosine-h128"), read_metrics(runs / "l2-rho0.25")
    >>> cos[-1]["theory"]["regime"], l2[-1]["theory"]["regime"]   # l2: rho = 0.25 > eta_c = 1/6
    ('Acute', 'Collapse')
    >>> with tempfile.TemporaryDirectory() as d:
    ...     print([p.name for p in comparison_figure({"cosine": cos, "l2": l2}, d)])
    ['validation_l2_vs_cosine.png', 'validation_l2_vs_cosine.pdf']
    """
    return save(draw_comparison(runs), out_dir, name)


def run_label(summary) -> str:
    """``cosine loss, rho = 0.01, lr = 0.025`` for a legend."""
    return f"{summary['loss']} loss, rho = {summary['rho']:g}, lr = {summary['lr']:g}"


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if len(argv) < 4 or argv[0] != "compare" or "--out" not in argv:
        sys.stderr.write("usage: python -m figures.validation compare RUN_DIR... --out DIR\n")
        return 2
    i = argv.index("--out")
    out, dirs = argv[i + 1], argv[1:i] + argv[i + 2:]
    runs = {}
    for d in dirs:
        s = json.loads((Path(d) / "summary.json").read_text())
        runs[run_label(s)] = read_metrics(d)
    for p in comparison_figure(runs, out):
        print(p)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
