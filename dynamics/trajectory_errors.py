r"""A predicted trajectory against a training run: the legacy eq. 5 flow under the same time map,
and the per-checkpoint errors of any prediction (:func:`trajectory_errors`).

The prediction itself is :func:`dynamics.sgd_mean_field.sgd_mean_field`; this module only
compares. Used by :mod:`sims.trajectory` and the validation summaries.
"""
from __future__ import annotations

import math

import numpy as np

from symbolic.errors import ParameterError


# --- the legacy flow (eq. 5) -----------------------------------------------------------------
def legacy_eq5(p0, s0, t, rho: float, sigma2: float, loss: str = "cosine", top: int = 8) -> dict:
    r"""Bao eq. 5 (cosine: with the self-pairing term, :math:`1-p_j(T+2p_js_j)/N_\Psi^2`) or the
    L2 eigen flow :math:`\dot p_j=(1-ap_j)s_j-\rho p_j`, :math:`\dot s_j=2p_j(1-ap_j)s_j-2\rho s_j`,
    integrated (LSODA, rtol 1e-8) from :math:`(p_0,s_0)` to the times ``t`` of the time map.
    Returns ``{"p": [...], "n_phi", "n_psi", "trace", "t_end", "status"}``; entries past a finite-time
    collapse (:math:`N_\Psi\to0`) or blow-up are None and ``status`` is 3 there."""
    from scipy.integrate import solve_ivp

    a = 1.0 + sigma2
    p0 = np.asarray(p0, dtype=np.float64)
    s0 = np.asarray(s0, dtype=np.float64)
    h = p0.size

    def rhs(_, y):
        p, s = y[:h], y[h:]
        if loss == "l2":
            r = (1.0 - a * p) * s
            return np.concatenate([r - rho * p, 2 * p * r - 2 * rho * s])
        n_phi = math.sqrt(max(s.sum(), 1e-300))
        n_psi2 = max(float((p * p * s).sum()), 1e-300)
        T = float((p * s).sum())
        c = s * (1.0 - p * (T + 2 * p * s) / n_psi2) / (a * n_phi * math.sqrt(n_psi2))
        return np.concatenate([c - rho * p, 2 * p * c - 2 * rho * s])

    def dead(_, y):
        p, s = y[:h], y[h:]
        return float((p * p * s).sum()) - 1e-14 * max(1.0, float((p0 * p0 * s0).sum()))
    dead.terminal = True

    t = np.asarray(t, dtype=np.float64)
    sol = solve_ivp(rhs, (0.0, float(t[-1])), np.concatenate([p0, s0]), method="LSODA", t_eval=t,
                    rtol=1e-8, atol=1e-14, events=dead if loss == "cosine" else None)
    # solve_ivp leaves t and y as empty lists when it fails before the first output time
    sol_t = np.asarray(sol.t, dtype=np.float64).ravel()
    sol_y = np.asarray(sol.y, dtype=np.float64).reshape(2 * h, sol_t.size)
    out = {"p": [], "s": [], "n_phi": [], "n_psi": [], "trace": [], "status": 0 if sol.status == 0 else 3,
           "t_end": float(sol_t[-1]) if sol_t.size else 0.0}
    for i in range(t.size):
        if i < sol_t.size and np.all(np.isfinite(sol_y[:, i])):
            p, s = sol_y[:h, i], sol_y[h:, i]
            o = np.argsort(-p, kind="stable")
            out["p"].append(p[o].tolist())
            out["s"].append(s[o].tolist())
            out["n_phi"].append(math.sqrt(max(s.sum(), 0.0)))
            out["n_psi"].append(math.sqrt(max(float((p * p * s).sum()), 0.0)))
            out["trace"].append(float((p * s).sum()))
        else:
            out["status"] = 3
            for key in ("p", "s", "n_phi", "n_psi", "trace"):
                out[key].append(None)
    return out


# --- comparison with a run -------------------------------------------------------------------
def _rel(a, b):
    """|a - b| / |b| (None where either is missing or b is 0)."""
    if a is None or b is None or not math.isfinite(a) or not math.isfinite(b) or b == 0:
        return None
    return abs(a - b) / abs(b)


def _median(xs):
    xs = [x for x in xs if x is not None]
    return float(np.median(xs)) if xs else None


def _regime(rho, sigma2, n_phi, n_psi, T):
    """Bao eq. 7 regime at the given norms (None when they are not valid parameters)."""
    from .equilibria import find_equilibria
    from .params import CosineParams

    try:
        return find_equilibria(CosineParams(rho=rho, sigma2=sigma2, n_phi=n_phi, n_psi=n_psi, trace=T)).regime
    except (ParameterError, ValueError, TypeError):
        return None


def trajectory_errors(pred: dict, measured: list, t, rho: float, sigma2: float, loss: str = "cosine",
                      top: int = 8, top_pred: list | None = None) -> dict:
    r"""Per checkpoint and overall errors of a predicted trajectory against measured checkpoints.

    ``pred``: ``{"p": [[...], ...], "n_phi": [...], "n_psi": [...], "trace": [...]}`` (one entry per
    checkpoint, eigenvalues descending; None past the prediction's end); ``measured``: dicts with
    ``p_top`` (descending), ``n_phi``, ``n_psi``, ``trace``. Returns ``per_checkpoint`` (the top-k
    median relative error and the norms' relative errors) and the summary numbers:
    ``median_rel_err_top8`` (median over checkpoints of the per-checkpoint median over the top-k),
    ``max_rel_err_top8``, ``rel_err_n_phi_final``, ``rel_err_n_psi_final``, ``lift_t_measured``,
    ``lift_t_predicted`` (first time the eq. 7 regime at the norms is Acute, cosine),
    ``median_rel_err_mean_surviving`` (the mean eigenvalue over the modes that survive in training,
    where ``measured`` carries the full spectrum ``p``: the part of the top-8 error that is not the
    noise spread, A3) and ``checkpoints_predicted`` (how many checkpoints the prediction reached;
    the medians are over those). ``top_pred`` (one list per checkpoint, or None): the predicted
    top-k when it is not the head of ``pred["p"]`` (a spread model's, :mod:`dynamics.spread_prediction`)."""
    per, reached = [], 0
    lift_m = lift_p = None
    for i, rec in enumerate(measured):
        pp = pred["p"][i] if i < len(pred["p"]) else None
        row = {"rel_err_top8": None, "rel_err_n_phi": None, "rel_err_n_psi": None, "rel_err_trace": None,
               "rel_err_mean_surviving": None}
        if pp is not None and rec.get("p_top"):
            reached += 1
            pm = list(rec["p_top"])[:top]
            head = pp if top_pred is None or top_pred[i] is None else top_pred[i]
            row["rel_err_top8"] = _median([_rel(x, y) for x, y in zip(head[:len(pm)], pm)])
            full = rec.get("p")
            if full and len(pp) >= len(full) and max(full) > 0:
                # the modes that survive in training (p > 0.2 max p): the mean over them is what (A3)
                # predicts; top-8 minus this is the noise spread the mean field does not carry
                srt = sorted(full, reverse=True)
                r = sum(1 for x in srt if x > 0.2 * srt[0])
                row["rel_err_mean_surviving"] = _rel(float(np.mean(pp[:r])), float(np.mean(srt[:r])))
            for key in ("n_phi", "n_psi", "trace"):
                row[f"rel_err_{key}"] = _rel(pred[key][i], rec.get(key))
        per.append(row)
        if loss == "cosine":
            if lift_m is None and rec.get("n_psi") and _regime(rho, sigma2, rec["n_phi"], rec["n_psi"], rec["trace"]) == "Acute":
                lift_m = float(t[i])
            if lift_p is None and pp is not None and pred["n_psi"][i] and \
                    _regime(rho, sigma2, pred["n_phi"][i], pred["n_psi"][i], pred["trace"][i]) == "Acute":
                lift_p = float(t[i])
    errs = [r["rel_err_top8"] for r in per]
    finite = [e for e in errs if e is not None]
    last = per[-1] if per else {}
    return {
        "per_checkpoint": per,
        "median_rel_err_top8": _median(errs),
        "max_rel_err_top8": max(finite) if finite else None,
        "rel_err_n_phi_final": last.get("rel_err_n_phi"),
        "rel_err_n_psi_final": last.get("rel_err_n_psi"),
        "median_rel_err_mean_surviving": _median([r["rel_err_mean_surviving"] for r in per]),
        "median_rel_err_n_phi": _median([r["rel_err_n_phi"] for r in per]),
        "median_rel_err_n_psi": _median([r["rel_err_n_psi"] for r in per]),
        "lift_t_measured": lift_m,
        "lift_t_predicted": lift_p,
        "checkpoints": len(measured),
        "checkpoints_predicted": reached,
    }


def band_errors(pred: dict, measured: list, fraction: float = 0.2, from_step: int = 100) -> dict:
    r"""The predicted surviving band against the measured one, per checkpoint and overall.

    The measured band is the modes of the full spectrum ``p`` of a checkpoint above ``fraction``
    of its largest eigenvalue (:func:`dynamics.band_spread.band_stats`, the project's rule).

    Parameters
    ----------
    pred : dict
        ``band_mean``, ``band_sd``, ``band_r``: one entry per checkpoint (None past the end).
    measured : list of dict
        Checkpoints with ``step`` and the full spectrum ``p`` (checkpoints without it are skipped).
    fraction : float, optional
        The survival threshold.
    from_step : int, optional
        The sd ratio's range is taken over the checkpoints from this step on.

    Returns
    -------
    dict
        ``per_checkpoint`` (measured and predicted band mean, sd, count, the relative errors of the
        mean and sd and ``sd_ratio`` predicted / measured), ``median_rel_err_sd``,
        ``median_rel_err_band_mean``, ``sd_ratio_min``, ``sd_ratio_max`` (from ``from_step`` on) and
        ``median_abs_err_band_r``.

    Examples
    --------
    >>> from dynamics.trajectory_errors import band_errors
    >>> out = band_errors({"band_mean": [0.2], "band_sd": [0.1], "band_r": [2]},
    ...                   [{"step": 100, "p": [0.3, 0.1, 0.0]}])
    >>> round(out["median_rel_err_sd"], 12), round(out["sd_ratio_min"], 12), out["per_checkpoint"][0]["band_r_measured"]
    (0.0, 1.0, 2)
    """
    from .band_spread import band_stats

    per = []
    for i, rec in enumerate(measured):
        row = {"band_mean_measured": None, "band_sd_measured": None, "band_r_measured": None,
               "band_mean": None, "band_sd": None, "band_r": None, "rel_err_band_mean": None,
               "rel_err_sd": None, "sd_ratio": None}
        if i < len(pred["band_mean"]) and pred["band_mean"][i] is not None:
            row.update(band_mean=pred["band_mean"][i], band_sd=pred["band_sd"][i], band_r=pred["band_r"][i])
        if rec.get("p"):
            mm, ms, mr = band_stats(rec["p"], fraction)
            row.update(band_mean_measured=mm, band_sd_measured=ms, band_r_measured=mr)
            row["rel_err_band_mean"] = _rel(row["band_mean"], mm)
            row["rel_err_sd"] = _rel(row["band_sd"], ms)
            if row["band_sd"] is not None and ms > 0:
                row["sd_ratio"] = row["band_sd"] / ms
        per.append(row)
    late = [r["sd_ratio"] for r, rec in zip(per, measured)
            if r["sd_ratio"] is not None and rec.get("step", 0) >= from_step]
    dr = [abs(r["band_r"] - r["band_r_measured"]) for r in per
          if r["band_r"] is not None and r["band_r_measured"] is not None]
    return {"per_checkpoint": per, "median_rel_err_sd": _median([r["rel_err_sd"] for r in per]),
            "median_rel_err_band_mean": _median([r["rel_err_band_mean"] for r in per]),
            "sd_ratio_min": min(late) if late else None, "sd_ratio_max": max(late) if late else None,
            "median_abs_err_band_r": _median(dr)}
