r"""Integrate a batch of initial conditions of a model's ODE.

Writes an NPZ (or NetCDF for an ``.nc`` --out: :meth:`dynamics.results.BatchResult.to_xarray`)
with p0, final (N,) or (N, dim), status (0 success, 1 diverged, 2 max-steps, 3 non-finite,
5 unstable fixed step), t_event (divergence/convergence time, NaN if none), nsteps, and with
--t-eval also t and ys; and the provenance: model, form, convention, method, the parameters
(param_<name>, given and defaulted; ``defaulted`` names the latter), the options (t0, t_end, dt,
fixed_step, rtol, atol, max_steps, diverge_bound, converge_tol, h0, device), the ssldyn version
and the command. ``--from FILE`` reruns the integration a file records, bit for bit.

Time: ``--t-end`` is ODE time; ``--steps N --lr LR [--momentum M]`` gives it from a training
recipe instead (:mod:`dynamics.time_map`: :math:`t=\sum_k\eta_k(1-\mu^{K-k})/(1-\mu)`, one unit is
:math:`(1-\mu)/\eta` steps) and prints it. ``--ema-momentum M`` (l2-byol, eigen form) sets the
EMA rate beta from BYOL's target momentum and the recipe's lr and momentum. The output names the
model parameters that took their defaults and summarises the finals; a t_end short against the
slowest rate of the flow (t_end * decay < 3, or the slowest |d rhs/dp| at the equilibria) gives a
warning on stderr.
"""
NAME = "integrate"
HELP = "integrate many initial conditions (RK4 or adaptive Tsit5/DP5), write an NPZ or NetCDF; --from reruns one"


#: the defaults of the run's options (a flag left unset takes these; with --from the file's values)
DEFAULTS = {"form": "reduced", "method": "tsit5", "rtol": 1e-8, "atol": 1e-10, "diverge_bound": 1e8,
            "max_steps": 1_000_000, "device": "cpu", "convention": "frobenius"}


def add_arguments(p):
    from ._params import add_model_arguments

    add_model_arguments(p, model_required=False, supports="reduced", convention=True)
    p.add_argument("--form", default=DEFAULTS["form"], help="reduced (default) or eigen")
    p.add_argument("--p0", default=None, help="V1,V2,... (a comma list), START:STOP:N (evenly spaced) "
                   "or a .npy file ((N,) or (N, dim) initial states); required unless --from is given (default: none)")
    p.add_argument("--t-end", type=float, default=None,
                   help="final ODE time (> 0); or give --steps and --lr (default: none, one of the two is needed)")
    p.add_argument("--steps", type=float, default=None,
                   help="SGD steps of a training recipe, mapped to ODE time with --lr and --momentum "
                        "(instead of --t-end; dynamics.time_map) (default: none)")
    p.add_argument("--lr", type=float, default=None, help="the recipe's (constant) learning rate, > 0 (default: none)")
    p.add_argument("--momentum", type=float, default=None,
                   help="the recipe's SGD momentum, [0, 1) (default: 0.9 when --lr is given)")
    p.add_argument("--ema-momentum", type=float, default=None,
                   help="BYOL's target EMA momentum m, (0, 1] (l2-byol, --form eigen, with --lr): sets "
                        "beta = -ln(m) (1 - momentum) / lr (default: none, --beta or its default)")
    p.add_argument("--method", default=DEFAULTS["method"], help="rk4, tsit5 (default) or dopri5")
    p.add_argument("--dt", type=float, default=None, help="rk4 step (default t_end/1000)")
    p.add_argument("--rtol", type=float, default=DEFAULTS["rtol"], help="relative tolerance (adaptive)")
    p.add_argument("--atol", type=float, default=DEFAULTS["atol"], help="absolute tolerance (adaptive)")
    p.add_argument("--t-eval", default=None,
                   help="output grid START:STOP:N (stored as t, ys) (default: none, finals only)")
    p.add_argument("--converge-tol", type=float, default=None,
                   help="stop a trajectory once max|rhs| < tol (default: none, run to t_end)")
    p.add_argument("--diverge-bound", type=float, default=DEFAULTS["diverge_bound"],
                   help="|state| above this is divergence")
    p.add_argument("--max-steps", type=float, default=DEFAULTS["max_steps"],
                   help="step budget per trajectory; one that runs out ends with status 2 (max-steps)")
    p.add_argument("--device", default=DEFAULTS["device"], help="cpu (default) or cuda (torch backend)")
    p.add_argument("--from", dest="from_file", default=None, metavar="RUN.npz",
                   help="rerun the integration stored in an integrate output (.npz or .nc: its model, "
                        "parameters, p0, output grid, method and tolerances), bit for bit; only --out goes "
                        "with it (default: none)")
    p.add_argument("--out", required=True, help="output file: .npz, or .nc (NetCDF, needs xarray)")


#: a bound of the up-front checks: times and steps far beyond any run, below float overflow
T_MAX = 1e15
MAX_STEPS = 10**12


def _parse_linspace(flag, text, n_max=10**9):
    """``START:STOP:N`` -> (start, stop, n), all checked (the array is built after the memory check)."""
    import math

    from symbolic.errors import ParameterError, check_int, check_range

    parts = text.split(":")
    if len(parts) != 3:
        raise ParameterError(f"{flag} must be START:STOP:N or a .npy file; got {text!r}")
    a = check_range(f"{flag} START", parts[0], -1e150, 1e150, hi_open=False)
    b = check_range(f"{flag} STOP", parts[1], -1e150, 1e150, hi_open=False)
    n = check_int(f"{flag} N", parts[2], lo=1, hi=n_max)
    if not math.isfinite((b - a) / max(n - 1, 1)):
        raise ParameterError(f"{flag} must have a finite spacing; got {text!r}")
    return a, b, n


#: SimSiam's and BYOL's SGD momentum, taken when --lr is given without --momentum
MOMENTUM = 0.9


def _momentum(args) -> float:
    return MOMENTUM if args.momentum is None else args.momentum


def _ode_time(args) -> float:
    """--t-end, or the ODE time of --steps at --lr and --momentum; exactly one of the two."""
    from dynamics.time_map import constant_lr_time
    from symbolic.errors import ParameterError

    if args.steps is not None and args.t_end is not None:
        raise ParameterError("give --t-end (ODE time) or --steps with --lr (SGD steps), not both")
    if args.steps is None and args.t_end is None:
        raise ParameterError("give --t-end (ODE time) or --steps N --lr LR [--momentum M] (SGD steps)")
    if args.lr is None and (args.steps is not None or args.momentum is not None or args.ema_momentum is not None):
        what = "--steps" if args.steps is not None else "--momentum" if args.momentum is not None else "--ema-momentum"
        raise ParameterError(f"{what} needs --lr (the recipe's learning rate, > 0)")
    if args.lr is not None and args.steps is None and args.ema_momentum is None:
        raise ParameterError("--lr needs --steps (to map SGD steps to ODE time) or --ema-momentum")
    if args.steps is None:
        return args.t_end
    return constant_lr_time(args.steps, args.lr, _momentum(args))


def _ema_beta(args):
    """{'beta': ...} from --ema-momentum (l2-byol's eigen form only; not with --beta), else {}."""
    from dynamics.time_map import ema_beta
    from symbolic.errors import ParameterError

    if args.ema_momentum is None:
        return {}
    if args.model != "l2-byol":
        raise ParameterError(f"--ema-momentum needs --model l2-byol (an EMA target); got {args.model!r}")
    if args.form != "eigen":
        raise ParameterError("--ema-momentum needs --form eigen (the reduced form has no EMA: tau is fixed)")
    if getattr(args, "param_beta", None) is not None:
        raise ParameterError("give --beta or --ema-momentum, not both")
    return {"beta": ema_beta(args.ema_momentum, args.lr, _momentum(args))}


def _check_times(args):
    """The time and tolerance flags, checked before any kernel is loaded or compiled."""

    from dynamics.tableaus import METHOD_NAMES, METHODS
    from symbolic.errors import ParameterError, check_choice, check_int, check_range

    check_choice("--form", args.form, ("reduced", "eigen"))
    check_choice("--method", args.method, METHOD_NAMES)
    check_choice("--device", args.device, ("cpu", "cuda"))
    t_end = check_range("t_end (--t-end)", _ode_time(args), 0.0, T_MAX, lo_open=True, hi_open=False)
    max_steps = check_int("--max-steps", args.max_steps, lo=1, hi=MAX_STEPS)
    check_range("--rtol", args.rtol, 1e-15, 1.0)
    check_range("--atol", args.atol, 0.0, 1e100, hi_open=False)
    check_range("--diverge-bound", args.diverge_bound, 0.0, 1e300, lo_open=True, hi_open=False)
    if args.converge_tol is not None:
        check_range("--converge-tol", args.converge_tol, 0.0, 1e100, lo_open=True, hi_open=False)
    if args.dt is not None or not METHODS[args.method].adaptive:
        dt = t_end / 1000 if args.dt is None else check_range("dt (--dt)", args.dt, 0.0, t_end, lo_open=True, hi_open=False)
        steps = t_end / dt
        if not steps <= max_steps:
            raise ParameterError(f"--dt {args.dt!r} needs {steps:.3g} steps to reach --t-end {t_end!r}, "
                                 f"more than --max-steps {max_steps}; raise --dt or --max-steps")
    return t_end, max_steps


def run(args) -> int:
    import time
    from dataclasses import replace

    import numpy as np

    from dynamics.integrate import integrate
    from sims.io import command_line
    from symbolic.errors import ParameterError

    from ._grid import is_list, parse_list
    from ._params import defaults_line, defaults_used, model_from_args, params_from_args
    from ._paths import check_memory, check_not_same, load_npy, read_npy_header

    _check_out(args.out)
    if args.from_file is not None:
        return _rerun(args)
    for flag, v in (("--model", args.model), ("--p0", args.p0)):
        if v is None:
            raise ParameterError(f"{flag} is required (or --from RUN.npz to rerun a stored integration)")
    t_end, max_steps = _check_times(args)
    if args.device == "cuda":
        from sims.io import require_cuda

        require_cuda("--device cuda")
    ema = _ema_beta(args)
    m = model_from_args(args, form=args.form)         # the one lookup: the object is passed down
    params = params_from_args(m, args, **ema)
    p0_list = parse_list("--p0", args.p0) if is_list(args.p0) else None
    if p0_list is not None:
        n, dim = p0_list.size, 1
    elif args.p0.endswith(".npy"):
        shape, _ = read_npy_header("--p0", args.p0)
        if len(shape) not in (1, 2) or 0 in shape:
            raise ParameterError(f"--p0 must hold an array (N,) or (N, dim) with N >= 1; got shape {shape} in {args.p0!r}")
        check_not_same("--out", args.out, "--p0", args.p0)
        n, dim = shape[0], (shape[1] if len(shape) == 2 else 1)
    else:
        lin = _parse_linspace("--p0", args.p0)
        n, dim = lin[2], 1
    t_eval = None if args.t_eval is None else _parse_linspace("--t-eval", args.t_eval)
    n_t = 0 if t_eval is None else t_eval[2]
    if t_eval is not None and not 0.0 <= t_eval[0] <= t_eval[1] <= t_end:
        raise ParameterError(f"--t-eval must satisfy 0 <= START <= STOP <= --t-end ({t_end!r}); got {args.t_eval!r}")
    # states, copies and per-trajectory results (~8 doubles each), and the output grid twice
    check_memory(f"integrate of {n} trajectories" + (f" at {n_t} output times" if n_t else ""),
                 8.0 * n * (8 * dim + 4) + 16.0 * n_t * n * dim + 8.0 * n_t)
    p0 = p0_list if p0_list is not None else load_npy("--p0", args.p0) if args.p0.endswith(".npy") \
        else np.linspace(*lin)
    if t_eval is not None:
        t_eval = np.linspace(*t_eval)
    t0 = time.perf_counter()
    res = integrate(m, params, p0, t_end, form=args.form, method=args.method, dt=args.dt,
                    rtol=args.rtol, atol=args.atol, t_eval=t_eval, converge_tol=args.converge_tol,
                    diverge_bound=args.diverge_bound, max_steps=max_steps,
                    device=args.device, progress=args.device == "cpu" and len(np.atleast_1d(p0)) > (1 << 18), convention=args.convention)
    dt = time.perf_counter() - t0
    used = defaults_used(params, args, **ema)
    res = replace(res, defaulted=tuple(used), command=command_line(args))
    _write(res, args.out)
    print(f"{res.message} in {dt:.2f} s; wrote {args.out}")
    if args.steps is not None:
        print(f"ODE time t_end = {t_end:.10g} ({args.steps:g} steps at lr {args.lr:g}, momentum {_momentum(args)!r}; "
              f"one unit of t = {(1 - _momentum(args)) / args.lr:.6g} steps)")
    if ema:
        print(f"beta = {ema['beta']:.10g} (EMA momentum {args.ema_momentum:g} per step)")
    print(defaults_line(used))
    for line in summary(p0, res):
        print(line)
    _warn_short(m, params, t_end)   # after the work: never before an error
    return 0


def _check_out(path) -> None:
    """An .nc --out needs xarray: refused before any work when it is missing."""
    if _is_nc(path):
        from sims.io import need_xarray

        need_xarray("--out", path)


def _write(res, path) -> None:
    """``res`` to ``path``: NetCDF for a .nc name, else NPZ (both atomic, both with the provenance)."""
    if _is_nc(path):
        res.to_netcdf(path)
    else:
        res.to_npz(path)


def _is_nc(path) -> bool:
    import os

    return os.path.splitext(path)[1].lower() == ".nc"


def _given(args) -> set:
    """The options set on the command line (as argparse dests): recorded by :func:`sims.cli.main`;
    for a namespace parsed otherwise, those whose value is not their default."""
    given = getattr(args, "_given", None)
    if given is not None:
        return set(given)
    return {k for k, v in vars(args).items()
            if not k.startswith("_") and k not in ("command", "models") and v is not None and v != DEFAULTS.get(k)}


def _flag(dest: str) -> str:
    return {"from_file": "--from"}.get(dest, "--" + dest.removeprefix("param_").replace("_", "-"))


def _rerun(args) -> int:
    """``--from FILE``: integrate again what FILE records (:func:`dynamics.integrate.rerun`)."""
    import time
    from dataclasses import replace

    from dynamics.integrate import rerun
    from dynamics.results import BatchResult
    from sims.io import command_line
    from symbolic.errors import ParameterError

    from ._params import defaults_line
    from ._paths import check_input_file, check_not_same, check_suffix

    conflicts = sorted(_given(args) - {"from_file", "out"}, key=_flag)
    if conflicts:
        flags = " ".join(_flag(d) for d in conflicts)
        raise ParameterError(f"--from reruns the integration stored in {args.from_file!r} with its own model, "
                             f"parameters, p0, grid, method and tolerances: {flags} would change it; drop {flags} "
                             "(or run without --from)")
    path = check_input_file("--from", args.from_file)
    nc = check_suffix("--from", path, ("npz", "nc")) == "nc"
    check_not_same("--out", args.out, "--from", path)
    old = BatchResult.from_netcdf(path) if nc else BatchResult.from_npz(path)
    t0 = time.perf_counter()
    res = replace(rerun(old, progress=old.options.get("device") == "cpu" and old.final.shape[0] > (1 << 18)),
                  command=command_line(args))
    dt = time.perf_counter() - t0
    _write(res, args.out)
    print(f"{res.message} in {dt:.2f} s; wrote {args.out}")
    print(f"rerun of {path} (ssldyn {old.version}): {res.model}, form {res.form}, method {res.method}, "
          f"t_end = {res.options['t_end']:.10g}, at " + ", ".join(f"{k}={v:g}" for k, v in res.params.items()))
    print(defaults_line({k: res.params[k] for k in old._defaulted()}) + f" (as recorded in {path})")
    for line in summary(res.p0, res):
        print(line)
    return 0


#: trajectories listed one by one (p0 -> final) up to this many
LIST_FINALS = 20


def summary(p0, res) -> list:
    """Lines: min / median / max of the finite finals (first state variable), and with at most
    :data:`LIST_FINALS` trajectories each ``p0 -> final (status)``."""
    import numpy as np

    from symbolic.results import Status

    final = res.final if res.final.ndim == 1 else res.final[:, 0]
    name = res.state[0] if res.state else "p"
    ok = final[np.isfinite(final)]
    lines = [f"final {name}: min {ok.min():.10g}, median {np.median(ok):.10g}, max {ok.max():.10g}"
             + (f" ({ok.size} finite of {final.size})" if ok.size < final.size else "")
             if ok.size else f"final {name}: none finite"]
    if final.size <= LIST_FINALS:
        start = np.asarray(p0).reshape(final.size, -1)
        for y0, y1, st in zip(start, res.final.reshape(final.size, -1), res.status):
            fmt = lambda v: ", ".join(f"{x:.10g}" for x in v)   # noqa: E731
            lines.append(f"  {fmt(y0)} -> {fmt(y1)}  ({Status(int(st)).name.lower()})")
    return lines


#: t_end * slowest rate below this: the slowest mode has relaxed by less than e^-3 (5%)
SHORT = 3.0


def _warn_short(model, params, t_end) -> None:
    import sys

    from dynamics.relaxation import slowest_rate
    from symbolic.errors import ParameterError

    try:
        got = slowest_rate(params, model=model)
    except ParameterError:          # equilibria overflow float64: no rate to compare with
        return
    if got is not None and t_end * got[0] < SHORT:
        rate, what = got
        sys.stderr.write(f"ssldyn: warning: t_end = {t_end:g} is short against the flow's slowest rate "
                         f"({what} = {rate:g}, time scale {1 / rate:g}): t_end * rate = {t_end * rate:.3g} < {SHORT:g}, "
                         f"so the slowest mode has not settled; use --t-end >= {SHORT / rate:g}\n")
