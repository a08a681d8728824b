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

import contextlib
import math

import numpy as np

from .diagnostics import (RANKME_EPS, collapse_diagnostics, covariance_spectrum, effective_rank,  # noqa: F401
                          rankme, stable_rank, std_l2_normalized)

@contextlib.contextmanager
def _single_threaded():
    """One BLAS thread and one numba thread for the small decompositions and root searches of a
    measurement. On a machine busy training, a multi-threaded LAPACK call on a 512 x 512 matrix
    spun for a second instead of a tenth, and each parallel numba kernel launch of the theory
    (a handful of rows) waited 25 ms for its threads: a theory reading took 50 ms on two threads,
    0.25 ms on one. The results do not depend on it (every row is its own problem)."""
    import numba

    n = numba.get_num_threads()
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        limit = contextlib.nullcontext()
    else:
        limit = threadpool_limits(1)
    numba.set_num_threads(1)
    try:
        with limit:
            yield
    finally:
        numba.set_num_threads(n)


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
    WM = W @ M
    nw = float(np.linalg.norm(W))
    nm = float(np.linalg.norm(M))
    comm = WM - M @ W
    idx = leading(p, s, top)
    return {
        "finite": True,
        "n_phi": float(np.linalg.norm(Phi)),
        "n_psi": float(np.linalg.norm(W @ Phi)),
        "trace": float(np.trace(WM)),
        "norm_w": nw,
        "asymmetry": float(np.linalg.norm(W - W.T) / nw) if nw > 0 else None,
        "commutator": float(np.linalg.norm(comm) / (nw * nm)) if nw > 0 and nm > 0 else None,
        "p": p.tolist(),
        "s": s.tolist(),
        "p_top": p[idx].tolist(),
        "s_top": s[idx].tolist(),
    }




def effective_sigma2(f1, f2):
    r"""Effective augmentation variance of two views' features,
    :math:`\hat\sigma^2=\tfrac12(\|F_1\|_F^2+\|F_2\|_F^2)/\langle F_2,F_1\rangle-1` on the centred
    features (rows: samples), the value the Gaussian model :math:`f_i=f+\epsilon_i` has at
    :math:`\mathbb E\|f_1\|^2/\mathbb E\langle f_2,f_1\rangle-1`. ``None`` when the views do not
    correlate positively or the ratio is not finite.

    Works on NumPy arrays and torch tensors alike (no conversion: the sums run where the
    features are); ``validate resnet18`` feeds it the backbone features of two augmented views.

    Examples
    --------
    Views that are the same up to a sign flip of half their coordinates' noise:

    >>> import numpy as np
    >>> from sims.measure import effective_sigma2
    >>> f = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 2.0], [0.0, -2.0]])
    >>> effective_sigma2(f, f)
    0.0
    >>> round(effective_sigma2(f, 0.5 * f), 6)      # (1 + 1/4) / 2 / (1/2) - 1
    0.25
    >>> effective_sigma2(f, -f) is None
    True
    """
    f1, f2 = f1 - f1.mean(0), f2 - f2.mean(0)
    cross = float((f1 * f2).sum())
    both = 0.5 * float((f1 * f1).sum() + (f2 * f2).sum())
    return both / cross - 1.0 if cross > 0 and math.isfinite(both / cross) else None


def state_record(W, Phi, Z=None, *, loss: str = "cosine", rho: float = 0.0, sigma2: float | None = None,
                 top: int = 8, theory: bool = True) -> dict:
    r"""Everything measured on one state: :func:`matrix_metrics` of :math:`(W,\Phi)`, the
    :func:`~sims.diagnostics.collapse_diagnostics` of the outputs ``Z`` and the theory at the
    measured norms (:func:`sims.overlay.overlay`).

    The one measurement behind ``validate``'s records (:meth:`sims.train.Trainer.measure`) and
    :class:`sims.monitor.Monitor`, so the two agree by construction.

    Parameters
    ----------
    W, Phi : array_like
        The head (:math:`h\times h`) and the linear map into it (:math:`h\times d`), float64.
    Z : array_like or torch.Tensor, optional
        Outputs (n, h) for the collapse diagnostics; without it those keys are absent.
    loss : {'cosine', 'l2'}, optional
        The loss whose theory is evaluated.
    rho : float, optional
        The weight decay (:math:`\rho` or :math:`\eta`).
    sigma2 : float or None, optional
        The augmentation variance :math:`\sigma^2` (negative values are clipped to 0); ``None``
        skips the theory.
    top : int, optional
        How many leading eigenvalues :math:`p_j` the record and the theory follow.
    theory : bool, optional
        Add ``theory``: the regime, equilibria and the fates of the top modes.

    Returns
    -------
    dict
        The keys of :func:`matrix_metrics`, of :func:`~sims.diagnostics.collapse_diagnostics`
        (with ``Z``) and ``theory`` (for a finite state with ``sigma2`` given). JSON-ready.

    Examples
    --------
    A commuting state with :math:`W=\mathrm{diag}(0.6, 0.3)`, :math:`\Phi=I`: :math:`N_\Phi=\sqrt2`,
    :math:`T=0.9`, and the L2 theory at :math:`\eta=0.1` keeps the larger mode:

    >>> import numpy as np
    >>> from sims.measure import state_record
    >>> r = state_record(np.diag([0.6, 0.3]), np.eye(2), loss="l2", rho=0.1, sigma2=0.5, top=2)
    >>> round(r["n_phi"], 6), round(r["trace"], 6), r["p_top"], r["theory"]["regime"]
    (1.414214, 0.9, [0.6, 0.3], 'Acute')
    >>> r["theory"]["fates_top"]
    ['converge', 'converge']
    """
    with _single_threaded():
        rec = matrix_metrics(W, Phi, top)
        if Z is not None:
            rec.update(collapse_diagnostics(Z))
        if theory and rec["finite"] and sigma2 is not None:
            from .overlay import overlay

            rec["theory"] = overlay(loss, rho, max(sigma2, 0.0), rec["n_phi"], rec["n_psi"], rec["trace"],
                                    rec["p_top"])
    return rec
