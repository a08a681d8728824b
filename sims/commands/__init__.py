"""One module per ``ssldyn`` subcommand.

Each module defines ``NAME`` (the subcommand), ``HELP`` (one line), ``add_arguments(parser)``
and ``run(args) -> int``. Heavy imports happen inside ``run`` so ``ssldyn --help`` stays fast.
Add a new subcommand by adding its module name here.
"""
MODULES = (
    "demo",
    "derive",
    "check_gradient",
    "cache",
    "equilibria",
    "regime_map",
    "bifurcation",
    "integrate",
    "figure",
    "sweep",
    "validate",
    "predict",
    "outcome_map",
    "landscape",
    "models",
)
