"""Round 3 of the reliability review (issue #23): silent wrong results and numerics.

Property tests against independent answers, over 2,020 generated cases in all:

- polynomial roots (:func:`dynamics.roots.real_roots_of`, W1, W3, W11): exact arithmetic on the very
  float64 coefficients given (SymPy's Sturm count of the distinct real roots, exact signs at
  rationals), 600 cases of degree 1..9 with roots over 80 decades, complex pairs, double roots and
  coefficient scales 1e-150..1e150;
- the cosine model's equilibria, critical decay and regime (W7, W11): 400 points, parameters 0 or
  log-uniform within the dataclass's magnitudes [1e-30, 1e30] and the 4^5 corners of the CLI
  range, against the exact Sturm count of Bao eq. 7's quintic, exact sign changes and
  :math:`\\rho_c` by bisection in mpmath at 50 digits;
- the L2 model (Tian eq. 16): 300 points against its closed forms in mpmath at 50 digits;
- an unbounded critical decay (W2): 400 rows of :math:`\\dot p=ap^3+bp^2+cp-\\rho p` against
  :math:`\\sup_{p>0}(ap^2+bp+c)` in closed form;
- the time map (W4): 300 recipes against the defining sum in mpmath at 50 digits;
- fixed-step instability (W5): 20 stiff cosine trajectories against scipy's Radau.

Tolerances: a root or critical decay agrees to 1e-5 relative (the refusal threshold
:data:`~dynamics.roots.RESOLVED_RTOL` = 1e-6 on the rounding radius, times 10 for the rounding
of the coefficients themselves in the generated kernels); a root float64 cannot resolve must be
refused (``ParameterError``), never answered. The time map agrees to 1e-13 relative (a closed
form of a few operations).
"""
import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy as sp
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dynamics.equilibria import find_equilibria
from dynamics.integrate import integrate
from dynamics.params import CosineParams, L2Params
from dynamics.roots import RESOLVED_RTOL, real_roots_of, unresolved
from dynamics.time_map import constant_lr_time
from symbolic.errors import ParameterError
from symbolic.results import MESSAGES, Status

PROFILE = dict(derandomize=True, deadline=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
#: agreement asked of an answered root or critical decay (module docstring)
TOL = 10 * RESOLVED_RTOL
X = sp.Symbol("x")


def _horner(coeffs, x):
    v = Fraction(0)
    for c in coeffs:
        v = v * x + c
    return v


def check_roots_exact(coeffs, roots, mult, tol=TOL):
    """Assert that ``roots`` (mult 1 simple, 2 tangency, 0 exact zeros split off) are the real roots
    of the polynomial with exactly the coefficients ``coeffs`` (floats, highest first): every simple
    root has an exact sign change within ``tol`` of itself, the intervals are disjoint, and the
    exact Sturm count of distinct real roots is matched (a tangency's interval holding 0 to 2)."""
    exact = [Fraction(float(c)) for c in coeffs]
    while exact and exact[0] == 0:
        exact.pop(0)
    P = sp.Poly([sp.Rational(c.numerator, c.denominator) for c in exact], X)
    total = P.count_roots()
    found, last_hi = 0, None
    for r, m in zip(roots, mult):
        r = Fraction(float(r))
        if r == 0:
            assert _horner(exact, Fraction(0)) == 0, "a zero root of a polynomial with a non-zero constant term"
            found += 1
            continue
        w = abs(r) * Fraction(tol)
        lo, hi = r - w, r + w
        assert last_hi is None or lo > last_hi, f"roots within {tol} of each other: {roots}"
        last_hi = hi
        if m == 1:
            flo, fhi = _horner(exact, lo), _horner(exact, hi)
            assert flo == 0 or fhi == 0 or (flo > 0) != (fhi > 0), f"no sign change around the root {float(r)!r}"
            found += 1
        else:
            found += P.count_roots(sp.Rational(lo.numerator, lo.denominator), sp.Rational(hi.numerator, hi.denominator))
    assert found == total, f"{found} real roots certified, the exact count is {total}: {roots}"


def _poly_from(roots_real, pairs, scale):
    c = np.array([1.0])
    for r in roots_real:
        c = np.polymul(c, [1.0, -r])
    for re, im in pairs:
        c = np.polymul(c, [1.0, -2 * re, re * re + im * im])
    return c * scale


magnitude = st.floats(-40, 40).map(lambda e: 10.0**e)
signed = st.tuples(magnitude, st.sampled_from([-1.0, 1.0])).map(lambda t: t[0] * t[1])


@st.composite
def polynomials(draw):
    """Real roots over 80 decades (relative gaps >= 1e-3), complex pairs (|Im| >= 1e-3 |z|),
    sometimes a double root or exact zero roots, all scaled by 10^[-150, 150]."""
    n_real = draw(st.integers(0, 7))
    real = sorted(draw(st.lists(signed, min_size=n_real, max_size=n_real)))
    real = [r for i, r in enumerate(real) if i == 0 or abs(r - real[i - 1]) > 1e-3 * max(abs(r), abs(real[i - 1]))]
    pairs = []
    for _ in range(draw(st.integers(0, (9 - len(real)) // 2))):
        mod, ang = draw(magnitude), draw(st.floats(1e-3, math.pi - 1e-3))
        pairs.append((mod * math.cos(ang), mod * math.sin(ang)))
    if real and len(real) + 2 * len(pairs) < 9 and draw(st.booleans()):
        real.append(real[0])                            # a double root
    if not real and not pairs:
        real = [draw(signed)]
    c = _poly_from(real, pairs, 10.0 ** draw(st.floats(-150, 150)))
    return np.concatenate([c, np.zeros(draw(st.integers(0, 2)))])


@pytest.mark.slow
@settings(max_examples=600, **PROFILE)
@given(polynomials())
def test_real_roots_against_exact_sturm_count(c):
    """Every real root of the float64 polynomial, or a refusal (:func:`unresolved`): never a wrong
    root, a lost one or a complex pair printed as a semi-stable one (W1, W3, W11)."""
    r, m = real_roots_of(c)
    if unresolved(np.ascontiguousarray(c, np.float64), r, m, r.size) >= 0:
        return                                           # reported as ill-conditioned: allowed
    check_roots_exact(c, r, m)


def test_w1_huge_coefficients_keep_every_root():
    # the W1 polynomial (-a prod(p - r)) at a = 1e150, and with the coefficients of 1e171 that
    # Rational(float) constants give at a = 1: main lost 4 of the 11 roots (a discriminant overflowed)
    R = (-2.594353, -1.984801, -1.945128, -1.593603, 0.039411, 0.29002, 0.325991, 0.805853, 1.277149,
         1.878691, 4.405647)
    for scale in (1e150, -4e171, 1e-150):
        c = np.poly(R) * scale
        r, m = real_roots_of(c)
        assert r.size == 11 and unresolved(c, r, m, r.size) < 0
        np.testing.assert_allclose(r, R, rtol=1e-9)      # the roots are well separated: kappa ~ 1e3
        check_roots_exact(c, r, m)


def test_w3_wilkinson_and_deg50_refused():
    # Wilkinson's roots 1..20 (float64 coefficients: roots 11..18 become complex pairs) and
    # p prod_{k<50} (p - k/10): main printed "semi-stable" 11.52, 1.575, ... and missed roots
    for c in (np.poly(np.arange(1.0, 21.0)), np.poly(np.arange(50) / 10.0)):
        r, m = real_roots_of(c)
        assert unresolved(c, r, m, r.size) >= 0


def test_w11_tiny_roots_to_full_relative_accuracy():
    # --rho 1 --sigma2 0 --n-phi 1 --n-psi 1e-30 --trace -1e30: two tiny roots next to 7.9e9, which
    # main printed as -1.19e-66 and 1.65e-51 (no correct digit)
    par = CosineParams(rho=1.0, sigma2=0.0, n_phi=1.0, n_psi=1e-30, trace=-1e30)
    eq = check_cosine(par)
    small = eq.p[(eq.p != 0) & (np.abs(eq.p) < 1)]
    # Q(p) = 2p^5 - 1e30 p^2 - 1e-60 p + 1e-90: p = -+1e-60 up to relative 1e-30
    np.testing.assert_allclose(np.abs(small), 1e-60, rtol=1e-12)


# --- the cosine model against exact arithmetic --------------------------------------------------
def cosine_value(draw_corner):
    corners = st.sampled_from([0.0, 1e-30, 1.0, 1e30])
    return corners if draw_corner else st.one_of(st.just(0.0), st.floats(-30, 30).map(lambda e: 10.0**e))


@st.composite
def cosine_points(draw):
    corner = draw(st.booleans())
    v = lambda: draw(cosine_value(corner))         # noqa: E731
    rho, sigma2 = v(), v()
    n_phi, n_psi = (draw(cosine_value(corner).filter(lambda x: x > 0)) for _ in range(2))
    trace = v() * draw(st.sampled_from([-1.0, 1.0]))
    return CosineParams(rho=rho, sigma2=sigma2, n_phi=n_phi, n_psi=n_psi, trace=trace)


def _fr(x):
    return Fraction(float(x))


def exact_rho_c(par):
    r"""Bao eq. 7 with :math:`K_c=-\min_{p>0}(2p^5+Tp^2-N_\Psi^2p)`: the minimiser is the one
    positive root of the convex :math:`10p^4+2Tp-N_\Psi^2`, bisected (geometrically, then
    arithmetically) in mpmath at 50 digits."""
    with mpmath.workdps(50):
        T, N = mpmath.mpf(par.trace), mpmath.mpf(par.n_psi)
        h = lambda p: 10 * p**4 + 2 * T * p - N * N          # noqa: E731
        lo, hi = mpmath.mpf(0), mpmath.mpf(1)
        while h(hi) < 0:
            hi *= 16
        lo = hi / 2**200
        while h(lo) > 0:
            lo /= 2**200
        for _ in range(400):
            mid = mpmath.sqrt(lo * hi) if hi / lo > 4 else (lo + hi) / 2
            lo, hi = (mid, hi) if h(mid) < 0 else (lo, mid)
        p = (lo + hi) / 2
        Kc = -(2 * p**5 + T * p * p - N * N * p)
        return Kc / ((1 + mpmath.mpf(par.sigma2)) * mpmath.mpf(par.n_phi) * N**3)


@pytest.mark.slow
@settings(max_examples=400, **PROFILE)
@given(cosine_points())
def test_cosine_against_exact_quintic(par):
    """Equilibria of Bao eq. 7 (0 and the real roots of :math:`Q=2p^5+Tp^2-N_\\Psi^2p+K`, K in exact
    rationals from the float parameters), the critical decay and the regime (W7, W11)."""
    try:
        find_equilibria(par)
    except ParameterError as e:                         # refused (ill-conditioned or overflow): allowed
        assert "ill-conditioned" in str(e) or "overflow" in str(e)
        return
    check_cosine(par)


def check_cosine(par):
    eq = find_equilibria(par)
    K = _fr(par.rho) * (1 + _fr(par.sigma2)) * _fr(par.n_phi) * _fr(par.n_psi) ** 3
    Q = [Fraction(2), Fraction(0), Fraction(0), _fr(par.trace), -_fr(par.n_psi) ** 2, K]
    nz = eq.p != 0
    # p = 0 is always an equilibrium; Q's roots are the others (p = 0 is one of Q only when K = 0)
    assert 0.0 in eq.p
    check_roots_exact(Q if K else Q[:-1], eq.p[nz], eq.multiplicity[nz])
    rc = exact_rho_c(par)
    assert abs(eq.critical_value - rc) <= TOL * abs(rc), (eq.critical_value, rc)
    if par.rho == 0:
        assert eq.regime == "Stable"
    elif abs(par.rho - rc) > 1e-9 * rc:                   # away from the fold (Boundary within 1e-12)
        assert eq.regime == ("Collapse" if par.rho > rc else "Acute")
    return eq


# --- an unbounded critical decay ------------------------------------------------------------------
@pytest.fixture(scope="module")
def cubic():
    from symbolic import register_model

    p, a, b, c, rho = sp.symbols("p a b c rho")
    register_model("round3-cubic", [p], [a * p**3 + b * p**2 + c * p - rho * p],
                   {"a": 1.0, "b": 1.0, "c": 0.0, "rho": 0.1}, "rho")
    return "round3-cubic"


def _sup_g(a, b, c):
    r""":math:`\sup_{p>0}(ap^2+bp+c)`: inf if the leading term grows, else the vertex or :math:`p\to0^+`."""
    if a > 0 or (a == 0 and b > 0):
        return math.inf
    if a < 0 and b > 0:
        return c - b * b / (4 * a)
    return c


@pytest.mark.slow
def test_w2_unbounded_critical_decay(cubic):
    # p' = a p^3 + p^2 - rho p at a = 1, 0, 1e-9: main printed "Collapse; rho_c = -0" next to the
    # positive equilibrium 0.0916; G = a p^2 + p is unbounded, so rho_c = inf and the regime Acute
    from dynamics.overflow import params_from_row
    from symbolic.model import as_model

    for a in (1.0, 0.0, 1e-9):
        eq = find_equilibria(params_from_row(as_model(cubic), ("a", "b", "c", "rho"), (a, 1.0, 0.0, 0.1)))
        assert eq.critical_value == math.inf and eq.regime == "Acute" and eq.to_json()["critical"]["value"] == "inf"
        assert np.any(eq.p > 0)


coef = st.one_of(st.just(0.0), st.tuples(st.floats(-6, 1), st.sampled_from([-1.0, 1.0])).map(lambda t: t[1] * 10**t[0]))


@pytest.mark.slow
@settings(max_examples=400, **PROFILE)
@given(a=coef, b=coef, c=coef, rho=st.one_of(st.just(0.0), st.floats(0, 10)))
def test_critical_decay_of_cubics_against_closed_form(cubic, a, b, c, rho):
    from dynamics.critical_decay import REGIMES, regimes_batch

    codes, crits = regimes_batch(cubic, np.array([[a, b, c, rho]]))
    ref = _sup_g(a, b, c)
    # the size of the terms of c - b^2 / (4a): the rounding of the answer is relative to it
    scale = abs(c) + (b * b / (4 * abs(a)) if a < 0 < b else 0.0)
    if ref == math.inf:
        assert crits[0] == math.inf
    else:
        assert abs(crits[0] - ref) <= TOL * scale, (crits[0], ref)
    regime = REGIMES[codes[0]]
    if abs(ref) <= 1e-9 * scale:
        return                                           # at the fold of p = 0 itself: rounding decides
    if ref <= 0:
        assert regime == "Collapse"
    elif rho == 0:
        assert regime == "Stable"
    elif abs(rho - ref) > 1e-9 * ref:
        assert regime == ("Collapse" if rho > ref else "Acute")


# --- the L2 model against its closed forms ------------------------------------------------------
@pytest.mark.slow
@settings(max_examples=300, **PROFILE)
@given(eta=cosine_value(False), sigma2=cosine_value(False), tau=cosine_value(False))
def test_l2_against_closed_forms(eta, sigma2, tau):
    r"""Tian eq. 16: :math:`p=0` and :math:`p_\pm=(\tau\pm\sqrt{\tau^2-4\eta a})/(2a)`, :math:`a=1+\sigma^2`,
    :math:`\eta_c=\tau^2/(4a)`, in mpmath at 50 digits (the stable form for the small root)."""
    par = L2Params(eta=eta, sigma2=sigma2, tau=tau)
    try:
        eq = find_equilibria(par)
    except ParameterError as e:
        assert "ill-conditioned" in str(e) or "overflow" in str(e)
        return
    with mpmath.workdps(50):
        a, e, t = 1 + mpmath.mpf(sigma2), mpmath.mpf(eta), mpmath.mpf(tau)
        disc = t * t - 4 * e * a
        roots = []
        if eta == 0:
            roots = [t / a] if tau else []
        elif disc >= 0:
            big = (t + mpmath.sqrt(disc)) / (2 * a)
            roots = sorted({big, e / (a * big)})
        eta_c = t * t / (4 * a)
        nz = [float(x) for x in eq.p if x != 0]
        if disc == 0 or abs(disc) <= 1e-9 * t * t:        # at the fold: a tangency within rounding
            return
        assert len(nz) == len(roots), (eq.p, roots)
        for x, y in zip(nz, roots):
            assert abs(x - y) <= TOL * abs(y), (x, y)
        assert abs(eq.critical_value - eta_c) <= TOL * eta_c
    assert str(eq.critical_value + 0.0) != "-0.0"


def test_m3_no_negative_zero():
    eq = find_equilibria(L2Params(tau=0.0))
    assert math.copysign(1.0, eq.critical_value) == 1.0 and eq.regime == "Collapse"


# --- time map ------------------------------------------------------------------------------------
@settings(max_examples=300, **PROFILE)
@given(k=st.integers(1, 10**8), lr=st.floats(1e-6, 10.0),
       one_minus=st.one_of(st.just(1.0), st.floats(-15, -0.01).map(lambda e: 10.0**e), st.floats(0.01, 1.0)))
def test_time_map_against_the_sum(k, lr, one_minus):
    r""":math:`t_K=\eta\sum_{j=1}^K(1-\mu^j)/(1-\mu)` in mpmath at 50 digits (W4: main lost every
    digit at :math:`\mu=1-10^{-12}`, K = 100)."""
    m = 1.0 - one_minus
    if not 0.0 <= m < 1.0:
        return
    with mpmath.workdps(50):
        M = mpmath.mpf(m)
        u = 1 - M
        ref = mpmath.mpf(lr) * (k - M * (1 - M**k) / u) / u if m else mpmath.mpf(lr) * k
        assert abs(constant_lr_time(k, lr, m) - ref) <= 1e-13 * ref


# --- fixed-step instability -----------------------------------------------------------------------
@pytest.mark.slow
def test_w5_unstable_fixed_step_has_its_own_status():
    par = CosineParams(rho=0.1207, sigma2=0.84, n_phi=0.1808, n_psi=0.1688, trace=0.6134)
    res = integrate("cosine-simsiam", par, [1.0604], 7.63, method="rk4")
    assert res.status.tolist() == [Status.UNSTABLE] and "unstable" in MESSAGES[Status.UNSTABLE]
    ok = integrate("cosine-simsiam", par, [1.0604], 7.63, method="rk4", dt=7.63 / 100000)
    assert ok.status.tolist() == [0] and abs(ok.final[0] - 0.0382) < 1e-3
    # a stiff flow with a small step is "unstable" too: -2 p^6 / D at p = 50 needs dt < 1e-7
    stiff = integrate("cosine-simsiam", CosineParams(trace=-5.0), [50.0], 10.0, method="rk4", dt=1e-4)
    assert stiff.status.tolist() == [Status.UNSTABLE]
    # a real blow-up stays "diverged": the two-layer flow at lam = 1 from (1, 0.5) blows up at
    # t* = ln 2 / 0.75 (Jing et al. Theorem 3)
    from dynamics.params import TwoLayerParams

    d = integrate("two-layer", TwoLayerParams(lam=1.0), np.array([[1.0, 0.5]]), 2.0, method="rk4", dt=1e-3)
    assert d.status.tolist() == [Status.DIVERGED] and abs(d.t_event[0] - math.log(2) / 0.75) < 1e-2


@pytest.mark.slow
@settings(max_examples=20, **PROFILE)
@given(rho=st.floats(0.01, 0.5), sigma2=st.floats(0.0, 2.0).map(lambda x: x if x >= 1e-30 else 0.0),
       n_phi=st.floats(0.1, 0.5), n_psi=st.floats(0.1, 0.5),
       trace=st.floats(-1.0, 1.0).map(lambda x: x if abs(x) >= 1e-30 else 0.0), p0=st.floats(-2.0, 2.0),
       t_end=st.floats(1.0, 5.0))
def test_fixed_step_status_against_radau(rho, sigma2, n_phi, n_psi, trace, p0, t_end):
    """A fixed-step run that blows up is DIVERGED only where scipy's Radau (stiff, implicit) finds
    the flow itself leaving the bound before t_end; else UNSTABLE (W5)."""
    from scipy.integrate import solve_ivp

    from oracles import cosine_eq7

    par = CosineParams(rho=rho, sigma2=sigma2, n_phi=n_phi, n_psi=n_psi, trace=trace)
    res = integrate("cosine-simsiam", par, [p0], t_end, method="rk4")
    st_ = int(res.status[0])
    if st_ not in (Status.DIVERGED, Status.UNSTABLE):
        return

    def blow(t, y):
        return abs(y[0]) - 1e8
    blow.terminal = True
    ref = solve_ivp(lambda t, y: [cosine_eq7(y[0], rho, sigma2, n_phi, n_psi, trace)], (0.0, t_end), [p0],
                    method="Radau", rtol=1e-8, atol=1e-12, events=blow)
    # Radau leaving the bound, or failing because its step size underflows (a finite-time singularity:
    # for p < 0 the -2 p^6 term of Bao eq. 7 blows up), is a divergence of the flow itself
    diverges = ref.status != 0 or not np.all(np.isfinite(ref.y))
    assert st_ == (Status.DIVERGED if diverges else Status.UNSTABLE), (st_, ref.status, ref.y[:, -1])


@pytest.mark.slow
def test_m4_initial_state_beyond_the_bound_diverged_at_t0():
    res = integrate("cosine-simsiam", CosineParams(), [1e308, -1e308, 0.5], 5.0, t_eval=[0.0, 5.0])
    assert res.status.tolist() == [Status.DIVERGED, Status.DIVERGED, Status.SUCCESS]
    assert res.t_event[:2].tolist() == [0.0, 0.0] and res.final[:2].tolist() == [1e308, -1e308]
    assert res.ys[0, :2].tolist() == [1e308, -1e308] and np.isnan(res.ys[1, :2]).all()


# --- types and discrete values of the parameters (W6, W9) ---------------------------------------
@pytest.mark.parametrize("kw, words", [({"rho": "0.1"}, "rho must be a real number"), ({"rho": True}, "got bool True"),
                                       ({"trace": 1j}, "trace must be a real number"), ({"n_psi": None}, "n_psi"),
                                       ({"n_psi": 1e-150}, "magnitude in [1e-30, 1e+30]"),
                                       ({"sigma2": 4.6e131}, "sigma2 must be 0 or of magnitude")])
def test_w7_w9_parameter_types_and_magnitudes(kw, words):
    with pytest.raises(ParameterError, match=words.replace("[", r"\[").replace("+", r"\+")):
        CosineParams(**kw)
    assert CosineParams(n_phi=np.int64(2), rho=np.float32(0.5)).to_dict()["n_phi"] == 2.0


def test_w9_spectrum_and_integrate_options():
    from dynamics.params import CosineDeltaParams

    with pytest.raises(ParameterError, match=r"s \(eigenvalues of Phi Phi\^T\) must be in \[0, inf\); got -1.0"):
        CosineDeltaParams.from_spectrum([1, 2], [-1, 2], rho=0.01, sigma2=0.5)
    with pytest.raises(ParameterError, match="same length"):
        CosineDeltaParams.from_spectrum([1, 2], [1, 2, 3], rho=0.01, sigma2=0.5)
    for kw, words in (({"fixed_step": "no"}, "fixed_step must be True or False"), ({"progress": 1}, "progress"),
                      ({"h0": -1.0}, "h0"), ({"h0": math.nan}, "h0"), ({"h0": 1e300}, r"h0 .*\[0, 5\]"),
                      ({"h0": True}, "h0 must be a number")):
        with pytest.raises(ParameterError, match=words):
            integrate("cosine-simsiam", CosineParams(), [0.5], 5.0, **kw)
    a = integrate("cosine-simsiam", CosineParams(), [0.5], 5.0, h0=1e-3)
    b = integrate("cosine-simsiam", CosineParams(), [0.5], 5.0, fixed_step=np.bool_(False))
    assert a.success.all() and b.success.all() and abs(a.final[0] - b.final[0]) < 1e-7


@pytest.mark.slow
@pytest.mark.parametrize("call", ["regimes_batch", "integrate", "equilibria_batch", "grid"])
def test_w6_discrete_iso_on_every_row_and_axis(call):
    from dynamics.critical_decay import regimes_batch, regimes_grid
    from dynamics.equilibria import equilibria_batch

    row = [[1.0, 0.5, 0.1, 0.5]]                          # alpha, sigma2, eta, iso = 0.5
    calls = {"regimes_batch": lambda: regimes_batch("directset", row),
             "integrate": lambda: integrate("directset", row, [0.5], 1.0),
             "equilibria_batch": lambda: equilibria_batch("directset", row),
             "grid": lambda: regimes_grid("directset", [1.0, 0.5, 0.1, 0.0], 3, [0.0, 0.5, 1.0], 2, [0.0, 0.3])}
    with pytest.raises(ParameterError, match=r"iso \(.*\) must be 0 \(Euclidean loss\) or 1 \(IsoLoss\); got 0.5"):
        calls[call]()
    # the two allowed values, on a grid axis, agree with the closed forms eta_c = 1/(4(1+s2)) and 1
    codes, crits = regimes_grid("directset", [1.0, 0.5, 0.1, 0.0], 3, [0.0, 1.0], 2, [0.1])
    np.testing.assert_allclose(crits[0], [1 / 6, 1.0], rtol=1e-12)


def test_w6_cli_axis_and_continuation_refused(tmp_path, capsys):
    from sims.cli import main

    cfg = tmp_path / "ds.toml"
    cfg.write_text('model = "directset"\ntask = "regime"\n[grid]\niso = [0.0, 0.5, 1.0]\neta = [0.0, 0.1]\n')
    for argv in (["regime-map", "--model", "directset", "--x", "iso:0:1:3", "--y", "eta:0:0.3:4", "--out", str(tmp_path / "o.npz")],
                 ["bifurcation", "--model", "directset", "--param", "iso:0:1", "--out", str(tmp_path / "b.npz")],
                 ["sweep", str(cfg), "--out", str(tmp_path / "sw")]):
        capsys.readouterr()
        with pytest.raises(SystemExit) as e:
            raise SystemExit(main(argv))
        err = capsys.readouterr().err
        assert e.value.code == 2 and err.startswith("ssldyn: error:") and "iso" in err and "Traceback" not in err
        assert not (tmp_path / "o.npz").exists() and not (tmp_path / "b.npz").exists()


# --- messages (M1, M2, M3) and the gradient check (W8) ------------------------------------------
def test_m1_m2_integer_and_finite_messages():
    from symbolic.errors import check_int, check_range

    assert check_int("seed", 2**63 - 1, lo=0, hi=2**63 - 1) == 2**63 - 1
    with pytest.raises(ParameterError, match=r"seed must be an integer in \[0, 9223372036854775807\]; got 9223372036854775808"):
        check_int("seed", 2**63, lo=0, hi=2**63 - 1)
    with pytest.raises(ParameterError, match="seed must be an integer; got 2.5"):
        check_int("seed", 2.5)
    with pytest.raises(ParameterError, match="--param LO must be a finite number; got nan"):
        check_range("--param LO", math.nan)
    with pytest.raises(ParameterError, match=r"rho must be in \[0, inf\); got nan"):
        check_range("rho", math.nan, 0.0)


def test_m3_cli_prints_zero_not_minus_zero(capsys):
    from sims.cli import main

    assert main(["equilibria", "--model", "l2-byol", "--tau", "0"]) == 0
    out = capsys.readouterr().out
    assert "eta_c = 0" in out and "-0" not in out


@pytest.mark.parametrize("d", ["1", "3"])
def test_w8_check_gradient_refuses_rank_deficient_inputs(d, capsys):
    from sims.cli import main

    with pytest.raises(SystemExit) as e:
        raise SystemExit(main(["check-gradient", "--json", "--no-progress", "--h", "8", "--d", d, "--samples", "1000"]))
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.startswith("ssldyn: error: --d") and "got" in err


# --- T4, T5 ---------------------------------------------------------------------------------------
def test_t4_legacy_eq5_failing_before_the_first_output():
    # rho = 1e30: LSODA fails before t[0] = 0.5 and leaves sol.t a list (main: AttributeError)
    from dynamics.trajectory_errors import legacy_eq5

    rng = np.random.default_rng(0)
    out = legacy_eq5(0.1 * rng.normal(size=16), np.abs(rng.normal(size=16)), np.linspace(0.5, 1.0, 5), 1e30, 0.5)
    assert out["status"] == 3 and out["p"] == [None] * 5 and out["t_end"] == 0.0


@pytest.mark.parametrize("tamper", ["momentum_shape", "train_images", "epoch", "param_count"])
def test_t5_tampered_checkpoint_refused_on_load(tmp_path, tamper):
    torch = pytest.importorskip("torch")
    from sims.train.checkpoints import load_checkpoint_file

    model = torch.nn.Linear(16, 16, bias=False)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    model(torch.ones(2, 16)).sum().backward()
    opt.step()
    state = {"epoch": 1, "model": model.state_dict(), "opt": opt.state_dict(), "gen": torch.Generator().get_state(),
             "config": {}, "train_time": 1.0, "train_images": 32}
    path = tmp_path / "checkpoint.pt"
    torch.save(state, path)
    assert load_checkpoint_file(path)["train_images"] == 32
    if tamper == "momentum_shape":
        state["opt"]["state"][0]["momentum_buffer"] = torch.zeros(7)
    elif tamper == "param_count":
        state["opt"]["param_groups"][0]["params"] = [0, 1]
    else:
        state[tamper] = "x"
    torch.save(state, path)
    with pytest.raises(ParameterError, match="resume needs a checkpoint written by ssldyn"):
        load_checkpoint_file(path)


def test_w6_discrete_iso_is_no_fold_curve_axis():
    """W6 variant: a fold curve over a continuous range of DirectSet's iso (0 or 1 only) is refused."""
    from dynamics import saddle_node_curve

    with pytest.raises(ParameterError, match="iso takes only"):
        saddle_node_curve("directset", "iso", "eta", {}, (0.0, 1.0), (0.01, 0.5))
