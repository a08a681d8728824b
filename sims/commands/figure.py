"""Draw the project's figures (PNG and PDF): one by name, all of them, or list them.

``all`` draws every figure that follows from the theory (no torch, a few minutes at most);
``trained`` draws the training reproductions (torch; up to about 5 minutes each on 2 cores), which
also write their measured numbers to ``<name>.json``. Any single name works too.
"""
NAME = "figure"
HELP = "draw a figure by name, 'all' (theory) or 'trained' (torch reproductions); --list shows them"


def add_arguments(p):
    p.add_argument("name", nargs="?", default=None,
                   help="figure name, 'all' (every theory figure) or 'trained' (every training reproduction)")
    p.add_argument("--out", default="figures-out", help="output folder (default figures-out)")
    p.add_argument("--list", action="store_true", help="list the figures")
    p.add_argument("--fast", action="store_true", help="reduced versions (smaller grids)")
    p.add_argument("--device", default="cpu",
                   help="torch device of the training reproductions: cpu (default, bit-reproducible) or cuda")


def run(args) -> int:
    import importlib
    import sys
    import time

    from figures.registry import FIGURES, TRAINED
    from symbolic.errors import ParameterError

    if args.list:
        for name, (_, _, desc) in FIGURES.items():
            print(f"{name:<18} {desc}")
        print("\ntraining reproductions (torch; not in 'all': 'ssldyn figure trained' or by name):")
        for name, (_, _, desc) in TRAINED.items():
            print(f"{name:<18} {desc}")
        return 0
    if args.name is None:
        raise ParameterError("name is required (a figure name, 'all' or 'trained'; see ssldyn figure --list)")
    registry = {**FIGURES, **TRAINED}
    if args.name not in ("all", "trained") and args.name not in registry:
        raise ParameterError(f"figure must be one of all, trained, {', '.join(registry)}; got {args.name!r}")
    names = {"all": list(FIGURES), "trained": list(TRAINED)}.get(args.name, [args.name])
    if any(n in TRAINED for n in names):
        try:
            import torch  # noqa: F401
        except ImportError:
            raise ParameterError(f"figure {args.name} trains with torch, which is not installed "
                                 "(pip install -e '.[torch]')") from None
        from sims.reproductions._torch import check_device

        check_device(args.device)
    if len(names) == 1:          # one figure: its error is the one line of the CLI
        mod, fn, _ = registry[names[0]]
        t0 = time.perf_counter()
        kw = {"device": args.device} if names[0] in TRAINED else {}
        paths = getattr(importlib.import_module(mod), fn)(args.out, fast=args.fast, **kw)
        print(f"{names[0]}: " + ", ".join(str(p) for p in paths) + f"  ({time.perf_counter() - t0:.1f} s)")
        return 0
    failed = []
    for name in names:
        mod, fn, _ = registry[name]
        t0 = time.perf_counter()
        try:
            kw = {"device": args.device} if name in TRAINED else {}
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
