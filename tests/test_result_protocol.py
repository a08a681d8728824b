"""Every result type has one protocol: status, message, success, params, to_json(), to_npz()."""
import importlib
import inspect
import json
import pkgutil
from dataclasses import is_dataclass

import numpy as np
import pytest

import dynamics
import symbolic
from dynamics.params import CosineParams, L2Params
from symbolic.results import MESSAGES, Result, Status


def _cases():
    from dynamics.continuation import equilibrium_branches, saddle_node_curve
    from dynamics.equilibria import find_eigen_equilibria, find_equilibria
    from dynamics.integrate import integrate
    from dynamics.regimes import check_fates, regime_map
    from dynamics.sgd_mean_field import Recipe, sgd_mean_field
    from dynamics.systems import integrate_coupled, integrate_matrix
    from symbolic.gradient_check import check_gradient

    cos = CosineParams()
    rng = np.random.default_rng(0)
    yield "BatchResult", lambda: integrate("cosine-simsiam", cos, np.linspace(0.1, 1.5, 4), 5.0)
    yield "Equilibria", lambda: find_equilibria(cos)
    yield "EigenEquilibria", lambda: find_eigen_equilibria(L2Params(eta=0.05, beta=0.5))
    yield "RegimeMap", lambda: regime_map("cosine-simsiam", "rho", [0.01, 0.2], "n_psi", [1.0, 2.0], {"n_phi": 2.0})
    yield "FoldCurve", lambda: saddle_node_curve("l2-byol", "eta", "sigma2", {"tau": 0.9}, (0.01, 0.5), (0.0, 3.0))
    yield "Branches", lambda: equilibrium_branches("cosine-simsiam", "rho", np.linspace(0, 0.2, 21))
    yield "FateCheck", lambda: check_fates("l2-byol", np.tile(L2Params(eta=0.1).as_array(("eta", "sigma2", "tau", "alpha_p")), (3, 1)),
                                           [0.05, 0.3, 0.6])
    yield "GradientCheck", lambda: check_gradient("cosine-simsiam", h=8, samples=2000, seed=0)
    yield "MatrixResult", lambda: integrate_matrix("cosine-simsiam", {"W": np.eye(3) + 0.1 * rng.standard_normal((3, 3)),
                                                                     "Phi": rng.standard_normal((3, 5))},
                                                   {"rho": 0.01, "sigma2": 0.5}, 1.0, dt=0.1)
    yield "coupled", lambda: integrate_coupled("cosine-simsiam", 0.01, 0.5, rng.uniform(0.1, 0.5, (1, 4)),
                                               rng.uniform(0.1, 0.5, (1, 4)), 1.0)
    yield "Prediction", lambda: sgd_mean_field(np.eye(4) + 0.1 * rng.standard_normal((4, 4)), rng.standard_normal((4, 6)),
                                               Recipe(lrs=(0.05,) * 5, rho=1e-3, batch=64, d=6), [0, 5])


CASES = list(_cases())


@pytest.mark.slow
@pytest.mark.parametrize("name, make", CASES, ids=[c[0] for c in CASES])
def test_result_protocol(name, make, tmp_path):
    try:
        r = make()
    except TypeError as e:      # a signature this test guessed wrong is a test bug: say which
        pytest.fail(f"{name}: {e}")
    assert isinstance(r, Result), type(r)
    st = np.asarray(r.status)
    assert np.all(np.isin(st, [s.value for s in Status]))
    assert np.array_equal(np.asarray(r.success), st == Status.SUCCESS)
    assert isinstance(r.message, str) and r.message
    if st.ndim == 0 and type(r).message is Result.message:
        assert r.message == MESSAGES[Status(int(st))]
    assert isinstance(r.params, dict) or hasattr(r.params, "to_dict")    # a dict or the parameter dataclass
    text = json.dumps(r.to_json(), allow_nan=False)          # strict JSON
    assert json.loads(text)
    r.to_npz(tmp_path / "r.npz")
    with np.load(tmp_path / "r.npz") as z:
        assert len(z.files) >= 1


def _result_like(cls):
    return cls.__name__.endswith(("Result", "Equilibria", "Map", "Curve", "Branches", "Check", "Prediction"))


def test_every_result_type_in_the_tree_has_the_protocol():
    seen = []
    for pkg in (dynamics, symbolic):
        for info in pkgutil.iter_modules(pkg.__path__):
            mod = importlib.import_module(f"{pkg.__name__}.{info.name}")
            for _, cls in inspect.getmembers(mod, inspect.isclass):
                if cls.__module__ == mod.__name__ and is_dataclass(cls) and _result_like(cls):
                    seen.append(cls.__name__)
                    assert issubclass(cls, Result), f"{mod.__name__}.{cls.__name__} lacks the result protocol"
    assert {"BatchResult", "Equilibria", "RegimeMap", "FoldCurve", "Branches", "FateCheck", "GradientCheck"} <= set(seen)


def test_fate_check_disagreement_is_a_status():
    from dynamics.regimes import FateCheck

    r = FateCheck(2, 1, np.array([1, 2]), np.array([1, 1]), np.zeros((2, 4)), np.zeros(2))
    assert r.status == Status.DISAGREE and not r.success and "disagree" in r.message
