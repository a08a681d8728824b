"""1000 x 1000 cosine regime maps versus a loop of numpy.roots, same run.

    python benchmarks/bench_regime_map.py

Three planes, because :func:`dynamics.regimes.regime_map` takes three paths:

- ``rho`` x ``n_psi``: the decay is an axis, so rho_c is computed once per N_Psi (1000 root
  searches) and the codes are an outer comparison;
- ``sigma2`` x ``n_phi``: the decay-0 polynomial of Bao eq. 7 depends on N_Psi and T only, so
  each grid line reuses one root search (exact);
- ``trace`` x ``n_psi``: the worst case, one root search per grid point (10^6).

The numpy.roots baseline classifies a random subset of 5000 points of each grid (its per-point
cost does not depend on the point) and is extrapolated to the whole grid; the two classifications
are compared on that subset. Results: benchmarks/results/regime_map.json.
"""
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import median_time, write  # noqa: E402

from dynamics.regimes import regime_map  # noqa: E402

DEFAULTS = {"rho": 0.05, "sigma2": 0.5, "n_phi": 2.0, "n_psi": 1.5, "trace": 0.3}


def numpy_roots_regime(rho, sigma2, n_phi, n_psi, trace):
    """Collapse (0) unless Q = 2p^5 + T p^2 - N_Psi^2 p + K has a positive real root (Acute, 1)."""
    K = rho * (1 + sigma2) * n_phi * n_psi**3
    r = np.roots([2, 0, 0, trace, -n_psi**2, K])
    pos = r[(np.abs(r.imag) < 1e-9) & (r.real > 0)]
    return 1 if pos.size else 0


PLANES = {
    "rho_x_n_psi (decay axis)": ("rho", np.logspace(-4, -1, 1000), "n_psi", np.logspace(-1, np.log10(20), 1000)),
    "sigma2_x_n_phi (reused root search)": ("sigma2", np.linspace(0, 3, 1000), "n_phi", np.logspace(-1, 1, 1000)),
    "trace_x_n_psi (one root search per point)": ("trace", np.linspace(-2, 2, 1000), "n_psi",
                                                  np.logspace(-1, 1.3, 1000)),
}


def bench_plane(xn, x, yn, y, n_sub=5000):
    fixed = {k: v for k, v in DEFAULTS.items() if k not in (xn, yn)}
    regime_map("cosine-simsiam", xn, x[:10], yn, y[:10], fixed)                 # compile
    t = median_time(lambda: regime_map("cosine-simsiam", xn, x, yn, y, fixed), repeats=5)
    m = regime_map("cosine-simsiam", xn, x, yn, y, fixed)
    rng = np.random.default_rng(0)
    ii, jj = rng.integers(0, y.size, n_sub), rng.integers(0, x.size, n_sub)
    t0 = time.perf_counter()
    base = np.array([numpy_roots_regime(**{**fixed, xn: x[j], yn: y[i]}) for i, j in zip(ii, jj)])
    t_sub = time.perf_counter() - t0
    t_np = t_sub * x.size * y.size / n_sub
    return {"seconds": t, "numpy_roots_seconds_extrapolated": t_np, "numpy_roots_subset": n_sub,
            "ratio": t_np / t, "agreement_on_subset": float(np.mean(base == m.regime[ii, jj])),
            "acute_fraction": float(np.mean(m.regime == 1)), "fixed": fixed}


def main():
    planes = {name: bench_plane(*args) for name, args in PLANES.items()}
    head = planes["rho_x_n_psi (decay axis)"]
    write("regime_map", {"grid": [1000, 1000], "seconds": head["seconds"], "ratio": head["ratio"],
                         "worst_case_seconds": max(p["seconds"] for p in planes.values()),
                         "worst_case_ratio": min(p["ratio"] for p in planes.values()),
                         "planes": planes, "target_seconds": 1.0, "target_ratio": 100,
                         "note": "numpy.roots timed on 5000 random grid points per plane and extrapolated; "
                                 "median of 5 regime_map calls after a compile call"})


if __name__ == "__main__":
    main()
