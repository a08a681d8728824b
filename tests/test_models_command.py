"""``ssldyn models``: every built-in and registered user model with its forms, parameters and
defaults, conventions and capabilities, as text and ``--json``.

Oracles: the parameter dataclasses' declared defaults (``dataclasses.fields``), the values written
in the user's model file, and the model table of the theory notes (which models have a weight
decay, which the feature-norm convention).
"""
import dataclasses
import json
import textwrap

import pytest

from sims.cli import main
from symbolic import registry, user_models
from symbolic.params import CosineParams, L2Params, TwoLayerParams

USER = textwrap.dedent('''
    import sympy as sp
    from symbolic import register_model
    p, a, rho = sp.symbols("p a rho")
    register_model("test-listed", state=[p], rhs=[a*p**3 - p**5 - rho*p],
                   params={"a": 1.25, "rho": 0.1}, decay="rho")
''')


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    assert code == 0, out.err
    return out.out


def _defaults(cls):
    return {f.name: f.default for f in dataclasses.fields(cls)}


def test_json_lists_every_model_with_its_dataclass_defaults(capsys):
    doc = json.loads(_run(capsys, "models", "--json"))
    by = {m["name"]: m for m in doc["models"]}
    assert list(by) == list(registry.model_names()) and {"cosine-simsiam", "l2-byol", "two-layer"} <= set(by)
    for cls, name in ((CosineParams, "cosine-simsiam"), (L2Params, "l2-byol"), (TwoLayerParams, "two-layer")):
        assert by[name]["parameters"] == _defaults(cls), name
        assert by[name]["source"] == "built-in" and by[name]["forms"] == ["matrix", "eigen", "reduced"]
    assert by["cosine-simsiam"]["conventions"] == ["frobenius", "feature-norm"]
    assert by["l2-byol"]["conventions"] == ["frobenius"]
    assert (by["cosine-simsiam"]["decay"], by["l2-byol"]["decay"], by["two-layer"]["decay"]) == ("rho", "eta", None)
    assert {"equilibria", "regimes", "folds"} <= set(by["l2-byol"]["capabilities"])
    assert by["two-layer"]["capabilities"] == ["matrix-flow"]          # no equilibrium polynomial, no decay
    assert by["l2-byol"]["parameter_help"]["eta"].startswith("weight decay eta")


def test_text_has_one_block_per_model_with_its_defaults(capsys):
    out = _run(capsys, "models")
    heads = [line.split()[0] for line in out.splitlines() if line and not line.startswith(" ")]
    assert heads == list(registry.model_names())
    block = out.split("\n\n")[heads.index("l2-byol")]
    params = next(line for line in block.splitlines() if line.strip().startswith("parameters:"))
    values = dict(kv.split("=") for kv in params.split(":", 1)[1].replace(" (defaults)", "").strip().split(", "))
    assert {k: float(v) for k, v in values.items()} == _defaults(L2Params)
    assert "decay:        eta (critical value eta_c)" in block


@pytest.fixture
def user_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SSLDYN_CACHE_DIR", str(tmp_path / "cache"))
    f = tmp_path / "listed.py"
    f.write_text(USER)
    yield f
    registry._REGISTRY.pop("test-listed", None)
    user_models._USER_ARGS.pop("test-listed", None)


def test_user_models_from_models_file_are_listed(user_file, capsys):
    doc = json.loads(_run(capsys, "--models", user_file, "models", "--json"))
    entry, = [m for m in doc["models"] if m["name"] == "test-listed"]
    assert entry["source"] == "user" and entry["parameters"] == {"a": 1.25, "rho": 0.1}
    assert entry["decay"] == "rho" and entry["fingerprint"] == registry.get_model("test-listed").fingerprint != ""
    # a polynomial numerator with the decay entering as -rho p: equilibria, regimes and folds
    assert {"equilibria", "regimes", "folds"} <= set(entry["capabilities"])
    assert "test-listed  (user)" in _run(capsys, "--models", user_file, "models")
