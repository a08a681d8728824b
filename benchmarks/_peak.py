r"""This machine's FP64 fused multiply-add peak, measured, and what the CPU offers (SIMD width).

The peak is measured, not looked up: sixteen independent FMA chains :math:`x_i\leftarrow
x_ib+c` per thread (enough to cover the FMA latency on both ports) run for a fixed count;
LLVM emits scalar ``vfmadd...sd`` for them, so the measured rate is the scalar FMA rate, and the
vector peak is that rate times the FP64 lanes of the widest vector unit the CPU reports
(``/proc/cpuinfo`` flags: avx512f 8, avx/avx2 4, else 2). Under load (other processes on the
cores) the measurement drops with everything else measured in the same run; the load average
is recorded with it.
"""
from __future__ import annotations

import os
import platform
import time

import numpy as np
from numba import njit, prange


def cpu_flags() -> set:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (else ``platform.processor()``)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def simd() -> dict:
    """Widest FP64 vector unit: ``{"isa": ..., "lanes_f64": ..., "fma": bool}``."""
    f = cpu_flags()
    isa, lanes = ("avx512f", 8) if "avx512f" in f else ("avx2", 4) if "avx2" in f else \
        ("avx", 4) if "avx" in f else ("sse2", 2)
    return {"isa": isa, "lanes_f64": lanes, "fma": "fma" in f}


@njit(parallel=True, fastmath=True, cache=True)
def _chains(reps, nthreads, b, c):
    out = np.zeros(nthreads)
    for t in prange(nthreads):
        x0, x1, x2, x3 = 1.0 + t, 1.1 + t, 1.2 + t, 1.3 + t
        x4, x5, x6, x7 = 1.4 + t, 1.5 + t, 1.6 + t, 1.7 + t
        x8, x9, x10, x11 = 1.8 + t, 1.9 + t, 2.0 + t, 2.1 + t
        x12, x13, x14, x15 = 2.2 + t, 2.3 + t, 2.4 + t, 2.5 + t
        for _ in range(reps):
            x0, x1, x2, x3 = x0 * b + c, x1 * b + c, x2 * b + c, x3 * b + c
            x4, x5, x6, x7 = x4 * b + c, x5 * b + c, x6 * b + c, x7 * b + c
            x8, x9, x10, x11 = x8 * b + c, x9 * b + c, x10 * b + c, x11 * b + c
            x12, x13, x14, x15 = x12 * b + c, x13 * b + c, x14 * b + c, x15 * b + c
        out[t] = (x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + x11 + x12 + x13 + x14 + x15)
    return out


def fma_peak(seconds: float = 0.5) -> dict:
    """Measured scalar FMA rate on all threads and the implied FP64 vector peak, GFLOP/s."""
    import numba

    nt = numba.get_num_threads()
    _chains(10, nt, 0.999, 1e-3)
    reps = 100_000
    while True:
        t0 = time.perf_counter()
        _chains(reps, nt, 0.9999999, 1e-9)
        dt = time.perf_counter() - t0
        if dt > seconds or reps > 1 << 34:
            break
        reps *= 4
    scalar = 2 * 16 * reps * nt / dt / 1e9
    s = simd()
    return {"threads": nt, "scalar_fma_gflops": scalar, "simd": s, "peak_gflops": scalar * s["lanes_f64"],
            "loadavg_1min": os.getloadavg()[0], "method": "16 scalar FMA chains per thread x FP64 lanes"}
