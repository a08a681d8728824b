"""The shared stepping parts (dynamics.stepping): the fixed-step grid, the controller, the initial step."""
import math

import numpy as np
import pytest

from dynamics.integrate import integrate
from dynamics.params import CosineParams
from dynamics.stepping import CONTROLLER, Controller, fixed_grid, initial_step
from symbolic.errors import ParameterError


def test_fixed_grid_equal_steps_onto_t_end_and_outputs():
    T, H, idx = fixed_grid(0.0, 1.0, 0.3, [0.0, 0.6, 1.0])
    # ceil(1 / 0.3) = 4 equal steps of 0.25; 0.6 splits the third step (0.5 .. 0.75)
    np.testing.assert_array_equal(T, [0.0, 0.25, 0.5, 0.6, 0.75, 1.0])
    np.testing.assert_allclose(H, [0.25, 0.25, 0.1, 0.15, 0.25], rtol=1e-15)
    assert H[0] == 0.25 and H[-1] == 0.25                  # uniform steps are h exactly
    np.testing.assert_array_equal(T[idx], [0.0, 0.6, 1.0])


def test_fixed_grid_snaps_near_nodes_onto_the_requested_times():
    t_eval = np.linspace(0.0, 1.0, 11)                     # 0.3 is 0.30000000000000004 as 3 * 0.1
    T, H, idx = fixed_grid(0.0, 1.0, 0.01, t_eval)
    assert H.size == 100                                    # no extra steps: the nodes moved by an ulp
    np.testing.assert_array_equal(T[idx], t_eval)
    assert abs(H.sum() - 1.0) < 1e-14


def test_fixed_grid_rejects_too_many_steps_before_allocating():
    with pytest.raises(ParameterError, match="max_steps"):
        fixed_grid(0.0, 1.0, 1e-320, [], max_steps=10**6)      # 1e320 steps: inf, no OverflowError
    with pytest.raises(ParameterError, match="max_steps"):
        integrate("cosine-simsiam", CosineParams(), [0.5], 1.0, method="rk4", dt=1e-12)


def test_controller_factor_is_hairers_formula():
    err = np.array([0.0, 1e-8, 0.01, 0.5, 1.0, 3.0, 1e6, np.inf, np.nan])
    got = CONTROLLER.factor(err, 5)
    want = [min(5.0, max(0.2, 0.9 * max(e, 1e-10) ** -0.2)) if math.isfinite(e) else 0.2 for e in err]
    np.testing.assert_allclose(got, want, rtol=1e-15)
    assert got[0] == 5.0 and got[-1] == 0.2
    with pytest.raises(ParameterError, match="fac_min"):
        Controller(fac_min=1.5)


def test_initial_step_rule():
    # Hairer et al. II.4: h0 = 0.01 d0 / d1 in the weighted RMS norm; 1e-6 when |y| or |f| is tiny
    y, f = [np.array([1.0, 1e-9, 0.0])], [np.array([2.0, 1.0, 3.0])]
    h = initial_step(y, f, 1e-6, 1e-8)
    assert abs(h[0] - 0.005) < 1e-15                     # the weights cancel: 0.01 * 1 / 2
    assert abs(h[1] - 1e-11) < 1e-24                     # 0.01 * 1e-9 / 1
    assert h[2] == 1e-6                                  # y = 0: d0 below 1e-5


def test_controller_factor_on_torch_tensors_matches_numpy():
    torch = pytest.importorskip("torch")
    err = np.array([0.0, 0.01, 1.0, 1e6, np.inf, np.nan])
    got = CONTROLLER.factor(torch.tensor(err), 5, torch).numpy()
    np.testing.assert_allclose(got, CONTROLLER.factor(err, 5), rtol=1e-15)
    assert got[-1] == 0.2                                 # a NaN error shrinks the step, never a NaN step


def test_status_rule_text_and_array_forms_agree():
    # the generated loops evaluate the text form, the torch path the array form: one rule
    from dynamics.stepping import coarse_mask, unresolved_values
    from symbolic.loopgen.emit import coarse_expr, unresolved_code

    cases = [  # fvar, fref, h, ysize: resolved, unresolved, noise at an equilibrium, NaN stage
        (1.0, 1.0, 0.1, 1.0), (3.0, 1.0, 0.1, 1.0), (3e-17, 1e-17, 0.1, 1.0), (math.nan, 1.0, 0.1, 1.0)]
    want = [False, True, False, True]
    for (fvar, fref, h, ysz), w in zip(cases, want):
        assert eval(coarse_expr(repr(fvar), repr(fref), repr(h), repr(ysz)), {"nan": math.nan}) is w
    got = coarse_mask(*(np.array(c) for c in zip(*cases)))
    np.testing.assert_array_equal(got, want)
    growth = [2.0, -1.0, 0.0, math.nan]          # growing: a blow-up; else (or NaN) a singular rhs
    text = [eval(unresolved_code(repr(g)), {"nan": math.nan}) for g in growth]
    assert text == [1, 3, 3, 3] == unresolved_values(np.array(growth)).tolist()


def test_method_names_are_typed_once():
    # the method table is the one place that lists the methods: no other literal lists two of them
    import ast
    from pathlib import Path

    from dynamics.tableaus import METHOD_NAMES, METHODS

    assert METHOD_NAMES == ("rk4", "tsit5", "dopri5") and [m.adaptive for m in METHODS.values()] == [False, True, True]
    root = Path(__file__).resolve().parents[1]
    found = []
    for pkg in ("symbolic", "dynamics", "sims", "figures"):
        for f in sorted((root / pkg).rglob("*.py")):
            for node in ast.walk(ast.parse(f.read_text())):
                if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
                    names = {e.value for e in node.elts if isinstance(e, ast.Constant) and e.value in METHOD_NAMES}
                    if len(names) >= 2:
                        found.append(f"{f.relative_to(root)}:{node.lineno}")
    assert not found, found
