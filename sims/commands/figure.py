"""Draw the project's figures (PNG and PDF): one by name, all of them, or list them."""
NAME = "figure"
HELP = "draw a figure by name (or 'all'); --list shows them"


def add_arguments(p):
    p.add_argument("name", nargs="?", default=None, help="figure name, or 'all'")
    p.add_argument("--out", default="figures-out", help="output folder (default figures-out)")
    p.add_argument("--list", action="store_true", help="list the figures")
    p.add_argument("--fast", action="store_true", help="reduced versions (smaller grids)")


def run(args) -> int:
    import importlib
    import sys
    import time

    from figures.registry import FIGURES
    from symbolic.errors import ParameterError

    if args.list:
        for name, (_, _, desc) in FIGURES.items():
            print(f"{name:<18} {desc}")
        return 0
    if args.name is None:
        raise ParameterError("name is required (a figure name or 'all'; see ssldyn figure --list)")
    if args.name != "all" and args.name not in FIGURES:
        raise ParameterError(f"figure must be one of all, {', '.join(FIGURES)}; got {args.name!r}")
    names = list(FIGURES) if args.name == "all" else [args.name]
    failed = []
    for name in names:
        mod, fn, _ = FIGURES[name]
        t0 = time.perf_counter()
        try:
            paths = getattr(importlib.import_module(mod), fn)(args.out, fast=args.fast)
        except Exception as e:  # one failing figure is reported; the others still run
            failed.append(name)
            sys.stderr.write(f"ssldyn: figure {name} failed: {type(e).__name__}: {e}\n")
            continue
        print(f"{name}: " + ", ".join(str(p) for p in paths) + f"  ({time.perf_counter() - t0:.1f} s)")
    if failed:
        sys.stderr.write(f"ssldyn: {len(failed)} figure(s) failed: {', '.join(failed)}\n")
        return 1
    return 0
