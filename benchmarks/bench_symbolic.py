"""Cold and warm cost of deriving and compiling every model (issue: < 60 s cold, < 2 s warm).

Cold: a fresh cache directory, a fresh interpreter, `symbolic.codegen.warm_all()` (every SymPy
derivation, matrix forms included, code generation and numba compilation of every scalar form).
Warm: the same command again in a fresh interpreter over the now-filled cache. Each is the
wall time of the whole subprocess (interpreter start and imports included), median of repeats.

    python benchmarks/bench_symbolic.py [--repeats 3]
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CMD = [sys.executable, "-c", "from symbolic.codegen import warm_all; warm_all(None)"]


def timed(env):
    t0 = time.perf_counter()
    subprocess.run(CMD, env=env, check=True)
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    cold, warm = [], []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as d:
            env = {**os.environ, "SSLDYN_CACHE_DIR": d}
            cold.append(timed(env))
            warm.append(timed(env))
    import numba
    import sympy
    out = {"cold_s": statistics.median(cold), "warm_s": statistics.median(warm), "cold_all": cold,
           "warm_all": warm, "cold_over_warm": statistics.median(cold) / statistics.median(warm),
           "machine": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version(),
           "sympy": sympy.__version__, "numba": numba.__version__}
    path = Path(__file__).parent / "results" / "symbolic.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps(out, indent=1))
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
