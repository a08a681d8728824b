r"""The ``train`` sweep task: each grid point is one linear SimSiam training run of a recipe.

Config (TOML)::

    model = "linear"           # the linear model on Gaussian data ("resnet18" is refused: CPU here)
    task = "train"
    [params]                   # the recipe of every run but for the grid axes (validate's flags)
    loss = "cosine"
    d = 32
    h = 32
    epochs = 120
    steps_per_epoch = 5
    [grid]                     # recipe axes: lists or {lo, hi, n, log}
    rho_factor = {lo = 0.1, hi = 50.0, n = 8, log = true}   # rho as a multiple of rho_c(init)
    sigma2 = [0.25, 0.5, 1.0]
    lr = [0.05, 0.1, 0.2]
    seed = [0, 1]

Axes and ``[params]`` keys: the fields of :class:`dynamics.recipe_outcome.LinearRecipe` (loss, d, h,
sigma2, rho, lr, momentum, batch, epochs, steps_per_epoch, seed) and ``rho_factor``: the weight
decay as a multiple of the critical decay at the run's initial weights (eq. 7 for cosine,
:math:`\eta_c=1/(4(1+\sigma^2))` for L2), the way trained grids are laid out around the classic
boundary. Every point's recipe is validated before the sweep starts. Each chunk is one run (torch,
one thread, so the bits do not depend on the machine's load); it stores the run's measured outcome
(:func:`sims.train.summary.measured_outcome`), the prediction of
:func:`dynamics.recipe_outcome.predict_outcome` from the run's own initial weights, the classic
answer, and the run's ``summary.json`` without its timings (``summary`` as JSON text).
"""
from __future__ import annotations

import json
import math

import numpy as np

from .axes import ConfigError, is_number, key_error, parse_axis

RECIPE_KEYS = ("loss", "d", "h", "sigma2", "rho", "lr", "momentum", "batch", "epochs", "steps_per_epoch", "seed")
AXIS_KEYS = tuple(k for k in RECIPE_KEYS if k != "loss") + ("rho_factor",)
MAX_RUNS = 5000
#: fields of a run summary that depend on the machine or the moment, not on the recipe
VOLATILE = ("images_per_s", "gpu_utilisation", "versions", "command", "device_name")
OUTPUTS = ("measured_outcome", "measured_collapse_step", "surviving_modes", "rankme", "effective_rank",
           "predicted_outcome", "predicted_collapse_step", "predicted_surviving_modes", "lift_step",
           "classic_outcome", "rho", "rho_c_init", "summary")


def parse_train(text, path, raw) -> tuple[dict, tuple]:
    """``(params, axes)`` of a ``task = "train"`` config (module docstring), every point's recipe
    checked; :func:`sims.sweep.config.parse_config` makes the :class:`~sims.sweep.config.SweepConfig`."""
    from symbolic.errors import ParameterError

    for key in raw:
        if key not in ("model", "task", "params", "grid", "chunk_size"):
            raise key_error(text, path, key, None, "task train takes model, task, [params] and [grid] only")
    if raw.get("model") != "linear":
        raise key_error(text, path, "model", None, f"task train trains the linear model: model = \"linear\" "
                        f"(resnet18 needs a GPU machine); got {raw.get('model')!r}")
    if raw.get("chunk_size", 1) != 1:
        raise key_error(text, path, "chunk_size", None, "task train runs one training run per chunk: 1")
    params = dict(raw.get("params", {}))
    for key, v in params.items():
        if key not in RECIPE_KEYS:
            raise key_error(text, path, key, "params", f"unknown recipe key (allowed: {', '.join(RECIPE_KEYS)})")
        if key == "loss" and v not in ("cosine", "l2"):
            raise key_error(text, path, key, "params", f"must be \"cosine\" or \"l2\"; got {v!r}")
        if key != "loss" and (not is_number(v) or not math.isfinite(v)):
            raise key_error(text, path, key, "params", f"must be a finite number; got {v!r}")
    axes = []
    for key, spec in raw.get("grid", {}).items():
        if key not in AXIS_KEYS:
            raise key_error(text, path, key, "grid", f"unknown recipe axis (allowed: {', '.join(AXIS_KEYS)})")
        if key in params or (key == "rho_factor" and "rho" in params) or (key == "rho" and "rho_factor" in raw["grid"]):
            raise key_error(text, path, key, "grid", "set in [params] or as rho and rho_factor together; give it once")
        axes.append((key, parse_axis(text, path, "grid", key, spec)))
    if not axes:
        raise ConfigError(f"{path}: [grid] needs at least one recipe axis ({', '.join(AXIS_KEYS)})")
    n = math.prod(len(v) for _, v in axes)
    if n > MAX_RUNS:
        raise ConfigError(f"{path}: the train sweep has {n} runs, over the limit of {MAX_RUNS}")
    try:
        for i in range(n):
            recipe_at(params, axes, i, weights=False)
    except ParameterError as e:
        raise ConfigError(f"{path}: [grid] point {i}: {e}") from None
    return params, tuple(axes)


def recipe_of_point(cfg, i: int, weights: bool = True):
    """``(recipe, factor)`` of point ``i`` (row-major over the axes); with ``rho_factor`` the decay is
    the factor times the critical decay at the point's initial weights (computed when ``weights``)."""
    return recipe_at(cfg.params, cfg.axes, i, weights)


def recipe_at(params: dict, axes, i: int, weights: bool = True):
    """:func:`recipe_of_point` from a config's ``params`` and ``axes`` (before the config is made)."""
    import dataclasses

    from dynamics.recipe_outcome import INT_AXES, LinearRecipe

    idx = np.unravel_index(i, tuple(len(v) for _, v in axes))
    values = dict(params)
    factor = None
    for (name, vals), j in zip(axes, idx):
        v = float(vals[j])
        if name == "rho_factor":
            factor = v
        else:
            values[name] = int(round(v)) if name in INT_AXES + ("d", "steps_per_epoch", "seed") else v
    if values.get("lr") is None:
        values["lr"] = 0.05 * values.get("batch", 512) / 256
    recipe = LinearRecipe(**values)
    if factor is not None:
        from symbolic.errors import check_range
        check_range("rho_factor", factor, 0.0, math.inf)
        if weights:
            recipe = dataclasses.replace(recipe, rho=factor * _critical(recipe))
    return recipe, factor


def _critical(recipe):
    from sims.commands.predict import exact_initial_weights

    W0, Phi0, _ = exact_initial_weights(recipe)
    return recipe.critical_init(W0, Phi0)


def train_points(cfg, lo, hi):
    """The recipes of points ``lo..hi-1`` (the task's points; no kernel rows)."""
    return [recipe_of_point(cfg, i)[0] for i in range(lo, hi)], None


def train_runs(cfg, recipes, _y0) -> dict:
    """Train each recipe (torch, one thread), measure its outcome, predict it; arrays per run."""
    import tempfile

    import torch

    from dynamics.recipe_outcome import OUTCOMES, predict_outcome
    from sims.commands.predict import exact_initial_weights
    from sims.train import TrainConfig, check_config, summarize
    from sims.train.trainer import train

    torch.set_num_threads(1)
    try:                                     # one BLAS thread too: bits independent of the load
        from threadpoolctl import threadpool_limits
        threadpool_limits(1)
    except ImportError:
        pass
    rows = []
    for r in recipes:
        tc = TrainConfig(mode="linear", loss=r.loss, rho=r.rho, sigma2=r.sigma2, epochs=r.epochs,
                         steps_per_epoch=r.steps_per_epoch, batch=r.batch, lr=r.lr, momentum=r.momentum,
                         d=r.d, h=r.h, device="cpu", seed=r.seed, overlay=False)
        check_config(tc)
        with tempfile.TemporaryDirectory(prefix="ssldyn-train-") as tmp:
            result = train(tc, tmp)
        s = summarize(tc, result, "ssldyn sweep (task train)")
        for k in VOLATILE:
            s.pop(k, None)
        W0, Phi0, how = exact_initial_weights(r)
        pred = predict_outcome(r, W0, Phi0, init=how)
        s["predicted"] = {k: v for k, v in pred.to_json().items() if k != "seconds"}
        rows.append({"measured_outcome": OUTCOMES.index(s["measured_outcome"]),
                     "measured_collapse_step": _int(s["measured_collapse_step"]),
                     "surviving_modes": s["surviving_modes"], "rankme": _num(s.get("rankme_final")),
                     "effective_rank": _num(s.get("effective_rank_final")),
                     "predicted_outcome": OUTCOMES.index(pred.outcome), "predicted_collapse_step": _int(pred.collapse_step),
                     "predicted_surviving_modes": pred.surviving_modes, "lift_step": _int(pred.lift_step),
                     "classic_outcome": OUTCOMES.index(pred.classic_outcome), "rho": r.rho,
                     "rho_c_init": pred.rho_c_init, "summary": json.dumps(s, sort_keys=True, allow_nan=False)})
    out = {}
    for k in OUTPUTS:
        vals = [row[k] for row in rows]
        out[k] = _fixed_text(vals) if k == "summary" else np.asarray(
            vals, dtype=np.int8 if "outcome" in k else (np.int64 if isinstance(vals[0], int) else np.float64))
    return out


#: characters of a run's summary JSON as stored (fixed, so every chunk has the same dtype)
SUMMARY_CHARS = 16384


def _fixed_text(texts):
    """ASCII JSON texts as a fixed-width bytes array (``S{SUMMARY_CHARS}``, null-padded)."""
    for t in texts:
        if len(t) > SUMMARY_CHARS:
            raise ValueError(f"a run summary has {len(t)} characters, over {SUMMARY_CHARS}")
    return np.array([t.encode("ascii") for t in texts], dtype=f"S{SUMMARY_CHARS}")


def _int(x):
    return -1 if x is None else int(x)


def _num(x):
    return math.nan if x is None else float(x)


def train_bytes(cfg) -> int:
    """Bytes per run on disk: the numbers and the fixed-width summary text."""
    return 200 + SUMMARY_CHARS


def train_warm(cfg) -> None:
    """Nothing to compile: torch and the numpy map need no warm-up (a missing torch is refused here)."""
    from symbolic.errors import ParameterError
    try:
        import torch  # noqa: F401
    except ImportError:
        raise ParameterError("task train needs torch (pip install 'ssldyn[torch]')") from None


__all__ = ["parse_train", "train_points", "train_runs"]
