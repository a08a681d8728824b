"""GPU (torch) integrator throughput, with the numba CPU backend of the same machine in the same run.

On a machine with one CUDA GPU (the issue's target: an H100), from the repository root:

    pip install -e .[torch]          # torch with CUDA, as the machine provides it
    python benchmarks/bench_integrators_gpu.py

Measures, f64 throughout, after a warm-up call that includes torch.compile:

1. fixed-step RK4 on the scalar sixth-order ODE (Bao eq. 7), 2^24 trajectories x 1000 steps:
   trajectory-steps/s (the issue's target: >= 2e11 on an H100);
2. adaptive Tsit5 (rtol 1e-8) on 2^22 trajectories to t = 50: trajectories/s, and the largest
   relative difference of the final states from the numba CPU backend on a subset;
3. the same RK4 run on the numba CPU backend of that machine (2^22 trajectories), for the ratio.

``--device cpu --quick`` runs the same code path on torch's CPU device with small sizes (a smoke
test where no GPU exists; its numbers say nothing about a GPU). Results:
benchmarks/results/integrators_gpu.json (integrators_gpu_quick.json for --quick).
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import write  # noqa: E402

from dynamics.integrate import integrate  # noqa: E402
from dynamics.params import CosineParams  # noqa: E402


def _timed(fn, sync):
    sync()
    t0 = time.perf_counter()
    out = fn()
    sync()
    return time.perf_counter() - t0, out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--device", default="cuda", help="cuda (default) or cpu (smoke test of the code path)")
    ap.add_argument("--quick", action="store_true", help="small sizes")
    ap.add_argument("--out", default=None, help="folder of the results file (default benchmarks/results)")
    args = ap.parse_args()
    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        print("bench_integrators_gpu: no CUDA GPU here; use --device cpu --quick for a smoke run", file=sys.stderr)
        return 2
    sync = torch.cuda.synchronize if args.device == "cuda" else (lambda: None)
    dev = "cuda" if args.device == "cuda" else "torch-cpu"
    P = CosineParams()
    rng = np.random.default_rng(0)
    q = args.quick
    out = {"device": torch.cuda.get_device_name(0) if dev == "cuda" else "torch cpu (smoke run)",
           "torch": torch.__version__}

    # 1. fixed-step RK4, 2^24 trajectories x 1000 steps
    N, steps = (1 << 14, 64) if q else (1 << 24, 1000)
    p0 = rng.uniform(0.05, 1.5, N)
    integrate("cosine-simsiam", P, p0, 32 * 0.01, method="rk4", dt=0.01, device=dev)      # compile
    t, res = _timed(lambda: integrate("cosine-simsiam", P, p0, steps * 0.01, method="rk4", dt=0.01, device=dev), sync)
    cpu_n = min(N, 1 << 22)
    ref = integrate("cosine-simsiam", P, p0[:cpu_n], steps * 0.01, method="rk4", dt=0.01)
    t_cpu, _ = _timed(lambda: integrate("cosine-simsiam", P, p0[:cpu_n], steps * 0.01, method="rk4", dt=0.01),
                      lambda: None)
    out["rk4_scalar"] = {"trajectories": N, "steps": steps, "seconds": t, "steps_per_s": N * steps / t,
                         "target_steps_per_s": 2e11,
                         "cpu_numba_steps_per_s": cpu_n * steps / t_cpu, "ratio_vs_cpu_numba": (N * steps / t) / (cpu_n * steps / t_cpu),
                         "max_rel_diff_vs_cpu": float(np.max(np.abs(res.final[:cpu_n] - ref.final) / np.abs(ref.final)))}

    # 2. adaptive Tsit5
    Na = (1 << 12) if q else (1 << 22)
    pa = rng.uniform(0.05, 1.5, Na)
    integrate("cosine-simsiam", P, pa[:1024], 1.0, method="tsit5", device=dev)              # compile
    T = 50.0
    t, res = _timed(lambda: integrate("cosine-simsiam", P, pa, T, method="tsit5", rtol=1e-8, atol=1e-10, device=dev), sync)
    sub = integrate("cosine-simsiam", P, pa[:4096], T, method="tsit5", rtol=1e-8, atol=1e-10)
    out["adaptive_tsit5"] = {"trajectories": Na, "t_end": T, "seconds": t, "trajectories_per_s": Na / t,
                             "max_rel_diff_vs_cpu": float(np.max(np.abs(res.final[:4096] - sub.final) / np.abs(sub.final)))}
    write("integrators_gpu" + ("_quick" if q else ""), out, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
