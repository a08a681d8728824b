r"""Trained phase diagrams against the recipe prediction (issue #21): agreement tables and figures.

Reads finished ``task = "train"`` sweeps (``sims/results/phase/*.toml``), merges each, and for every
run re-applies the outcome rule of :mod:`dynamics.recipe_outcome` to the measured spectrum (its
``p_final``, ``max_abs_p`` per checkpoint and final norms) and re-predicts it from its own initial
weights with the current code, so the table always reflects the code that is committed. Writes
``agreement.json`` (per loss: ``runs``, ``agree``, ``classic_agree``, ``surviving_within``,
``surviving_runs``, ``timing_within``, ``collapsing_runs``, and the disagreements with their
distance from a predicted boundary) and one figure per loss and learning rate: the predicted
outcome map over (rho, sigma2) with the classic boundary and the trained runs as markers.

Run: ``python -m sims.reproductions.phase --sweep DIR [DIR ...] --out sims/results/phase``.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

RECIPE_FIELDS = ("loss", "d", "h", "sigma2", "rho", "lr", "momentum", "batch", "epochs", "steps_per_epoch", "seed")


def recipe_of_summary(s: dict):
    """The :class:`dynamics.recipe_outcome.LinearRecipe` a run summary was trained with."""
    from dynamics.recipe_outcome import LinearRecipe
    return LinearRecipe(loss=s["loss"], d=s["d"], h=s["h"], sigma2=s["sigma2"], rho=s["rho"], lr=s["lr"],
                        momentum=s["momentum"], batch=s["batch"], epochs=s["epochs_planned"],
                        steps_per_epoch=s["steps_per_epoch"], seed=s["seed"])


def measured_of_summary(s: dict) -> dict:
    """The measured outcome of a run summary under the current rule (from its stored spectrum)."""
    from dynamics.recipe_outcome import COLLAPSE_FRACTION, OUTCOMES, classify_outcome, stable_eigenvalue, surviving_count
    steps, pmax = s["checkpoint_steps"], s["max_abs_p"]
    start = pmax[0]
    step = next((int(k) for k, v in zip(steps, pmax) if v is not None and v < COLLAPSE_FRACTION * start), None)
    p = np.sort(np.asarray(s["p_final"], dtype=np.float64))[::-1]
    p_ref = float(stable_eigenvalue(s["loss"], s["rho"], s["sigma2"], s["n_phi"][1], s["n_psi"][1], s["trace"][1]))
    code = 2 if s["diverged"] else int(classify_outcome(step is not None, p[0], p_ref))
    return {"outcome": OUTCOMES[code], "collapse_step": step,
            "surviving_modes": 0 if s["diverged"] else int(surviving_count(p, p_ref, step is not None)[0])}


def analyse(sweeps: list, out: Path) -> dict:
    from dynamics.recipe_outcome import predict_outcome
    from sims.commands.predict import exact_initial_weights
    from sims.sweep import merge

    runs = []
    for d in sweeps:
        d = Path(d)
        merged = out / f"{d.name}.npz"
        merge(d, merged)                     # a temporary file: runs.json keeps what the table needs
        with np.load(merged) as z:
            summaries = [json.loads(bytes(t).decode()) for t in z["summary"].ravel()]
            axes = {k[5:]: z[k] for k in z.files if k.startswith("axis_")}
            shape = z["summary"].shape
        merged.unlink()
        for flat, s in enumerate(summaries):
            r = recipe_of_summary(s)
            W0, Phi0, how = exact_initial_weights(r)
            pred = predict_outcome(r, W0, Phi0, init=how)
            idx = np.unravel_index(flat, shape)
            runs.append({"sweep": d.name, "index": [int(i) for i in idx], "shape": list(shape),
                         "axes": {n: float(axes[n][i]) for n, i in zip(axes, idx)}, "recipe": pred.recipe,
                         "measured": measured_of_summary(s), "rankme": s.get("rankme_final"),
                         "predicted": {"outcome": pred.outcome, "collapse_step": pred.collapse_step,
                                       "surviving_modes": pred.surviving_modes, "lift_step": pred.lift_step},
                         "classic": pred.classic_outcome, "rho_c_init": pred.rho_c_init,
                         "raw": {k: s[k] for k in ("p_final", "max_abs_p", "checkpoint_steps", "n_phi", "n_psi",
                                                   "trace", "diverged", "loss", "rho", "sigma2")},
                         "rho_factor": pred.recipe["rho"] / pred.rho_c_init if pred.rho_c_init > 0 else None})
    return {"runs": runs, "agreement": agreement(runs)}


def _near_boundary(run, by_key) -> bool:
    """A predicted outcome that differs at a neighbouring grid point (one step along a non-seed axis)."""
    names = list(run["axes"])
    for a, name in enumerate(names):
        if name == "seed":
            continue
        for step in (-1, 1):
            idx = list(run["index"])
            idx[a] += step
            other = by_key.get((run["sweep"], tuple(idx)))
            if other is not None and other["predicted"]["outcome"] != run["predicted"]["outcome"]:
                return True
    return False


def agreement(runs: list) -> dict:
    """The agreement table of the issue, per loss."""
    by_key = {(r["sweep"], tuple(r["index"])): r for r in runs}
    out = {}
    for loss in ("cosine", "l2"):
        rs = [r for r in runs if r["recipe"]["loss"] == loss]
        if not rs:
            continue
        surv = [r for r in rs if r["measured"]["outcome"] == "survive"]
        coll = [r for r in rs if r["measured"]["outcome"] == "collapse"]
        s_ok = [r for r in surv if abs(r["predicted"]["surviving_modes"] - r["measured"]["surviving_modes"])
                <= max(3, 0.2 * r["measured"]["surviving_modes"])]
        t_ok = [r for r in coll if r["predicted"]["collapse_step"] is not None
                and 0.8 <= r["predicted"]["collapse_step"] / r["measured"]["collapse_step"] <= 1.25]
        dis = [r for r in rs if r["predicted"]["outcome"] != r["measured"]["outcome"]]
        out[loss] = {
            "runs": len(rs), "agree": len(rs) - len(dis),
            "classic_agree": sum(r["classic"] == r["measured"]["outcome"] for r in rs),
            "surviving_within": len(s_ok), "surviving_runs": len(surv),
            "timing_within": len(t_ok), "collapsing_runs": len(coll),
            "measured_outcomes": {o: sum(r["measured"]["outcome"] == o for r in rs)
                                  for o in ("collapse", "survive", "unsettled")},
            "disagreements": [{"recipe": {k: r["recipe"][k] for k in ("rho", "sigma2", "lr", "seed")},
                               "rho_factor": r["rho_factor"], "measured": r["measured"]["outcome"],
                               "predicted": r["predicted"]["outcome"],
                               "within_one_grid_step_of_a_predicted_boundary": _near_boundary(r, by_key)}
                              for r in dis],
            "collapse_step_ratio": [r["predicted"]["collapse_step"] / r["measured"]["collapse_step"]
                                    if r["predicted"]["collapse_step"] else None for r in coll],
        }
    return out


def figures(result: dict, out: Path) -> list:
    """Per loss and lr: the predicted outcome map over (rho, sigma2) at seed 0, classic boundary,
    trained runs (all seeds) as markers."""
    import dataclasses

    from dynamics.outcome_map import outcome_map
    from dynamics.recipe_outcome import LinearRecipe
    from figures.outcome_map import plot_outcome_map
    from sims.commands.outcome_map import _weights

    paths = []
    for loss in ("cosine", "l2"):
        rs = [r for r in result["runs"] if r["recipe"]["loss"] == loss]
        if not rs:
            continue
        for lr in sorted({r["recipe"]["lr"] for r in rs}):
            sub = [r for r in rs if r["recipe"]["lr"] == lr]
            rhos = [r["recipe"]["rho"] for r in sub]
            s2 = sorted({r["recipe"]["sigma2"] for r in sub})
            base = LinearRecipe(**{**sub[0]["recipe"], "seed": 0})
            xs = np.geomspace(min(rhos) / 1.5, max(rhos) * 1.5, 48)
            ys = np.linspace(min(s2), max(s2), 24) if len(s2) > 1 else np.array(s2)
            m = outcome_map(dataclasses.replace(base), "rho", xs, "sigma2", ys, weights=_weights)
            measured = [{"x": r["recipe"]["rho"], "y": r["recipe"]["sigma2"], "outcome": r["measured"]["outcome"]}
                        for r in sub]
            paths += plot_outcome_map(m, out / f"phase_{loss}_lr{lr:g}.png", measured=measured)
    return paths


def agreement_table(agreement: dict) -> str:
    """The agreement as an RST list-table (docs/phase_agreement.rst, included by the collapse page)."""
    rows = [("runs", "runs"), ("predicted outcome = measured", "agree"), ("classic fixed-norm map = measured",
            "classic_agree"), ("surviving runs", "surviving_runs"), ("... surviving modes within 20% or 3",
            "surviving_within"), ("collapsing runs", "collapsing_runs"), ("... collapse step within [0.8, 1.25]",
            "timing_within")]
    losses = [k for k in ("cosine", "l2") if k in agreement]
    lines = [".. list-table::", "   :header-rows: 1", "", "   * -"] + [f"     - {k}" for k in losses]
    for label, key in rows:
        lines.append(f"   * - {label}")
        lines += [f"     - {agreement[k][key]}" for k in losses]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    from sims.io import versions, write_json

    ap = argparse.ArgumentParser(prog="python -m sims.reproductions.phase", allow_abbrev=False)
    ap.add_argument("--sweep", nargs="+", required=True, help="finished train sweep folders")
    ap.add_argument("--out", required=True, help="folder for the merged sweeps, agreement.json and figures")
    ap.add_argument("--no-figures", action="store_true")
    ap.add_argument("--docs", default=None, help="also write the table (phase_agreement.rst) and the lr 0.1 "
                    "figures into this docs folder")
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    result = analyse(args.sweep, out)
    write_json(out / "agreement.json", {**result["agreement"], "versions": versions()})
    write_json(out / "runs.json", result["runs"])
    for loss, a in result["agreement"].items():
        print(f"{loss}: {a['agree']}/{a['runs']} predicted outcomes agree (classic map {a['classic_agree']}/{a['runs']}); "
              f"surviving modes within 20% or 3: {a['surviving_within']}/{a['surviving_runs']}; collapse step within "
              f"[0.8, 1.25]: {a['timing_within']}/{a['collapsing_runs']}; disagreements near a boundary: "
              f"{sum(d['within_one_grid_step_of_a_predicted_boundary'] for d in a['disagreements'])}"
              f"/{len(a['disagreements'])}")
    if args.docs:
        from symbolic.files import write_text
        write_text(Path(args.docs) / "phase_agreement.rst", agreement_table(result["agreement"]), name="table")
    if not args.no_figures:
        for p in figures(result, out):
            print(f"wrote {p}")
            if args.docs and p.suffix == ".png" and "_lr0.1." in p.name:
                from symbolic.files import write_bytes
                write_bytes(Path(args.docs) / "gallery" / p.name, p.read_bytes(), name="figure")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
