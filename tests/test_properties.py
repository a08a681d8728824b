"""Property-based checks (hypothesis, fixed seed) of the invariants the theory gives, over the
parameter space of every model: cosine-simsiam, cosine-simsiam-delta, l2-byol, two-layer.

- equilibria are roots of the right-hand side (residual within rounding of its terms);
- stability is the sign of the derivative there;
- the regime is the sign of rho - rho_c (Bao eq. 7, K_c from numpy.roots) or eta - eta_c
  (Tian eq. 16, eta_c = tau^2 / (4 (1 + sigma2))), and positive equilibria exist iff not Collapse;
- predicted fates agree with integrating the reduced ODE;
- the two-layer flow follows its closed form and blows up at t*;
- nothing is NaN with status 0, and a malformed batch is refused rather than misread.

Oracles are typed from shared/theory (tests/oracles.py), independent of the generated code, except
for the delta model, whose flow has no printed closed form: there the generated rhs is the
function whose roots the (separate) root finder must find. About 2,400 examples in all.
"""
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from dynamics.equilibria import equilibria_batch, find_equilibria, regimes_batch
from dynamics.integrate import integrate
from dynamics.params import CosineDeltaParams, CosineParams, L2Params, TwoLayerParams
from dynamics.regimes import FATE_CODES, integrated_fate, predict_fate_batch
from oracles import cosine_eq7, l2_reduced, l2_roots, two_layer_closed_form
from symbolic.codegen import load_kernels
from symbolic.errors import ParameterError

PROFILE = dict(derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def logu(lo, hi):
    """Log-uniform floats in [10^lo, 10^hi]."""
    return st.floats(lo, hi).map(lambda e: float(10.0**e))


def real(lo, hi):
    """Floats in [lo, hi], those below the parameters' magnitude limit 1e-30 (round 3, W7) as 0."""
    return st.floats(lo, hi).map(lambda x: x if abs(x) >= 1e-30 else 0.0)


cosine_params = st.builds(
    CosineParams, rho=st.one_of(st.just(0.0), logu(-4, 0)), sigma2=real(0, 10),
    n_phi=logu(-2, 2), n_psi=logu(-2, 2), trace=real(-5, 5))


def _cosine_terms(p, rho, sigma2, n_phi, n_psi, T):
    """The terms of Bao eq. 7 and of its derivative (notes sec. 4), for rounding scales."""
    D = (1 + sigma2) * n_phi * n_psi**3
    f = np.array([p * p * n_psi**2 / D, -T * p**3 / D, -2 * p**6 / D, -rho * p])
    d = np.array([2 * p * n_psi**2 / D, -3 * T * p * p / D, -12 * p**5 / D, -rho])
    return f, d


def _rho_c(sigma2, n_phi, n_psi, T):
    """K_c = -min_{p>0}(2p^5 + T p^2 - N_Psi^2 p): the minimiser is the positive root of 10p^4 + 2Tp - N_Psi^2."""
    r = np.roots([10.0, 0.0, 0.0, 2 * T, -n_psi**2])
    p = max(z.real for z in r if abs(z.imag) <= 1e-9 * abs(z) and z.real > 0)
    Kc = -(2 * p**5 + T * p * p - n_psi**2 * p)
    return Kc / ((1 + sigma2) * n_phi * n_psi**3)


def _check_roots_and_stability(eq, terms):
    assert np.all(np.isfinite(eq.p)) and math.isfinite(eq.critical_value)
    assert np.all(np.diff(eq.p) > 0)                               # distinct, ascending
    for p, m, stab in zip(eq.p, eq.multiplicity, eq.stability):
        f, d, *oracle = terms(p)
        # a root to rounding: residual within 1e-9 of the size of the terms (rounding is ~1e-16;
        # the margin covers the roots' own ~eps relative error times the slope)
        assert abs(f.sum()) <= 1e-9 * np.abs(f).sum() + 1e-300, (p, f)
        slope, scale = d.sum(), np.abs(d).sum()
        if oracle:
            if abs(slope) > 1e-6 * scale:
                assert np.sign(oracle[0]) == np.sign(slope), (p, slope, oracle)
            slope = oracle[0]
        if m == 1 and abs(d.sum()) > 1e-6 * scale:               # clearly simple: the sign decides
            assert stab == ("stable" if slope < 0 else "unstable"), (p, slope, stab)
        if m == 2:
            assert stab == "semi-stable"


@settings(max_examples=500, **PROFILE)
@given(cosine_params)
def test_cosine_equilibria_stability_regime(par):
    th = (par.rho, par.sigma2, par.n_phi, par.n_psi, par.trace)
    eq = find_equilibria(par)
    _check_roots_and_stability(eq, lambda p: _cosine_terms(p, *th))
    rc = _rho_c(*th[1:])
    assert abs(eq.critical_value - rc) <= 1e-9 * rc
    pos = int(np.sum(eq.p > 0))
    if par.rho == 0.0:
        assert eq.regime == "Stable" and 0.0 in eq.p
    elif par.rho > rc * (1 + 1e-9):
        # Collapse: p1 < 0 and 0 only (notes sec. 5)
        assert eq.regime == "Collapse" and pos == 0 and eq.p.size == 2
    elif par.rho < rc * (1 - 1e-9):
        # Acute: p1 < 0 = p2 < p3 < p4
        assert eq.regime == "Acute" and pos == 2 and eq.p.size == 4 and eq.p[0] < 0 and eq.p[1] == 0


cosine_delta_params = st.builds(
    lambda p, s, rho, sigma2: CosineDeltaParams.from_spectrum(np.array(p), np.array(s), rho, sigma2),
    st.lists(st.floats(0.05, 1).flatmap(lambda x: st.sampled_from([x, -x])), min_size=3, max_size=3),
    st.lists(logu(-1, 0.5), min_size=3, max_size=3),
    logu(-3, 0), real(0, 3))


@settings(max_examples=200, **PROFILE)
@given(cosine_delta_params)
def test_cosine_delta_equilibria_stability_regime(par):
    k = load_kernels("cosine-simsiam-delta", "reduced")
    th = par.as_array(k.PARAMS)

    c = k.eqpoly(th)
    n = c.size - 1

    def terms(p):
        # no closed form: the terms of the equilibrium polynomial (the rhs over a positive factor)
        # and of its derivative for the scales; the slope's sign from the generated jac_p_p (SymPy's
        # derivative of the rhs, a code path apart from the polynomial the root finder sees)
        f = c * p ** np.arange(n, -1, -1)
        d = c[:-1] * np.arange(n, 0, -1) * p ** np.arange(n - 1, -1, -1)
        return f, d, k.jac_p_p(p, *th)

    eq = find_equilibria(par)
    _check_roots_and_stability(eq, terms)
    pos = int(np.sum(eq.p > 0))
    # positive equilibria exist iff rho <= rho_c (two code paths: all roots vs max of G)
    if eq.regime == "Collapse":
        assert pos == 0
    elif eq.regime == "Acute":
        assert pos >= 1


l2_params = st.builds(L2Params, eta=st.one_of(st.just(0.0), logu(-4, 0.5)), sigma2=real(0, 10),
                      tau=logu(-1.5, 1), alpha_p=logu(-1, 1))


@settings(max_examples=400, **PROFILE)
@given(l2_params)
def test_l2_equilibria_stability_regime(par):
    a = 1 + par.sigma2

    def terms(p):
        f = np.array([par.tau * p * p, -a * p**3, -par.eta * p])
        d = np.array([2 * par.tau * p, -3 * a * p * p, -par.eta])
        assert abs(l2_reduced(p, par.eta, par.sigma2, par.tau) - f.sum()) <= 1e-12 * np.abs(f).sum() + 1e-300
        return f, d

    eq = find_equilibria(par)
    _check_roots_and_stability(eq, terms)
    eta_c = par.tau**2 / (4 * a)
    assert abs(eq.critical_value - eta_c) <= 1e-12 * eta_c
    if par.eta == 0.0:
        assert eq.regime == "Stable"
    elif par.eta > eta_c * (1 + 1e-9):
        assert eq.regime == "Collapse" and list(eq.p) == [0.0] and eq.stability == ("stable",)
    elif par.eta < eta_c * (1 - 1e-9):
        pm, pp = l2_roots(par.eta, par.sigma2, par.tau)
        assert eq.regime == "Acute" and eq.p.size == 3
        np.testing.assert_allclose(eq.p[1:], [pm, pp], rtol=1e-7 if eta_c - par.eta > 1e-6 * eta_c else 1e-3)
        assert eq.stability == ("stable", "unstable", "stable")


def _far_from_roots(p0, roots):
    roots = roots[np.isfinite(roots)]
    if roots.size == 0:
        return np.ones(p0.shape, bool)
    dist = np.min(np.abs(p0[:, None] - roots[None, :]), axis=1)
    return dist > 1e-3 * np.maximum(1.0, np.abs(p0))


def _fates_agree(model, theta_row, p0, crit, decay):
    assume(abs(decay / crit - 1) > 1e-2)                          # no crawl past a near-fold
    roots, n = equilibria_batch(model, theta_row[None, :])
    p0 = p0[_far_from_roots(p0, roots[0, :n[0]])]                 # basin edges are measure zero
    assume(p0.size > 0)
    theta = np.repeat(theta_row[None, :], p0.size, 0)
    pred = predict_fate_batch(model, theta, p0)
    integ = integrated_fate(model, theta, p0)
    np.testing.assert_array_equal(pred, integ, err_msg=f"{model} {theta_row} {p0}")


@pytest.mark.slow
@settings(max_examples=250, **PROFILE)
@given(rho=logu(-2, -0.5), sigma2=real(0, 2), n_phi=logu(-0.5, 0.5), n_psi=logu(-0.5, 0.5),
       T=real(-1, 1), p0=st.lists(st.floats(-2, 2), min_size=6, max_size=6))
def test_cosine_fates_agree_with_integration(rho, sigma2, n_phi, n_psi, T, p0):
    row = np.array([rho, sigma2, n_phi, n_psi, T])
    _fates_agree("cosine-simsiam", row, np.array(p0), _rho_c(sigma2, n_phi, n_psi, T), rho)


@pytest.mark.slow
@settings(max_examples=100, **PROFILE)
@given(p=st.lists(st.floats(0.05, 1).flatmap(lambda x: st.sampled_from([x, -x])), min_size=3, max_size=3),
       s=st.lists(logu(-1, 0.5), min_size=3, max_size=3), rho=logu(-2, -0.5), sigma2=real(0, 2),
       p0=st.lists(st.floats(-2, 2), min_size=6, max_size=6))
def test_cosine_delta_fates_agree_with_integration(p, s, rho, sigma2, p0):
    par = CosineDeltaParams.from_spectrum(np.array(p), np.array(s), rho, sigma2)
    k = load_kernels("cosine-simsiam-delta", "reduced")
    # the critical decay only filters out near-fold points here (where the flow crawls)
    _fates_agree("cosine-simsiam-delta", par.as_array(k.PARAMS), np.array(p0), find_equilibria(par).critical_value, rho)


def test_fast_contraction_is_not_a_divergence():
    # found by the property test above: rhs ~ -6e12 at p0 = 2 makes the first step ~3e-15, which
    # integrate took for a step-size underflow, i.e. a blow-up (DIVERGED at t = 0); the fate is
    # "converge" to p4. The floor is now relative to the flow's time scale |y| / |rhs| as well
    par = CosineDeltaParams.from_spectrum(np.full(3, 0.0625), np.ones(3), 0.1, 0.0)
    k = load_kernels("cosine-simsiam-delta", "reduced")
    th = par.as_array(k.PARAMS)[None, :]
    assert predict_fate_batch("cosine-simsiam-delta", th, [2.0])[0] == FATE_CODES["converge"]
    assert integrated_fate("cosine-simsiam-delta", th, [2.0])[0] == FATE_CODES["converge"]


@settings(max_examples=200, **PROFILE)
@given(eta=logu(-2, -0.5), sigma2=real(0, 2), tau=logu(-0.3, 0.3), p0=st.lists(st.floats(-2, 2), min_size=6, max_size=6))
def test_l2_fates_agree_with_integration(eta, sigma2, tau, p0):
    row = np.array([eta, sigma2, tau, 1.0])
    _fates_agree("l2-byol", row, np.array(p0), tau**2 / (4 * (1 + sigma2)), eta)


@pytest.mark.slow
@settings(max_examples=250, **PROFILE)
@given(lam=st.one_of(logu(-1, 0.5), logu(-1, 0.5).map(lambda x: -x)), a0=logu(-0.5, 0.3),
       ratio=st.floats(0.1, 0.9))
def test_two_layer_closed_form_and_blow_up(lam, a0, ratio):
    # Jing et al. Theorem 3 (notes): sigma_1^2 - sigma_2^2 = C conserved; the closed form below t*,
    # divergence (never NaN with status 0) at t* = ln(a0/b0) / (lam C) for lam > 0
    b0 = ratio * a0
    C = a0**2 - b0**2
    t_star = math.log(a0 / b0) / (lam * C) if lam > 0 else math.inf
    t_end = 0.5 * t_star if lam > 0 else 2.0 / (abs(lam) * C)
    t = np.linspace(0, t_end, 5)
    r = integrate("two-layer", TwoLayerParams(lam=lam), np.array([[a0, b0]]), t_end, t_eval=t, rtol=1e-10, atol=1e-13)
    assert r.status[0] == 0 and np.all(np.isfinite(r.ys))
    s1, s2 = two_layer_closed_form(t, a0, b0, lam)
    # rtol 1e-6: the integrator's 1e-10 local tolerance times the growth over half of t*
    np.testing.assert_allclose(r.ys[:, 0, 0], s1, rtol=1e-6)
    np.testing.assert_allclose(r.ys[:, 0, 1], s2, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(r.ys[:, 0, 0] ** 2 - r.ys[:, 0, 1] ** 2, C, rtol=1e-7)
    if lam > 0:
        d = integrate("two-layer", TwoLayerParams(lam=lam), np.array([[a0, b0]]), 2 * t_star, rtol=1e-10, atol=1e-13)
        assert d.status[0] == 1 and abs(d.t_event[0] - t_star) <= 1e-5 * t_star


@settings(max_examples=200, **PROFILE)
@given(rows=hnp.arrays(np.float64, st.tuples(st.integers(1, 6), st.just(5)),
                       elements=st.floats(-3, 3, allow_nan=False)),
       p0=st.floats(-2, 2))
def test_integration_never_nan_with_status_zero(rows, p0):
    rows = np.abs(rows) + np.array([0.0, 0.0, 0.1, 0.1, 0.0])        # inside the ranges
    rows[:, 4] -= 1.5
    r = integrate("cosine-simsiam", rows, np.full(rows.shape[0], p0 * 3), 50.0)
    ok = r.status == 0
    assert np.all(np.isfinite(r.final[ok]))
    assert np.all(np.isfinite(r.t_event[r.status == 1]))


DTYPES = [np.float64, np.float32, np.int64, np.int8, np.uint16, np.complex128, np.bool_, "datetime64[s]", object]


@settings(max_examples=300, **PROFILE)
@given(data=st.data(), dtype=st.sampled_from(DTYPES),
       shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6),
       order=st.sampled_from(["C", "F"]))
def test_batch_api_refuses_or_answers_exactly(data, dtype, shape, order):
    # a random array, maybe malformed: either a ParameterError, or exactly the per-row answers of
    # the scalar API (on main a wrong width was read past its end)
    vals = data.draw(hnp.arrays(np.float64, shape, elements=st.one_of(
        st.floats(0.05, 3), st.floats(-1, 0), st.sampled_from([np.nan, np.inf, 0.0]))))
    try:
        with np.errstate(invalid="ignore"):                     # nan -> int casts are the point here
            theta = np.asarray(vals.astype(dtype), order=order)
    except (ValueError, TypeError, OverflowError):
        return
    valid = (np.dtype(dtype).kind in "fiu" and ((theta.ndim == 2 and theta.shape[1] == 5) or theta.shape == (5,)))
    rows = np.asarray(theta, dtype=np.float64).reshape(-1, 5) if valid else None
    if valid:
        valid = bool(np.all(np.isfinite(rows)) and np.all(rows[:, :2] >= 0) and np.all(rows[:, 2:4] > 0))
    p0 = np.full(rows.shape[0] if valid else 1, 0.5)
    if not valid:
        for call in (lambda: equilibria_batch("cosine-simsiam", theta), lambda: regimes_batch("cosine-simsiam", theta),
                     lambda: predict_fate_batch("cosine-simsiam", theta, p0)):
            with pytest.raises(ParameterError):
                call()
        return
    roots, n = equilibria_batch("cosine-simsiam", theta)
    codes, crits = regimes_batch("cosine-simsiam", theta)
    fates = predict_fate_batch("cosine-simsiam", theta, p0)
    for i, row in enumerate(rows):
        par = CosineParams(*row)
        eq = find_equilibria(par)
        np.testing.assert_array_equal(roots[i, :n[i]], eq.p)
        assert ["Collapse", "Acute", "Stable", "Boundary"][codes[i]] == eq.regime
        assert abs(crits[i] - eq.critical_value) <= 1e-14 * eq.critical_value   # batch and scalar sum in other orders
        # the fate by hand from the notes' basins: 0.5 moves with the sign of the rhs to the next root
        f = cosine_eq7(0.5, *row)
        nxt = eq.p[eq.p > 0.5] if f > 0 else eq.p[eq.p < 0.5][::-1]
        want = "diverge" if nxt.size == 0 else ("collapse" if nxt[0] == 0 else "converge")
        if f != 0 and np.all(np.abs(eq.p - 0.5) > 1e-12):
            assert fates[i] == FATE_CODES[want]
