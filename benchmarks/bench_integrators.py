"""Integrator throughput on this machine, baselines measured in the same run.

    python benchmarks/bench_integrators.py [--quick] [--out DIR]

then ``python benchmarks/readme_table.py`` regenerates README's table from the results file.

1. fixed-step RK4 on the scalar sixth-order ODE (Bao eq. 7), 2e5 trajectories x 1000 steps, f64:
   trajectory-steps/s and GFLOP/s (flops counted from the generated loop) and the fraction of
   this machine's measured FMA peak (benchmarks/_peak.py), against a numpy-vectorised RK4, a
   hand-blocked numba prange kernel and JAX fori_loop (benchmarks/_peers.py; skipped with a
   line when absent);
2. adaptive Tsit5 against scipy's solve_ivp (RK45 and DOP853), diffrax (vmap) and numbalsoda at
   matched accuracy (median and max error against DOP853 rtol 1e-13): trajectories/s;
3. the coupled h = 512 eigen system (Bao eq. 5) against solve_ivp (DOP853) on the same system;
4. memory: extra resident memory to integrate 1e7 trajectories to their final state;
5. scaling curve 8 .. 2^24 trajectories (100 RK4 steps each; DiffEqGPU's protocol);
6. the cosine matrix flow (eq. 4) at h = d = 2048: closed-form right-hand side vs the printed one.
GPU numbers: benchmarks/bench_integrators_gpu.py (needs a CUDA machine).
Results: benchmarks/results/integrators.json.

    python benchmarks/bench_integrators.py --against OTHER_TREE [--rounds 3] [--quick]

times one call on every path (1-D fixed polynomial and two-state, lockstep block, per-trajectory
loop, coupled adaptive and fixed, matrix, torch-cpu fixed and adaptive) with OTHER_TREE's code and
this tree's in alternating fresh processes of the same run: benchmarks/results/integrators_paths.json.
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np
from scipy.integrate import solve_ivp

sys.path.insert(0, str(Path(__file__).parent))
from _common import median_time, write  # noqa: E402
import _peers  # noqa: E402
from _peak import fma_peak  # noqa: E402

from dynamics.integrate import integrate  # noqa: E402
from dynamics.params import CosineParams  # noqa: E402
from dynamics.systems import integrate_coupled  # noqa: E402

P = CosineParams()
A = (1 + P.sigma2) * P.n_phi * P.n_psi**3


def f_np(p):            # Bao eq. 7, numpy (the baseline's right-hand side)
    return p * p * (P.n_psi**2 - P.trace * p - 2 * p**4) / A - P.rho * p


FLOPS_PER_STEP = 57     # generated RK4 loop: 4 Horner evaluations (9 flops), 3 stage updates (3),
                        # the combination (9), the divergence test and select (3)


def rk4_numpy(p, dt, n):
    for _ in range(n):
        k1 = f_np(p)
        k2 = f_np(p + 0.5 * dt * k1)
        k3 = f_np(p + 0.5 * dt * k2)
        k4 = f_np(p + dt * k3)
        p = p + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return p


def paths_child(quick):
    """Seconds (median of 3, after a warm-up call) of one call on each integration path, as JSON on
    stdout: only public entry points, so that the same code times another tree (``--against``)."""
    import json

    import numba

    from dynamics.systems import integrate_matrix

    rng = np.random.default_rng(0)
    N, steps = (4_096, 50) if quick else (200_000, 1000)
    p0 = rng.uniform(0.05, 1.5, N)
    e0 = np.column_stack([p0[: N // 4], p0[: N // 4] ** 2 + 0.1])
    h = 64 if quick else 512
    pp = rng.uniform(0.3, 1.0, h)
    ss = pp**2 + rng.uniform(0.0, 0.3, h)
    PB, SB = np.tile(pp, (4 if quick else 16, 1)), np.tile(ss, (4 if quick else 16, 1))
    hm = 32 if quick else 256
    Wm, Phim = rng.normal(size=(hm, hm)) / np.sqrt(hm), rng.normal(size=(hm, hm)) / np.sqrt(hm)
    Nb = 2_000 if quick else 100_000
    calls = {
        "rk4_scalar_poly": lambda: integrate("cosine-simsiam", P, p0, steps * 0.01, method="rk4", dt=0.01),
        "rk4_eigen_2state": lambda: integrate("cosine-simsiam", P, e0, steps * 0.01, method="rk4", dt=0.01,
                                              form="eigen"),
        "tsit5_block": lambda: integrate("cosine-simsiam", P, p0[:Nb], 50.0, rtol=1e-8, atol=1e-10),
        "tsit5_loop": lambda: integrate("cosine-simsiam", P, p0[:Nb // 10], 50.0, rtol=1e-8, atol=1e-10,
                                        t_eval=[50.0]),
        "coupled_tsit5": lambda: integrate_coupled("cosine-simsiam", P.rho, P.sigma2, PB, SB, 50.0,
                                                   rtol=1e-8, atol=1e-10),
        "coupled_rk4": lambda: integrate_coupled("cosine-simsiam", P.rho, P.sigma2, PB, SB, 50.0,
                                                 method="rk4", dt=0.05),
        "matrix_rk4": lambda: integrate_matrix("cosine-simsiam", {"W": Wm, "Phi": Phim},
                                               {"rho": P.rho, "sigma2": P.sigma2}, 1.0, dt=0.01),
        "torch_cpu_rk4": lambda: integrate("cosine-simsiam", P, p0[:Nb], 1.0, method="rk4", dt=0.01,
                                           device="torch-cpu"),
        "torch_cpu_tsit5": lambda: integrate("cosine-simsiam", P, p0[:Nb], 5.0, device="torch-cpu"),
    }
    out = {"threads": numba.get_num_threads()}
    for name, fn in calls.items():
        fn()                                         # compile (numba) or warm up (torch)
        out[name] = median_time(fn)
    print("PATHS " + json.dumps(out))


def against(base: str, rounds: int, quick: bool, folder, caches=(None, None)) -> None:
    """Time every path (:func:`paths_child`) with the tree ``base`` and with this one in the same
    run: ``rounds`` alternating fresh processes each (the load changes within seconds on a shared
    machine), each tree with its own kernel cache (``caches``: the folders, else new temporary
    ones); the per-path median, the ratio this / base and the 1-minute load average before each
    process, written after every round (a partial run keeps what it measured)."""
    import json
    import os
    import subprocess
    import tempfile

    here = str(Path(__file__).resolve().parents[1])
    trees = {"base": str(Path(base).resolve()), "this": here}
    runs = {k: [] for k in trees}
    with tempfile.TemporaryDirectory() as tmp:
        for done in range(1, rounds + 1):
            for (key, tree), cache in zip(trees.items(), caches):
                env = dict(os.environ, PYTHONPATH=tree, SSLDYN_CACHE_DIR=cache or os.path.join(tmp, key))
                load = os.getloadavg()[0]
                cmd = [sys.executable, __file__, "--paths-child"] + (["--quick"] if quick else [])
                res = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
                line = [ln for ln in res.stdout.splitlines() if ln.startswith("PATHS ")][-1]
                runs[key].append(dict(json.loads(line[6:]), loadavg_1min_before=load))
            names = [k for k in runs["this"][0] if k not in ("threads", "loadavg_1min_before")]
            med = {key: {n: float(np.median([r[n] for r in runs[key]])) for n in names} for key in trees}
            out = {"base_tree": trees["base"], "rounds": done,
                   "seconds_median": med, "ratio_this_over_base": {n: med["this"][n] / med["base"][n] for n in names},
                   "loadavg_1min_before_each": {k: [r["loadavg_1min_before"] for r in v] for k, v in runs.items()},
                   "note": "ratio < 1: this tree is faster; both trees timed alternately in the same run"}
            write("integrators_paths" + ("_quick" if quick else ""), out, folder)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller sizes (a smoke run)")
    ap.add_argument("--out", default=None, help="folder of the results file (default benchmarks/results)")
    ap.add_argument("--against", default=None, metavar="TREE",
                    help="time every path against another checkout TREE (e.g. the code before a change) "
                         "in the same run; writes integrators_paths.json")
    ap.add_argument("--rounds", type=int, default=3, help="with --against: alternating runs per tree")
    ap.add_argument("--caches", nargs=2, default=(None, None), metavar=("BASE", "THIS"),
                    help="with --against: the kernel cache folders of the two trees (default: new temporary ones)")
    ap.add_argument("--paths-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.paths_child:
        return paths_child(args.quick)
    if args.against:
        return against(args.against, args.rounds, args.quick, args.out, args.caches)
    q = args.quick
    rng = np.random.default_rng(0)
    out = {}

    # 1. fixed-step RK4
    N, steps = (4_096, 50) if q else (200_000, 1000)
    p0 = rng.uniform(0.05, 1.5, N)
    integrate("cosine-simsiam", P, p0[:64], 1.0, method="rk4", dt=0.01)       # compile
    t = median_time(lambda: integrate("cosine-simsiam", P, p0, steps * 0.01, method="rk4", dt=0.01))
    ours = N * steps / t
    # one thread: a per-core figure that another process on the other core does not halve
    import numba
    nthreads = numba.get_num_threads()
    numba.set_num_threads(1)
    t1 = median_time(lambda: integrate("cosine-simsiam", P, p0, steps * 0.01, method="rk4", dt=0.01))
    numba.set_num_threads(nthreads)
    nsteps_np = 5 if q else 50
    t_np = median_time(lambda: rk4_numpy(p0.copy(), 0.01, nsteps_np))
    base = N * nsteps_np / t_np
    chk = integrate("cosine-simsiam", P, p0[:1000], 2.0, method="rk4", dt=0.01).final
    assert np.allclose(chk, rk4_numpy(p0[:1000].copy(), 0.01, 200), rtol=1e-12)
    out["rk4_scalar"] = {"trajectories": N, "steps": steps, "seconds": t, "steps_per_s": ours,
                         "gflops": ours * FLOPS_PER_STEP / 1e9, "numpy_rk4_steps_per_s": base,
                         "threads": nthreads, "one_thread_steps_per_s": N * steps / t1,
                         "ratio_vs_numpy": ours / base, "target_steps_per_s": 1.0e9}
    peak = fma_peak(0.1 if q else 0.5)
    out["fma_peak"] = peak
    out["rk4_scalar"]["fraction_of_fma_peak"] = ours * FLOPS_PER_STEP / 1e9 / peak["peak_gflops"]
    coef = _peers.coefficients(P)
    _peers.rk4_hand_blocked(p0[:64].copy(), 0.01, 2, *coef)                    # compile
    t_hb = median_time(lambda: _peers.rk4_hand_blocked(p0.copy(), 0.01, steps, *coef))
    peers = {"hand_blocked_numba": {"steps_per_s": N * steps / t_hb}}
    jx = _peers.rk4_jax(p0, 0.01, steps, coef)
    peers["jax_fori_loop"] = jx if isinstance(jx, str) else {"steps_per_s": N * steps / jx[0]}
    peers.update(_peers.unmeasured())
    fastest = max((v["steps_per_s"] for v in peers.values() if isinstance(v, dict)), default=float("nan"))
    out["rk4_scalar"].update(peers=peers, ratio_vs_fastest_peer=ours / fastest, target_ratio_vs_peers=1.5,
                             target_fraction_of_peak=0.5)

    # 2. adaptive versus solve_ivp at matched accuracy (final-state error against DOP853 rtol 1e-13)
    n_ref = 20 if q else 100
    ps = rng.uniform(0.05, 1.5, n_ref)
    T = 50.0
    ref = np.array([solve_ivp(lambda t, y: f_np(y), (0, T), [x], method="DOP853", rtol=1e-13, atol=1e-15).y[0, -1]
                    for x in ps])
    integrate("cosine-simsiam", P, ps[:4], T)                                 # compile
    res = integrate("cosine-simsiam", P, ps, T, method="tsit5", rtol=1e-8, atol=1e-10)
    err_ours = float(np.median(np.abs(res.final - ref) / np.abs(ref)))
    max_ours = float(np.max(np.abs(res.final - ref) / np.abs(ref)))
    Nbig = 2_000 if q else 100_000
    big = rng.uniform(0.05, 1.5, Nbig)
    t_ours = median_time(lambda: integrate("cosine-simsiam", P, big, T, method="tsit5", rtol=1e-8, atol=1e-10))
    ours_tps = Nbig / t_ours
    # the per-trajectory loop (the one used with an output grid), same inputs, same run
    t_loop = median_time(lambda: integrate("cosine-simsiam", P, big, T, method="tsit5", rtol=1e-8, atol=1e-10,
                                           t_eval=[T]), repeats=1)
    out["adaptive"] = {"ours": {"method": "tsit5", "rtol": 1e-8, "median_rel_error": err_ours,
                                "max_rel_error": max_ours, "trajectories": Nbig, "t_end": T,
                                "trajectories_per_s": ours_tps,
                                "per_trajectory_loop_trajectories_per_s": Nbig / t_loop,
                                "block_vs_loop": t_loop / t_ours}}
    for method in ("RK45", "DOP853"):
        # pick the solve_ivp tolerance whose error matches ours (the largest rtol not less accurate)
        chosen = None
        for rtol in (1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-11):
            sols = [solve_ivp(lambda t, y: f_np(y), (0, T), [x], method=method, rtol=rtol, atol=rtol * 1e-2).y[0, -1]
                    for x in ps[:30]]
            err = float(np.median(np.abs(np.array(sols) - ref[:30]) / np.abs(ref[:30])))
            if err <= err_ours:
                chosen = (rtol, err)
                break
        rtol, err = chosen
        m = 100 if not q else 30
        t0 = time.perf_counter()
        for x in ps[:m]:
            solve_ivp(lambda t, y: f_np(y), (0, T), [x], method=method, rtol=rtol, atol=rtol * 1e-2)
        tps = m / (time.perf_counter() - t0)
        out["adaptive"][method] = {"rtol": rtol, "median_rel_error": err, "trajectories_per_s": tps,
                                   "ratio_ours": ours_tps / tps}
    for name, fn in (("diffrax_vmap", _peers.adaptive_diffrax), ("numbalsoda_dop853", _peers.adaptive_numbalsoda)):
        out["adaptive"][name] = _matched_peer(fn, ps, ref, big, T, err_ours, ours_tps, _peers.coefficients(P))

    # 3. coupled h = 512 eigen system
    h = 512
    pp = rng.uniform(0.3, 1.0, h)
    ss = pp**2 + rng.uniform(0.0, 0.3, h)
    Tc = 250.0      # ~60 adaptive steps, before the all-modes collapse makes the system singular (t ~ 340)

    def f_coupled(t, y):
        p, s = y[:h], y[h:]
        nphi, npsi, tr = np.sqrt(s.sum()), np.sqrt((p * p * s).sum()), (p * s).sum()
        g = s / ((1 + P.sigma2) * nphi * npsi) * (1 - p * (tr + 2 * p * s) / npsi**2)
        return np.concatenate([g - P.rho * p, 2 * p * g - 2 * P.rho * s])
    B = 2 if q else 16
    h = 64 if q else h
    pp, ss = pp[:h], ss[:h]
    Tc = 50.0 if q else Tc
    integrate_coupled("cosine-simsiam", P.rho, P.sigma2, pp, ss, 1.0)          # compile
    PB, SB = np.tile(pp, (B, 1)), np.tile(ss, (B, 1))
    # interleaved repeats of both (this machine is shared: the load changes within seconds);
    # min and median of each, per system
    ts_scipy, ts_ours = [], []
    for _ in range(3 if q else 7):
        t0 = time.perf_counter()
        sol = solve_ivp(f_coupled, (0, Tc), np.concatenate([pp, ss]), method="DOP853", rtol=1e-8, atol=1e-10)
        ts_scipy.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        integrate_coupled("cosine-simsiam", P.rho, P.sigma2, PB, SB, Tc, rtol=1e-8, atol=1e-10)
        ts_ours.append((time.perf_counter() - t0) / B)
    r = integrate_coupled("cosine-simsiam", P.rho, P.sigma2, pp, ss, Tc, rtol=1e-8, atol=1e-10)
    assert sol.status == 0 and np.all(r.status == 0)
    med = lambda x: float(np.median(x))    # noqa: E731
    out["coupled_h512"] = {"h": h, "systems_per_batch": B, "t_end": Tc, "our_seconds_per_system_min": min(ts_ours),
                           "our_seconds_per_system_median": med(ts_ours), "scipy_dop853_seconds_min": min(ts_scipy),
                           "scipy_dop853_seconds_median": med(ts_scipy),
                           "our_steps": int(r.nsteps[0]), "scipy_steps": int(sol.t.size - 1),
                           "ratio_min": min(ts_scipy) / min(ts_ours), "ratio_median": med(ts_scipy) / med(ts_ours),
                           "target_ratio": 100,
                           "max_rel_diff_vs_scipy": float(np.max(np.abs(r.final[0] - sol.y[:, -1]) / np.abs(sol.y[:, -1])))}

    # 4. memory for 1e7 trajectories, final state only: a fresh process (nothing else allocated
    #    before), peak resident memory during the call minus the peak before it (input included)
    Nm = 100_000 if q else 10_000_000
    child = (
        "import resource, numpy as np\n"
        "from dynamics.integrate import integrate\n"
        "from dynamics.params import CosineParams\n"
        "P = CosineParams()\n"
        "integrate('cosine-simsiam', P, np.array([0.5, 0.7]), 1.0, method='rk4', dt=0.01)\n"
        "integrate('cosine-simsiam', P, np.array([0.5, 0.7]), 1.0)\n"
        f"pm = np.random.default_rng(0).uniform(0.05, 1.5, {Nm})\n"
        "a = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "integrate('cosine-simsiam', P, pm, 1.0, method='rk4', dt=0.01)\n"
        "b = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "integrate('cosine-simsiam', P, pm, 1.0, method='tsit5')\n"
        "c = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(a, b, c)\n")
    import subprocess
    a, b, c = map(int, subprocess.run([sys.executable, "-c", child], capture_output=True, text=True,
                                      check=True).stdout.split())
    out["memory"] = {"trajectories": Nm, "input_MB": Nm * 8 / 1e6, "rk4_extra_peak_MB": (b - a) / 1e3,
                     "tsit5_extra_peak_MB": (c - a) / 1e3, "limit_MB": 1000,
                     "note": "ru_maxrss growth in a fresh process after warm-up calls; input array allocated before"}

    # 5. scaling curve
    curve = []
    top = 12 if q else 24
    for e in range(3, top + 1, 3):
        n = 2**e
        pn = rng.uniform(0.05, 1.5, n)
        tt = median_time(lambda: integrate("cosine-simsiam", P, pn, 1.0, method="rk4", dt=0.01), repeats=1 if e > 20 else 3)
        curve.append({"trajectories": n, "seconds": tt, "steps_per_s": n * 100 / tt})
    out["scaling_rk4_100_steps"] = curve

    # 6. the cosine matrix flow (eq. 4) at h = d = 2048: one right-hand side, closed form versus
    #    the expression printed from the SymPy derivation (same inputs, same run)
    from dynamics.systems import cosine_matrix_rhs, matrix_rhs
    hm = 64 if q else 2048
    Phi = rng.normal(size=(hm, hm)) / np.sqrt(hm)
    Am = rng.normal(size=(hm, hm)) / np.sqrt(hm)
    Wm = (Am + Am.T) / 2
    printed = matrix_rhs("cosine-simsiam").rhs
    t_closed = median_time(lambda: cosine_matrix_rhs(Wm, Phi, P.rho, P.sigma2), repeats=3)
    t_printed = median_time(lambda: printed(Wm, Phi, P.rho, P.sigma2), repeats=1)
    dW1, _ = cosine_matrix_rhs(Wm, Phi, P.rho, P.sigma2)
    dW2, _ = printed(Wm, Phi, P.rho, P.sigma2)
    out["matrix_rhs"] = {"h": hm, "d": hm, "closed_seconds": t_closed, "printed_sympy_seconds": t_printed,
                         "ratio": t_printed / t_closed, "rk4_step_seconds_closed": 4 * t_closed,
                         "max_rel_diff": float(np.abs(dW1 - dW2).max() / np.abs(dW2).max())}
    write("integrators" + ("_quick" if q else ""), out, args.out)


def _matched_peer(fn, ps, ref, big, T, err_ours, ours_tps, coef):
    """Time peer ``fn`` at the largest rtol (of 1e-6 .. 1e-11) whose median error on ``ps`` is not
    above ours; its error (median, max) on the same reference; or the skip line."""
    for rtol in (1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-11):
        got = fn(ps, T, rtol, rtol * 1e-2, coef)
        if isinstance(got, str):
            return got
        rel = np.abs(got[1] - ref) / np.abs(ref)
        if float(np.median(rel)) <= err_ours:
            t, _ = fn(big, T, rtol, rtol * 1e-2, coef)
            tps = big.size / t
            return {"rtol": rtol, "median_rel_error": float(np.median(rel)), "max_rel_error": float(rel.max()),
                    "trajectories_per_s": tps, "ratio_ours": ours_tps / tps}
    return "no tolerance down to 1e-11 matched our error"


if __name__ == "__main__":
    main()
