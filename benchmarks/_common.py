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

    from _peak import cpu_model, simd

    return {"cpu": cpu_model(), "simd": simd(), "loadavg_1min": os.getloadavg()[0], "cores": os.cpu_count(),
            "python": platform.python_version(), "numpy": numpy.__version__, "scipy": scipy.__version__,
            "numba": numba.__version__, "platform": platform.platform()}


def median_time(fn, repeats=3):
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def write(name: str, results: dict, folder=None) -> Path:
    """Write ``results`` (with the machine) to ``folder`` (default benchmarks/results) as NAME.json,
    atomically (:func:`symbolic.files.write_text`)."""
    from symbolic.files import write_text

    path = Path(folder or Path(__file__).parent / "results") / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, json.dumps({"machine": machine(), **results}, indent=1), name="benchmark results")
    print(json.dumps(results, indent=1))
    print(f"wrote {path}")
    return path
