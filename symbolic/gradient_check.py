r"""Monte-Carlo check of the cosine-loss closed forms against the real expected gradient.

For a commuting pair :math:`(W,\Phi)` with :math:`W=\sum_jp_ju_ju_j^\top`,
:math:`\Phi\Phi^\top=\sum_js_ju_ju_j^\top`, rotation invariance of :math:`x` lets us sample in the
eigenbasis: :math:`y_{1,2}=x+\epsilon_{1,2}\in\mathbb R^h`, :math:`u=\sqrt s\,y_1`,
:math:`z_1=p\sqrt s\,y_1`, :math:`z_2=\sqrt s\,y_2`. The quantity compared is the per-mode drive

.. math:: g_j=(G\Phi^\top)_{jj}=\mathbb E\Big[u_j\Big(\frac{z_{2j}}{\|z_1\|\|z_2\|}
          -\frac{z_{1j}\,z_1\!\cdot z_2}{\|z_1\|^3\|z_2\|}\Big)\Big],

so that :math:`\dot p_j=g_j-\rho p_j` (Bao eq. 5 has :math:`g_j` in closed form).

Variance reduction: the same integrand with the norms frozen at their concentrated values is a
control variate whose mean is known in closed form (three Gaussian moments, written out below
independently of the SymPy derivation); its coefficient is fitted per mode (optimal beta).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .errors import check_choice, check_int, check_range
from .registry import get_model
from .results import Result

SPECTRA = ("init", "low-rank")


@dataclass(frozen=True)
class GradientCheck(Result):
    """Per-mode Monte-Carlo estimate and the closed forms' errors."""

    h: int
    samples: int
    sigma2: float
    spectrum: str
    p: np.ndarray
    s: np.ndarray
    mc: np.ndarray           # Monte-Carlo estimate of g_j
    se: np.ndarray           # its standard error
    forms: dict              # name -> closed-form g_j

    @property
    def params(self) -> dict:
        return {"h": self.h, "samples": self.samples, "sigma2": self.sigma2, "spectrum": self.spectrum}

    def rel_error(self, name: str) -> np.ndarray:
        return np.abs(self.forms[name] - self.mc) / np.abs(self.mc)

    def z_score(self, name: str) -> np.ndarray:
        return np.abs(self.forms[name] - self.mc) / self.se

    def summary(self) -> dict:
        out = {"h": self.h, "samples": self.samples, "sigma2": self.sigma2, "spectrum": self.spectrum,
               "median_mc_rel_se": float(np.median(self.se / np.abs(self.mc))), "forms": {}}
        for name in self.forms:
            re, z = self.rel_error(name), self.z_score(name)
            out["forms"][name] = {"median_rel_error": float(np.median(re)), "max_rel_error": float(np.max(re)),
                                  "median_z": float(np.median(z)), "frac_within_5se": float(np.mean(z < 5))}
        return out


def draw_spectrum(h: int, d: int, spectrum: str, rng: np.random.Generator):
    r"""Eigenvalues ``(p, s)`` of a commuting pair.

    ``init``: :math:`\Phi_{ij}\sim\mathcal N(0,1/d)`, :math:`W_{ij}\sim\mathcal N(0,1/h)` symmetrised
    (:math:`(W+W^\top)/2`), eigenvalues of each paired at random (Bao Assumptions 1, 4, 5).
    ``low-rank``: four dominant modes (s = 25, p = 1) over a weak background (s = 0.05, the
    init spectrum of W scaled by 0.1): the regime where the concentrated-norm closed form fails.
    """
    Phi = rng.standard_normal((h, d)) / math.sqrt(d)
    s = np.linalg.eigvalsh(Phi @ Phi.T)
    W = rng.standard_normal((h, h)) / math.sqrt(h)
    p = np.linalg.eigvalsh((W + W.T) / 2)
    s = rng.permutation(s)
    if spectrum == "low-rank":
        p = 0.1 * p
        s = np.full(h, 0.05)
        k = min(4, h)
        s[:k] = 25.0
        p[:k] = 1.0
    return p, s


def closed_forms(p, s, sigma2):
    """Closed-form g_j of every cosine model: the generated eigen kernels at rho = 0
    (then pdot_j = g_j), and the third-order truncation by lambdify."""
    import sympy as sp

    from . import cosine_simsiam as cs
    from .codegen import load_kernels

    nphi, npsi, T = math.sqrt(np.sum(s)), math.sqrt(np.sum(p * p * s)), float(np.sum(p * s))
    sums = [float(np.sum(p**m * s * s)) for m in range(5)]
    theta = [0.0, sigma2, nphi, npsi, T]
    out = {}
    for name, model, extra in (("paper", "cosine-simsiam", []), ("delta", "cosine-simsiam-delta", sums)):
        k = load_kernels(model, "eigen")
        out[name] = np.array([k.rhs_p(pj, sj, *theta, *extra) for pj, sj in zip(p, s)])
    f = sp.lambdify((cs.p, cs.s, cs.sigma2, cs.N_Phi, cs.N_Psi, cs.T), cs.third_order_drive(), "numpy")
    out["third-order"] = np.broadcast_to(np.asarray(f(p, s, sigma2, nphi, npsi, T), float), p.shape).copy()
    return out


def monte_carlo_drive(p, s, sigma2, samples, rng, chunk=8192, progress=None):
    r"""Monte-Carlo :math:`g_j` with a fitted control variate; returns ``(mean, standard_error)``."""
    h = p.size
    a = 1.0 + sigma2
    sq = np.sqrt(s)
    A_bar = a * np.sum(p * p * s)          # concentrated |z1|^2
    B_bar = a * np.sum(s)                  # concentrated |z2|^2
    T = np.sum(p * s)
    # E[control variate], by three Gaussian moments: E[y1 y2] = 1, E[y1_j^2 y1_k y2_k] = a (k != j),
    # E[y1_j^3 y2_j] = 3a:  s_j/sqrt(A B) - p_j s_j a (T + 2 p_j s_j) / (A^{3/2} B^{1/2})
    cv_mean = s / math.sqrt(A_bar * B_bar) - p * s * a * (T + 2 * p * s) / (A_bar**1.5 * math.sqrt(B_bar))
    sums = np.zeros((5, h))                # sum f, sum c, sum f^2, sum c^2, sum f c
    done = 0
    sd = math.sqrt(sigma2)
    while done < samples:
        n = min(chunk, samples - done)
        x = rng.standard_normal((n, h))
        y1 = x + sd * rng.standard_normal((n, h))
        y2 = x + sd * rng.standard_normal((n, h))
        z1 = y1 * (p * sq)
        z2 = y2 * sq
        u = y1 * sq
        A = np.einsum("ij,ij->i", z1, z1)[:, None]
        B = np.einsum("ij,ij->i", z2, z2)[:, None]
        C = np.einsum("ij,ij->i", z1, z2)[:, None]
        f = u * (z2 / np.sqrt(A * B) - z1 * C / (A**1.5 * np.sqrt(B)))
        c = u * (z2 / math.sqrt(A_bar * B_bar) - z1 * C / (A_bar**1.5 * math.sqrt(B_bar)))
        sums[0] += f.sum(0)
        sums[1] += c.sum(0)
        sums[2] += (f * f).sum(0)
        sums[3] += (c * c).sum(0)
        sums[4] += (f * c).sum(0)
        done += n
        if progress is not None:
            progress(n)
    N = float(samples)
    mf, mc = sums[0] / N, sums[1] / N
    vf = sums[2] / N - mf**2
    vc = sums[3] / N - mc**2
    cov = sums[4] / N - mf * mc
    beta = np.where(vc > 0, cov / np.where(vc > 0, vc, 1.0), 0.0)
    est = mf - beta * (mc - cv_mean)
    var = np.maximum(vf - 2 * beta * cov + beta**2 * vc, 0.0)
    return est, np.sqrt(var / (N - 1))


def check_gradient(model: str = "cosine-simsiam", h: int = 256, samples: int = 1_000_000, seed: int = 0,
                   sigma2: float = 0.5, d: int | None = None, spectrum: str = "init",
                   progress=None) -> GradientCheck:
    """Draw a commuting (W, Phi) pair and compare every closed form with Monte-Carlo."""
    get_model(model).require("gradient-check", "the gradient check")
    h = check_int("h", h, lo=2, hi=8192)
    samples = check_int("samples", samples, lo=100)
    seed = check_int("seed", seed, lo=0)
    sigma2 = check_range("sigma2", sigma2, 0.0, math.inf)
    d = h if d is None else check_int("d", d, lo=1)
    check_choice("spectrum", spectrum, SPECTRA)
    rng = np.random.default_rng(seed)
    p, s = draw_spectrum(h, d, spectrum, rng)
    forms = closed_forms(p, s, sigma2)
    mc, se = monte_carlo_drive(p, s, sigma2, samples, rng, progress=progress)
    return GradientCheck(h, samples, sigma2, spectrum, p, s, mc, se, forms)
