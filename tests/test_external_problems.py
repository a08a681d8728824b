"""External test problems, registered as user models, on every method and path, against scipy.

Van der Pol (mu = 1), the Brusselator (a = 1, b = 3), Lotka-Volterra (1.5, 1, 3, 1; scipy's
example) and Lorenz (10, 28, 8/3, to t = 1), each integrated by every method on every path that
takes a user model (1-D fixed-step loop, adaptive per-trajectory loop, adaptive lockstep block,
torch on the CPU fixed and adaptive), compared with scipy's DOP853 at rtol 1e-13 (an independent
implementation, 1e5 times more accurate than the runs under test). Lotka-Volterra's first
integral :math:`V=\\delta u-\\gamma\\ln u+\\beta v-\\alpha\\ln v` drifts by less than rtol over ten
periods (the period itself from scipy's event location).
"""
import numpy as np
import pytest
import sympy as sp
from scipy.integrate import solve_ivp

from dynamics.integrate import integrate
from dynamics.results import Status
from dynamics.tableaus import ADAPTIVE_METHODS, METHOD_NAMES
from oracles import registered_user_models
from symbolic.model import as_model

pytestmark = pytest.mark.slow
torch = pytest.importorskip("torch")

U, V, W = sp.symbols("u v w")
MU, AA, BB, AL, BE, GA, DE, SI, RH, BT = sp.symbols("mu aa bb al be ga de si rh bt")
PROBLEMS = {   # name: (state, rhs, params, y0, t_end)
    "ext-vdp": ([U, V], [V, MU * (1 - U**2) * V - U], {"mu": 1.0}, [2.0, 0.0], 2.0),
    "ext-brusselator": ([U, V], [AA + U**2 * V - (BB + 1) * U, BB * U - U**2 * V], {"aa": 1.0, "bb": 3.0},
                        [1.5, 3.0], 2.0),
    "ext-lotka": ([U, V], [AL * U - BE * U * V, DE * U * V - GA * V], {"al": 1.5, "be": 1.0, "ga": 3.0, "de": 1.0},
                  [10.0, 5.0], 2.0),
    "ext-lorenz": ([U, V, W], [SI * (V - U), U * (RH - W) - V, U * V - BT * W],
                   {"si": 10.0, "rh": 28.0, "bt": 8.0 / 3.0}, [1.0, 1.0, 1.0], 1.0),
}
RTOL, ATOL = 1e-8, 1e-10
DT = 1e-3
# (path, integrate keywords, tolerance on |ours - scipy| / (ATOL + RTOL |scipy|)):
# adaptive pairs at rtol 1e-8: the global error is a few local tolerances over these spans (Lorenz,
# with its largest Lyapunov exponent 0.9 and ~300 steps, the most); fixed steps dt = 1e-3 of an
# order-4 (5) tableau on rates up to ~30 (Lorenz): (30 dt)^4 ~ 1e-6 relative per unit time for RK4,
# 30x less for the fifth-order tableaus: the same bound in units of the adaptive tolerance
PATHS = ([(f"cpu-fixed-{m}", dict(method=m, dt=DT), 500.0 if m == "rk4" else 50.0) for m in METHOD_NAMES]
         + [(f"torch-fixed-{m}", dict(method=m, dt=DT, device="torch-cpu"), 500.0 if m == "rk4" else 50.0)
            for m in METHOD_NAMES]
         + [(f"cpu-loop-{m}", dict(method=m, rtol=RTOL, atol=ATOL), 50.0) for m in ADAPTIVE_METHODS]
         + [(f"cpu-block-{m}", dict(method=m, rtol=RTOL, atol=ATOL), 50.0) for m in ADAPTIVE_METHODS]
         + [(f"torch-adaptive-{m}", dict(method=m, rtol=RTOL, atol=ATOL, device="torch-cpu"), 50.0)
            for m in ADAPTIVE_METHODS])


@pytest.fixture(scope="module", autouse=True)
def models(tmp_path_factory):
    with registered_user_models({name: (state, rhs, params) for name, (state, rhs, params, _, _) in PROBLEMS.items()},
                                tmp_path_factory.mktemp("cache")):
        yield


def _scipy_rhs(name):
    state, rhs, params, _, _ = PROBLEMS[name]
    f = sp.lambdify([sp.Symbol("t")] + state, [e.subs({sp.Symbol(k): v for k, v in params.items()}) for e in rhs])
    return lambda t, y: f(t, *y)


def _reference(name, t_end, y0):
    sol = solve_ivp(_scipy_rhs(name), (0.0, t_end), y0, method="DOP853", rtol=1e-13, atol=1e-15)
    assert sol.status == 0
    return sol.y[:, -1]


def _run(name, kw, y0, t_end):
    params = as_model(name).params_class(**PROBLEMS[name][2])
    return integrate(name, params, np.array([y0, y0]), t_end, form="eigen", **kw)


@pytest.mark.parametrize("name", list(PROBLEMS))
@pytest.mark.parametrize("path,kw,tol", PATHS, ids=[p[0] for p in PATHS])
def test_agrees_with_dop853(name, path, kw, tol):
    _, _, _, y0, t_end = PROBLEMS[name]
    if path.startswith("cpu-loop"):
        kw = dict(kw, t_eval=[t_end])             # an output grid selects the per-trajectory loop
    r = _run(name, kw, y0, t_end)
    ref = _reference(name, t_end, y0)
    assert r.status.tolist() == [Status.SUCCESS] * 2
    scaled = np.abs(r.final - ref) / (ATOL + RTOL * np.abs(ref))
    assert scaled.max() <= tol, (scaled.max(), r.final[0], ref)
    assert np.all(r.nsteps > 0)
    if "dt" in kw:
        assert r.nsteps.tolist() == [round(t_end / DT)] * 2        # accepted steps: the whole grid


def _lv_invariant(u, v, al=1.5, be=1.0, ga=3.0, de=1.0):
    return de * u - ga * np.log(u) + be * v - al * np.log(v)


def _lv_period():
    y0 = PROBLEMS["ext-lotka"][3]

    def back(t, y):                # v returns to v0 while rising (the start's phase)
        return y[1] - y0[1]
    back.direction = 1.0
    sol = solve_ivp(_scipy_rhs("ext-lotka"), (0.0, 50.0), y0, method="DOP853", rtol=1e-13, atol=1e-15, events=back)
    t = sol.t_events[0]
    return float(t[1] - t[0]) if abs(t[0]) < 1e-9 or len(t) < 2 else float(t[0])


@pytest.mark.parametrize("method", ADAPTIVE_METHODS)
@pytest.mark.parametrize("device", ["cpu", "torch-cpu"])
def test_lotka_volterra_invariant_over_ten_periods(method, device):
    y0 = PROBLEMS["ext-lotka"][3]
    period = _lv_period()
    assert 1.0 < period < 10.0
    # atol far below rtol * |y| (u and v stay above 0.3): the drift is the relative control's. It is
    # 0.2-0.4 rtol here; at rtol 1e-10 and 1e-12 it measured 1.7-5.3 rtol (a non-symplectic pair
    # controls the local error only, and ~4000-10000 steps accumulate it)
    rtol = 1e-8
    params = as_model("ext-lotka").params_class(**PROBLEMS["ext-lotka"][2])
    r = integrate("ext-lotka", params, np.array([y0]), 10 * period, form="eigen", method=method, rtol=rtol, atol=1e-14,
                  device=device)
    assert r.status.tolist() == [Status.SUCCESS]
    v0 = _lv_invariant(*y0)
    drift = abs(_lv_invariant(*r.final[0]) - v0) / abs(v0)
    assert drift < rtol, drift
    # and the state is back near the start after whole periods (the invariant alone could hold on a
    # wrong orbit point); the phase error of these pairs over ten periods at rtol 1e-8: 2e-7 to 5e-7
    np.testing.assert_allclose(r.final[0], y0, rtol=1e-5)
