"""A 1000 x 1000 cosine regime map versus a loop of numpy.roots, same run.

    python benchmarks/bench_regime_map.py

The numpy.roots baseline classifies a random subset of the same grid points (its per-point cost
is independent of the point) and is extrapolated to the whole grid; both classifications are
compared on that subset. Results: benchmarks/results/regime_map.json.
"""
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import median_time, write  # noqa: E402

from dynamics.regimes import regime_map  # noqa: E402


def numpy_roots_regime(rho, sigma2, n_phi, n_psi, T):
    """Collapse (0) unless Q = 2p^5 + T p^2 - N_Psi^2 p + K has a positive real root (Acute, 1)."""
    K = rho * (1 + sigma2) * n_phi * n_psi**3
    r = np.roots([2, 0, 0, T, -n_psi**2, K])
    pos = r[(np.abs(r.imag) < 1e-9) & (r.real > 0)]
    return 1 if pos.size else 0


def main():
    fixed = {"sigma2": 0.5, "n_phi": 2.0, "trace": 0.3}
    x = np.logspace(-4, -1, 1000)
    y = np.logspace(-1, np.log10(20), 1000)
    regime_map("cosine-simsiam", "rho", x[:10], "n_psi", y[:10], fixed)                 # compile
    t = median_time(lambda: regime_map("cosine-simsiam", "rho", x, "n_psi", y, fixed))
    m = regime_map("cosine-simsiam", "rho", x, "n_psi", y, fixed)
    rng = np.random.default_rng(0)
    n_sub = 5000
    ii, jj = rng.integers(0, 1000, n_sub), rng.integers(0, 1000, n_sub)
    t0 = time.perf_counter()
    base = np.array([numpy_roots_regime(x[j], 0.5, 2.0, y[i], 0.3) for i, j in zip(ii, jj)])
    t_sub = time.perf_counter() - t0
    t_np = t_sub * x.size * y.size / n_sub
    agree = float(np.mean(base == m.regime[ii, jj]))
    write("regime_map", {"grid": [1000, 1000], "seconds": t, "numpy_roots_seconds_extrapolated": t_np,
                         "numpy_roots_subset": n_sub, "ratio": t_np / t, "agreement_on_subset": agree,
                         "target_seconds": 1.0, "target_ratio": 100})


if __name__ == "__main__":
    main()
