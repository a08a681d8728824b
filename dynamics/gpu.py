r"""Torch backend of :func:`dynamics.integrate.integrate` (``device="cuda"``).

The generated right-hand sides are plain arithmetic, so their pure-Python bodies
(``rhs_<state>.py_func``) evaluate elementwise on torch tensors: one tensor per state component
holds every trajectory. Fixed-step methods run the whole batch in lockstep (``torch.compile`` fuses
one step into a few kernels when available); the adaptive methods keep a step size per trajectory
and accept or reject elementwise. Divergence and convergence are masks, as on the CPU.

torch is imported here only, lazily: the core never needs it. The code path is the same on
``device="cpu"`` (used by the tests where no GPU exists).
"""
from __future__ import annotations

import math

import numpy as np

from .results import BatchResult
from .tableaus import TABLEAUS


def _import_torch():
    try:
        import torch
    except ImportError as e:  # pragma: no cover - the CLI checks first
        from symbolic.errors import ParameterError

        raise ParameterError("device cuda needs torch (pip install -e .[torch])") from e
    return torch


def _stage_fn(k):
    fns = [getattr(k, f"rhs_{s}").py_func for s in k.STATE]

    def f(ys, th):
        return [fn(*ys, *th) for fn in fns]
    return f


def integrate_torch(k, y, TH, per, t0, t_end, *, method, dt, rtol, atol, tout, max_steps, bound, ctol,
                    scalar, device="cuda", dtype=None, compile=False):
    """Integrate on ``device`` with torch; arguments as prepared by ``dynamics.integrate``."""
    torch = _import_torch()
    if device == "cuda" and not torch.cuda.is_available():
        from symbolic.errors import ParameterError

        raise ParameterError("device cuda needs a CUDA GPU; none is available (use device='cpu')")
    dtype = dtype or torch.float64
    N, n = y.shape
    ys = [torch.as_tensor(np.ascontiguousarray(y[:, j]), dtype=dtype, device=device) for j in range(n)]
    th = [torch.as_tensor(np.ascontiguousarray(TH[q, :] if per else TH[q, :1]), dtype=dtype, device=device)
          for q in range(TH.shape[0])]
    f = _stage_fn(k)
    tab = TABLEAUS[method]
    A = tab.a.tolist()
    live = torch.ones(N, dtype=torch.bool, device=device)
    status = torch.zeros(N, dtype=torch.int8, device=device)
    tev = torch.full((N,), float("nan"), dtype=dtype, device=device)
    nst = torch.zeros(N, dtype=torch.int64, device=device)
    fixed = dt is not None
    YOUT = None
    if fixed:
        nsteps = int(math.ceil((t_end - t0) / dt - 1e-9))
        dt = (t_end - t0) / nsteps
        out_idx = {int(round((t - t0) / dt)): i for i, t in enumerate(tout)}
        YOUT = torch.empty((len(tout), n, N), dtype=dtype, device=device)

        def step(ys, th):
            K = []
            for s in range(tab.stages):
                arg = [yj + dt * sum(A[s][l] * K[l][j] for l in range(s) if A[s][l] != 0.0) for j, yj in enumerate(ys)]
                K.append(f(arg, th))
            new = [yj + dt * sum(tab.b[s] * K[s][j] for s in range(tab.stages) if tab.b[s] != 0.0)
                   for j, yj in enumerate(ys)]
            return new, K[0]
        if compile and hasattr(torch, "compile"):
            step = torch.compile(step)
        for i in range(nsteps + 1):
            if i in out_idx:
                for j in range(n):
                    YOUT[out_idx[i], j] = torch.where(live | (status == 0), ys[j], torch.nan)
            if i == nsteps or not bool(live.any()):
                break
            new, f0 = step(ys, th)
            v = sum(x.abs() for x in new)
            fm = sum(x.abs() for x in f0)
            conv = live & (fm < ctol) if ctol > 0 else torch.zeros_like(live)
            good = v <= bound
            keep = live & good & ~conv
            dead = live & ~good & ~conv
            ys = [torch.where(keep, a, b) for a, b in zip(new, ys)]
            status = torch.where(dead, torch.where(torch.isnan(fm), 3, 1).to(torch.int8), status)
            t = t0 + i * dt
            tev = torch.where(dead, torch.full_like(tev, t + dt), torch.where(conv, torch.full_like(tev, t), tev))
            nst += (live & ~conv).to(torch.int64)
            live = live & ~dead & ~conv
    else:
        if len(tout):
            from symbolic.errors import ParameterError

            raise ParameterError("t_eval with an adaptive method is CPU-only; on cuda pass dt (fixed step)")
        E = tab.e.tolist()
        t = torch.full((N,), t0, dtype=dtype, device=device)
        h = torch.full((N,), 1e-3 * (t_end - t0), dtype=dtype, device=device)
        f0 = f(ys, th)
        for _ in range(max_steps):
            live = live & (t < t_end)
            if not bool(live.any()):
                break
            hh = torch.minimum(h, t_end - t)
            K = [f0]
            for s in range(1, tab.stages):
                arg = [yj + hh * sum(A[s][l] * K[l][j] for l in range(s) if A[s][l] != 0.0) for j, yj in enumerate(ys)]
                K.append(f(arg, th))
            new = [yj + hh * sum(tab.b[s] * K[s][j] for s in range(tab.stages) if tab.b[s] != 0.0)
                   for j, yj in enumerate(ys)]
            err = torch.sqrt(sum(((hh * sum(E[s] * K[s][j] for s in range(tab.stages) if E[s] != 0.0))
                                  / (atol + rtol * torch.maximum(ys[j].abs(), new[j].abs()))) ** 2
                                 for j in range(n)) / n)
            acc = live & (err <= 1.0)
            v = sum(x.abs() for x in new)
            dead = acc & ~(v <= bound)
            ok = acc & ~dead
            ys = [torch.where(ok, a, b) for a, b in zip(new, ys)]
            f0 = [torch.where(ok, a, b) for a, b in zip(K[-1], f0)]
            t = torch.where(ok, t + hh, t)
            fac = torch.clamp(0.9 * err.clamp_min(1e-10) ** -0.2, 0.2, 5.0)
            fac = torch.where(torch.isfinite(err), fac, torch.full_like(fac, 0.2))
            h = torch.where(live, hh * fac, h)
            under = live & ~acc & (h < 1e-14 * t.abs().clamp_min(1.0))
            dead = dead | under
            status = torch.where(dead, torch.ones_like(status), status)
            tev = torch.where(dead, t + torch.where(under, 0.0, hh), tev)
            nst += live.to(torch.int64)
            live = live & ~dead
        status = torch.where(live & (t < t_end), torch.full_like(status, 2), status)
    final = torch.stack(ys, 1).cpu().numpy()
    out = BatchResult(final[:, 0].copy() if scalar else final, status.cpu().numpy(), tev.cpu().numpy(),
                      nst.cpu().numpy(), method + f"@{device}", np.asarray(tout) if len(tout) else None,
                      None if YOUT is None or not len(tout) else
                      (YOUT[:, 0].cpu().numpy() if scalar else YOUT.permute(0, 2, 1).cpu().numpy()),
                      tuple(k.STATE))
    return out
