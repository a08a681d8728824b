r"""The scale-invariance identity of the cosine loss, and the projected expected gradient that keeps it.

The online branch :math:`z_1=W\Phi x_1` enters the cosine loss only through :math:`z_1/\|z_1\|`, so
every per-sample gradient satisfies :math:`\langle\partial\ell/\partial z_1,z_1\rangle=0`, hence the
exact expected gradient obeys :math:`\langle G,W\Phi\rangle_F=\mathrm{tr}(WG\Phi^\top)=0` and, under
gradient flow, :math:`\|W\|_Fe^{\rho t}`, :math:`\|\Phi\|_Fe^{\rho t}` are constant (theory notes,
caveat 2). Bao's :math:`\hat G` (eq. 4, derived by Isserlis in :mod:`symbolic.cosine_simsiam`)
breaks it through the self-pairing term. Per mode, with :math:`g_j=(\hat G\Phi^\top)_{jj}` (the
derived drive of eq. 5), the residue is :math:`\sum_jp_jg_j`; the projection

.. math:: g_j^{\perp}=g_j-\frac{\sum_kp_kg_k}{N_\Psi^2}\,p_js_j,\qquad N_\Psi^2=\sum_kp_k^2s_k,

is the eigen-level form of :math:`G=\hat G-\langle\hat G,A\rangle A/N_\Psi^2` used by
:mod:`dynamics.sgd_mean_field`. :func:`identity_residuals` derives both residues for ``n``
explicit modes: :math:`\hat G`'s is :math:`-2\sum_jp_j^3s_j^2/(aN_\Phi N_\Psi^3)\ne0`, the projected
one is identically 0.
"""
from __future__ import annotations

import sympy as sp

from .cosine_simsiam import N_Phi, N_Psi, T, _paper_mode_drive, p, s


def mode_symbols(n: int):
    """``(p_1..p_n, s_1..s_n)`` as SymPy symbols (s positive)."""
    ps = sp.symbols(f"p1:{n + 1}", real=True)
    ss = sp.symbols(f"s1:{n + 1}", positive=True)
    return ps, ss


def mode_drives(n: int, projected: bool):
    r"""Per-mode drives :math:`g_j` (Bao eq. 5's bracket times :math:`s_j`, derived) or their
    projections :math:`g_j^\perp`, for ``n`` explicit modes with the sums written out."""
    ps, ss = mode_symbols(n)
    g = _paper_mode_drive()
    sums = {T: sum(pi * si for pi, si in zip(ps, ss)), N_Psi: sp.sqrt(sum(pi**2 * si for pi, si in zip(ps, ss))),
            N_Phi: sp.sqrt(sum(ss))}
    gs = [g.subs({p: pi, s: si}).subs(sums) for pi, si in zip(ps, ss)]
    if projected:
        lam = sum(pi * gi for pi, gi in zip(ps, gs)) / sums[N_Psi] ** 2
        gs = [gi - lam * pi * si for gi, pi, si in zip(gs, ps, ss)]
    return ps, ss, gs


def identity_residuals(n: int = 3) -> dict:
    r""":math:`\sum_jp_jg_j` for :math:`\hat G` and for the projection, simplified."""
    out = {}
    for name, proj in (("paper", False), ("projected", True)):
        ps, ss, gs = mode_drives(n, proj)
        out[name] = sp.simplify(sp.together(sum(pi * gi for pi, gi in zip(ps, gs))))
    return out
