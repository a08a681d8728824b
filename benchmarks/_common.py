"""Shared helpers of the benchmarks: machine description, timing, JSON output."""
import json
import os
import platform
import statistics
import time
from pathlib import Path


def machine() -> dict:
    import numba
    import numpy
    import scipy

    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "numpy": numpy.__version__,
            "scipy": scipy.__version__, "numba": numba.__version__, "platform": platform.platform()}


def median_time(fn, repeats=3):
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def write(name: str, results: dict) -> Path:
    path = Path(__file__).parent / "results" / f"{name}.json"
    path.parent.mkdir(exist_ok=True)
    path.write_text(json.dumps({"machine": machine(), **results}, indent=1))
    print(json.dumps(results, indent=1))
    print(f"wrote {path}")
    return path
