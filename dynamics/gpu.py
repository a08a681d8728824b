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
from . import stepping as st
from .tableaus import TABLEAUS


def require_torch(what: str):
    """torch, imported; or a one-line :class:`~symbolic.errors.ParameterError` naming ``what``
    (e.g. ``"--device cuda"``) and the extra that installs it."""
    try:
        import torch
    except ImportError:
        from symbolic.errors import ParameterError

        raise ParameterError(f"{what} needs torch (pip install 'ssldyn[torch]'); it is not installed") from None
    return torch


def require_cuda(what: str, fix: str = "use --device cpu"):
    """torch, if it sees a CUDA device; else a one-line :class:`~symbolic.errors.ParameterError`
    naming ``what`` and ``fix``. The one CUDA check: the torch integrator, training and the
    reproductions call it."""
    torch = require_torch(what)
    if not torch.cuda.is_available():
        from symbolic.errors import ParameterError

        raise ParameterError(f"{what} needs a GPU, but torch sees no CUDA device; {fix}")
    return torch


def _stage_fn(k):
    fns = [getattr(k, f"rhs_{s}").py_func for s in k.STATE]

    def f(ys, th):
        return [fn(*ys, *th) for fn in fns]
    return f


CHUNK = 16     # fixed steps fused into one compiled function (one kernel on the GPU)


def _fixed_chunk(f, tab, bound, ctol, K, torch, coarse=True):
    """``K`` fixed steps of size ``dt`` with the divergence/convergence masks, as one function of tensors.

    Under ``torch.compile`` the K steps fuse into one elementwise kernel: the state stays in
    registers between steps. ``tstart`` and ``dt`` are 0-d tensors so that no new graph is traced
    per chunk. Stages and combination: :mod:`dynamics.stepping` (the same sums as the CPU loops).
    ``coarse``: the status rule's unresolved-step test (off for a polynomial right-hand side, which
    has no singularity, as in the CPU loop of one).
    """
    S = tab.stages

    def chunk(ys, th, live, status, tev, nst, tstart, dt):
        for k in range(K):
            t = tstart + k * dt
            Ks = []
            for s in range(S):
                Ks.append(f(st.stage_values(tab, s, ys, dt, Ks), th))
            new = st.combination_values(tab.b, ys, dt, Ks)
            v = sum(x.abs() for x in new)
            fm = sum(x.abs() for x in Ks[0])
            conv = live & (fm < ctol) if ctol > 0 else torch.zeros_like(live)
            # the status rule (dynamics.stepping): a step the flow changes too much across
            go = live & ~conv
            if coarse:
                fvar = torch.stack([(Ks[k][j] - Ks[0][j]).abs() for k in range(1, S) for j in range(len(ys))]).amax(0)
                sg = go & st.coarse_mask(fvar, fm, dt, sum(x.abs() for x in ys))     # NaN: unresolved
                go = go & ~sg
            keep = go & (v <= bound)                          # NaN and inf fail v <= bound
            dead = go & ~(v <= bound)
            ys = [torch.where(keep, a, c) for a, c in zip(new, ys)]
            status = torch.where(dead, torch.where(torch.isnan(fm), st.NONFINITE, st.DIVERGED).to(torch.int8), status)
            if coarse:
                growth = sum(a * b for a, b in zip(ys, Ks[0]))
                status = torch.where(sg, st.unresolved_values(growth, torch).to(torch.int8), status)
                dead = dead | sg
            tev = torch.where(dead, t + dt, torch.where(conv, t, tev))
            nst = nst + keep.to(torch.int64)
            live = keep
        return ys, live, status, tev, nst
    return chunk


def _adaptive_chunk(f, tab, t_end, rtol, atol, bound, ctol, max_steps, n, K, torch):
    """``K`` attempted steps of an embedded pair with per-trajectory step control, all masks
    (accept, divergence, step underflow, convergence, non-finite right-hand side); controller
    :data:`dynamics.stepping.CONTROLLER`, stages from :mod:`dynamics.stepping`."""
    S = tab.stages
    ctl = st.CONTROLLER

    def chunk(ys, f0, th, t, h, live, status, tev, nst, nacc):
        for _ in range(K):
            live = live & (t < t_end)
            ms = live & (nst >= max_steps)                             # the step budget is spent
            status = torch.where(ms, torch.full_like(status, st.MAX_STEPS), status)
            live = live & ~ms
            fm = sum(x.abs() for x in f0)
            nf = live & ~(fm < math.inf)                               # NaN or inf right-hand side
            conv = live & (fm < ctol) & ~nf if ctol > 0 else torch.zeros_like(live)
            status = torch.where(nf, torch.full_like(status, st.NONFINITE), status)
            tev = torch.where(nf | conv, t, tev)
            live = live & ~nf & ~conv
            hh = torch.minimum(h, t_end - t)
            Ks = [f0]
            for s in range(1, S):
                Ks.append(f(st.stage_values(tab, s, ys, hh, Ks), th))
            new = st.combination_values(tab.b, ys, hh, Ks)
            err = torch.sqrt(sum((st.error_values(tab, j, hh, Ks)
                                  / (atol + rtol * torch.maximum(ys[j].abs(), new[j].abs()))) ** 2
                                 for j in range(n)) / n)
            acc = live & (err <= 1.0)
            v = sum(x.abs() for x in new)
            dead = acc & ~(v <= bound)
            ok = acc & ~dead
            ys = [torch.where(ok, x, y) for x, y in zip(new, ys)]
            f0 = [torch.where(ok, x, y) for x, y in zip(Ks[-1], f0)]
            last = h >= t_end - t
            t = torch.where(ok, torch.where(last, torch.full_like(t, t_end), t + hh), t)
            h = torch.where(live, hh * ctl.factor(err, tab.order, torch), h)
            # underflow relative to the time, or to the flow's time scale |y| / |rhs| when shorter than 1
            tsc = torch.where(fm > 0, ((sum(x.abs() for x in ys) + atol) / fm).clamp_max(1.0), torch.ones_like(fm))
            under = live & ~acc & (h < ctl.underflow * torch.maximum(t.abs(), tsc))
            status = torch.where(dead, torch.full_like(status, st.DIVERGED), status)
            # an underflow: the status rule (a growing state diverged, else a singular rhs)
            growth = sum(a * b for a, b in zip(ys, f0))
            status = torch.where(under, st.unresolved_values(growth, torch).to(torch.int8), status)
            dead = dead | under
            tev = torch.where(dead, t + torch.where(under, 0.0, hh), tev)
            nst = nst + live.to(torch.int64)                           # attempts: the step budget
            nacc = nacc + ok.to(torch.int64)                           # accepted: BatchResult.nsteps
            live = live & ~dead
        return ys, f0, t, h, live, status, tev, nst, nacc
    return chunk


def integrate_torch(k, y, TH, per, t0, t_end, *, method, dt, rtol, atol, tout, max_steps, bound, ctol,
                    scalar, device="cuda", dtype=None, compile=None):
    """Integrate on ``device`` with torch; arguments as prepared by ``dynamics.integrate``."""
    if device == "cuda":
        torch = require_cuda("device 'cuda'", "use device 'cpu'")
    else:
        torch = require_torch(f"device {device!r}")
    dtype = dtype or torch.float64
    N, n = y.shape
    ys = [torch.as_tensor(np.ascontiguousarray(y[:, j]), dtype=dtype, device=device) for j in range(n)]
    th = [torch.as_tensor(np.ascontiguousarray(TH[q, :] if per else TH[q, :1]), dtype=dtype, device=device)
          for q in range(TH.shape[0])]
    f = _stage_fn(k)
    tab = TABLEAUS[method]
    live = torch.ones(N, dtype=torch.bool, device=device)
    status = torch.zeros(N, dtype=torch.int8, device=device)
    tev = torch.full((N,), float("nan"), dtype=dtype, device=device)
    nst = torch.zeros(N, dtype=torch.int64, device=device)
    fixed = dt is not None
    YOUT = None
    if compile is None:
        compile = device != "cpu"
    if fixed:
        T, H, out_idx = st.fixed_grid(t0, t_end, dt, tout, max_steps)
        nsteps = H.size
        YOUT = torch.empty((len(tout), n, N), dtype=dtype, device=device)
        coarse = not getattr(k, "RHSPOLY", None)
        chunk_k = _fixed_chunk(f, tab, bound, ctol, CHUNK, torch, coarse)
        chunk_1 = _fixed_chunk(f, tab, bound, ctol, 1, torch, coarse)
        if compile and hasattr(torch, "compile"):
            chunk_k, chunk_1 = torch.compile(chunk_k, dynamic=False), torch.compile(chunk_1, dynamic=False)
        h_uniform = float(np.max(H))
        i = 0
        for stop in sorted(set(out_idx.tolist()) | {nsteps}):
            while i < stop:
                if not bool(live.any()):          # one device sync per chunk of steps
                    i = nsteps
                    break
                kk = CHUNK if (stop - i >= CHUNK and np.all(H[i:i + CHUNK] == h_uniform)) else 1
                tstart = torch.tensor(T[i], dtype=dtype, device=device)
                dts = torch.tensor(H[i], dtype=dtype, device=device)
                ys, live, status, tev, nst = (chunk_k if kk == CHUNK else chunk_1)(ys, th, live, status, tev, nst,
                                                                                   tstart, dts)
                i += kk
            for o in np.flatnonzero(out_idx == stop):     # every output at this step time
                for j in range(n):
                    YOUT[o, j] = torch.where(live | (status == 0), ys[j], torch.nan)
    else:
        if len(tout):
            from symbolic.errors import ParameterError

            raise ParameterError("t_eval with an adaptive method is CPU-only; on cuda pass dt (fixed step)")
        t = torch.full((N,), t0, dtype=dtype, device=device)
        nacc = torch.zeros(N, dtype=torch.int64, device=device)
        f0 = f(ys, th)
        h = torch.clamp(st.initial_step(ys, f0, rtol, atol, torch), max=t_end - t0)
        chunk = _adaptive_chunk(f, tab, t_end, rtol, atol, bound, ctol, max_steps, n, CHUNK, torch)
        if compile and hasattr(torch, "compile"):
            chunk = torch.compile(chunk, dynamic=False)
        it = 0
        while it <= max_steps:
            if not bool((live & (t < t_end)).any()):      # one device sync per chunk of steps
                break
            ys, f0, t, h, live, status, tev, nst, nacc = chunk(ys, f0, th, t, h, live, status, tev, nst, nacc)
            it += CHUNK
        live = live & (t < t_end)
        status = torch.where(live, torch.full_like(status, st.MAX_STEPS), status)
        nst = nacc
    final = torch.stack(ys, 1).cpu().numpy()
    out = BatchResult(final[:, 0].copy() if scalar else final, status.cpu().numpy(), tev.cpu().numpy(),
                      nst.cpu().numpy(), method + f"@{device}", np.asarray(tout) if len(tout) else None,
                      None if YOUT is None or not len(tout) else
                      (YOUT[:, 0].cpu().numpy() if scalar else YOUT.permute(0, 2, 1).cpu().numpy()),
                      tuple(k.STATE))
    return out
