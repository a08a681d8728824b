"""Draw the project's figures (PNG and PDF): one by name, all of them, or list them.

``all`` draws every figure that follows from the theory (no torch, a few minutes at most);
``trained`` draws the training reproductions (torch; up to about 5 minutes each on 2 cores), which
also write their measured numbers to ``<name>.json``. Any single name works too.

The phase planes, phase lines, bifurcation diagram and regime map take the model flags of
``ssldyn equilibria`` (``--model``, ``--rho``, ...; unset flags take the dataclass defaults, as
there); without them each figure keeps its own worked example. ``--mark rho=0.02,n_psi=1.5``
draws that operating point on the bifurcation diagram and the regime map. The phase planes
``phase-two-layer`` and ``phase-l2`` take ``--window XLO,XHI,YLO,YHI`` and ``--starts X,Y;X,Y``.
"""
NAME = "figure"
HELP = "draw a figure by name, 'all' (theory) or 'trained' (torch reproductions); --list shows them"


def add_arguments(p):
    from ._params import add_model_arguments

    p.add_argument("name", nargs="?", default=None,
                   help="figure name, 'all' (every theory figure) or 'trained' (every training reproduction)")
    p.add_argument("--out", default="figures-out", help="output folder (default figures-out)")
    p.add_argument("--list", action="store_true", help="list the figures")
    p.add_argument("--fast", action="store_true", help="reduced versions (smaller grids)")
    p.add_argument("--device", default="cpu",
                   help="torch device of the training reproductions: cpu (default, bit-reproducible) or cuda")
    p.add_argument("--mark", action="append", default=None, metavar="NAME=VALUE,...",
                   help="operating point drawn on the bifurcation diagram and the regime map, e.g. rho=0.02,n-psi=1.5 "
                   "(may be given more than once) (default: none)")
    p.add_argument("--window", default=None, metavar="XLO,XHI,YLO,YHI",
                   help="the plane drawn by phase-two-layer (sigma_1, sigma_2 ranges; 0 <= lo < hi) or phase-l2 "
                        "(p range, then s range with 0 < lo < hi), e.g. 0,3,0,3 (default: fitted to the figure)")
    p.add_argument("--starts", action="append", default=None, metavar="X,Y[;X,Y...]",
                   help="initial points of the trajectories drawn by phase-two-layer or phase-l2, inside the window, "
                        "1 to 50 of them, e.g. '1.8,1.2;0.6,1.5' (repeatable; default: spread over the window)")
    add_model_arguments(p, model_required=False)


def parse_mark(texts, model: str) -> dict:
    """``["rho=0.02,n-psi=1.5"]`` -> {"rho": 0.02, "n_psi": 1.5}, each name a field of ``model``."""
    from symbolic.errors import ParameterError
    from symbolic.registry import field_name

    from ._params import check_magnitude

    out = {}
    for text in texts:
        for item in filter(None, (x.strip() for x in text.split(","))):
            name, eq, value = item.partition("=")
            try:
                v = float(value)
            except ValueError:
                v = None
            if not eq or not name.strip() or v is None:
                raise ParameterError(f"--mark must be NAME=VALUE[,NAME=VALUE...] (e.g. rho=0.02); got {item!r}")
            out[field_name(model, name.strip())] = check_magnitude(f"--mark {name.strip()}", v)
    return out


def parse_numbers(flag: str, text: str, n: int | None = None) -> list:
    """``"0,3,0,3"`` -> [0.0, 3.0, 0.0, 3.0] (``n`` of them when given); else a ParameterError naming ``flag``."""
    from symbolic.errors import ParameterError

    items = [x.strip() for x in text.split(",")]
    try:
        values = [float(x) for x in items]
    except ValueError:
        values = None
    if values is None or (n is not None and len(values) != n):
        want = f"{n} numbers" if n else "numbers"
        raise ParameterError(f"{flag} must be {want} separated by commas; got {text!r}")
    return values


def window_kwargs(name: str, args) -> dict:
    """``window=`` and ``starts=`` of a phase plane from ``--window`` / ``--starts`` ({} when neither
    is given); their ranges are checked by the figure (:mod:`figures.windows`)."""
    from figures.registry import WINDOWED
    from symbolic.errors import ParameterError

    window, starts = getattr(args, "window", None), getattr(args, "starts", None)
    if window is None and not starts:
        return {}
    if name not in WINDOWED:
        raise ParameterError(f"--window and --starts apply to {', '.join(WINDOWED)}; got figure {name}")
    kw = {}
    if window is not None:
        kw["window"] = parse_numbers("--window", window, 4)
    if starts:
        points = [x for text in starts for x in text.replace(" ", ";").split(";") if x.strip()]
        kw["starts"] = [parse_numbers("--starts", x, 2) for x in points] or None
        if kw["starts"] is None:
            raise ParameterError(f"--starts must be points X,Y separated by ';'; got {starts!r}")
    return kw


def figure_kwargs(name: str, args) -> dict:
    """``params=`` and ``mark=`` for figure ``name`` from the model flags and ``--mark`` ({} when none given)."""
    from figures.registry import parametric
    from symbolic.errors import ParameterError

    from ._params import given_params, params_from_args

    model, marks = getattr(args, "model", None), getattr(args, "mark", None)
    plane = window_kwargs(name, args)
    if model is None and not given_params(args) and not marks:
        return plane
    table = parametric()
    if name not in table:
        raise ParameterError(f"figure {name} takes no model parameters or --mark (it draws fixed worked examples); "
                             f"figures that do: {', '.join(table)}")
    models, draws_mark = table[name]
    if marks and not draws_mark:
        raise ParameterError(f"--mark is drawn on {', '.join(n for n, (_, m) in table.items() if m)}; "
                             f"figure {name} has no operating point")
    given = model is not None or bool(given_params(args))
    model = model or models[0]
    if model not in models:
        raise ParameterError(f"model must be one of {', '.join(models)} for figure {name}; got {model!r}")
    kw = {"params": params_from_args(model, args) if given else None}
    if marks:
        kw["mark"] = parse_mark(marks, model)
    return {**kw, **plane}


def select_backend() -> None:
    """Agg when there is no display (the command only writes files); a chosen MPLBACKEND is kept."""
    import os
    import sys

    if os.environ.get("MPLBACKEND"):
        return
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        import matplotlib

        matplotlib.use("Agg")


def run(args) -> int:
    import importlib
    import sys
    import time

    from figures.registry import FIGURES, TRAINED, parametric
    from symbolic.errors import ParameterError

    from ._params import given_params

    if args.list:
        for name, (_, _, desc) in FIGURES.items():
            print(f"{name:<18} {desc}")
        print("\ntraining reproductions (torch; not in 'all': 'ssldyn figure trained' or by name):")
        for name, (_, _, desc) in TRAINED.items():
            print(f"{name:<18} {desc}")
        print("\nat your parameters (the flags of 'ssldyn equilibria'): "
              + ", ".join(f"{n} ({'/'.join(m)}{'; --mark' if mk else ''})" for n, (m, mk) in parametric().items()))
        return 0
    if args.name is None:
        raise ParameterError("name is required (a figure name, 'all' or 'trained'; see ssldyn figure --list)")
    registry = {**FIGURES, **TRAINED}
    if args.name not in ("all", "trained") and args.name not in registry:
        raise ParameterError(f"figure must be one of all, trained, {', '.join(registry)}; got {args.name!r}")
    names = {"all": list(FIGURES), "trained": list(TRAINED)}.get(args.name, [args.name])
    device = getattr(args, "device", "cpu")
    if len(names) > 1 and (getattr(args, "model", None) or getattr(args, "mark", None) or given_params(args)
                           or getattr(args, "window", None) or getattr(args, "starts", None)):
        raise ParameterError(f"model parameters, --mark, --window and --starts apply to one figure by name; "
                             f"got {args.name!r}")
    extra = figure_kwargs(names[0], args)
    if any(n in TRAINED for n in names):
        try:
            import torch  # noqa: F401
        except ImportError:
            raise ParameterError(f"figure {args.name} trains with torch, which is not installed "
                                 "(pip install -e '.[torch]')") from None
        from sims.reproductions._torch import check_device

        check_device(device)
    select_backend()
    if len(names) == 1:          # one figure: its error is the one line of the CLI
        mod, fn, _ = registry[names[0]]
        t0 = time.perf_counter()
        kw = {"device": device} if names[0] in TRAINED else extra
        paths = getattr(importlib.import_module(mod), fn)(args.out, fast=args.fast, **kw)
        print(f"{names[0]}: " + ", ".join(str(p) for p in paths) + f"  ({time.perf_counter() - t0:.1f} s)")
        return 0
    failed = []
    for name in names:
        mod, fn, _ = registry[name]
        t0 = time.perf_counter()
        try:
            kw = {"device": device} if name in TRAINED else {}
            paths = getattr(importlib.import_module(mod), fn)(args.out, fast=args.fast, **kw)
        except Exception as e:  # one failing figure is reported; the others still run
            failed.append(name)
            sys.stderr.write(f"ssldyn: figure {name} failed: {type(e).__name__}: {' '.join(str(e).split())}\n")
            continue
        print(f"{name}: " + ", ".join(str(p) for p in paths) + f"  ({time.perf_counter() - t0:.1f} s)")
    if failed:            # the CLI exits 2
        sys.stderr.write(f"ssldyn: error: {len(failed)} figure(s) failed: {', '.join(failed)}\n")
        return 1
    return 0
