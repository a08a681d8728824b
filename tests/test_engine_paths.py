"""One engine, every path: a shared problem set gives the same status, final state and step counts.

Paths: the 1-D loops (fixed steps; adaptive per-trajectory loop, used with ``t_eval``; adaptive
lockstep block), the torch backend on the CPU (fixed and adaptive), the coupled h-mode system and
the matrix flow. Problems (user models, so the right-hand sides are simple enough to know the
answer in closed form):

* finite: the logistic flow :math:`\\dot p=ap(1-p)`, exact :math:`p(t)=1/(1+(1/p_0-1)e^{-at})`;
* divergent: the same flow with a bound the state crosses at the known time
  :math:`t_\\times=\\ln[(1/p_0-1)/(1/b-1)]/a`, and the blow-up :math:`\\dot p=p^2` at :math:`t^*=1/p_0`;
* singular: :math:`\\dot p=-c/p`, which reaches the pole :math:`p=0` at :math:`t^*=p_0^2/(2c)`
  (adaptive steps underflow; a fixed step cannot resolve it);
* stiff: :math:`\\dot p=-k(p-1)` with :math:`kh=10`, beyond RK4's stability limit 2.79 (fixed
  steps blow up where the flow does not: UNSTABLE; adaptive steps succeed).

The coupled and matrix paths run the cosine flow (their only systems): a finite run, a bound
crossing, and the collapse of every mode at :math:`t=0.409`, where the right-hand side is singular.

The status rule under test (:mod:`dynamics.stepping`): exceeding the bound is DIVERGED; a step
the method cannot take (an underflowing adaptive step, a fixed step the right-hand side changes
too much across) is DIVERGED for a growing state and NONFINITE otherwise; a fixed-step stop that
an adaptive reference run does not share is UNSTABLE. ``nsteps`` counts accepted steps on every
path: a fixed run that stops took ``nsteps`` steps and failed in the next, ending at ``t_event``.
"""
import math

import numpy as np
import pytest
import sympy as sp

from dynamics.integrate import integrate
from dynamics.results import Status
from dynamics.systems import integrate_coupled, integrate_matrix
from dynamics.tableaus import ADAPTIVE_METHODS, METHOD_NAMES
from oracles import registered_user_models
from symbolic.model import as_model

pytest.importorskip("torch")

P, A, C, G, K = sp.symbols("p a c g k")
MODELS = {
    "eng-logistic": ([A * P * (1 - P)], {"a": 2.0}),
    "eng-blowup": ([G * P**2], {"g": 1.0}),
    "eng-pole": ([-C / P], {"c": 1.0}),
    "eng-stiff": ([-K * (P - 1)], {"k": 1000.0}),
}


@pytest.fixture(scope="module", autouse=True)
def models(tmp_path_factory):
    with registered_user_models({name: ([P], rhs, params) for name, (rhs, params) in MODELS.items()},
                                tmp_path_factory.mktemp("cache")):
        yield


def _params(name):
    return as_model(name).params_class(**MODELS[name][1])


# (path name, keyword arguments of integrate, adaptive?)
DT = 0.01
PATHS = ([(f"cpu-fixed-{m}", dict(method=m, dt=DT), False) for m in METHOD_NAMES]
         + [(f"torch-fixed-{m}", dict(method=m, dt=DT, device="torch-cpu"), False) for m in METHOD_NAMES]
         + [(f"cpu-loop-{m}", dict(method=m, rtol=1e-8, atol=1e-10), True) for m in ADAPTIVE_METHODS]
         + [(f"cpu-block-{m}", dict(method=m, rtol=1e-8, atol=1e-10), True) for m in ADAPTIVE_METHODS]
         + [(f"torch-adaptive-{m}", dict(method=m, rtol=1e-8, atol=1e-10, device="torch-cpu"), True)
            for m in ADAPTIVE_METHODS])


def _run(path, kw, name, p0, t_end, **extra):
    kw = dict(kw, **extra)
    if path.startswith("cpu-loop"):
        kw["t_eval"] = [t_end]                    # the output grid selects the per-trajectory loop
    return integrate(name, _params(name), np.asarray(p0, float), t_end, **kw)


def _stop_meaning(r, adaptive, dt=DT):
    """A fixed run that stopped took nsteps accepted steps and failed in the next: t_event is its end."""
    if not adaptive:
        np.testing.assert_allclose(r.t_event, (r.nsteps + 1) * dt, rtol=1e-12)


@pytest.mark.parametrize("path,kw,adaptive", PATHS, ids=[p[0] for p in PATHS])
def test_finite_problem(path, kw, adaptive):
    p0, t_end, a = np.array([0.1, 0.5, 0.9]), 2.0, 2.0
    r = _run(path, kw, "eng-logistic", p0, t_end)
    assert r.status.tolist() == [Status.SUCCESS] * 3 and np.all(np.isnan(r.t_event))
    exact = 1 / (1 + (1 / p0 - 1) * np.exp(-a * t_end))
    # fixed: order >= 4 at a*dt = 0.02 gives ~1e-9; adaptive: rtol 1e-8 per step, over ~30 steps
    np.testing.assert_allclose(r.final, exact, rtol=1e-7)
    if adaptive:                  # accepted steps: a 5th-order pair at rtol 1e-8 needs tens, not hundreds
        assert np.all((r.nsteps >= 10) & (r.nsteps <= 200)), r.nsteps
    else:                         # every step of the grid accepted
        assert r.nsteps.tolist() == [round(t_end / DT)] * 3


@pytest.mark.parametrize("path,kw,adaptive", PATHS, ids=[p[0] for p in PATHS])
def test_bound_crossing_is_diverged_at_the_crossing_time(path, kw, adaptive):
    p0, a, b = np.array([0.1, 0.2]), 2.0, 0.95
    r = _run(path, kw, "eng-logistic", p0, 5.0, diverge_bound=b)
    t_cross = np.log((1 / p0 - 1) / (1 / b - 1)) / a
    assert r.status.tolist() == [Status.DIVERGED] * 2
    assert np.all(r.final <= b)                                        # the last state within the bound
    # the event is the end of the step that crossed: within one step of the crossing
    h = DT if not adaptive else 0.5
    assert np.all((r.t_event >= t_cross - 1e-9) & (r.t_event <= t_cross + h)), (r.t_event, t_cross)
    _stop_meaning(r, adaptive)


@pytest.mark.parametrize("path,kw,adaptive", PATHS, ids=[p[0] for p in PATHS])
def test_blow_up_is_diverged(path, kw, adaptive):
    r = _run(path, kw, "eng-blowup", [1.0, 2.0], 3.0)
    t_star = np.array([1.0, 0.5])
    assert r.status.tolist() == [Status.DIVERGED] * 2, r.status
    assert np.all(np.isfinite(r.final))
    # adaptive: the bound 1e8 is reached at t* - 1e-8 / p0**2; fixed: within three steps of t*
    tol = 1e-6 if adaptive else 3 * DT
    np.testing.assert_allclose(r.t_event, t_star, atol=tol)
    _stop_meaning(r, adaptive)


@pytest.mark.parametrize("path,kw,adaptive", PATHS, ids=[p[0] for p in PATHS])
def test_pole_is_nonfinite(path, kw, adaptive):
    p0 = np.array([1.0, 0.8])
    r = _run(path, kw, "eng-pole", p0, 2.0)
    t_star = p0**2 / 2.0
    assert r.status.tolist() == [Status.NONFINITE] * 2, r.status
    assert np.all(np.isfinite(r.final)) and np.all(r.final > 0)       # the last state before the pole
    np.testing.assert_allclose(r.t_event, t_star, atol=1e-6 if adaptive else 2 * DT)
    _stop_meaning(r, adaptive)


@pytest.mark.parametrize("path,kw,adaptive", PATHS, ids=[p[0] for p in PATHS])
def test_stiff_problem_is_unstable_with_fixed_steps_only(path, kw, adaptive):
    r = _run(path, kw, "eng-stiff", [0.0, 2.0], 1.0)
    if adaptive:
        assert r.status.tolist() == [Status.SUCCESS] * 2
        np.testing.assert_allclose(r.final, 1.0, rtol=1e-7)            # e^{-1000} away from 1
    else:                          # k dt = 10: every tableau here is unstable beyond k h ~ 3.3
        assert r.status.tolist() == [Status.UNSTABLE] * 2, r.status
        assert np.all(np.isfinite(r.t_event)) and np.all(r.t_event < 1.0)


# --- the coupled and matrix paths (the cosine flow) ----------------------------------------------
Q = np.array([[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]]) / 2.0      # orthogonal


def _matrix(p0, s0, t_end, dt, method="rk4"):
    W0, Phi0 = Q @ np.diag(p0) @ Q.T, Q @ np.diag(np.sqrt(s0)) @ Q.T
    return integrate_matrix("cosine-simsiam", {"W": W0, "Phi": Phi0}, {"rho": 0.1, "sigma2": 0.5}, t_end,
                            dt=dt, method=method)


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_coupled_and_matrix_finite_agree(method):
    p0 = np.array([2.0, 1.5, 1.0, 0.5])
    s0 = p0**2 + 0.5
    ad = integrate_coupled("cosine-simsiam", 0.1, 0.5, p0, s0, 5.0, rtol=1e-10, atol=1e-12)
    fx = integrate_coupled("cosine-simsiam", 0.1, 0.5, p0, s0, 5.0, method=method, dt=DT)
    m = _matrix(p0, s0, 5.0, DT, method)
    assert int(ad.status[0]) == int(fx.status[0]) == m.status == Status.SUCCESS
    assert int(fx.nsteps[0]) == m.nsteps == round(5.0 / DT)              # every grid step accepted
    # the eigenvalues of W follow the eigen system (commuting start); RK steps of 0.01: ~1e-9
    np.testing.assert_allclose(fx.final[0], ad.final[0], rtol=1e-7)
    np.testing.assert_allclose(np.sort(np.linalg.eigvalsh(m.final["W"])), np.sort(ad.final[0, :4]), rtol=1e-7)


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_coupled_bound_crossing_is_diverged_on_both_loops(method):
    p0 = np.array([0.3, 0.2, 0.1, 0.05])
    s0 = p0**2 + 0.05
    free = integrate_coupled("cosine-simsiam", 0.0, 0.5, p0, s0, 20.0, t_eval=np.linspace(0, 20, 2001),
                             rtol=1e-10, atol=1e-12)
    size = np.abs(free.ys[:, 0]).sum(axis=1)
    bound = 0.5 * (size[0] + size[-1])                                  # crossed once, on the way up
    t_cross = free.t[np.argmax(size > bound)]
    ad = integrate_coupled("cosine-simsiam", 0.0, 0.5, p0, s0, 20.0, diverge_bound=bound)
    fx = integrate_coupled("cosine-simsiam", 0.0, 0.5, p0, s0, 20.0, method=method, dt=DT, diverge_bound=bound)
    for r in (ad, fx):
        assert int(r.status[0]) == Status.DIVERGED and abs(r.t_event[0] - t_cross) < 0.1
    assert fx.t_event[0] == pytest.approx((fx.nsteps[0] + 1) * DT, rel=1e-12)


@pytest.mark.parametrize("method", METHOD_NAMES)
def test_collapse_is_nonfinite_on_coupled_and_matrix(method):
    p0 = np.array([0.5, 0.3, 0.1, -0.2])
    s0 = p0**2 + 0.1
    ad = integrate_coupled("cosine-simsiam", 0.1, 0.5, p0, s0, 5.0)
    fx = integrate_coupled("cosine-simsiam", 0.1, 0.5, p0, s0, 5.0, method=method, dt=DT)
    m = _matrix(p0, s0, 5.0, DT, method)
    assert int(ad.status[0]) == int(fx.status[0]) == m.status == Status.NONFINITE
    assert abs(ad.t_event[0] - 0.409) < 1e-3
    assert abs(fx.t_event[0] - 0.409) <= 2 * DT and abs(m.t_event - 0.409) <= 2 * DT
    assert fx.t_event[0] == pytest.approx((fx.nsteps[0] + 1) * DT, rel=1e-12)
    assert m.t_event == pytest.approx((m.nsteps + 1) * DT, rel=1e-12)
    assert math.isfinite(float(np.abs(fx.final).sum()))
