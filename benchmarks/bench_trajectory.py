"""Cost of the trajectory prediction against training the run it predicts (issue #22: the
linear-response prediction must cost at most 1/10 of training; the Langevin option says its cost).

Baseline: ``ssldyn validate linear`` training (CPU, one thread, --no-predict --no-figures) of
d = h = H for E epochs of 100 steps at batch 512. Candidates: ``sims.trajectory.predict_run`` on
that run's checkpoints with each spread model and level, same process, same inputs, after a
warm-up. Wall-clock seconds; median of N repeats for the predictions (training once: it is the
expensive side and its time is stable to a few percent).

    python benchmarks/bench_trajectory.py [--h 128] [--epochs 3] [--repeats 3]
"""
import argparse
import gzip
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

CANDIDATES = (("none", "eigen"), ("linear", "eigen"), ("linear", "lift"), ("langevin", "matrix"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--h", type=int, default=128)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import numpy as np
    import torch

    torch.set_num_threads(1)
    from _common import write
    from sims.cli import main as cli
    from sims.trajectory import config_of_summary, initial_weights, predict_run, recipe_of

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        argv = ["validate", "linear", "--d", str(a.h), "--h", str(a.h), "--epochs", str(a.epochs),
                "--steps-per-epoch", "100", "--batch", "512", "--early-every", "10", "--rho", "0.03",
                "--no-predict", "--no-figures", "--out", str(out)]
        t0 = time.perf_counter()
        assert cli(argv) == 0
        train_s = time.perf_counter() - t0
        summary = json.loads((out / "summary.json").read_text())
        path = out / "metrics.jsonl"
        text = path.read_text() if path.exists() else gzip.decompress((out / "metrics.jsonl.gz").read_bytes()).decode()
        records = [json.loads(x) for x in text.splitlines() if x.strip()]
    records = [r for r in records if r.get("finite") and r.get("p_top")]
    cfg = config_of_summary(summary)
    W0, Phi0 = initial_weights(cfg)
    recipe = recipe_of(cfg, cfg.steps_per_epoch)
    results = {"train_s": train_s, "h": a.h, "steps": len(recipe.lrs)}
    for model, level in CANDIDATES:
        predict_run(recipe, records[:2], W0, Phi0, level=level, legacy=False, spread_model=model)   # warm-up
        times = []
        for _ in range(a.repeats if model != "langevin" else 1):
            t0 = time.perf_counter()
            predict_run(recipe, records, W0, Phi0, level=level, legacy=False, spread_model=model)
            times.append(time.perf_counter() - t0)
        t = float(np.median(times))
        results[f"{model}/{level}"] = {"seconds": t, "ratio_to_training": t / train_s}
        print(f"{model}/{level}: {t:.2f} s = {t / train_s:.3f} x training ({train_s:.1f} s)", flush=True)
    write("trajectory", results)


if __name__ == "__main__":
    main()
