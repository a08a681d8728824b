"""Regression tests of three stepping defects: output times are honoured exactly, never rounded.

(a) torch backend: two ``t_eval`` values between the same two fixed steps both get a state (on
    main one of them was uninitialised memory); (b) a fixed-step run records the state at each
    requested time, not at the nearest step labelled with the requested time; (c) the matrix flow
    keeps every requested output, labels it with its time, and never leaves a non-finite ``final``.
References: scipy DOP853 at rtol 1e-12 (a, b) and the closed form of a linear flow (c).
"""
import numpy as np
import pytest
from scipy.integrate import solve_ivp

from dynamics.integrate import integrate
from dynamics.params import CosineParams
from dynamics.results import Status
from dynamics.systems import integrate_coupled, integrate_matrix
from oracles import cosine_eq7
from symbolic.errors import ParameterError

P = CosineParams()
P0 = np.array([0.2, 0.6, 1.1])


def _ref(t_eval):
    f = lambda t, p: cosine_eq7(p, P.rho, P.sigma2, P.n_phi, P.n_psi, P.trace)   # noqa: E731
    return solve_ivp(f, (0, t_eval[-1]), P0, method="DOP853", rtol=1e-12, atol=1e-14, t_eval=t_eval).y.T


# 0.52 and 0.5 lie between (or on) the same steps of dt = 0.1; 0.25 is half a step off the grid
T_EVAL = np.array([0.0, 0.25, 0.5, 0.52, 1.0])


@pytest.mark.parametrize("device", ["cpu", "torch-cpu"])
def test_fixed_step_outputs_at_the_requested_times(device):
    pytest.importorskip("torch") if device != "cpu" else None
    r = integrate("cosine-simsiam", P, P0, 1.0, method="rk4", dt=0.1, t_eval=T_EVAL, device=device)
    assert np.all(np.isfinite(r.ys))
    np.testing.assert_array_equal(r.t, T_EVAL)
    # RK4 with dt = 0.1 here: global error ~1e-7; the rounded step would be off by 0.02 * pdot ~ 1e-3
    np.testing.assert_allclose(r.ys, _ref(T_EVAL), rtol=0, atol=2e-6)


def test_fixed_step_final_state_is_at_t_end():
    # dt does not divide t_end: the last step lands on t_end (equal steps, no step above dt)
    r = integrate("cosine-simsiam", P, P0, 1.05, method="rk4", dt=0.1, t_eval=[1.05])
    np.testing.assert_allclose(r.final, _ref(np.array([0.0, 1.05]))[-1], rtol=0, atol=2e-6)
    np.testing.assert_array_equal(r.ys[-1], r.final)


def test_matrix_flow_keeps_and_labels_every_output():
    rng = np.random.default_rng(1)
    W, Phi = rng.normal(size=(4, 4)), rng.normal(size=(4, 6))
    t_eval = [0.1, 0.1001, 0.105, 0.5]        # the first two round to one step of 0.01, 0.105 to none
    m = integrate_matrix("cosine-simsiam", {"W": W, "Phi": Phi}, {"rho": 0.03, "sigma2": 0.4}, 0.5, dt=0.01,
                         t_eval=t_eval)
    np.testing.assert_array_equal(m.t, t_eval)
    assert len(m.states) == 4
    fine = integrate_matrix("cosine-simsiam", {"W": W, "Phi": Phi}, {"rho": 0.03, "sigma2": 0.4}, 0.5, dt=1e-4,
                            t_eval=t_eval)
    for got, ref in zip(m.states, fine.states):      # RK4: 1e-2 vs 1e-4 steps agree to ~1e-8
        np.testing.assert_allclose(got["W"], ref["W"], rtol=0, atol=1e-7)
    assert np.abs(m.states[1]["W"] - m.states[0]["W"]).max() > 1e-6   # two different times, two states


def test_matrix_flow_divergence_keeps_a_finite_final_state():
    # rho = -60: W and Phi grow like e^{60 t} and overflow near t = 11.8; the run must stop with status
    # DIVERGED, a finite divergence time, the last finite state as `final` and NaN outputs after it
    rng = np.random.default_rng(2)
    W, Phi = rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
    m = integrate_matrix("cosine-simsiam", {"W": W, "Phi": Phi}, {"rho": -60.0, "sigma2": 0.4}, 20.0, dt=0.01,
                         t_eval=[1.0, 19.0])
    assert m.status == Status.DIVERGED
    assert all(np.all(np.isfinite(v)) for v in m.final.values())
    assert np.isfinite(m.t_event) and 1.0 < m.t_event < 12.0
    assert len(m.states) == 2 and np.all(np.isfinite(m.states[0]["W"])) and np.all(np.isnan(m.states[1]["W"]))


@pytest.mark.slow
def test_fixed_step_choice_is_explicit():
    with pytest.raises(ParameterError, match="fixed_step"):
        integrate("cosine-simsiam", P, P0, 1.0, method="rk4", fixed_step=False)
    a = integrate("cosine-simsiam", P, P0, 1.0, method="tsit5", fixed_step=True, dt=0.1)
    b = integrate("cosine-simsiam", P, P0, 1.0, method="tsit5", dt=0.1)            # today's API: the same
    np.testing.assert_array_equal(a.final, b.final)
    assert np.all(a.nsteps == 10)


@pytest.mark.slow
def test_coupled_fixed_step_uses_the_same_grid():
    # dt = 0.3 on [0, 1]: four equal steps of 0.25 (as every fixed-step path), not 0.3, 0.3, 0.3, 0.1;
    # an output at 0.6 (not a multiple of 0.25) is a step time, at the flow's value there
    rng = np.random.default_rng(4)
    p0 = rng.uniform(0.3, 1.0, 8)
    s0 = p0**2 + rng.uniform(0.0, 0.3, 8)
    a = integrate_coupled("cosine-simsiam", 0.02, 0.5, p0, s0, 1.0, method="rk4", dt=0.3)
    b = integrate_coupled("cosine-simsiam", 0.02, 0.5, p0, s0, 1.0, method="rk4", dt=0.25)
    # equal to rounding, not bitwise: the mode sums vectorise under fastmath 'reassoc', and where the
    # vector loop starts depends on the arrays' alignment, which differs between allocations
    np.testing.assert_allclose(a.final, b.final, rtol=1e-14, atol=0)
    assert a.nsteps[0] == b.nsteps[0] == 4
    c = integrate_coupled("cosine-simsiam", 0.02, 0.5, p0, s0, 1.0, method="rk4", dt=0.01, t_eval=[0.6, 0.605])
    fine = integrate_coupled("cosine-simsiam", 0.02, 0.5, p0, s0, 1.0, method="rk4", dt=1e-4, t_eval=[0.6, 0.605])
    np.testing.assert_allclose(c.ys, fine.ys, rtol=0, atol=1e-8)
    assert c.nsteps[0] == 101                      # 100 steps of 0.01, one of them split at 0.605


@pytest.mark.slow
@pytest.mark.parametrize("rhs", ["closed", "sympy"])
def test_matrix_flow_stops_at_a_singularity_instead_of_stepping_across(rhs):
    # W's eigenvalues reach 0 at t = 0.409 (the coupled eigen system, adaptive, reports NONFINITE
    # there); fixed steps went on to a finite, meaningless state that depended on dt and on the rhs
    # (eigenvalue -0.39 at dt 0.01, -0.29 at 1e-4; the printed rhs -0.33): now status 3 at the
    # singularity, for every dt and both right-hand sides
    from dynamics import integrate_coupled

    Q = np.array([[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]]) / 2.0
    p0 = np.array([0.5, 0.3, 0.1, -0.2])
    s0 = p0**2 + 0.1
    c = integrate_coupled("cosine-simsiam", 0.1, 0.5, p0, s0, 5.0)
    assert int(c.status[0]) == Status.NONFINITE and abs(c.t_event[0] - 0.409) < 1e-3
    for method in ("rk4", "tsit5"):             # fixed steps of the coupled system: the same stop (rk4 at
        for dt in (0.01, 0.001):                # dt 0.01 reported success, at 0.001 a divergence at 0.944)
            f = integrate_coupled("cosine-simsiam", 0.1, 0.5, p0, s0, 1.0, method=method, dt=dt)
            assert int(f.status[0]) == Status.NONFINITE and abs(f.t_event[0] - c.t_event[0]) <= 1.5 * dt
    W0, Phi0 = Q @ np.diag(p0) @ Q.T, Q @ np.diag(np.sqrt(s0)) @ Q.T
    for dt in (0.01, 0.001):
        m = integrate_matrix("cosine-simsiam", {"W": W0, "Phi": Phi0}, {"rho": 0.1, "sigma2": 0.5}, 1.0, dt=dt, rhs=rhs)
        assert m.status == Status.NONFINITE and m.message.startswith("singular")
        assert abs(m.t_event - c.t_event[0]) <= 1.5 * dt
        assert all(np.all(np.isfinite(v)) for v in m.final.values())


def test_options_the_method_does_not_use_warn_as_solve_ivp_does():
    # the registry issue: rtol/atol/h0 with fixed steps were silently ignored
    import warnings

    from symbolic.errors import IgnoredOptionWarning

    with pytest.warns(IgnoredOptionWarning, match=r"^integrate: rtol, h0 have no effect with fixed steps \(method rk4"):
        a = integrate("cosine-simsiam", P, P0, 1.0, method="rk4", rtol=1e-3, h0=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                # defaults, and step control where it applies: silent
        b = integrate("cosine-simsiam", P, P0, 1.0, method="rk4")
        integrate("cosine-simsiam", P, P0, 1.0, method="tsit5", rtol=1e-3, h0=0.1)
        integrate_coupled("cosine-simsiam", 0.1, 0.5, P0, P0**2 + 0.1, 1.0, rtol=1e-6)
    np.testing.assert_array_equal(a.final, b.final)  # and ignored indeed
    with pytest.warns(IgnoredOptionWarning, match="^integrate_coupled: atol has no effect with fixed steps"):
        integrate_coupled("cosine-simsiam", 0.1, 0.5, P0, P0**2 + 0.1, 1.0, method="rk4", atol=1e-6)
    with pytest.warns(IgnoredOptionWarning, match="progress has no effect on device 'torch-cpu'"):
        pytest.importorskip("torch")
        integrate("cosine-simsiam", P, P0, 1.0, method="rk4", device="torch-cpu", progress=True)


def test_cli_prints_an_ignored_option_as_one_warning_line(tmp_path, capsys):
    from sims.cli import main

    assert main(["integrate", "--model", "cosine-simsiam", "--method", "rk4", "--rtol", "1e-6", "--p0", "0.5",
                 "--t-end", "400", "--out", str(tmp_path / "i.npz")]) == 0
    err = capsys.readouterr().err
    assert err == "ssldyn: warning: integrate: rtol has no effect with fixed steps (method rk4, dt 0.4); ignored\n"
