"""Validation figures (like Bao 2023 Fig. 6, 9, 12) drawn from measured training records.

Each record is one line of a run's ``metrics.jsonl`` (see ``ssldyn validate``): measured
eigenvalues, norms, assumption checks and the theory overlay (regime, fate intervals, p4) computed
by ``sims.overlay``. These functions only plot the data given to them.

Command line (after two runs): ``python -m figures.validation compare RUN_DIR... --out DIR``.
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np

from .style import FATE_COLORS, PALETTE, REGIME_COLORS, figure, save


def read_metrics(run_dir) -> list:
    """Records of ``run_dir/metrics.jsonl`` (or its gzipped copy ``metrics.jsonl.gz``)."""
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


def eigen_figure(records, out_dir, name="validation_eigenvalues", title=""):
    """Leading eigenvalues of W (signs kept) over the predicted fate intervals, and p4."""
    fig, ax = figure(figsize=(6.0, 3.6))
    e = _epochs(records)
    tops = _tops(records)
    p4 = np.array([np.nan if (r.get("theory") or {}).get("p4") is None else r["theory"]["p4"] for r in records])
    vals = np.concatenate([tops[np.isfinite(tops)], p4[np.isfinite(p4)], [0.0]])
    span = float(np.max(np.abs(vals))) if vals.size else 1.0
    span = span if span > 0 else 1.0
    ylim = (min(-0.15 * span, float(np.min(vals)) * 1.15), 1.15 * span)
    _background(ax, records, ylim)
    for j in range(tops.shape[1]):
        ax.plot(e, tops[:, j], color=PALETTE[0], lw=0.9, alpha=0.8, label="top-8 $p_j$ of $W$" if j == 0 else None)
    ax.plot(e, p4, "k--", lw=1.2, label="predicted stable $p_4$")
    ax.set_ylim(*ylim)
    ax.set_xlabel("epoch")
    ax.set_ylabel("eigenvalue $p$")
    handles = [__import__("matplotlib.patches", fromlist=["Patch"]).Patch(color=c, alpha=0.4, label=f)
               for f, c in FATE_COLORS.items()]
    ax.legend(handles=ax.get_legend_handles_labels()[0] + handles, fontsize=7, loc="best")
    ax.set_title(title or "eigenvalues of $W$ over the predicted intervals (Bao eq. 7)")
    return save(fig, out_dir, name)


def norms_figure(records, out_dir, name="validation_norms"):
    """N_Phi, N_Psi, |T| and the regime of each epoch; asymmetry and commutator."""
    fig, axs = figure(1, 2, figsize=(8.0, 3.2))
    e = _epochs(records)
    ax = axs[0]
    for key, lab in (("n_phi", r"$N_\Phi$"), ("n_psi", r"$N_\Psi$"), ("trace", r"$|T|$")):
        y = np.abs(_col(records, key))
        if np.any(y > 0):
            ax.semilogy(e, y, label=lab)
    for i, r in enumerate(records):
        reg = (r.get("theory") or {}).get("regime")
        if reg:
            ax.axvspan(e[i] - 0.5, e[i] + 0.5, color=REGIME_COLORS.get(reg, "#ffffff"), alpha=0.12, lw=0)
    ax.set_xlabel("epoch")
    ax.set_title("norms (background: regime; red Collapse, yellow Acute)")
    ax.legend()
    ax = axs[1]
    for key, lab in (("asymmetry", r"$\|W-W^\top\|/\|W\|$"), ("commutator", r"$\|[W,\Phi\Phi^\top]\|/(\|W\|\|\Phi\Phi^\top\|)$")):
        y = _col(records, key)
        if np.any(y > 0):
            ax.semilogy(e, y, label=lab)
    ax.set_xlabel("epoch")
    ax.set_title("assumption checks")
    ax.legend()
    return save(fig, out_dir, name)


def collapse_figure(records, out_dir, name="validation_collapse"):
    """RankMe, effective and stable rank, and the std of l2-normalised outputs."""
    fig, axs = figure(1, 2, figsize=(8.0, 3.0))
    e = _epochs(records)
    for key in ("rankme", "effective_rank", "stable_rank"):
        axs[0].plot(e, _col(records, key), label=key)
    axs[0].set_xlabel("epoch")
    axs[0].legend()
    axs[1].plot(e, _col(records, "std_l2"), color=PALETTE[3])
    axs[1].set_xlabel("epoch")
    axs[1].set_title("std of l2-normalised outputs")
    return save(fig, out_dir, name)


def validation_figures(records, summary, out_dir) -> list:
    """All figures of one run (records without the early-step lines are used for backgrounds)."""
    recs = [r for r in records if r.get("finite")]
    if not recs:
        return []
    title = f"{summary.get('mode')} / {summary.get('loss')} loss, rho = {summary.get('rho')}"
    paths = eigen_figure(recs, out_dir, title=title)
    paths += norms_figure(recs, out_dir)
    paths += collapse_figure(recs, out_dir)
    if any(r.get("prediction") for r in recs):
        paths += trajectory_figure(recs, out_dir, title=title)
    return paths


def trajectory_figure(records, out_dir, name="validation_trajectory", title="") -> list:
    """Predicted lines (mean-field map; legacy eq. 5 dashed) over measured points: the top-8
    eigenvalues of W (log axis) and the norms N_Phi, N_Psi against the heavy-ball time t."""
    recs = [r for r in records if r.get("prediction")]
    t = np.array([r["t"] for r in recs], dtype=float)
    tt = np.maximum(t, t[t > 0].min() if np.any(t > 0) else 1.0)
    fig, axs = figure(1, 2, figsize=(9.0, 3.4))

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
    axs[0].set_xlabel("t (heavy-ball time)")
    axs[0].set_ylabel(r"top-8 $|p_j|$")
    axs[0].set_title("points: training; lines: map; dashed: eq. 5", fontsize=8)
    for key, label, c in (("n_phi", r"$N_\Phi$", PALETTE[0]), ("n_psi", r"$N_\Psi$", PALETTE[1])):
        axs[1].loglog(tt, _col(recs, key), "o", ms=2.5, color=c, label=label + " training")
        axs[1].loglog(tt, [r["prediction"][key] or np.nan for r in recs], "-", color=c, label=label + " map")
        if leg is not None:
            axs[1].loglog(tt, [(r.get("legacy_eq5") or {}).get(key) or np.nan for r in recs], "--", color=c,
                          lw=0.7, label=label + " eq. 5")
    axs[1].set_xlabel("t (heavy-ball time)")
    axs[1].legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=9)
    return save(fig, out_dir, name)


def comparison_figure(runs: dict, out_dir, name="validation_l2_vs_cosine") -> list:
    """max |p| of the top-8 eigenvalues relative to initial, per run (label -> records)."""
    fig, axs = figure(1, 2, figsize=(8.0, 3.2))
    for i, (label, records) in enumerate(runs.items()):
        recs = [r for r in records if r.get("finite")]
        e = _epochs(recs)
        m = np.nanmax(np.abs(_tops(recs)), axis=1)
        axs[0].semilogy(e, m / m[0], color=PALETTE[i % len(PALETTE)], label=label)
        regs = [(r.get("theory") or {}).get("regime") for r in recs]
        codes = {"Collapse": 0, "Boundary": 1, "Acute": 2, "Stable": 3}
        axs[1].step(e, [codes.get(g, math.nan) for g in regs], where="mid",
                    color=PALETTE[i % len(PALETTE)], label=label)
    axs[0].axhline(1e-3, color="k", ls=":", lw=0.8)
    axs[0].set_xlabel("epoch")
    axs[0].set_ylabel(r"$\max_j|p_j|$ / initial")
    axs[0].legend()
    axs[1].set_yticks([0, 1, 2, 3], ["Collapse", "Boundary", "Acute", "Stable"])
    axs[1].set_xlabel("epoch")
    axs[1].set_title("predicted regime")
    return save(fig, out_dir, name)


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
        runs[f"{s['loss']} (rho={s['rho']}, lr={s['lr']:g})"] = read_metrics(d)
    for p in comparison_figure(runs, out):
        print(p)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
