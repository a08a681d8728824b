"""The derive and check-gradient commands: JSON contract, srepr round trip, bad input."""
import json
import subprocess
import sys

import pytest
import sympy as sp

from sims.cli import main

MODELS = ("cosine-simsiam", "cosine-simsiam-delta", "l2-byol", "two-layer")


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("form", ("matrix", "eigen", "reduced"))
def test_derive_json(model, form, capsys):
    assert main(["derive", "--model", model, "--form", form, "--format", "json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert {"model", "form", "state", "params", "rhs", "latex"} <= set(d)
    assert d["model"] == model and d["form"] == form and set(d["rhs"]) == set(d["state"])
    ns = {k: getattr(sp, k) for k in dir(sp)}
    ns["Str"] = sp.core.symbol.Str
    for k, text in d["rhs"].items():
        e = eval(text, ns)                    # srepr evaluates back to a SymPy expression
        names = {s.name for s in e.free_symbols}
        if form != "matrix":
            assert names <= set(d["state"]) | set(d["params"])


def test_reduced_names():
    out = {}
    for model in ("cosine-simsiam", "l2-byol", "two-layer"):
        r = subprocess.run([sys.executable, "-m", "sims.cli", "derive", "--model", model, "--format", "json"],
                           capture_output=True, text=True, check=True)
        d = json.loads(r.stdout)
        out[model] = d["state"] + d["params"]
    assert out["cosine-simsiam"] == ["p", "rho", "sigma2", "N_Phi", "N_Psi", "T"]
    assert sorted(out["l2-byol"]) == sorted(["p", "eta", "sigma2", "tau", "alpha_p"])
    assert out["two-layer"] == ["sigma_1", "sigma_2", "lam"]


@pytest.mark.slow
@pytest.mark.parametrize("argv,word", [
    (["derive", "--model", "no-such-model"], "model"),
    (["derive", "--model", "l2-byol", "--form", "cubic"], "form"),
    (["derive", "--model", "l2-byol", "--convention", "feature-norm"], "convention"),
    (["check-gradient", "--h", "0"], "--h"),
    (["check-gradient", "--samples", "-5"], "--samples"),
    (["check-gradient", "--sigma2", "-1"], "sigma2"),
    (["check-gradient", "--spectrum", "flat"], "spectrum"),
])
def test_bad_input_one_line_exit_2(argv, word):
    r = subprocess.run([sys.executable, "-m", "sims.cli", *argv], capture_output=True, text=True)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and word in lines[0]


def test_check_gradient_cli_json():
    r = subprocess.run([sys.executable, "-m", "sims.cli", "check-gradient", "--h", "32", "--samples", "4000",
                        "--seed", "1", "--json"], capture_output=True, text=True, check=True)
    d = json.loads(r.stdout)
    assert set(d["forms"]) == {"paper", "delta", "third-order"}
    assert d["forms"]["delta"]["median_rel_error"] < d["forms"]["paper"]["median_rel_error"]
