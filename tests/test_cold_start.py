"""Cold start (issue #27): a warm ``ssldyn equilibria`` loads no SymPy, and its answer is unchanged.

The process is a real ``python -m sims.cli`` child with the run's kernel cache (tests/conftest.py);
the first call may generate the kernels, the second is the warm one whose modules are checked. The
equilibria are compared with the roots of the closed-form polynomial of Bao (2023) eq. 7, solved by
numpy (independent of the generated kernels and of the tool's root finder).
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RHO, SIGMA2, N_PHI, N_PSI, T = 0.01, 0.5, 2.0, 1.5, 0.5
ARGS = ["equilibria", "--model", "cosine-simsiam", "--rho", str(RHO), "--sigma2", str(SIGMA2), "--n-phi", str(N_PHI),
        "--n-psi", str(N_PSI), "--trace", str(T), "--json"]
#: runs the CLI, then writes the names of the loaded top-level packages to stderr's last line
WRAPPER = ("import sys, runpy\n"
           "sys.argv = ['ssldyn', *sys.argv[1:]]\n"
           "try:\n"
           "    runpy.run_module('sims.cli', run_name='__main__')\n"
           "except SystemExit as e:\n"
           "    code = e.code\n"
           "sys.stderr.write('\\n' + ' '.join(sorted({m.split('.')[0] for m in sys.modules})) + '\\n')\n"
           "sys.exit(code)\n")


def _run(*args):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, "-c", WRAPPER, *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout), set(proc.stderr.strip().splitlines()[-1].split())


def test_warm_equilibria_loads_no_sympy_and_answers_as_the_closed_form():
    _run(*ARGS)                                       # generates the kernels if this run's cache lacks them
    out, loaded = _run(*ARGS)
    assert "sims" in loaded and "numpy" in loaded     # the wrapper saw the command's modules
    assert "sympy" not in loaded
    # dp/dt = -p Q(p) / (a N_Phi N_Psi^3), Q = 2 p^5 + T p^2 - N_Psi^2 p + rho a N_Phi N_Psi^3 (Bao eq. 7)
    a = 1.0 + SIGMA2
    q = np.roots([2.0, 0.0, 0.0, T, -N_PSI ** 2, RHO * a * N_PHI * N_PSI ** 3])
    want = sorted([0.0, *(r.real for r in q if abs(r.imag) < 1e-9)])
    got = [e["p"] for e in out["equilibria"]]
    assert len(got) == len(want) == 4
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)
    assert [e["stability"] for e in out["equilibria"]] == ["unstable", "stable", "unstable", "stable"]


def test_registry_table_loads_without_sympy_and_agrees_with_the_derivations():
    code = ("import sys, symbolic.registry as r, symbolic.models, symbolic.codegen\n"
            "print(sorted(r.BUILTIN), 'sympy' in sys.modules)\n")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split()[-1] == "False"
    from symbolic.derivation import FORMS
    from symbolic.registry import FORMS as TABLE_FORMS, get_model
    assert TABLE_FORMS == FORMS
    spec = get_model("cosine-simsiam")               # a form named in the table derives its model
    d = spec.forms["reduced"]()
    assert (d.model, d.form, d.state) == ("cosine-simsiam", "reduced", ("p",))
