"""Run (or resume) a sweep from a TOML config, or merge a finished one::

    ssldyn sweep CONFIG.toml --out DIR [--workers N | --dask-local N | --scheduler ADDRESS]
    ssldyn sweep --merge DIR --out FILE.npz        (FILE.nc needs xarray: pip install ssldyn[sweep])

Re-running the same command resumes: finished chunks (checksum, index and length verified) are
skipped, missing, partial or corrupted ones are recomputed; a resume says so in one line
(``resumed: 6 of 10 chunks already done, 4 to run``), each chunk computed gets a line on stdout
(``chunk 3/10: computed``), then the counts. One sweep at a time per --out folder
(a lock file, OUT/.lock); size limits and free disk space are checked before anything is
written. See docs/sweep_config.md for the config format.
"""
NAME = "sweep"
HELP = "resumable parameter sweeps (process pool or Dask), and --merge of their chunks"


def add_arguments(p):
    p.add_argument("config", nargs="?", default=None, help="sweep config (TOML); omitted with --merge")
    p.add_argument("--out", required=True, help="output folder (sweep) or file (with --merge)")
    p.add_argument("--merge", default=None, metavar="DIR", help="gather the chunks of DIR into --out (default: none, run the config)")
    p.add_argument("--workers", type=float, default=None, help="local worker processes, at most 4 per core (default: cores)")
    p.add_argument("--dask-local", type=float, default=None, help="run on a Dask LocalCluster of N workers (at most 4 per core) "
                   "(default: none, local processes as --workers)")
    p.add_argument("--scheduler", default=None, help="address of a Dask scheduler "
                   "(default: none, local processes as --workers)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar (shown by default on a terminal)")


def run(args) -> int:
    import sys

    from sims.sweep import max_workers, merge, run_sweep
    from symbolic.errors import ParameterError, check_int

    if args.merge:
        from sims.io import command_line

        path = merge(args.merge, args.out, command=command_line(args))
        print(f"wrote {path}")
        return 0
    if not args.config:
        raise ParameterError("config is required (a TOML file), or use --merge DIR")
    cap = max_workers()
    workers = None if args.workers is None else check_int("--workers", args.workers, lo=1, hi=cap)
    dask_local = None if args.dask_local is None else check_int("--dask-local", args.dask_local, lo=1, hi=cap)
    m = run_sweep(args.config, args.out, workers=workers, scheduler=args.scheduler, dask_local=dask_local,
                  progress=not args.no_progress and sys.stderr.isatty(), report=lambda line: print(line, flush=True))
    print(f"{len(m['chunks'])} of {m['n_chunks']} chunks done in {args.out} ({m['n_points']} points, task {m['task']})")
    return 0
