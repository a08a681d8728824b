"""Integrate a batch of initial conditions of a model's ODE.

Writes an NPZ with p0, final (N,) or (N, dim), status (0 success, 1 diverged, 2 max-steps,
3 non-finite), t_event (divergence/convergence time, NaN if none), nsteps, the parameters
(param_<name>) and the package version; with --t-eval also t and ys.
"""
NAME = "integrate"
HELP = "integrate many initial conditions (RK4 or adaptive Tsit5/DP5), write an NPZ"


def add_arguments(p):
    from ._params import add_model_arguments

    p.add_argument("--convention", default="frobenius",
                   help="cosine normalisers: frobenius (N = ||.||_F, default) or feature-norm (N = sqrt(1+sigma2) ||.||_F)")
    add_model_arguments(p, supports="reduced")
    p.add_argument("--form", default="reduced", help="reduced (default) or eigen")
    p.add_argument("--p0", required=True, help="START:STOP:N (evenly spaced) or a .npy file "
                   "((N,) or (N, dim) initial states)")
    p.add_argument("--t-end", required=True, type=float, help="final time (> 0)")
    p.add_argument("--method", default="tsit5", help="rk4, tsit5 (default) or dopri5")
    p.add_argument("--dt", type=float, default=None, help="rk4 step (default t_end/1000)")
    p.add_argument("--rtol", type=float, default=1e-8, help="relative tolerance (adaptive)")
    p.add_argument("--atol", type=float, default=1e-10, help="absolute tolerance (adaptive)")
    p.add_argument("--t-eval", default=None, help="output grid START:STOP:N (stored as t, ys)")
    p.add_argument("--converge-tol", type=float, default=None, help="stop a trajectory once max|rhs| < tol")
    p.add_argument("--diverge-bound", type=float, default=1e8, help="|state| above this is divergence")
    p.add_argument("--max-steps", type=float, default=1_000_000)
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda (torch backend)")
    p.add_argument("--out", required=True, help="output NPZ")


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


def _check_times(args):
    """The time and tolerance flags, checked before any kernel is loaded or compiled."""
    import math

    from symbolic.errors import ParameterError, check_choice, check_int, check_range

    check_choice("--form", args.form, ("reduced", "eigen"))
    check_choice("--method", args.method, ("rk4", "tsit5", "dopri5"))
    check_choice("--device", args.device, ("cpu", "cuda"))
    t_end = check_range("t_end (--t-end)", args.t_end, 0.0, T_MAX, lo_open=True, hi_open=False)
    max_steps = check_int("--max-steps", args.max_steps, lo=1, hi=MAX_STEPS)
    check_range("--rtol", args.rtol, 1e-15, 1.0)
    check_range("--atol", args.atol, 0.0, 1e100, hi_open=False)
    check_range("--diverge-bound", args.diverge_bound, 0.0, 1e300, lo_open=True, hi_open=False)
    if args.converge_tol is not None:
        check_range("--converge-tol", args.converge_tol, 0.0, 1e100, lo_open=True, hi_open=False)
    if args.dt is not None or args.method == "rk4":
        dt = t_end / 1000 if args.dt is None else check_range("dt (--dt)", args.dt, 0.0, t_end, lo_open=True, hi_open=False)
        steps = t_end / dt
        if not steps <= max_steps:
            raise ParameterError(f"--dt {args.dt!r} needs {steps:.3g} steps to reach --t-end {t_end!r}, "
                                 f"more than --max-steps {max_steps}; raise --dt or --max-steps")
    return t_end, max_steps


def run(args) -> int:
    import time

    import numpy as np

    from dynamics.integrate import integrate
    from symbolic.errors import ParameterError

    from ._params import params_from_args
    from ._paths import check_memory, check_not_same, load_npy, read_npy_header

    t_end, max_steps = _check_times(args)
    if args.device == "cuda":
        from sims.io import require_cuda

        require_cuda("--device cuda")
    params = params_from_args(args.model, args)
    if args.p0.endswith(".npy"):
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
    p0 = load_npy("--p0", args.p0) if args.p0.endswith(".npy") else np.linspace(*lin)
    if t_eval is not None:
        t_eval = np.linspace(*t_eval)
    t0 = time.perf_counter()
    res = integrate(args.model, params, p0, t_end, form=args.form, method=args.method, dt=args.dt,
                    rtol=args.rtol, atol=args.atol, t_eval=t_eval, converge_tol=args.converge_tol,
                    diverge_bound=args.diverge_bound, max_steps=max_steps,
                    device=args.device, progress=len(np.atleast_1d(p0)) > (1 << 18), convention=args.convention)
    dt = time.perf_counter() - t0
    from importlib.metadata import version

    extra = {f"param_{k}": v for k, v in params.to_dict().items()}
    res.to_npz(args.out, p0=p0, model=args.model, form=args.form, t_end=args.t_end, version=version("ssldyn"), **extra)
    print(f"{res.message} in {dt:.2f} s; wrote {args.out}")
    return 0
