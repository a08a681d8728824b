"""Integrate a batch of initial conditions of a model's ODE.

Writes an NPZ with p0, final (N,) or (N, dim), status (0 success, 1 diverged, 2 max-steps,
3 non-finite), t_event (divergence/convergence time, NaN if none), nsteps, the parameters
(param_<name>) and the package version; with --t-eval also t and ys.
"""
NAME = "integrate"
HELP = "integrate many initial conditions (RK4 or adaptive Tsit5/DP5), write an NPZ"


def add_arguments(p):
    from ._params import add_model_arguments

    add_model_arguments(p)
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


def _parse_linspace(flag, text):
    import numpy as np

    from symbolic.errors import ParameterError, check_int, check_range

    parts = text.split(":")
    if len(parts) != 3:
        raise ParameterError(f"{flag} must be START:STOP:N or a .npy file; got {text!r}")
    a, b = check_range(f"{flag} START", parts[0]), check_range(f"{flag} STOP", parts[1])
    n = check_int(f"{flag} N", parts[2], lo=1, hi=10**9)
    return np.linspace(a, b, n)


def run(args) -> int:
    import os
    import time

    import numpy as np

    from dynamics.integrate import integrate
    from symbolic.errors import ParameterError, check_int

    from ._params import params_from_args

    if args.device == "cuda":
        try:
            import torch
        except ImportError:
            raise ParameterError("--device cuda needs torch (pip install -e .[torch]); it is not installed") from None
        if not torch.cuda.is_available():
            raise ParameterError("--device cuda needs a CUDA GPU; none is available (use --device cpu)")
    params = params_from_args(args.model, args)
    if args.p0.endswith(".npy"):
        if not os.path.exists(args.p0):
            raise ParameterError(f"--p0 file not found: {args.p0}")
        p0 = np.load(args.p0)
    else:
        p0 = _parse_linspace("--p0", args.p0)
    t_eval = None if args.t_eval is None else _parse_linspace("--t-eval", args.t_eval)
    t0 = time.perf_counter()
    res = integrate(args.model, params, p0, args.t_end, form=args.form, method=args.method, dt=args.dt,
                    rtol=args.rtol, atol=args.atol, t_eval=t_eval, converge_tol=args.converge_tol,
                    diverge_bound=args.diverge_bound, max_steps=check_int("--max-steps", args.max_steps, lo=1),
                    device=args.device, progress=len(np.atleast_1d(p0)) > (1 << 18))
    dt = time.perf_counter() - t0
    from importlib.metadata import version

    extra = {f"param_{k}": v for k, v in params.to_dict().items()}
    res.to_npz(args.out, p0=p0, model=args.model, form=args.form, t_end=args.t_end, version=version("ssldyn"), **extra)
    print(f"{res.message} in {dt:.2f} s; wrote {args.out}")
    return 0
