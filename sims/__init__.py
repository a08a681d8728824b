r"""Command-line tool, batch runs and sweeps, and (with the torch extra) real SimSiam training.

The public names below are importable from ``sims`` itself and load on first use; torch is
imported only when a training run starts.

>>> from sims import TrainConfig, train_simsiam    # doctest: +SKIP
>>> summary = train_simsiam(TrainConfig(mode="linear", d=64, h=64, epochs=2), "run-dir")  # doctest: +SKIP
"""
from __future__ import annotations

from symbolic.lazy import make_lazy

#: public name -> "module:attribute"; a name that moves is a one-line change here
EXPORTS = {
    # the command line
    "main": "sims.cli:main",
    "build_parser": "sims.cli:build_parser",
    # SimSiam training and validation (torch extra)
    # (``sims.train`` is the package of the trainer; its function ``train`` is exported as
    # ``train_simsiam`` so that ``import sims.train`` always means the package)
    "TrainConfig": "sims.train:TrainConfig",
    "train_simsiam": "sims.train:train",
    "train_distributed": "sims.train:train_distributed",
    "overlay": "sims.overlay:overlay",
    "predict_run": "sims.trajectory:predict_run",
    "repredict": "sims.trajectory:repredict",
    "recipe_of": "sims.trajectory:recipe_of",
    "collapse_diagnostics": "sims.diagnostics:collapse_diagnostics",
    # sweeps
    "SweepConfig": "sims.sweep:SweepConfig",
    "load_sweep_config": "sims.sweep:load_config",
    "parse_sweep_config": "sims.sweep:parse_config",
    "run_sweep": "sims.sweep:run_sweep",
    "merge_sweep": "sims.sweep:merge",
    # watching a user's own training loop against the theory
    "Monitor": "sims.monitor:Monitor",
    "CollapseWarning": "sims.monitor:CollapseWarning",
    # outputs re-loaded with their provenance
    "load_result": "sims.outputs:load_result",
}

__all__ = sorted(EXPORTS)

make_lazy(__name__)
