"""Predicted outcome of every training recipe on a grid of two recipe axes (linear SimSiam).

Writes an NPZ with x, y, their names, outcome (int codes 0 collapse, 1 survive, 2 unsettled;
outcome[i, j] at (x[j], y[i])), surviving_modes, collapse_step, lift_step (-1: none), rho_c_init
and classic_outcome (the fixed-norm regime map at the initial norms: 0 collapse, 1 survive), the
base recipe and which initial weights were used. Axes: rho, lr, sigma2, batch, momentum, epochs, h.
"""
NAME = "outcome-map"
HELP = "predicted outcome (collapse / survive / unsettled) over a grid of two recipe axes"


def add_arguments(p):
    from .predict import add_recipe_arguments

    p.add_argument("mode", choices=("linear", "resnet18"), help="model (the theory applies to linear only)")
    add_recipe_arguments(p)
    p.add_argument("--x", required=True, help="NAME:LO:HI:N[:log], NAME one of rho, lr, sigma2, batch, momentum, "
                   "epochs, h; e.g. rho:1e-3:1:40:log")
    p.add_argument("--y", required=True, help="NAME:LO:HI:N[:log], e.g. lr:0.01:0.4:40:log")
    p.add_argument("--out", required=True, help="output NPZ")
    p.add_argument("--plot", default=None, help="also draw the map into this file; its suffix picks the format "
                   "(.png, .pdf, .svg, ...) (default: none, no plot)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args) -> int:
    import sys

    import numpy as np

    from dynamics.outcome_map import check_axis, outcome_map
    from dynamics.recipe_outcome import AXES, OUTCOMES
    from symbolic.errors import ParameterError, check_choice

    from ._grid import parse_axis
    from .predict import check_mode, recipe_from_args

    check_mode(args.mode)
    base = recipe_from_args(args)
    xn, xv = parse_axis("--x", args.x)
    yn, yv = parse_axis("--y", args.y)
    for flag, name in (("--x", xn), ("--y", yn)):
        try:
            check_choice(f"{flag} NAME", name, AXES)
        except ParameterError:
            raise ParameterError(f"{flag} NAME must be one of {', '.join(AXES)}; got {name!r}") from None
    if xn == yn:
        raise ParameterError(f"--x and --y must name different axes; got {xn!r} twice")
    xv, yv = check_axis(xn, xv), check_axis(yn, yv)
    bar = None
    if not args.no_progress and sys.stderr.isatty():
        from tqdm import tqdm
        bar = tqdm(total=None, unit="step", desc="outcome map", file=sys.stderr)
    m = outcome_map(base, xn, xv, yn, yv, weights=_weights,
                    progress=(lambda k: bar.update(1)) if bar is not None else None)
    if bar is not None:
        bar.close()
    m.to_npz(args.out)
    counts = ", ".join(f"{name} {int((m.outcome == c).sum())}" for c, name in enumerate(OUTCOMES)
                       if (m.outcome == c).any())
    agree = float(np.mean((m.outcome == 0) == (m.classic_outcome == 0)))
    print(f"{m.outcome.size} recipes in {m.seconds:.3f} s: {counts}; the classic fixed-norm map agrees on "
          f"collapse at {agree:.0%} of them")
    print(f"initial weights: {m.init}")
    print(f"wrote {args.out}")
    if args.plot:
        from figures.outcome_map import draw_outcome_map

        from ._paths import save_plot

        for path in save_plot(draw_outcome_map(m), args.plot):        # the suffix's format only
            print(f"wrote {path}")
    return 0


def _weights(recipe):
    from symbolic.linear_init import draw_initial_weights

    from .predict import exact_initial_weights

    W0, Phi0, how = exact_initial_weights(recipe)
    if W0 is None:
        W0, Phi0 = draw_initial_weights(recipe.d, recipe.h, recipe.seed)
        how = f"numpy draw of the initial distribution, seed {recipe.seed}"
    return W0, Phi0, how
