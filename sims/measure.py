r"""Measurements of a trained SimSiam state (numpy, float64; no torch here).

Given the head :math:`W` (:math:`h\times h`) and the map into it :math:`\Phi` (:math:`h\times d`):

* eigenvalues :math:`p_j` of the symmetric part :math:`(W+W^\top)/2` (signs kept, Bao 2023 uses
  :math:`|p|` in its appendix D.1 plots; eq. 7 is not symmetric in :math:`p`, theory notes 6.5);
* :math:`s_j=u_j^\top\Phi\Phi^\top u_j` in :math:`W`'s eigenbasis;
* :math:`N_\Phi=\|\Phi\|_F`, :math:`N_\Psi=\|W\Phi\|_F`, :math:`T=\mathrm{tr}(W\Phi\Phi^\top)`
  (Bao eq. 4, Frobenius convention of the theory notes);
* asymmetry :math:`\|W-W^\top\|_F/\|W\|_F` (Assumption 1) and commutator
  :math:`\|[W,\Phi\Phi^\top]\|_F/(\|W\|_F\|\Phi\Phi^\top\|_F)` (Assumption 5);
* collapse diagnostics of a batch of outputs :math:`Z` (n x h): the std of the l2-normalised
  outputs (as solo-learn/lightly log it; :math:`1/\sqrt h` for isotropic outputs, 0 at collapse),
  stable rank :math:`\|Z\|_F^2/\|Z\|_2^2`, effective rank (Roy & Vetterli 2007)
  :math:`\exp(-\sum_k q_k\log q_k)`, :math:`q_k=\sigma_k/\sum\sigma`, RankMe (Garrido et al. 2023,
  the same entropy with :math:`q_k=\sigma_k/\|\sigma\|_1+\epsilon`), and the output covariance
  spectrum.

Every function checks finiteness before an eigendecomposition and reports a non-finite state
instead of raising from LAPACK.
"""
from __future__ import annotations

import numpy as np

from .diagnostics import (RANKME_EPS, collapse_diagnostics, covariance_spectrum, effective_rank,  # noqa: F401
                          rankme, stable_rank, std_l2_normalized)

def _finite(*arrays) -> bool:
    return all(np.all(np.isfinite(a)) for a in arrays)


def spectrum(W, Phi):
    r"""Eigenvalues :math:`p` (ascending) of :math:`(W+W^\top)/2`, eigenvectors :math:`U` (columns),
    and :math:`s_j=u_j^\top\Phi\Phi^\top u_j=\|\Phi^\top u_j\|^2`. Returns ``None`` if not finite."""
    W = np.asarray(W, dtype=np.float64)
    Phi = np.asarray(Phi, dtype=np.float64)
    if not _finite(W, Phi):
        return None
    p, U = np.linalg.eigh(0.5 * (W + W.T))
    s = np.sum((U.T @ Phi) ** 2, axis=1)
    return p, U, s


def leading(p, s, k: int = 8):
    """Indices of the ``k`` largest eigenvalues (signed), descending: the modes that the theory
    sends to the stable equilibrium :math:`p_4` in the Acute regime."""
    order = np.argsort(-np.asarray(p), kind="stable")
    return order[:k]


def matrix_metrics(W, Phi, top: int = 8) -> dict:
    r"""Norms, spectrum and assumption checks of :math:`(W, \Phi)` (see module docstring).

    Returns a JSON-ready dict; ``finite`` is False (and the rest ``None``) for a non-finite state.
    """
    W = np.asarray(W, dtype=np.float64)
    Phi = np.asarray(Phi, dtype=np.float64)
    keys = ("n_phi", "n_psi", "trace", "norm_w", "asymmetry", "commutator", "p", "s",
            "p_top", "s_top")
    if not _finite(W, Phi):
        return {"finite": False, **{k: None for k in keys}}
    p, U, s = spectrum(W, Phi)
    M = Phi @ Phi.T
    nw = float(np.linalg.norm(W))
    nm = float(np.linalg.norm(M))
    comm = W @ M - M @ W
    idx = leading(p, s, top)
    return {
        "finite": True,
        "n_phi": float(np.linalg.norm(Phi)),
        "n_psi": float(np.linalg.norm(W @ Phi)),
        "trace": float(np.trace(W @ M)),
        "norm_w": nw,
        "asymmetry": float(np.linalg.norm(W - W.T) / nw) if nw > 0 else None,
        "commutator": float(np.linalg.norm(comm) / (nw * nm)) if nw > 0 and nm > 0 else None,
        "p": p.tolist(),
        "s": s.tolist(),
        "p_top": p[idx].tolist(),
        "s_top": s[idx].tolist(),
    }


