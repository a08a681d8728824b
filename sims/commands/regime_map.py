"""Regime of every point of a parameter grid, without time stepping.

Writes an NPZ with keys x, y, regime (int codes 0 Collapse, 1 Acute, 2 Stable, 3 Boundary;
regime[i, j] at (x[j], y[i])), critical (rho_c or eta_c per point), the axis names and the
provenance: the fixed parameters (param_NAME, given and defaulted), defaulted, version and command.
Prints the parameters that took their defaults (``defaults used: ...``).
"""
NAME = "regime-map"
HELP = "classify a grid of parameter points into Collapse/Acute/Stable/Boundary"


def add_arguments(p):
    from ._params import add_model_arguments

    add_model_arguments(p, supports='regimes')
    p.add_argument("--x", required=True, help="NAME:LO:HI:N[:log], e.g. rho:1e-4:1e-1:200:log")
    p.add_argument("--y", required=True, help="NAME:LO:HI:N[:log], e.g. n-psi:0.1:20:200:log")
    p.add_argument("--out", required=True, help="output NPZ")
    p.add_argument("--mark", action="append", default=None, metavar="NAME=VALUE,...",
                   help="with --plot: an operating point to mark, e.g. rho=0.02,n-psi=1.5 (other parameters: the flags; "
                   "may be given more than once) (default: none)")
    p.add_argument("--plot", default=None, help="also draw the map into this file; its suffix picks the format "
                   "(.png, .pdf, .svg, .eps, .ps, .jpg, .jpeg, .tif, .tiff, .webp) (default: none, no plot)")
    p.add_argument("--no-folds", action="store_true", help="do not overlay continued fold curves on the plot")
    p.add_argument("--check", type=float, default=0, help="integrate N random (grid point, initial condition) "
                   "pairs and confirm every predicted fate (initial conditions uniform in --check-p0)")
    p.add_argument("--check-p0", default="-2:2", help="LO:HI of the initial conditions for --check (default -2:2)")
    p.add_argument("--seed", type=float, default=0, help="seed of --check")


def run(args) -> int:
    import time

    from dynamics.critical_decay import REGIMES
    from dynamics.regimes import regime_map
    from symbolic.errors import ParameterError

    from sims.io import provenance

    from ._grid import parse_axis
    from ._params import defaults_line, given_params, model_from_args

    model = model_from_args(args, "regimes", "regime-map")     # the one lookup: the object is passed down
    xn, xv = parse_axis("--x", args.x)
    yn, yv = parse_axis("--y", args.y)
    xf, yf = model.field_name(xn), model.field_name(yn)
    fixed = given_params(args)
    for flag, f in (("--x", xf), ("--y", yf)):
        if f in fixed:
            raise ParameterError(f"--{f.replace('_', '-')} is also the {flag} axis ({f} varies along it); "
                                 f"drop --{f.replace('_', '-')} or choose another axis")
    p0_range = _check_p0(args.check_p0) if args.check else None     # every check before the map
    point = _mark(args, fixed, (xf, yf), model)
    from ._paths import check_memory

    # parameter rows, critical values, codes and the figure's copies: about 96 bytes a point
    check_memory(f"regime-map of {xv.size} x {yv.size} points", 96.0 * xv.size * yv.size)
    t0 = time.perf_counter()
    m = regime_map(model, xf, xv, yf, yv, fixed)
    dt = time.perf_counter() - t0
    used = defaults_used(model, fixed, (xf, yf))
    m.to_npz(args.out, **provenance(args, {**fixed, **used}, used))
    counts = {name: int((m.regime == code).sum()) for code, name in enumerate(REGIMES)}
    print(f"{m.regime.size} points in {dt:.3f} s: " + ", ".join(f"{k} {v}" for k, v in counts.items() if v))
    print(defaults_line(used))
    print(f"wrote {args.out}")
    if args.check:
        _check(args, m, p0_range, model)
    if args.plot:
        from figures.regime_map import draw_regime_map

        from ._paths import save_plot

        folds = None
        if not args.no_folds:
            from dynamics.continuation import saddle_node_curve

            try:
                folds = saddle_node_curve(model, xf, yf, fixed, (xv.min(), xv.max()), (yv.min(), yv.max()))
            except Exception as e:  # a missing fold is reported, the map is still drawn
                print(f"no fold curve overlaid: {e}")
        for path in save_plot(draw_regime_map(m, folds=folds, point=point), args.plot):   # the suffix's format only
            print(f"wrote {path}")
    return 0


def defaults_used(model, fixed: dict, axes) -> dict:
    """The parameters of ``model`` (a :class:`symbolic.model.Model`) that took their defaults:
    neither given (``fixed``) nor an axis."""
    return {k: v for k, v in model.spec.defaults.items() if k not in fixed and k not in axes}


def _check_p0(text):
    """``LO:HI`` of --check-p0, finite with LO < HI, else a one-line error."""
    from symbolic.errors import ParameterError, check_range

    lo_hi = text.split(":")
    if len(lo_hi) != 2:
        raise ParameterError(f"--check-p0 must be LO:HI; got {text!r}")
    lo = check_range("--check-p0 LO", lo_hi[0])
    hi = check_range("--check-p0 HI", lo_hi[1])
    if not lo < hi:
        raise ParameterError(f"--check-p0 HI must be > LO; got {text!r}")
    return lo, hi


def _check(args, m, p0_range, model):
    import numpy as np

    from dynamics.regimes import check_fates
    from symbolic.errors import check_int

    n = check_int("--check", args.check, lo=1, hi=10**7)
    lo, hi = p0_range
    rng = np.random.default_rng(check_int("--seed", args.seed, lo=0))
    k = model.kernels("reduced")
    cls = model.params_class
    ii, jj = rng.integers(0, m.y.size, n), rng.integers(0, m.x.size, n)
    theta = np.array([cls(**{**m.fixed, m.x_name: m.x[j], m.y_name: m.y[i]}).as_array(k.PARAMS) for i, j in zip(ii, jj)])
    decay = theta[:, model.decay_index(k.PARAMS)]
    keep = decay > 0                       # the default horizon needs a positive decay
    res = check_fates(model, theta[keep], rng.uniform(lo, hi, int(keep.sum())))
    print(f"check: {res.agree} of {res.n} predicted fates confirmed by integration ({res.fraction:.2%})"
          + ("" if keep.all() else f"; {int((~keep).sum())} points with zero decay skipped"))


def _mark(args, fixed: dict, axes, model):
    """The operating point of ``--mark`` (None without it), at the flags' parameters."""
    if not args.mark:
        return None
    if not args.plot:
        from symbolic.errors import ParameterError

        raise ParameterError("--mark draws on the figure: give --plot PATH as well")
    from figures.operating_point import operating_point

    from .figure import parse_mark

    return operating_point(model.name, fixed, axes, parse_mark(args.mark, model.name))
