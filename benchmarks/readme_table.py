"""Regenerate README's integrator table (and its machine line) from a results file.

    python benchmarks/readme_table.py [--results benchmarks/results/integrators.json] [--readme README.md]

The text between ``<!-- integrators-table:start -->`` and ``<!-- integrators-table:end -->`` is
replaced; nothing else in README changes. Every number comes from the results file, the CPU model
from the machine record the benchmark took (``/proc/cpuinfo``), so the table cannot drift from
the measurement.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

START, END = "<!-- integrators-table:start -->", "<!-- integrators-table:end -->"


def _g(x, fmt="{:.3g}"):
    return fmt.format(x) if isinstance(x, (int, float)) else str(x)


def _peer(v, key):
    return _g(v[key]) if isinstance(v, dict) else f"skipped ({v})"


def table(res: dict) -> str:
    m = res["machine"]
    simd = m.get("simd", {})
    lines = [f"Machine: {m['cpu']}, {m['cores']} cores, {simd.get('isa', '?')} "
             f"({simd.get('lanes_f64', '?')} f64 lanes{', FMA' if simd.get('fma') else ''}), "
             f"load average {_g(m.get('loadavg_1min', float('nan')), '{:.1f}')} at the start; "
             f"numba {m['numba']}, numpy {m['numpy']}.", "",
             "| measurement | result |", "|---|---|"]
    r = res["rk4_scalar"]
    pk = res.get("fma_peak", {})
    peers = r.get("peers", {})
    lines.append(f"| RK4, Bao eq. 7, {r['trajectories']:.0e} trajectories x {r['steps']} steps, f64 | "
                 f"{_g(r['steps_per_s'])} trajectory-steps/s ({_g(r['gflops'])} GFLOP/s counted, "
                 f"{_g(100 * r.get('fraction_of_fma_peak', float('nan')), '{:.0f}')}% of the measured FMA peak "
                 f"{_g(pk.get('peak_gflops', float('nan')))} GFLOP/s); {_g(r['ratio_vs_numpy'])}x numpy |")
    lines.append("| RK4 peers, same run (trajectory-steps/s) | " + "; ".join(
        f"{k}: {_peer(v, 'steps_per_s')}" for k, v in peers.items()) +
        f"; ours / fastest measured peer {_g(r.get('ratio_vs_fastest_peer', float('nan')))}x (target 1.5x) |")
    a = res["adaptive"]
    o = a["ours"]
    peer_txt = "; ".join(f"{k}: {_g(v['ratio_ours'])}x (rtol {_g(v['rtol'])}, median error "
                         f"{_g(v['median_rel_error'])})" if isinstance(v, dict) else f"{k}: skipped ({v})"
                         for k, v in a.items() if k != "ours")
    lines.append(f"| adaptive Tsit5 (rtol {_g(o['rtol'])}, median / max error {_g(o['median_rel_error'])} / "
                 f"{_g(o.get('max_rel_error', float('nan')))}), {_g(o.get('trajectories', float('nan')))} "
                 f"trajectories to t = {_g(o.get('t_end', float('nan')))} | {_g(o['trajectories_per_s'])} "
                 f"trajectories/s; at matched accuracy ours / peer: {peer_txt} |")
    c = res["coupled_h512"]
    lines.append(f"| coupled eigen system, h = {c.get('h', 512)}, {c['systems_per_batch']} systems, t = {_g(c['t_end'])} | "
                 f"{_g(c['ratio_min'])}x solve_ivp DOP853 per system (median {_g(c['ratio_median'])}x; "
                 f"target {c['target_ratio']}x); max relative difference {_g(c['max_rel_diff_vs_scipy'])} |")
    mm = res["memory"]
    lines.append(f"| {mm['trajectories']:.0e} trajectories to their final state | RK4 "
                 f"{_g(mm['rk4_extra_peak_MB'], '{:.0f}')} MB, Tsit5 {_g(mm['tsit5_extra_peak_MB'], '{:.0f}')} "
                 f"MB extra resident memory (limit {mm['limit_MB']} MB) |")
    mr = res["matrix_rhs"]
    lines.append(f"| cosine matrix flow rhs, h = d = {mr['h']} | closed form {_g(mr['ratio'])}x the printed "
                 f"SymPy expression, equal to {_g(mr['max_rel_diff'])} |")
    return "\n".join(lines)


def regenerate(results: Path, readme: Path) -> str:
    from symbolic.files import write_text

    res = json.loads(results.read_text())
    text = readme.read_text()
    if START not in text or END not in text:
        raise SystemExit(f"readme_table: error: {readme} has no {START} ... {END} section")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    new = f"{head}{START}\n{table(res)}\n{END}{tail}"
    write_text(readme, new, name="readme")
    return new


def main(argv=None):
    here = Path(__file__).parent
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", default=str(here / "results" / "integrators.json"))
    ap.add_argument("--readme", default=str(here.parent / "README.md"))
    a = ap.parse_args(argv)
    sys.path.insert(0, str(here.parent))
    regenerate(Path(a.results), Path(a.readme))
    print(f"updated {a.readme} from {a.results}")


if __name__ == "__main__":
    main()
