"""The model registry: one table that every command and library function reads."""
import json
import math

import numpy as np
import pytest

from sims.cli import main
from symbolic.errors import ParameterError
from symbolic.registry import BUILTIN, field_name, get_model, model_names, param_fields


def test_builtin_models_and_capabilities():
    # the first four in this order (later families append: a new one needs no edit here)
    assert BUILTIN[:4] == ("cosine-simsiam", "cosine-simsiam-delta", "l2-byol", "two-layer")
    assert model_names("regimes")[:3] == ("cosine-simsiam", "cosine-simsiam-delta", "l2-byol")
    assert "two-layer" not in model_names("regimes")
    assert model_names("coupled") == ("cosine-simsiam", "cosine-simsiam-delta")
    assert model_names("matrix-flow") == ("cosine-simsiam", "l2-byol", "two-layer")
    assert get_model("l2-byol").decay == "eta" and get_model("l2-byol").critical == "eta_c"
    assert get_model("cosine-simsiam").conventions == ("frobenius", "feature-norm")
    with pytest.raises(ParameterError, match="model must be one of cosine-simsiam"):
        get_model("cosine_simsiam")


@pytest.mark.parametrize("model, name, want", [
    ("cosine-simsiam", "n-psi", "n_psi"), ("cosine-simsiam", "n_psi", "n_psi"), ("cosine-simsiam", "N_Psi", "n_psi"),
    ("cosine-simsiam", "T", "trace"), ("cosine-simsiam", "N-PHI", "n_phi"), ("l2-byol", "alpha-p", "alpha_p"),
    ("cosine-simsiam-delta", "Sigma_p3s2", "sum_p3s2"), (None, "lam", "lam"),
])
def test_one_function_normalises_parameter_names(model, name, want):
    assert field_name(model, name) == want


@pytest.mark.parametrize("model, name", [("cosine-simsiam", "eta"), ("l2-byol", "rho"), ("two-layer", 3),
                                         ("cosine-simsiam", None), (None, "nope")])
def test_unknown_parameter_names_are_parameter_errors(model, name):
    with pytest.raises(ParameterError, match="parameter must be one of"):
        field_name(model, name)


def test_capability_errors_name_the_models_that_have_it(capsys, tmp_path):
    from dynamics.equilibria import find_equilibria
    from dynamics.params import TwoLayerParams

    with pytest.raises(ParameterError, match=", ".join(model_names("equilibria")) + " for equilibria"):
        find_equilibria(TwoLayerParams())
    assert main(["regime-map", "--model", "two-layer", "--x", "lam:0:1:3", "--y", "lam:0:1:3",
                 "--out", str(tmp_path / "never.npz")]) == 2
    err = capsys.readouterr().err
    assert "for regime-map" in err and err.count("\n") == 1


def test_every_cli_flag_comes_from_the_registry():
    fields = param_fields()
    for model in BUILTIN:
        for f in get_model(model).fields:
            assert f in fields and model in fields[f]


@pytest.mark.slow
def test_feature_norm_convention_reaches_dynamics(capsys):
    # the convention N -> N / sqrt(1 + sigma2) (Bao's feature norms): the same flow as Frobenius
    # at the rescaled norms. Before the registry issue integrate and equilibria ignored it.
    from dynamics.equilibria import find_equilibria
    from dynamics.integrate import integrate
    from dynamics.params import CosineParams

    a = math.sqrt(1 + 0.5)
    fn = CosineParams(rho=0.01, sigma2=0.5, n_phi=2.0, n_psi=1.5, trace=0.5)
    fro = CosineParams(rho=0.01, sigma2=0.5, n_phi=2.0 / a, n_psi=1.5 / a, trace=0.5)
    p0 = np.linspace(0.05, 1.5, 7)
    r1 = integrate("cosine-simsiam", fn, p0, 50.0, convention="feature-norm", rtol=1e-11, atol=1e-13)
    r2 = integrate("cosine-simsiam", fro, p0, 50.0, rtol=1e-11, atol=1e-13)
    r3 = integrate("cosine-simsiam", fn, p0, 50.0, rtol=1e-11, atol=1e-13)
    np.testing.assert_allclose(r1.final, r2.final, rtol=1e-8, atol=1e-10)
    assert np.max(np.abs(r1.final - r3.final)) > 1e-3                 # the convention matters
    e1, e2 = find_equilibria(fn, "feature-norm"), find_equilibria(fro)
    np.testing.assert_allclose(e1.p, e2.p, rtol=1e-10, atol=1e-12)
    assert abs(e1.critical_value - e2.critical_value) < 1e-12 * e2.critical_value
    assert main(["equilibria", "--model", "cosine-simsiam", "--convention", "feature-norm", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    np.testing.assert_allclose([e["p"] for e in out["equilibria"]], e1.p, atol=1e-12)
    assert main(["equilibria", "--model", "l2-byol", "--convention", "feature-norm"]) == 2
    assert "convention must be frobenius for model l2-byol" in capsys.readouterr().err
