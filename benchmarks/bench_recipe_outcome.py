"""Recipe prediction against training the recipe (issue #21), whole processes, same run.

Baseline: ``ssldyn validate linear`` at d = h = 128 on its default recipe (60 x 100 steps; training
only: --no-overlay --no-predict --no-figures, the cheapest validate). Candidate: ``ssldyn predict linear`` on the same recipe (its
initial weights rebuilt from the seed, the eigen-level map over every step). Also a 40 x 40
``ssldyn outcome-map`` at h = 64. Each command is timed as a whole process (median of --repeats,
after one warm-up), interleaved; the load average before and after is recorded, and a result taken
with the 1-minute load above half the cores before it starts is marked ``under_load`` (not to be
quoted; the benchmark's own training loads one core, so the load after it is recorded, not judged).

    python benchmarks/bench_recipe_outcome.py [--repeats 3]
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

#: validate's default recipe (60 epochs x 100 steps, batch 512, lr 0.1) at d = h = 128
RECIPE = ["--d", "128", "--h", "128", "--rho", "0.05", "--seed", "3"]


def _time(args) -> float:
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "sims.cli", *args], capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"{' '.join(args[:3])} failed: {r.stderr.strip()[-300:]}")
    return time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(allow_abbrev=False)
    ap.add_argument("--repeats", type=int, default=2)
    a = ap.parse_args()
    from _common import write

    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        cmds = {
            "validate_d128": ["validate", "linear", *RECIPE, "--no-overlay", "--no-predict", "--no-figures",
                              "--out", f"{tmp}/v"],
            "predict_d128": ["predict", "linear", *RECIPE, "--json"],
            "outcome_map_40x40_h64": ["outcome-map", "linear", "--d", "64", "--h", "64", "--epochs", "120",
                                      "--steps-per-epoch", "5", "--x", "rho:1e-3:1:40:log", "--y",
                                      "lr:0.01:0.4:40:log", "--out", f"{tmp}/m.npz", "--no-progress"],
        }
        for k, args in cmds.items():            # warm-up: caches, imports (training needs none)
            if k != "validate_d128":
                _time(args)
        times = {k: [] for k in cmds}
        for _ in range(a.repeats):
            for k, args in cmds.items():
                times[k].append(_time(args))
    load1 = os.getloadavg()[0]
    from dynamics.recipe_outcome import LinearRecipe, predict_outcome   # the prediction alone, in process
    from sims.commands.predict import exact_initial_weights
    r = LinearRecipe(d=128, h=128, rho=0.05, seed=3, epochs=60, steps_per_epoch=100)
    W0, Phi0, _ = exact_initial_weights(r)
    in_process = statistics.median(predict_outcome(r, W0, Phi0).seconds for _ in range(3))
    med = {k: statistics.median(v) for k, v in times.items()}
    under = load0 > 0.5 * (os.cpu_count() or 1)      # the machine before the run (the run loads one core itself)
    write("recipe_outcome", {
        "recipe": " ".join(RECIPE), "seconds": times, "median_s": med,
        "predict_speedup_vs_validate": med["validate_d128"] / med["predict_d128"],
        "predict_in_process_s": in_process,
        "validate_over_predict_in_process": med["validate_d128"] / in_process,
        "outcome_map_40x40_h64_s": med["outcome_map_40x40_h64"],
        "loadavg_before_after": [load0, load1], "under_load": under,
        "note": "whole processes incl. Python start-up and imports; medians of interleaved runs"})


if __name__ == "__main__":
    main()
