"""Smoke runs of the integrator benchmarks (``--quick``) and the README table built from their results.

The benchmarks themselves are not run in CI; these check that they run end to end, that the
numbers they record are consistent with independent references where one exists (the adaptive
error against DOP853, the coupled system against solve_ivp) and that README's table is generated
from the results file with the CPU model read from the machine.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(script, tmp_path, *extra):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / script), "--quick", "--out", str(tmp_path), *extra],
                       capture_output=True, text=True, env=env, timeout=900, cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-2000:]
    return r


def test_bench_integrators_quick_and_readme_table(tmp_path):
    _run("bench_integrators.py", tmp_path)
    res = json.loads((tmp_path / "integrators_quick.json").read_text())
    rk = res["rk4_scalar"]
    assert rk["steps_per_s"] > 0 and 0 < rk["fraction_of_fma_peak"] < 1.5
    assert "hand_blocked_numba" in rk["peers"]
    for v in rk["peers"].values():                       # measured, or skipped with a reason
        assert isinstance(v, str) or v["steps_per_s"] > 0
    ad = res["adaptive"]
    assert ad["ours"]["median_rel_error"] < 1e-7 and ad["ours"]["max_rel_error"] < 1e-6   # rtol 1e-8 vs DOP853
    assert res["coupled_h512"]["max_rel_diff_vs_scipy"] < 1e-6
    assert res["fma_peak"]["simd"]["lanes_f64"] in (2, 4, 8)

    sys.path.insert(0, str(ROOT / "benchmarks"))
    import readme_table
    from _peak import cpu_model

    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{readme_table.START}\nold table\n{readme_table.END}\nafter\n")
    readme_table.regenerate(tmp_path / "integrators_quick.json", readme)
    text = readme.read_text()
    assert text.startswith("intro\n") and text.endswith("after\n") and "old table" not in text
    assert f"Machine: {cpu_model()}" in text
    assert f"{rk['steps_per_s']:.3g} trajectory-steps/s" in text


def test_readme_table_needs_its_markers(tmp_path):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import readme_table

    (tmp_path / "r.json").write_text("{}")
    (tmp_path / "README.md").write_text("no markers\n")
    with pytest.raises(SystemExit, match="integrators-table"):
        readme_table.regenerate(tmp_path / "r.json", tmp_path / "README.md")


def test_bench_integrators_gpu_quick_on_cpu(tmp_path):
    pytest.importorskip("torch")
    _run("bench_integrators_gpu.py", tmp_path, "--device", "cpu")
    res = json.loads((tmp_path / "integrators_gpu_quick.json").read_text())
    assert res["machine"]["cpu"]
