"""``summary.json`` of a run: :func:`summarize` of its records, and the command line that made it."""
from __future__ import annotations

import math
import sys

import numpy as np

from ..io import versions
from .config import TrainConfig


def summarize(cfg: TrainConfig, result: dict, command: str) -> dict:
    """``summary.json``: the run's recipe, its measured outcome (:func:`measured_outcome`), the
    regime history and end state.

    ``initial_regime`` / ``final_regime`` are the fixed-norm theory (Bao 2023 eq. 7 for cosine,
    Tian et al. 2021 for L2) evaluated at the *measured* norms of the first / last finite
    checkpoint: a theory reading, not a measurement (for L2 the regime does not depend on the
    norms, so the two are equal by construction); ``final_regime`` is None for a diverged run.
    ``measured_outcome`` is the measurement: what the spectrum did."""
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
        "initial_regime": th0.get("regime"),
        "final_regime": None if result["diverged"] else th1.get("regime"),
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
        "effective_rank_final": last_finite.get("effective_rank"),
        "p_final": last_finite.get("p"), "checkpoint_steps": series("step"),
        "max_abs_p": [float(np.max(np.abs(r["p"]))) if r.get("finite") and r.get("p") else None for r in recs],
        **measured_outcome(cfg.loss, cfg.rho, cfg.sigma2, recs, result["diverged"]),
        "images_per_s": result["images_per_s"], "gpu_utilisation": result["gpu_utilisation"],
        "versions": versions(), "command": command,
    }


def measured_outcome(loss: str, rho: float, sigma2: float, records: list, diverged: bool = False) -> dict:
    r"""The measured outcome of a run from its checkpoints' spectra, by the rule the theory uses.

    The rule is :mod:`dynamics.recipe_outcome`'s, applied to the measured eigenvalues :math:`p_j` of
    the symmetrised :math:`W` at every checkpoint: ``collapse`` if the whole spectrum fell below
    1e-3 of its start (``measured_collapse_step`` the first such checkpoint's step); ``survive`` if
    not, and the largest eigenvalue at the end lies within a factor 2 of the fixed-norm stable
    eigenvalue :math:`p_4` at the final measured norms; ``unsettled`` otherwise (also for a diverged
    run). ``surviving_modes`` counts :math:`p_j\ge0.25\,p_4` (0 when collapsed or diverged).

    Parameters
    ----------
    loss : {'cosine', 'l2'}
    rho, sigma2 : float
        The run's weight decay and augmentation variance.
    records : list of dict
        The checkpoints in order, each with ``step``, ``finite``, ``p`` (the whole spectrum),
        ``n_phi``, ``n_psi``, ``trace``.
    diverged : bool, optional
        The run diverged.

    Returns
    -------
    dict
        ``measured_outcome``, ``measured_collapse_step``, ``surviving_modes``, ``p_ref_final``
        (:math:`p_4` at the final norms, None if none).

    Examples
    --------
    >>> from sims.train.summary import measured_outcome
    >>> recs = [{"step": 0, "finite": True, "p": [0.5, 0.2], "n_phi": 1, "n_psi": 1, "trace": 0},
    ...         {"step": 5, "finite": True, "p": [4e-4, 1e-4], "n_phi": 1, "n_psi": 1, "trace": 0}]
    >>> measured_outcome("l2", 0.3, 0.5, recs)
    {'measured_outcome': 'collapse', 'measured_collapse_step': 5, 'surviving_modes': 0, 'p_ref_final': None}
    """
    from dynamics.recipe_outcome import (COLLAPSE_FRACTION, OUTCOMES, classify_outcome, stable_eigenvalue,
                                         surviving_count)

    recs = [r for r in records if r.get("finite") and r.get("p")]
    if not recs:
        return {"measured_outcome": "unsettled", "measured_collapse_step": None, "surviving_modes": 0,
                "p_ref_final": None}
    p_start = float(np.max(np.abs(recs[0]["p"])))
    step = next((int(r["step"]) for r in recs if float(np.max(np.abs(r["p"]))) < COLLAPSE_FRACTION * p_start), None)
    last = recs[-1]
    p = np.sort(np.asarray(last["p"], dtype=np.float64))[::-1]
    try:
        p_ref = float(stable_eigenvalue(loss, rho, sigma2, last["n_phi"], last["n_psi"], last["trace"]))
    except (TypeError, ValueError):
        p_ref = math.nan
    collapsed = step is not None
    code = 2 if diverged else int(classify_outcome(collapsed, p[0], p_ref))
    return {"measured_outcome": OUTCOMES[code], "measured_collapse_step": step,
            "surviving_modes": 0 if diverged else int(surviving_count(p, p_ref, collapsed)[0]),
            "p_ref_final": p_ref if math.isfinite(p_ref) else None}


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
