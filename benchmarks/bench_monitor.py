"""Cost of sims.monitor.Monitor in a plain PyTorch loop: one measurement against one training step.

    python benchmarks/bench_monitor.py [--steps 60] [--repeats 7] [--threads N]

For each model (linear SimSiam of ``validate linear``: d = h = 512, batch 512, evaluation batch
1024, as ``validate``'s defaults; and d = h = 64), in one process on the same inputs:

- baseline: the median time of one SGD step (forward, backward, update) over ``--steps`` steps;
- candidate: the median time of one ``Monitor.measure`` (spectrum, collapse diagnostics of the
  evaluation outputs, theory overlay), numba kernels loaded by a warm-up call first;
- the cost fraction at the default ``every`` (``sims.monitor.DEFAULT_EVERY``):
  ``measure / (every * step)`` (medians; also from the minima, the better estimate on a busy
  machine), the smallest ``every`` for which it stays below 10 %, and a direct check: ``every``
  steps with the monitor called at each (it measures once) against ``every`` steps without it.

Results: benchmarks/results/monitor.json (machine, versions, load).
"""
import argparse
import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

MODELS = {"d=h=512 (validate linear default)": 512, "d=h=64": 64}
BATCH, EVAL = 512, 1024


def setup(d, seed=0):
    import torch

    gen = torch.Generator().manual_seed(seed)
    phi = torch.nn.Parameter(torch.randn(d, d, generator=gen) / math.sqrt(d))
    A = torch.randn(d, d, generator=gen) / math.sqrt(d)
    w = torch.nn.Parameter(0.5 * (A + A.T))
    opt = torch.optim.SGD([phi, w], lr=0.1, momentum=0.9, weight_decay=0.01)
    x_eval = torch.randn(EVAL, d, generator=gen)
    cos = torch.nn.functional.cosine_similarity

    def step():
        x = torch.randn(BATCH, d, generator=gen)
        x1, x2 = x + 0.7 * torch.randn_like(x), x + 0.7 * torch.randn_like(x)
        z1, z2 = x1 @ phi.T, x2 @ phi.T
        loss = -0.5 * (cos(z1 @ w.T, z2.detach(), dim=1).mean() + cos(z2 @ w.T, z1.detach(), dim=1).mean())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return phi, w, x_eval, step


def timed(fn):
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def bench(d, steps, repeats, every):
    from sims.monitor import Monitor

    phi, w, x_eval, step = setup(d)
    mon = Monitor(head=w, phi=phi, loss="cosine", rho=0.01, sigma2=0.49, every=every,
                  embed=lambda x: x @ phi.T, inputs=x_eval, warn=False)
    for _ in range(5):
        step()
    mon.measure()                                          # warm-up: numba kernels from the cache
    steps_s = [timed(step) for _ in range(steps)]
    meas_s = [timed(mon.measure) for _ in range(repeats)]
    t_step, t_meas = statistics.median(steps_s), statistics.median(meas_s)
    # direct: `every` steps with the monitor called at each (it measures once), against `every` bare steps
    bare = timed(lambda: [step() for _ in range(every)])
    with_mon = timed(lambda: [(step(), mon.step(i)) for i in range(every)])
    return {"d": d, "h": d, "batch": BATCH, "eval_size": EVAL, "step_s": t_step, "measure_s": t_meas,
            "measure_over_step": t_meas / t_step, "every": every,
            "fraction_at_default_every": t_meas / (every * t_step),
            "fraction_at_default_every_from_minima": min(meas_s) / (every * min(steps_s)),
            "smallest_every_below_10pct": math.ceil(t_meas / (0.1 * t_step)),
            "direct_fraction": with_mon / bare - 1.0}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's)")
    a = ap.parse_args()
    import os

    import torch

    from _common import write
    from sims.monitor import DEFAULT_EVERY

    if a.threads:
        torch.set_num_threads(a.threads)
    load = os.getloadavg()[0]
    runs = {name: bench(d, a.steps, a.repeats, DEFAULT_EVERY) for name, d in MODELS.items()}
    write("monitor", {"torch": torch.__version__, "torch_threads": torch.get_num_threads(),
                      "default_every": DEFAULT_EVERY, "loadavg_before": load, "models": runs,
                      "note": "fraction = one Monitor.measure / (every x one training step), medians (and minima); "
                              "direct_fraction = every steps with the monitor / every bare steps - 1 "
                              "(noisier: one window each)"})


if __name__ == "__main__":
    main()
