r"""Cosine-loss SimSiam with a linear encoder and symmetric linear head (Bao et al. 2023).

Derived, not retyped: starting from the per-sample cosine loss and the linear model, SymPy
differentiates the loss, replaces the two norms by their concentrated values, takes the Gaussian
expectation exactly (:mod:`symbolic.gaussian`), and reduces to the eigenvalue system and the
scalar ODE on the invariant parabola.

Model (Bao 2023, Sec. 3-4): :math:`x\sim\mathcal N(0,I_d)`, views :math:`x_{1,2}=x+\epsilon_{1,2}`,
:math:`\epsilon\sim\mathcal N(0,\sigma^2 I)`, :math:`z_1=W\Phi x_1`, :math:`z_2=\mathrm{sg}(\Phi x_2)`,
loss :math:`-\langle z_1,z_2\rangle/(\|z_1\|\|z_2\|)` plus weight decay
:math:`\tfrac\rho2(\|\Phi\|_F^2+\|W\|_F^2)`; gradient flow (eq. 3).

Results (``a = 1 + sigma2``; Frobenius convention :math:`N_\Phi=\|\Phi\|_F`,
:math:`N_\Psi=\|W\Phi\|_F`, :math:`T=\mathrm{tr}(W\Phi\Phi^\top)`):

* matrix form (eq. 4, Lemma 4): :math:`\dot W=\hat G\Phi^\top-\rho W`, :math:`\dot\Phi=W\hat G-\rho\Phi`,
  :math:`\hat G=\frac{1}{aN_\Phi N_\Psi}\big[\Phi-\frac{TW\Phi+2W\Phi\Phi^\top W\Phi}{N_\Psi^2}\big]`;
* eigen form (eq. 5): :math:`\dot p_j=\frac{s_j}{aN_\Phi N_\Psi}\big[1-\frac{p_j(T+2p_js_j)}{N_\Psi^2}\big]-\rho p_j`,
  :math:`\dot s_j=2p_j(\dot p_j+\rho p_j)-2\rho s_j`;
* invariant (eq. 6): :math:`\frac{d}{dt}(s_j-p_j^2)=-2\rho(s_j-p_j^2)`;
* reduced form on the parabola (eq. 7):
  :math:`\dot p=\frac{p^2(N_\Psi^2-Tp-2p^4)}{aN_\Phi N_\Psi^3}-\rho p=-\frac{pQ(p)}{aN_\Phi N_\Psi^3}`,
  :math:`Q(p)=2p^5+Tp^2-N_\Psi^2p+\rho aN_\Phi N_\Psi^3`.

The paper's printed formulas were lost from our copy of the text (``shared/theory/cosine_simsiam.md``);
the forms above agree with the theory notes exactly (tests). Two caveats found while deriving:
the :math:`p^6` term comes from the self-pairing :math:`\mathbb E[y_{1j}^3y_{2j}]=3a`, an
:math:`O(1/h)` effect of the same order as the neglected norm fluctuations; the consistent
second-order (delta-method) model, :func:`delta_eigen_form`, keeps both and matches the Monte-Carlo
gradient of the real loss to noise (``ssldyn check-gradient``).
"""
from __future__ import annotations

from functools import lru_cache

import sympy as sp

from .derivation import Derivation
from .gaussian import gaussian_expectation, view_second_moments

# --- symbols (names are the CLI/JSON contract) -------------------------------------------
p, s = sp.symbols("p s", real=True)
rho = sp.Symbol("rho", nonnegative=True)
sigma2 = sp.Symbol("sigma2", nonnegative=True)
N_Phi, N_Psi = sp.symbols("N_Phi N_Psi", positive=True)
T = sp.Symbol("T", real=True)
PARAMS = ("rho", "sigma2", "N_Phi", "N_Psi", "T")

#: Power sums :math:`\Sigma_{m}=\sum_k p_k^m s_k^2` used by the second-order (delta) model.
POWER_SUMS = tuple(sp.Symbol(f"Sigma_p{m}s2", nonnegative=(m % 2 == 0)) for m in range(5))
DELTA_PARAMS = PARAMS + tuple(x.name for x in POWER_SUMS)

DEFINITIONS = {
    "N_Phi": "||Phi||_F (Frobenius norm of the encoder)",
    "N_Psi": "||W Phi||_F",
    "T": "tr(W Phi Phi^T) = sum_k p_k s_k",
    "p": "eigenvalue of the head W",
    "s": "eigenvalue of Phi Phi^T in the same eigenvector",
}
DELTA_DEFINITIONS = {**DEFINITIONS, **{x.name: f"sum_k p_k^{m} s_k^2" for m, x in enumerate(POWER_SUMS)}}


def _a():
    return 1 + sigma2


# --- step 1: per-sample gradient of the cosine loss ---------------------------------------
def cosine_loss_gradient(n: int = 3):
    r"""Differentiate :math:`\ell=-z_1\cdot z_2/(\|z_1\|\|z_2\|)` in :math:`z_1` (explicit dimension ``n``).

    Returns ``(c_lin, c_cub)`` with
    :math:`-\partial\ell/\partial z_1 = c_{lin}\,z_2 + c_{cub}\,(z_1\cdot z_2)\,z_1` as functions of the
    norms ``A = |z1|``, ``B = |z2|`` (SymPy proves the decomposition exact).
    """
    z1 = sp.Matrix(sp.symbols(f"z1_0:{n}", real=True))
    z2 = sp.Matrix(sp.symbols(f"z2_0:{n}", real=True))
    A, B = sp.symbols("A B", positive=True)
    nz1, nz2 = sp.sqrt(z1.dot(z1)), sp.sqrt(z2.dot(z2))
    loss = -z1.dot(z2) / (nz1 * nz2)
    # differentiate, then name the norms: each component becomes a polynomial in z with
    # coefficients in (A, B)
    grad = [sp.expand(sp.powsimp(-sp.diff(loss, v)).subs({nz1: A, nz2: B})) for v in z1]
    polys = [sp.Poly(g, *z1, *z2) for g in grad]
    c_lin = polys[1].coeff_monomial(z2[1])
    c_cub = polys[0].coeff_monomial(z1[0] * z1[1] * z2[1])
    for i in range(n):
        if sp.expand(grad[i] - c_lin * z2[i] - c_cub * z1.dot(z2) * z1[i]) != 0:
            raise AssertionError("cosine gradient did not decompose into z2 and (z1.z2) z1")
    return c_lin, c_cub, A, B


def concentrated_norms():
    r"""Concentrated values :math:`\|z_1\|^2\to aN_\Psi^2`, :math:`\|z_2\|^2\to aN_\Phi^2` (Bao Lemmas 2-3).

    They are the Gaussian means :math:`\mathbb E\|W\Phi x_1\|^2 = a\|W\Phi\|_F^2` and
    :math:`\mathbb E\|\Phi x_2\|^2 = a\|\Phi\|_F^2`, computed per mode by :func:`symbolic.gaussian.view_second_moments`.
    """
    m = view_second_moments(sigma2)
    # per mode: E[p^2 s y1^2] = a p^2 s, E[s y2^2] = a s -> sums a N_Psi^2, a N_Phi^2
    return m[0, 0] * N_Psi**2, m[1, 1] * N_Phi**2


# --- step 2: the Gaussian moments -----------------------------------------------------------
def _view_covariance():
    return view_second_moments(sigma2)


@lru_cache(maxsize=None)
def isserlis_tensor_identity(n: int = 3):
    r"""Derive :math:`\mathbb E[x_1x_1^\top M x_2x_1^\top]=c_1M+c_2M^\top+c_3\,\mathrm{tr}(M)I` and
    :math:`\mathbb E[x_2x_1^\top]=c_0I`.

    Computed exactly in dimension ``n`` with a generic symbolic ``M`` and the views' joint
    covariance; the coefficients are solved for and the identity is then verified entry by entry.
    Returns ``(c0, c1, c2, c3)``; by rotation invariance they hold in every dimension.
    """
    C = _view_covariance()
    x1 = sp.symbols(f"x1_0:{n}", real=True)
    x2 = sp.symbols(f"x2_0:{n}", real=True)
    M = sp.Matrix(n, n, lambda i, j: sp.Symbol(f"m{i}{j}"))
    cov = sp.zeros(2 * n, 2 * n)
    for i in range(n):
        cov[i, i], cov[i, n + i], cov[n + i, i], cov[n + i, n + i] = C[0, 0], C[0, 1], C[1, 0], C[1, 1]
    vars_ = list(x1) + list(x2)
    quad = sum(x1[i] * M[i, k] * x2[k] for i in range(n) for k in range(n))
    E4 = sp.Matrix(n, n, lambda i, l: gaussian_expectation(x1[i] * quad * x1[l], vars_, cov))
    E2 = sp.Matrix(n, n, lambda i, l: gaussian_expectation(x2[i] * x1[l], vars_, cov))
    c0, c1, c2, c3 = sp.symbols("c0:4")
    eqs = list(E4 - (c1 * M + c2 * M.T + c3 * M.trace() * sp.eye(n))) + list(E2 - c0 * sp.eye(n))
    eqs = [e for e in (sp.expand(q) for q in eqs) if e != 0]
    coeff_eqs = []
    for e in eqs:
        coeff_eqs += sp.Poly(e, *M).coeffs()
    sol = sp.solve(coeff_eqs, [c0, c1, c2, c3], dict=True)
    if len(sol) != 1:
        raise AssertionError("Isserlis tensor identity has no unique solution")
    sol = sol[0]
    return tuple(sp.factor(sol[c]) for c in (c0, c1, c2, c3))


# --- forms ---------------------------------------------------------------------------------
def matrix_form(h: int | None = None) -> Derivation:
    r"""Matrix dynamics (Bao eq. 4 with Lemma 4's closed form :math:`\hat G`), derived."""
    c_lin, c_cub, A, B = cosine_loss_gradient()
    nA2, nB2 = concentrated_norms()
    c_lin = c_lin.subs({A: sp.sqrt(nA2), B: sp.sqrt(nB2)})
    c_cub = c_cub.subs({A: sp.sqrt(nA2), B: sp.sqrt(nB2)})
    c0, c1, c2, c3 = isserlis_tensor_identity()
    hh = sp.Symbol("h", integer=True, positive=True) if h is None else h
    W = sp.MatrixSymbol("W", hh, hh)
    Phi = sp.MatrixSymbol("Phi", hh, sp.Symbol("d", integer=True, positive=True) if h is None else h)
    M = Phi.T * W * Phi                      # symmetric because W is (Assumption 1)
    # -dl/dz1 x1^T = c_lin z2 x1^T + c_cub z1 z1^T z2 x1^T with z1 = W Phi x1, z2 = Phi x2
    G = sp.simplify(c_lin * c0) * Phi + sp.simplify(c_cub) * W * Phi * (
        (c1 + c2) * M + c3 * T * sp.Identity(Phi.shape[1]))
    G = G.doit()
    Wdot = G * Phi.T - rho * W
    Phidot = W.T * G - rho * Phi
    return Derivation("cosine-simsiam", "matrix", ("W", "Phi"), PARAMS,
                      {"W": Wdot, "Phi": Phidot}, definitions=dict(DEFINITIONS),
                      notes="G-hat of Lemma 4; W symmetric; N_Phi, N_Psi, T are functions of (W, Phi).")


def _mode_symbols():
    return sp.symbols("y1j y2j y1k y2k", real=True)


@lru_cache(maxsize=None)
def _paper_mode_drive(self_pairing: bool = True):
    r"""Per-mode :math:`g_j=(\hat G\Phi^\top)_{jj}` by Isserlis over mode ``j`` and a generic mode ``k``.

    In the common eigenbasis :math:`u=\sqrt{s}\,y_1`, :math:`z_1=p\sqrt{s}\,y_1`, :math:`z_2=\sqrt{s}\,y_2`,
    and :math:`z_1\cdot z_2=p_js_jy_{1j}y_{2j}+\sum_{k\ne j}p_ks_ky_{1k}y_{2k}`, linear in the other modes.
    """
    c_lin, c_cub, A, B = cosine_loss_gradient()
    nA2, nB2 = concentrated_norms()
    c_lin = c_lin.subs({A: sp.sqrt(nA2), B: sp.sqrt(nB2)})
    c_cub = c_cub.subs({A: sp.sqrt(nA2), B: sp.sqrt(nB2)})
    y1j, y2j, y1k, y2k = _mode_symbols()
    C = _view_covariance()
    cov = sp.diag(C, C)
    vars_ = [y1j, y2j, y1k, y2k]
    E = lambda f: gaussian_expectation(f, vars_, cov)  # noqa: E731
    sqs = sp.sqrt(s)
    u_j, z1_j, z2_j = sqs * y1j, p * sqs * y1j, sqs * y2j
    own = p * s * y1j * y2j
    other = y1k * y2k            # one generic other mode, weight p_k s_k; sum_{k!=j} p_k s_k = T - p s
    g = c_lin * E(u_j * z2_j)
    g += c_cub * (E(u_j * z1_j * own) if self_pairing else E(u_j * z1_j) * E(own))
    g += c_cub * E(u_j * z1_j * other) * (T - p * s)
    return sp.simplify(g)


def _commuting_flow(g, rate=rho):
    r"""Eigen flow from :math:`\dot W=G\Phi^\top-\rho W`, :math:`\dot\Phi=WG-\rho\Phi` with
    :math:`W=\mathrm{diag}(p)`, :math:`\Phi\Phi^\top=\mathrm{diag}(s)`, :math:`(G\Phi^\top)_{jj}=g`."""
    Pm = sp.diag(p, sp.Symbol("q"))
    Phi = sp.diag(sp.sqrt(s), sp.Symbol("r", positive=True))
    Gm = sp.diag(g / sp.sqrt(s), sp.Symbol("g_other"))
    Wdot = Gm * Phi.T - rate * Pm
    Phidot = Pm * Gm - rate * Phi
    Fdot = Phidot * Phi.T + Phi * Phidot.T
    return sp.simplify(Wdot[0, 0]), sp.simplify(Fdot[0, 0])


def eigen_form() -> Derivation:
    r"""Eigenvalue system (Bao eq. 5) with the invariant parabola (eq. 6)."""
    g = _paper_mode_drive()
    pdot, sdot = _commuting_flow(g)
    inv = s - p**2
    return Derivation("cosine-simsiam", "eigen", ("p", "s"), PARAMS, {"p": pdot, "s": sdot},
                      invariants={"parabola": (inv, -2 * rho)}, definitions=dict(DEFINITIONS),
                      notes="Modes couple through N_Phi^2 = sum s, N_Psi^2 = sum p^2 s, T = sum p s.")


def invariant_residual(d: Derivation) -> sp.Expr:
    r"""Return :math:`\dot I-\lambda I` for each invariant; zero means the invariant is proved."""
    out = {}
    for name, (inv, rate) in d.invariants.items():
        syms = {x.name: x for x in inv.free_symbols}
        dot = sum(sp.diff(inv, syms[k]) * d.rhs[k] for k in d.state if k in syms)
        out[name] = sp.simplify(dot - rate * inv)
    return out


def _reduce_on_parabola(pdot):
    r"""Substitute :math:`s=p^2` (the attracting invariant parabola, eq. 6 with :math:`t\to\infty`)."""
    return sp.simplify(pdot.subs(s, p**2))


def equilibrium_polynomial(pdot):
    """Numerator of ``pdot`` over a positive denominator: a polynomial in p with the same sign."""
    num, den = sp.fraction(sp.together(pdot))
    # den is a product of positive symbols and powers; make its sign explicit
    if not den.is_positive:
        raise AssertionError(f"denominator not provably positive: {den}")
    return sp.expand(num)


def reduced_form() -> Derivation:
    r"""Scalar sixth-order ODE on the parabola (Bao eq. 7) and its equilibrium polynomial."""
    pdot = _reduce_on_parabola(eigen_form().rhs["p"])
    return Derivation("cosine-simsiam", "reduced", ("p",), PARAMS, {"p": pdot},
                      equilibrium_polynomial=equilibrium_polynomial(pdot), definitions=dict(DEFINITIONS),
                      notes="N_Phi, N_Psi, T are frozen ('at a fixed time', Bao Sec. 5.2).")


def third_order_drive():
    r"""Paper drive without the :math:`p^6`-generating self-pairing: :math:`g_j` truncated to first
    order in :math:`s_j` inside the bracket (the 'third-order truncation' of the theory notes)."""
    g = sp.expand(_paper_mode_drive() * _a() * N_Phi * N_Psi)
    g = sum(c * s**k for (k,), c in sp.Poly(g, s).terms() if k <= 1)   # drop the p^2 s^2 term
    return sp.simplify(g / (_a() * N_Phi * N_Psi))


# --- second-order (delta-method) model ------------------------------------------------------
@lru_cache(maxsize=None)
def _rest_covariance():
    r"""Per-mode means/covariances of :math:`(A_k,B_k,C_k)=(p^2s\,y_1^2,\;s\,y_2^2,\;ps\,y_1y_2)`
    for a generic mode, as coefficients of :math:`s^2p^m` (exact Isserlis)."""
    y1, y2 = sp.symbols("y1 y2", real=True)
    pk, sk = sp.symbols("p_k s_k", real=True)
    C = _view_covariance()
    E = lambda f: sp.expand(gaussian_expectation(sp.expand(f), [y1, y2], C))  # noqa: E731
    X = [pk**2 * sk * y1**2, sk * y2**2, pk * sk * y1 * y2]
    mean = [E(x) for x in X]
    cov = sp.Matrix(3, 3, lambda i, j: sp.expand(E(X[i] * X[j]) - mean[i] * mean[j]))
    return pk, sk, mean, cov


def _sum_over_other_modes(expr, pk, sk):
    r"""Map :math:`f(p_k,s_k)=\sum c_m p_k^m s_k^2` to :math:`\sum_{k\ne j}f=\sum_m c_m(\Sigma_m-p^ms^2)`."""
    poly = sp.Poly(sp.expand(expr), pk, sk)
    out = sp.Integer(0)
    for (m, n), c in poly.terms():
        if n != 2 or m > 4:
            raise AssertionError(f"unexpected monomial p^{m} s^{n} in a mode covariance")
        out += c * (POWER_SUMS[m] - p**m * s**2)
    return out


@lru_cache(maxsize=None)
def _delta_mode_drive():
    r"""Second-order (delta-method) :math:`g_j=\mathbb E[(G\Phi^\top)_{jj}]` of the real loss.

    :math:`-\partial\ell/\partial z_1=z_2A^{-1/2}B^{-1/2}-(z_1\cdot z_2)z_1A^{-3/2}B^{-1/2}` with
    :math:`A=\|z_1\|^2`, :math:`B=\|z_2\|^2`, expanded to second order about
    :math:`(\bar A,\bar B)=(aN_\Psi^2,aN_\Phi^2)`. Mode ``j`` is kept exact (Isserlis); the sums over the
    other modes enter through their means and covariances only (cumulants of order >= 3 are
    :math:`O(h^{-2})` and dropped), i.e. they are treated as jointly Gaussian.
    """
    c_lin, c_cub, A, B = cosine_loss_gradient()
    Abar, Bbar = concentrated_norms()
    eps = sp.Symbol("epsilon")
    da, db = sp.symbols("delta_a delta_b", real=True)
    # second-order Taylor expansion of the two coefficient functions about (Abar, Bbar)
    subs = {A: sp.sqrt(Abar * (1 + eps * da)), B: sp.sqrt(Bbar * (1 + eps * db))}
    k_lin = sp.series(c_lin.subs(subs), eps, 0, 3).removeO().subs(eps, 1)
    k_cub = sp.series(c_cub.subs(subs), eps, 0, 3).removeO().subs(eps, 1)

    y1j, y2j = sp.symbols("y1j y2j", real=True)
    ar, br, cr = sp.symbols("alpha_r beta_r gamma_r", real=True)   # centred rest sums of A, B, C
    pk, sk, mean, cov = _rest_covariance()
    a = _a()
    sqs = sp.sqrt(s)
    u_j, z1_j, z2_j = sqs * y1j, p * sqs * y1j, sqs * y2j
    Aj = p**2 * s * y1j**2
    Bj = s * y2j**2
    Cj = p * s * y1j * y2j
    T_rest = T - p * s                                           # sum_{k != j} p_k s_k
    dA = (Aj - a * p**2 * s + ar) / Abar
    dB = (Bj - a * s + br) / Bbar
    Ctot = Cj + T_rest + cr
    integrand = u_j * (k_lin * z2_j + k_cub * Ctot * z1_j)
    integrand = sp.expand(integrand.subs({da: dA, db: dB}))
    Cv = _view_covariance()
    rest_cov = sp.Matrix(3, 3, lambda i, j: _sum_over_other_modes(cov[i, j], pk, sk))
    full_cov = sp.diag(Cv, rest_cov)
    g = gaussian_expectation(integrand, [y1j, y2j, ar, br, cr], full_cov)
    return sp.simplify(sp.expand(g))


def delta_eigen_form() -> Derivation:
    r"""Second-order (delta-method) eigenvalue system: a named alternative to Bao eq. 5.

    Same flow structure (:func:`_commuting_flow`) with the drive of :func:`_delta_mode_drive`.
    Extra parameters: the power sums :math:`\Sigma_{p^ms^2}=\sum_kp_k^ms_k^2`, m = 0..4.
    The theory notes (caveat 3) print one such expansion; ours differs from it only at
    :math:`O(h^{-2})` (the own-mode parts of the rest sums and the own-mode fluctuations are kept
    exactly), see ``tests/test_cosine_simsiam.py``.
    """
    g = _delta_mode_drive()
    pdot, sdot = _commuting_flow(g)
    return Derivation("cosine-simsiam-delta", "eigen", ("p", "s"), DELTA_PARAMS, {"p": pdot, "s": sdot},
                      invariants={"parabola": (s - p**2, -2 * rho)}, definitions=dict(DELTA_DEFINITIONS),
                      notes="Consistent second-order expansion of the real expected gradient.")


def delta_reduced_form() -> Derivation:
    pdot = _reduce_on_parabola(delta_eigen_form().rhs["p"])
    return Derivation("cosine-simsiam-delta", "reduced", ("p",), DELTA_PARAMS, {"p": pdot},
                      equilibrium_polynomial=equilibrium_polynomial(pdot),
                      definitions=dict(DELTA_DEFINITIONS),
                      notes="On the parabola s = p^2 with all sums frozen.")


def delta_matrix_form() -> Derivation:
    r"""Delta model in matrix form for commuting :math:`W` and :math:`F=\Phi\Phi^\top`:
    :math:`\dot W=P(W,F)-\rho W`, :math:`\dot F=WP+PW-2\rho F` where :math:`P` is the drive with
    :math:`p\to W`, :math:`s\to F` (valid only while they commute, Assumption 5)."""
    g = sp.expand(_delta_mode_drive())
    hh = sp.Symbol("h", integer=True, positive=True)
    W = sp.MatrixSymbol("W", hh, hh)
    F = sp.MatrixSymbol("F", hh, hh)
    poly = sp.Poly(g, p, s)
    P = sp.ZeroMatrix(hh, hh)
    for (m, n), c in poly.terms():
        term = sp.Identity(hh)
        term = (W**m if m else sp.Identity(hh)) * (F**n if n else sp.Identity(hh))
        P = P + c * term
    Wdot = P - rho * W
    Fdot = W * P + P * W - 2 * rho * F
    return Derivation("cosine-simsiam-delta", "matrix", ("W", "F"), DELTA_PARAMS,
                      {"W": Wdot, "F": Fdot}, definitions={**DELTA_DEFINITIONS, "F": "Phi Phi^T"},
                      notes="Valid while W and F commute (Assumption 5).")


def feature_norm_convention(d: Derivation) -> Derivation:
    r"""Rewrite a derivation in the feature-norm convention :math:`N\to N/\sqrt{1+\sigma^2}`.

    There :math:`N_\Phi=\sqrt{\mathbb E\|\Phi x\|^2}` and :math:`N_\Psi=\sqrt{\mathbb E\|W\Phi x\|^2}`
    (theory notes, caveat 1); the Frobenius convention is the default.
    """
    sub = {N_Phi: N_Phi / sp.sqrt(_a()), N_Psi: N_Psi / sp.sqrt(_a())}
    rhs = {k: sp.simplify(v.subs(sub)) for k, v in d.rhs.items()}
    poly = None
    if d.equilibrium_polynomial is not None:
        poly = equilibrium_polynomial(rhs[d.state[0]])
    defs = dict(d.definitions)
    defs["N_Phi"] = "sqrt(1+sigma2) ||Phi||_F (feature norm)"
    defs["N_Psi"] = "sqrt(1+sigma2) ||W Phi||_F (feature norm)"
    return Derivation(d.model, d.form, d.state, d.params, rhs, d.invariants, poly, defs,
                      d.notes + " Feature-norm convention.")
