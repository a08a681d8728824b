"""Equilibrium branches versus one parameter: stability and eigenvalues along connected branches,
typed special points (fold, transcritical, pitchfork; Hopf for systems of two or more states).

Writes an NPZ with keys param, values, p (n, k) NaN-padded ascending, stability (codes 0 stable,
1 unstable, 2 semi-stable, -1 none), folds (m, 2: parameter value, double root; saddle-nodes),
transcritical (m, 2: parameter value, 0), warnings (a change of the root count between grid points
that no singular point explains; also printed to stderr), the special points (special_type,
special_param_value, special_state) and the branches concatenated (branch_id, branch_values,
branch_states, branch_eigenvalues, branch_stability). ``--json`` prints
``{"model", "param", "special_points": [{"type", "param_value", "state", "eigenvalues"}],
"branches": [{"values", "states", "eigenvalues", "stability"}], "warnings", "params",
"defaults_used", "version", "command"}`` (``params``: the fixed parameters; ``defaults_used``: the
names of those that took their defaults, as ``equilibria --json``) instead of the lines. Every event lies inside the
--param range. The NPZ also records the fixed parameters (``param_NAME``, given and defaulted),
``defaulted``, ``version`` and ``command``; the lines end with the parameters that took their
defaults (``defaults used: ...``).
"""
NAME = "bifurcation"
HELP = "equilibria versus one parameter (branches, stability, folds, branch points, Hopf points)"


def add_arguments(p):
    from ._params import add_model_arguments

    add_model_arguments(p, supports='eigen')
    p.add_argument("--param", required=True, help="NAME:LO:HI, e.g. rho:0:0.2 (any parameter of the model)")
    p.add_argument("--n", type=float, default=801, help="grid points (default 801)")
    p.add_argument("--out", default=None, help="output NPZ (required without --json) (default: none)")
    p.add_argument("--json", action="store_true", help="print the special points and branches as JSON")
    p.add_argument("--mark", action="append", default=None, metavar="NAME=VALUE,...",
                   help="with --plot: an operating point to mark, e.g. rho=0.02,n-psi=1.5 (other parameters: the flags; "
                   "may be given more than once) (default: none)")
    p.add_argument("--plot", default=None, help="also draw the diagram into this file; its suffix picks the "
                   "format (.png, .pdf, .svg, .eps, .ps, .jpg, .jpeg, .tif, .tiff, .webp) (default: none, no plot)")


def _lines(b, field):
    for s in b.special_points:
        state = ", ".join(f"{x:.12g}" for x in s.state)
        if s.type == "fold":
            yield f"fold at {field} = {s.param_value:.12g}, p = {state}"
        elif s.type == "hopf":
            yield f"hopf at {field} = {s.param_value:.12g}, state = ({state}), frequency = " \
                  f"{max(abs(complex(z).imag) for z in s.eigenvalues):.12g}"
        else:
            yield f"{s.type} at {field} = {s.param_value:.12g}, p = {state}"


def run(args) -> int:
    import json
    import sys

    import numpy as np

    from dynamics.state_branches import branches_of
    from symbolic.errors import ParameterError, check_int

    from ._grid import parse_range
    from ._params import defaults_line, given_params, model_from_args

    model = model_from_args(args, "eigen", "bifurcation")      # the one lookup: the object is passed down
    if args.out is None and not args.json:
        raise ParameterError("--out is required (an NPZ path) unless --json is given")
    name, lo, hi = parse_range("--param", args.param)
    n = check_int("--n", args.n, lo=2, hi=1_000_000)
    field = model.field_name(name)
    discrete = getattr(model.params_class, "DISCRETE", {})
    if field in discrete:
        raise ParameterError(f"--param {field} is discrete (it must be {discrete[field][1]}): it cannot be "
                             f"continued; run bifurcation at each value with --{field.replace('_', '-')}")
    fixed = given_params(args)
    if field in fixed:
        raise ParameterError(f"--{field.replace('_', '-')} is also the --param axis ({field} varies along it); "
                             f"drop one of them")
    from .regime_map import _mark, defaults_used

    point = _mark(args, fixed, (field,), model)                 # checked before the branches are computed
    b = branches_of(model, field, np.linspace(lo, hi, n), fixed)
    used = defaults_used(model, fixed, (field,))
    if args.out:
        from sims.io import provenance

        b.to_npz(args.out, **provenance(args, {**fixed, **used}, used))
    if args.json:
        import symbolic
        from sims.io import command_line
        from symbolic.results import plain

        out = {"model": args.model, "param": field, "special_points": [s.to_json() for s in b.special_points],
               "branches": [plain({"values": br.values, "states": br.states, "eigenvalues": br.eigenvalues,
                                   "stability": br.stability}) for br in b.branches],
               "warnings": list(b.warnings), "params": plain({**fixed, **used}), "defaults_used": list(used),
               "version": symbolic.__version__, "command": command_line(args)}
        print(json.dumps(out, allow_nan=False))
    else:
        for line in _lines(b, field):
            print(line)
        print(defaults_line(used))
    for w in b.warnings:
        print(f"ssldyn: warning: {w}", file=sys.stderr)
    if args.out and not args.json:
        print(f"wrote {args.out}")
    if args.plot:
        from figures.bifurcation import draw_branches

        from ._paths import save_plot

        for path in save_plot(draw_branches(b, point=point), args.plot):   # the suffix's format only
            if not args.json:
                print(f"wrote {path}")
    return 0
