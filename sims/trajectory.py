r"""The theory trajectory of a linear SimSiam run, checkpoint by checkpoint.

From a run's initial weights :math:`(W_0,\Phi_0)` (rebuilt bit-exactly from its seed, or given)
and its recipe (lr schedule, momentum, weight decay, batch, :math:`\sigma^2`, loss),
:func:`dynamics.sgd_mean_field.sgd_mean_field` predicts the eigenvalues and norms at every
checkpoint; the legacy eq. 5 flow (:func:`dynamics.trajectory_errors.legacy_eq5`, under the heavy-ball
time map) is computed beside it. ``ssldyn validate linear`` calls :func:`annotate_records`;
:func:`predict_run` is the entry point for a run made elsewhere.
"""
from __future__ import annotations

import math
import os
from typing import Any, Callable

import numpy as np
from numpy.typing import ArrayLike

from dynamics.sgd_mean_field import Recipe, epoch_lrs, flow_time
from dynamics.spread_prediction import SPREAD_MODELS, spread_prediction
from dynamics.trajectory_errors import band_errors, legacy_eq5, trajectory_errors
from symbolic.errors import ParameterError, check_choice

TOP = 8
#: the spread model of ``ssldyn validate linear`` and :func:`repredict` (dynamics.spread_prediction)
DEFAULT_SPREAD_MODEL = "linear"


def recipe_of(cfg: Any, steps_per_epoch: int) -> Recipe:
    r"""The :class:`Recipe` of a ``sims.train.TrainConfig`` (its per-epoch cosine schedule).

    The rates are :func:`dynamics.sgd_mean_field.epoch_lrs`:
    :math:`\eta_e=\eta_0\tfrac12(1+\cos(\pi e/E))`, held for each epoch's steps.

    Parameters
    ----------
    cfg : sims.train.TrainConfig
        The run's configuration (any object with ``base_lr``, ``epochs``, ``momentum``, ``rho``,
        ``batch``, ``sigma2``, ``d`` and ``loss``).
    steps_per_epoch : int
        Optimiser steps per epoch, >= 1.

    Returns
    -------
    Recipe
        ``epochs * steps_per_epoch`` per-step rates and the run's optimiser settings.

    Raises
    ------
    ParameterError
        As :func:`dynamics.sgd_mean_field.epoch_lrs` and :class:`dynamics.sgd_mean_field.Recipe`.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from sims import recipe_of
    >>> cfg = SimpleNamespace(base_lr=0.1, epochs=2, momentum=0.9, rho=0.01, batch=64, sigma2=0.5, d=4,
    ...                       loss="cosine")
    >>> recipe_of(cfg, 2).lrs
    (0.1, 0.1, 0.05, 0.05)
    """
    return Recipe(lrs=epoch_lrs(cfg.base_lr, cfg.epochs, steps_per_epoch), momentum=cfg.momentum,
                  rho=cfg.rho, batch=cfg.batch, sigma2=cfg.sigma2, d=cfg.d, loss=cfg.loss)


def initial_weights(cfg) -> tuple[np.ndarray, np.ndarray]:
    """:math:`(W_0,\\Phi_0)` of a linear run, drawn exactly as ``sims.train.Trainer`` draws them
    (same generator, seed and order; torch needed)."""
    import torch

    from .train import build_model

    gen = torch.Generator(device=cfg.device)
    gen.manual_seed(cfg.seed)
    model = build_model(cfg, gen, torch.device(cfg.device))
    return (model.w_matrix().detach().double().cpu().numpy(), model.phi_matrix().detach().double().cpu().numpy())


def _block(pred_p, pred_s, n_phi, n_psi, trace, top=TOP):
    return {"p_top": None if pred_p is None else list(pred_p[:top]),
            "s_top": None if pred_s is None else list(pred_s[:top]),
            "n_phi": n_phi, "n_psi": n_psi, "trace": trace}


def predict_run(recipe: Recipe, measured: list[dict], W0: ArrayLike | None = None, Phi0: ArrayLike | None = None,
                level: str = "eigen", legacy: bool = True, progress: Callable[[int], object] | None = None,
                spread_model: str = DEFAULT_SPREAD_MODEL) -> dict:
    r"""Predict a linear SimSiam run and compare it with its checkpoints.

    ``measured``: one dict per checkpoint with ``step`` (optimizer steps done), ``p_top`` (the
    top eigenvalues of the symmetrised :math:`W`, descending), ``n_phi``, ``n_psi``, ``trace``.
    ``W0`` (h x h), ``Phi0`` (h x d): the run's initial weights. Returns ``{"prediction": [per
    checkpoint blocks], "legacy": [...], "trajectory": summary numbers, "t": times}``.

    The prediction is :func:`dynamics.sgd_mean_field.sgd_mean_field` (the discrete mean-field map
    of heavy-ball SGD) with a spread model on top (:func:`dynamics.spread_prediction.spread_prediction`:
    ``'linear'``, the heavy-ball linear response of the surviving band to the minibatch noise
    composed with GOE order statistics; ``'langevin'``, the Langevin matrix map; ``'none'``, the
    mean map's own spectrum); the legacy one is Bao 2023 eq. 5 under the time map
    :math:`t_k=\sum_{i<k}\eta_i(1-m^{k-i})/(1-m)` (:func:`dynamics.sgd_mean_field.flow_time`).

    Parameters
    ----------
    recipe : Recipe
        The run's optimiser recipe (:func:`recipe_of`).
    measured : list of dict
        One dict per checkpoint: ``step``, ``p_top``, ``n_phi``, ``n_psi``, ``trace`` (and optionally
        ``norm_w``), steps non-decreasing.
    W0, Phi0 : array_like
        The run's initial weights, ``(h, h)`` and ``(h, recipe.d)``. Required.
    level : {'eigen', 'matrix'}, optional
        The map's level (:func:`dynamics.sgd_mean_field.sgd_mean_field`).
    legacy : bool, optional
        Also compute the legacy eq. 5 flow and its errors.
    progress : callable, optional
        Called with the number of map steps done.
    spread_model : {'linear', 'langevin', 'none'}, optional
        The spread model of the top eigenvalues and the band.

    Returns
    -------
    dict
        ``prediction`` (per checkpoint: top eigenvalues, norms and relative errors), ``t`` (flow
        times), ``trajectory`` (summary errors, status, collapse flags, validity, ``spread_model``,
        the band's ``median_rel_err_sd``, ``sd_ratio_min`` / ``max`` from step 100 on, and
        ``median_rel_err_top8_mean_field``, the mean map's own top-8), ``validity``,
        and with ``legacy`` the ``legacy`` blocks (their summary under
        ``trajectory["legacy_eq5"]``).

    Raises
    ------
    ParameterError
        If ``W0`` or ``Phi0`` is missing, ``measured`` is empty or a checkpoint lacks an integer
        ``step``, or as :func:`dynamics.sgd_mean_field.sgd_mean_field`.

    Examples
    --------
    Checkpoints measured from the map itself are predicted with zero error by the mean map alone
    (``spread_model='none'``):

    >>> import numpy as np
    >>> from dynamics import Recipe, epoch_lrs, sgd_mean_field
    >>> from sims import predict_run
    >>> rec = Recipe(lrs=epoch_lrs(0.05, 2, 5), momentum=0.9, rho=0.01, batch=64, sigma2=0.5, d=4)
    >>> W0, Phi0 = 0.5 * np.eye(4), np.diag([1.0, 0.8, 0.6, 0.4])
    >>> m = sgd_mean_field(W0, Phi0, rec, [0, 5, 10])
    >>> measured = [{"step": int(k), "p_top": p, "n_phi": a, "n_psi": b, "trace": c}
    ...             for k, p, a, b, c in zip(m.steps, m.p, m.n_phi, m.n_psi, m.trace)]
    >>> out = predict_run(rec, measured, W0, Phi0, legacy=False, spread_model="none")
    >>> out["trajectory"]["max_rel_err_top8"], out["trajectory"]["checkpoints_predicted"]
    (0.0, 3)
    """
    if W0 is None or Phi0 is None:
        raise ParameterError("predict_run needs the run's W0 and Phi0 (sims.trajectory.initial_weights "
                             "rebuilds them from a TrainConfig's seed)")
    if not measured:
        raise ParameterError("measured must hold at least one checkpoint")
    try:
        steps = np.array([int(r["step"]) for r in measured], dtype=np.int64)
    except (KeyError, TypeError, ValueError):
        raise ParameterError("every measured checkpoint needs an integer 'step'") from None
    check_choice("spread_model", spread_model, SPREAD_MODELS)
    sp = spread_prediction(W0, Phi0, recipe, steps, model=spread_model, level=level, top=TOP, progress=progress)
    mf = sp["mean_field"]
    t = flow_time(recipe.lrs, recipe.momentum)[steps]
    n = len(mf["p"])
    blocks = [_block(sp["top"][i], mf["s"][i], mf["n_phi"][i], mf["n_psi"][i], mf["trace"][i]) if i < n
              else _block(None, None, None, None, None) for i in range(steps.size)]
    as_lists = {"p": [mf["p"][i] if i < n else None for i in range(steps.size)], "n_phi": [b["n_phi"] for b in blocks],
                "n_psi": [b["n_psi"] for b in blocks], "trace": [b["trace"] for b in blocks]}
    top_pred = [sp["top"][i] if i < n else None for i in range(steps.size)]
    traj = trajectory_errors(as_lists, measured, t, recipe.rho, recipe.sigma2, recipe.loss, TOP, top_pred=top_pred)
    per = traj.pop("per_checkpoint")
    mean_only = trajectory_errors(as_lists, measured, t, recipe.rho, recipe.sigma2, recipe.loss, TOP)
    bands = band_errors(sp, measured)
    bper = bands.pop("per_checkpoint")
    for b, e, be, i in zip(blocks, per, bper, range(steps.size)):
        b.update(e)
        b.update(be)
        b["kappa_dt"] = mf["kappa_dt"][i] if i < n else None
        b["p_top_mean_field"] = list(mf["p"][i][:TOP]) if i < n else None
        b["rel_err_top8_mean_field"] = mean_only["per_checkpoint"][i]["rel_err_top8"]
        b["spread_model"] = spread_model
    traj.update(bands)
    traj["median_rel_err_top8_mean_field"] = mean_only["median_rel_err_top8"]
    traj["max_rel_err_top8_mean_field"] = mean_only["max_rel_err_top8"]
    traj["spread_model"] = spread_model
    traj["status"], traj["message"], traj["level"] = sp["status"], mf["message"], level
    traj["collapsed_measured"] = _collapsed(measured[0].get("p_top"), measured[-1].get("p_top"))
    traj["collapsed_predicted"] = _collapsed(blocks[0]["p_top"], blocks[-1]["p_top"]) if n == steps.size else True
    out = {"prediction": blocks, "t": t.tolist(), "trajectory": traj}
    if legacy:
        W0 = np.asarray(W0, dtype=np.float64)
        p0, U = np.linalg.eigh(0.5 * (W0 + W0.T))
        s0 = np.sum((U.T @ np.asarray(Phi0, dtype=np.float64)) ** 2, axis=1)
        leg = legacy_eq5(p0, s0, t, recipe.rho, recipe.sigma2, recipe.loss)
        lblocks = [_block(leg["p"][i], leg["s"][i], leg["n_phi"][i], leg["n_psi"][i], leg["trace"][i])
                   for i in range(steps.size)]
        lt = trajectory_errors(leg, measured, t, recipe.rho, recipe.sigma2, recipe.loss, TOP)
        lper = lt.pop("per_checkpoint")
        for b, e in zip(lblocks, lper):
            b.update(e)
        lt["status"], lt["t_end"] = leg["status"], leg["t_end"]
        out["legacy"] = lblocks
        out["trajectory"]["legacy_eq5"] = lt
    # validity indicators of the comparison (measured norms x e^{rho t}, the map's kappa dt)
    rho = recipe.rho
    ind = {"norm_w_exp_rho_t": [], "n_phi_exp_rho_t": [], "kappa_dt": [b["kappa_dt"] for b in blocks]}
    for r, ti in zip(measured, t):
        f = math.exp(rho * ti) if rho * ti < 700 else None
        ind["norm_w_exp_rho_t"].append(r.get("norm_w") * f if f and r.get("norm_w") is not None else None)
        ind["n_phi_exp_rho_t"].append(r.get("n_phi") * f if f and r.get("n_phi") is not None else None)
    out["validity"] = ind
    kd = [x for x in ind["kappa_dt"] if x is not None]
    out["trajectory"]["validity"] = {
        "norm_w_exp_rho_t": [_first(ind["norm_w_exp_rho_t"]), _last(ind["norm_w_exp_rho_t"])],
        "n_phi_exp_rho_t": [_first(ind["n_phi_exp_rho_t"]), _last(ind["n_phi_exp_rho_t"])],
        "kappa_dt_max": max(kd) if kd else None,
        "note": "the flows hold while ||W|| e^{rho t}, ||Phi|| e^{rho t} stay constant and kappa dt << 1 - m; "
                "the map needs neither",
    }
    return out


def _collapsed(p_first, p_last, tol: float = 1e-3):
    """max |p| at the end below ``tol`` x its initial value (the criterion of the regime figures)."""
    if not p_first or not p_last:
        return None
    return bool(max(abs(x) for x in p_last) < tol * max(abs(x) for x in p_first))


def _first(xs):
    return next((x for x in xs if x is not None), None)


def _last(xs):
    return next((x for x in reversed(xs) if x is not None), None)


def annotate_records(cfg, records: list, steps_per_epoch: int, level: str = "eigen", log=None,
                     spread_model: str = DEFAULT_SPREAD_MODEL) -> dict:
    """Add ``prediction`` and ``legacy_eq5`` blocks to each finite record of a linear run (in
    place) and return the summary's ``trajectory`` (``spread_model``: :func:`predict_run`)."""
    W0, Phi0 = initial_weights(cfg)
    measured = [r for r in records if r.get("finite") and r.get("p_top")]
    if not measured:
        return {"status": 1, "message": "no finite checkpoint to compare with"}
    recipe = recipe_of(cfg, steps_per_epoch)
    out = predict_run(recipe, measured, W0, Phi0, level=level, spread_model=spread_model)
    for r, b, lb, t in zip(measured, out["prediction"], out.get("legacy", [None] * len(measured)), out["t"]):
        r["t"] = t
        r["prediction"] = b
        if lb is not None:
            r["legacy_eq5"] = lb
    if log:
        tr = out["trajectory"]
        e = {k: math.nan if tr.get(k) is None else tr[k] for k in ("median_rel_err_top8", "rel_err_n_phi_final",
                                                                    "rel_err_n_psi_final", "median_rel_err_sd")}
        log(f"trajectory: median top-8 error {e['median_rel_err_top8']:.3g}, final N_Phi error "
            f"{e['rel_err_n_phi_final']:.3g}, N_Psi error {e['rel_err_n_psi_final']:.3g}, band sd error "
            f"{e['median_rel_err_sd']:.3g} ({spread_model} spread)")
    return out["trajectory"]


def config_of_summary(summary: dict):
    """The ``TrainConfig`` of a finished linear run from its ``summary.json``."""
    from .train import TrainConfig

    if summary.get("mode") != "linear":
        raise ParameterError(f"the trajectory prediction applies to linear runs; got mode {summary.get('mode')!r}")
    try:
        return TrainConfig(mode="linear", loss=summary["loss"], rho=summary["rho"], sigma2=summary["sigma2"],
                           epochs=summary["epochs_planned"], steps_per_epoch=summary["steps_per_epoch"],
                           batch=summary["batch"], lr=summary["lr"], momentum=summary.get("momentum", 0.9),
                           d=summary["d"], h=summary["h"], seed=summary["seed"], device="cpu")
    except KeyError as e:
        raise ParameterError(f"summary.json lacks {e.args[0]!r}; it is not a validate summary") from None


def repredict(run_dir: str | os.PathLike, level: str = "eigen", figures: bool = True,
              spread_model: str = DEFAULT_SPREAD_MODEL) -> dict:
    """Recompute the prediction of a finished ``ssldyn validate linear`` run in ``run_dir`` (its
    metrics.jsonl (or metrics.jsonl.gz, as committed) and summary.json are rewritten atomically,
    the trajectory figure redrawn).

    Parameters
    ----------
    run_dir : str or os.PathLike
        The run's folder, holding ``summary.json`` and ``metrics.jsonl``.
    level : {'eigen', 'matrix'}, optional
        The map's level (:func:`predict_run`).
    figures : bool, optional
        Redraw the trajectory figure (matplotlib) in ``run_dir``.
    spread_model : {'linear', 'langevin', 'none'}, optional
        The spread model (:func:`predict_run`).

    Returns
    -------
    dict
        The new ``trajectory`` summary (as written under ``summary.json``'s ``trajectory``).

    Raises
    ------
    ParameterError
        If ``run_dir`` does not hold a finished validate run (missing or unreadable files, a
        summary without the recipe's fields), or as :func:`predict_run`.

    Examples
    --------
    >>> from sims import repredict
    >>> repredict("no-such-run")
    Traceback (most recent call last):
    ...
    symbolic.errors.ParameterError: run_dir must hold a finished validate run (summary.json, metrics.jsonl); ...
    """
    import gzip
    import json
    from pathlib import Path

    from .io import atomic_write_bytes, plain, write_json

    run = Path(run_dir)
    zipped = not (run / "metrics.jsonl").exists() and (run / "metrics.jsonl.gz").exists()
    metrics = run / ("metrics.jsonl.gz" if zipped else "metrics.jsonl")
    try:
        summary = json.loads((run / "summary.json").read_text())
        text = gzip.decompress(metrics.read_bytes()).decode() if zipped else metrics.read_text()
        records = [json.loads(x) for x in text.splitlines() if x.strip()]
    except (OSError, ValueError) as e:
        raise ParameterError(f"run_dir must hold a finished validate run (summary.json, metrics.jsonl); {e}") from None
    cfg = config_of_summary(summary)
    summary["trajectory"] = annotate_records(cfg, records, cfg.steps_per_epoch, level=level, spread_model=spread_model)
    data = "".join(json.dumps(plain(r), allow_nan=False) + "\n" for r in records).encode()
    atomic_write_bytes(metrics, gzip.compress(data, mtime=0) if zipped else data)
    write_json(run / "summary.json", summary)
    if figures:
        from figures.validation import trajectory_figure

        title = f"linear / {summary.get('loss')} loss, rho = {summary.get('rho')}"
        trajectory_figure([r for r in records if r.get("finite")], run, title=title)
    return summary["trajectory"]


def main(argv=None) -> int:
    """``python -m sims.trajectory [--spread-model M] [--level L] [--no-figures] RUN_DIR...``:
    re-predict finished runs; bad input is one line, exit 2."""
    import sys

    args = list(sys.argv[1:] if argv is None else argv)
    opts = {"spread_model": DEFAULT_SPREAD_MODEL, "level": "eigen", "figures": True}
    dirs = []
    while args:
        a = args.pop(0)
        if a in ("--spread-model", "--level") and args:
            opts[a[2:].replace("-", "_")] = args.pop(0)
        elif a == "--no-figures":
            opts["figures"] = False
        else:
            dirs.append(a)
    if not dirs:
        sys.stderr.write("ssldyn: error: give one or more run folders of ssldyn validate linear\n")
        return 2
    for d in dirs:
        try:
            tr = repredict(d, **opts)
        except ParameterError as e:
            sys.stderr.write(f"ssldyn: error: {e}\n")
            return 2
        print(d, {k: tr.get(k) for k in ("median_rel_err_top8", "max_rel_err_top8", "median_rel_err_mean_surviving",
                                          "rel_err_n_phi_final", "rel_err_n_psi_final", "lift_t_measured",
                                          "lift_t_predicted", "median_rel_err_sd", "sd_ratio_min", "sd_ratio_max",
                                          "spread_model")})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
