"""Regime maps of a registered (user) polynomial model versus the built-in cosine model, same run.

    python benchmarks/bench_user_model.py [N]

The user model is Bao eq. 7 itself, registered from SymPy expressions
(:func:`symbolic.register_model`) with the built-in's parameters, so both maps classify the same
polynomial on the same N x N grids: the ``rho`` x ``n_psi`` plane (the decay is an axis) and the
``trace`` x ``n_psi`` plane (one root search per point). Compile time is excluded by a warm-up
call on a small grid; the median of 5 repeats per map. Issue #24 asks for the user model within
2x the built-in's time per point. The two maps must agree point for point. Results:
benchmarks/results/user_model.json.
"""
import sys
from pathlib import Path

import numpy as np
import sympy as sp

sys.path.insert(0, str(Path(__file__).parent))
from _common import median_time, write  # noqa: E402

from dynamics.regimes import regime_map  # noqa: E402
from symbolic import register_model  # noqa: E402

DEFAULTS = {"rho": 0.05, "sigma2": 0.5, "n_phi": 2.0, "n_psi": 1.5, "trace": 0.3}


def register_cosine_copy() -> str:
    p, rho, s2, nphi, npsi, T = sp.symbols("p rho sigma2 n_phi n_psi trace")
    # Bao eq. 7: dp/dt = p (-N_Phi N_Psi^3 rho (1 + s2) + p (N_Psi^2 - T p - 2 p^4)) / (N_Phi N_Psi^3 (1 + s2))
    rhs = p * (-nphi * npsi**3 * rho * (1 + s2) + p * (npsi**2 - T * p - 2 * p**4)) / (nphi * npsi**3 * (1 + s2))
    register_model("bench-cosine-copy", [p], [rhs], dict(DEFAULTS), "rho")
    return "bench-cosine-copy"


def main(n: int = 500) -> None:
    user = register_cosine_copy()
    planes = {"rho x n_psi": ("rho", np.linspace(0.001, 0.2, n), "n_psi", np.linspace(0.5, 2.0, n)),
              "trace x n_psi": ("trace", np.linspace(-1.0, 1.0, n), "n_psi", np.linspace(0.5, 2.0, n))}
    out = {}
    for plane, (x, xv, y, yv) in planes.items():
        fixed = {k: v for k, v in DEFAULTS.items() if k not in (x, y)}
        maps = {}
        for model in ("cosine-simsiam", user):
            regime_map(model, x, xv[:7], y, yv[:7], fixed)                       # warm-up: compile
            maps[model] = regime_map(model, x, xv, y, yv, fixed)
        t_builtin = median_time(lambda: regime_map("cosine-simsiam", x, xv, y, yv, fixed), 5) / n**2
        t_user = median_time(lambda: regime_map(user, x, xv, y, yv, fixed), 5) / n**2
        agree = float(np.mean(maps["cosine-simsiam"].regime == maps[user].regime))
        out[plane] = {"n": n, "builtin_s_per_point": t_builtin, "user_s_per_point": t_user,
                      "user_over_builtin": t_user / t_builtin, "agreement": agree}
    write("user_model", out)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
