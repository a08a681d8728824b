"""``summary.json`` of a run: :func:`summarize` of its records, and the command line that made it."""
from __future__ import annotations

import math
import sys

import numpy as np

from ..io import versions
from .config import TrainConfig


def summarize(cfg: TrainConfig, result: dict, command: str) -> dict:
    """``summary.json``: the issue's named fields plus the run's regime history and end state."""
    recs = [r for r in result["records"] if not r.get("early")]
    first = recs[0]
    for r in reversed(recs):   # last finite record for the end state
        if r["finite"]:
            last_finite = r
            break
    else:
        last_finite = first
    th0, th1 = first.get("theory") or {}, last_finite.get("theory") or {}
    basin = th1.get("in_basin_top") if th1.get("ok") else None
    rel = [x for x in (th1.get("rel_dist_p4_top") or []) if x is not None]
    regimes = [(r["epoch"], (r.get("theory") or {}).get("regime")) for r in result["records"]]
    changes = [{"epoch": e, "regime": g} for i, (e, g) in enumerate(regimes) if i == 0 or g != regimes[i - 1][1]]
    acute = [e for e, g in regimes if g == "Acute"]

    def series(key):
        return [r.get(key) for r in recs]

    p0 = np.abs(np.asarray(first["p_top"] or [np.nan]))
    p1 = np.abs(np.asarray(last_finite["p_top"] or [np.nan]))
    import torch

    return {
        "mode": cfg.mode, "loss": cfg.loss, "device": cfg.device,
        "device_name": torch.cuda.get_device_name(0) if cfg.device == "cuda" else "cpu",
        "processes": result["world"],
        "epochs": result["epochs_done"], "epochs_planned": cfg.epochs,
        "steps_per_epoch": recs[1]["step"] - recs[0]["step"] if len(recs) > 1 else None,
        "batch": cfg.batch, "lr": cfg.base_lr, "momentum": cfg.momentum, "rho": cfg.rho, "sigma2": cfg.sigma2, "d": cfg.d, "h": cfg.h,
        "seed": cfg.seed, "data": result["data"],
        "diverged": result["diverged"],
        "basin_fraction_top8": float(np.mean(basin)) if basin else None,
        "median_rel_dist_p4": float(np.median(rel)) if rel else None,
        "initial_regime": th0.get("regime"), "final_regime": th1.get("regime"),
        "critical_initial": th0.get("critical_value"), "critical_final": th1.get("critical_value"),
        "critical_name": th1.get("critical_name") or th0.get("critical_name"),
        "first_acute_epoch": acute[0] if acute else None,
        "regime_changes": changes,
        "p4_final": th1.get("p4"), "p_top_final": last_finite["p_top"], "s_top_final": last_finite["s_top"],
        "p_top_initial": first["p_top"],
        "max_abs_p_ratio_final_initial": float(np.max(p1) / np.max(p0)) if np.all(np.isfinite(p0)) and np.max(p0) > 0 else None,
        "max_abs_p_all_ratio_final_initial": _ratio(last_finite["p"], first["p"]),
        "n_phi": [series("n_phi")[0], last_finite["n_phi"]], "n_psi": [series("n_psi")[0], last_finite["n_psi"]],
        "trace": [series("trace")[0], last_finite["trace"]],
        "asymmetry": {"initial": first["asymmetry"], "final": last_finite["asymmetry"],
                      "max": _nanmax(series("asymmetry"))},
        "commutator": {"initial": first["commutator"], "final": last_finite["commutator"],
                       "max": _nanmax(series("commutator"))},
        "rankme_final": last_finite.get("rankme"), "std_l2_final": last_finite.get("std_l2"),
        "images_per_s": result["images_per_s"], "gpu_utilisation": result["gpu_utilisation"],
        "versions": versions(), "command": command,
    }


def _ratio(p_end, p_start):
    """max_j |p_j| at the end over max_j |p_j| at the start, over all eigenvalues of W."""
    if not p_end or not p_start:
        return None
    a, b = float(np.max(np.abs(p_end))), float(np.max(np.abs(p_start)))
    return a / b if b > 0 else None


def _nanmax(xs):
    xs = [x for x in xs if x is not None and math.isfinite(x)]
    return max(xs) if xs else None


def main_command() -> str:
    import shlex
    return " ".join(shlex.quote(a) for a in ["ssldyn", *sys.argv[1:]]) if sys.argv else "ssldyn"
