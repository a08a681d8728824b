"""Equilibrium branches versus one parameter with stability, folds located by Newton.

Writes an NPZ with keys param, values, p (n, k) NaN-padded ascending, stability (codes 0 stable,
1 unstable, 2 semi-stable, -1 none), folds (m, 2: parameter value, double root; saddle-nodes) and
transcritical (m, 2: parameter value, 0; double roots at p = 0) and warnings (a change of the
root count between grid points that could not be resolved into an event; also printed to stderr).
Every event lies inside the --param range.
"""
NAME = "bifurcation"
HELP = "equilibria versus one parameter (stability along the branches, folds)"


def add_arguments(p):
    from ._params import add_model_arguments

    add_model_arguments(p, supports='folds')
    p.add_argument("--param", required=True, help="NAME:LO:HI, e.g. rho:0:0.2")
    p.add_argument("--n", type=float, default=801, help="grid points (default 801)")
    p.add_argument("--out", required=True, help="output NPZ")
    p.add_argument("--mark", action="append", default=None, metavar="NAME=VALUE,...",
                   help="with --plot: an operating point to mark, e.g. rho=0.02,n-psi=1.5 (other parameters: the flags)")
    p.add_argument("--plot", default=None, help="also draw the diagram (PNG/PDF path)")


def run(args) -> int:
    import sys

    import numpy as np

    from dynamics.continuation import equilibrium_branches
    from symbolic.errors import ParameterError, check_int

    from symbolic.registry import field_name, get_model

    from ._grid import parse_range
    from ._params import given_params

    get_model(args.model).require("folds", "bifurcation")
    name, lo, hi = parse_range("--param", args.param)
    n = check_int("--n", args.n, lo=2, hi=1_000_000)
    field = field_name(args.model, name)
    discrete = getattr(get_model(args.model).params_class, "DISCRETE", {})
    if field in discrete:
        raise ParameterError(f"--param {field} is discrete (it must be {discrete[field][1]}): it cannot be "
                             f"continued; run bifurcation at each value with --{field.replace('_', '-')}")
    fixed = given_params(args)
    if field in fixed:
        raise ParameterError(f"--{field.replace('_', '-')} is also the --param axis ({field} varies along it); "
                             f"drop one of them")
    from .regime_map import _mark

    point = _mark(args, fixed, (field,))                 # checked before the branches are computed
    b = equilibrium_branches(args.model, field, np.linspace(lo, hi, n), fixed)
    b.to_npz(args.out)
    for v, pf in b.folds:
        print(f"fold at {field} = {v:.12g}, p = {pf:.12g}")
    for v, _ in b.transcritical:
        print(f"transcritical (a branch crosses p = 0) at {field} = {v:.12g}")
    for w in b.warnings:
        print(f"ssldyn: warning: {w}", file=sys.stderr)
    print(f"wrote {args.out}")
    if args.plot:
        from figures.bifurcation import plot_branches

        for path in plot_branches(b, args.plot, point=point):
            print(f"wrote {path}")
    return 0
