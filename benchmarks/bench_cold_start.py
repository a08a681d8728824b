"""Cold start: CPU time of a new user's first ``ssldyn demo`` and of a warm ``ssldyn equilibria``.

Targets (issue #27): the first ``ssldyn demo`` with an empty cache under 10 s of CPU, a warm
``ssldyn equilibria`` under 1 s. Each command is a whole fresh process (interpreter start, imports,
derivation, code generation, numba compilation); its CPU time is the user + system time of that
child (``os.wait4``), so a loaded machine stretches the wall time but hardly the CPU time. The load
average is recorded before and after. "First" means a fresh install: the tool's cache and numba's
cache (``NUMBA_CACHE_DIR``) are new empty folders.

In the same run, as the baseline: the first ``ssldyn demo`` without the shipped derivations
(``symbolic/shipped.py``'s data file pointed elsewhere, so SymPy derives as before it existed).

    python benchmarks/bench_cold_start.py [--repeats 3] [--out benchmarks/results]

Results: ``benchmarks/results/cold_start.json`` (medians and every sample, in seconds).
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(Path(__file__).parent), str(ROOT)]     # _common; the tree measured
from _common import write  # noqa: E402
DEMO = ["demo"]
EQUILIBRIA = ["equilibria", "--model", "cosine-simsiam", "--rho", "0.01", "--sigma2", "0.5", "--n-phi", "2",
              "--n-psi", "1.5", "--trace", "0.5"]
#: the CLI with the shipped data file pointed at a missing path (the state before it existed)
NO_SHIPPED = ("import sys, runpy, pathlib, symbolic.shipped as s; s.DATA = pathlib.Path('/nonexistent');"
              " sys.argv = ['ssldyn', *sys.argv[1:]]; runpy.run_module('sims.cli', run_name='__main__')")


def run(args: list, cache: str, cwd: str, shipped: bool = True) -> dict:
    """CPU (user + system) and wall seconds of one ``ssldyn ARGS`` process, with ``cache`` as the
    tool's cache and ``cache/numba`` as numba's (so the package's own compiled loops, otherwise kept
    in its ``__pycache__`` folders, start empty too: a fresh install)."""
    env = {**os.environ, "SSLDYN_CACHE_DIR": cache, "NUMBA_CACHE_DIR": os.path.join(cache, "numba"),
           "MPLBACKEND": "Agg", "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "sims.cli", *args] if shipped else [sys.executable, "-c", NO_SHIPPED, *args]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"bench_cold_start: error: {' '.join(args)} failed: {proc.stderr.read().decode()[-2000:]}")
    proc.stderr.close()
    return {"cpu_s": usage.ru_utime + usage.ru_stime, "wall_s": wall}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=None, help="results folder (default benchmarks/results)")
    a = ap.parse_args()
    load_before = os.getloadavg()
    samples = {"first_demo": [], "first_demo_without_shipped": [], "warm_equilibria": [], "warm_demo": []}
    for _ in range(a.repeats):
        with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as cwd:
            samples["first_demo_without_shipped"].append(run(DEMO, cache, cwd, shipped=False))
        with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as cwd:
            samples["first_demo"].append(run(DEMO, cache, cwd))
            samples["warm_demo"].append(run(DEMO, cache, cwd))
            samples["warm_equilibria"].append(run(EQUILIBRIA, cache, cwd))
    med = {k: {m: statistics.median(s[m] for s in v) for m in ("cpu_s", "wall_s")} for k, v in samples.items()}
    results = {
        "median": med,
        "targets_cpu_s": {"first_demo": 10.0, "warm_equilibria": 1.0},
        "met": {"first_demo": med["first_demo"]["cpu_s"] < 10.0,
                "warm_equilibria": med["warm_equilibria"]["cpu_s"] < 1.0},
        "shipped_saves_cpu_s": med["first_demo_without_shipped"]["cpu_s"] - med["first_demo"]["cpu_s"],
        "load_average_before": load_before, "load_average_after": os.getloadavg(),
        "repeats": a.repeats, "samples": samples,
    }
    write("cold_start", results, a.out)


if __name__ == "__main__":
    main()
