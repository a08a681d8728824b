r"""Collapse diagnostics for a batch of embeddings ``z`` (rows: samples, columns: dimensions).

Shared by the landscape reproductions and the GPU validation. NumPy throughout; torch tensors are
accepted and converted (``detach().cpu().double()``), so this module never imports torch.

* :func:`normalized_std`: the "std of l2-normalised outputs" that solo-learn and lightly log,
  :math:`\frac1d\sum_k\operatorname{std}_n\big(z_{nk}/\|z_n\|\big)`; about :math:`1/\sqrt d` for a
  well-spread representation and 0 at complete collapse (Chen & He 2021, Sec. 4.1). The std is the
  unbiased one (``torch.std`` default), as those libraries compute it.
* :func:`stable_rank`: :math:`\|Z\|_F^2/\|Z\|_2^2=\sum_i s_i^2/s_1^2`.
* :func:`effective_rank`: :math:`\exp(-\sum_i p_i\ln p_i)`, :math:`p_i=s_i/\sum_j s_j` (Roy & Vetterli 2007).
* :func:`rankme`: RankMe (Garrido et al. 2023, eq. 1), the same entropy with
  :math:`p_i=s_i/\|s\|_1+\varepsilon`, :math:`\varepsilon=10^{-7}`.
* :func:`eigenvalue_ratio`: smallest over largest eigenvalue of the (centred) covariance.
* :func:`explained_variance`: cumulative fraction of variance of the sorted covariance eigenvalues.

Singular values are those of ``z`` as given (no centring) for the rank measures, as RankMe does;
covariance-based measures centre ``z``.
"""
from __future__ import annotations

import numpy as np

from symbolic.errors import ParameterError


def as_array(z) -> np.ndarray:
    """``z`` as a float64 2-D array; torch tensors are detached and moved to the CPU first."""
    if hasattr(z, "detach"):
        z = z.detach().cpu().double().numpy()
    z = np.asarray(z, dtype=float)
    if z.ndim != 2:
        raise ParameterError(f"z must be a 2-D (samples, dims) array; got shape {z.shape}")
    return z


def singular_values(z) -> np.ndarray:
    """Singular values of ``z``, descending."""
    return np.linalg.svd(as_array(z), compute_uv=False)


def normalized_std(z) -> float:
    r""":math:`\frac1d\sum_k\operatorname{std}_n(z_{nk}/\max(\|z_n\|,10^{-12}))` (``F.normalize`` eps)."""
    z = as_array(z)
    zn = z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)
    return float(np.mean(np.std(zn, axis=0, ddof=1)))


def stable_rank(z) -> float:
    r""":math:`\sum_i s_i^2/s_1^2`; 0 for an all-zero ``z``."""
    s = singular_values(z)
    return 0.0 if s[0] == 0 else float(np.sum(s**2) / s[0] ** 2)


def _entropy_rank(p) -> float:
    return float(np.exp(-np.sum(p * np.log(p))))


def effective_rank(z) -> float:
    r"""Roy & Vetterli (2007): :math:`\exp H(p)`, :math:`p=s/\|s\|_1`, zero singular values dropped."""
    s = singular_values(z)
    p = s[s > 0] / s.sum() if s.sum() > 0 else np.ones(1)
    return _entropy_rank(p)


def rankme(z, eps: float = 1e-7) -> float:
    r"""RankMe (Garrido et al. 2023, eq. 1): :math:`\exp(-\sum_k p_k\ln p_k)`, :math:`p_k=s_k/\|s\|_1+\varepsilon`."""
    s = singular_values(z)
    p = (s / s.sum() if s.sum() > 0 else np.zeros(s.size)) + eps
    return _entropy_rank(p)


def covariance_eigenvalues(z) -> np.ndarray:
    """Eigenvalues of the centred covariance of ``z`` (1/(n-1)), descending, clipped at 0."""
    z = as_array(z)
    return np.clip(np.linalg.eigvalsh(np.cov(z, rowvar=False).reshape(z.shape[1], z.shape[1]))[::-1], 0, None)


def eigenvalue_ratio(z) -> float:
    """Smallest over largest covariance eigenvalue (0 when any dimension has collapsed)."""
    ev = covariance_eigenvalues(z)
    return 0.0 if ev[0] == 0 else float(ev[-1] / ev[0])


def explained_variance(z) -> np.ndarray:
    """Cumulative explained-variance fractions of the sorted covariance eigenvalues (last entry 1)."""
    ev = covariance_eigenvalues(z)
    return np.cumsum(ev) / ev.sum() if ev.sum() > 0 else np.zeros(ev.size)


def collapse_report(z) -> dict:
    """All diagnostics at once, as plain floats/lists (JSON-ready)."""
    return {"normalized_std": normalized_std(z), "stable_rank": stable_rank(z), "effective_rank": effective_rank(z),
            "rankme": rankme(z), "eigenvalue_ratio": eigenvalue_ratio(z),
            "explained_variance": explained_variance(z).tolist()}
