r"""Collapse diagnostics of a batch of outputs Z (n x h), shared by training runs and theory checks.

* std of the l2-normalised outputs (as solo-learn/lightly log it): :math:`1/\sqrt h` for isotropic
  outputs, 0 at complete collapse;
* stable rank :math:`\|Z\|_F^2/\|Z\|_2^2`;
* effective rank (Roy & Vetterli 2007) :math:`\exp(-\sum_kq_k\log q_k)`, :math:`q_k=\sigma_k/\|\sigma\|_1`;
* RankMe (Garrido et al. 2023, eq. 1): the same entropy with :math:`q_k=\sigma_k/\|\sigma\|_1+\epsilon`;
* the output covariance spectrum, the eigenvalue ratio :math:`\lambda_{max}/\lambda_{min}` and the
  cumulative explained variance.

numpy, float64; torch tensors are accepted (converted). A non-finite batch is reported, not raised.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

#: RankMe's epsilon (Garrido et al. 2023, eq. 1)
RANKME_EPS = 1e-7


def _singular_values(Z) -> np.ndarray:
    """Singular values of ``Z``, descending, on one BLAS thread: the outputs are small (about 1024 x h)
    and a multi-threaded LAPACK call on a busy machine spins for up to a second on them."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return np.linalg.svd(_array(Z), compute_uv=False)
    with threadpool_limits(1):
        return np.linalg.svd(_array(Z), compute_uv=False)


def _array(Z):
    if hasattr(Z, "detach"):
        Z = Z.detach().cpu().double().numpy()
    return np.asarray(Z, dtype=np.float64)


def _entropy_rank(sv, eps: float = 0.0) -> float:
    tot = float(np.sum(sv))
    if tot <= 0:
        return 0.0
    q = sv / tot + eps
    return float(np.exp(-np.sum(q * np.log(q, where=q > 0, out=np.zeros_like(q)))))


def std_l2_normalized(Z) -> float:
    r"""Mean over dimensions of the std of :math:`z/\|z\|` over the batch (solo-learn/lightly)."""
    Z = _array(Z)
    n = np.linalg.norm(Z, axis=1, keepdims=True)
    Zn = Z / np.maximum(n, 1e-12)
    return float(np.mean(np.std(Zn, axis=0, ddof=1)))


def stable_rank(Z) -> float:
    r""":math:`\|Z\|_F^2/\|Z\|_2^2`."""
    return _stable_rank(_singular_values(Z))


def _stable_rank(sv) -> float:
    return float(np.sum(sv**2) / sv[0] ** 2) if sv[0] > 0 else 0.0


def effective_rank(Z) -> float:
    r"""Roy & Vetterli (2007): :math:`\exp H(\sigma/\|\sigma\|_1)`."""
    return _entropy_rank(_singular_values(Z))


def rankme(Z, eps: float = RANKME_EPS) -> float:
    r"""RankMe (Garrido et al. 2023, eq. 1): :math:`\exp(-\sum_k q_k\log q_k)`,
    :math:`q_k=\sigma_k/\|\sigma\|_1+\epsilon`."""
    return _entropy_rank(_singular_values(Z), eps)


def covariance_spectrum(Z) -> np.ndarray:
    """Eigenvalues of the output covariance (centred, ddof=1), descending."""
    Z = _array(Z)
    C = np.cov(Z, rowvar=False)
    return np.sort(np.linalg.eigvalsh(np.atleast_2d(C)))[::-1]


def collapse_diagnostics(Z: ArrayLike, n_cov: int = 32) -> dict:
    r"""Collapse diagnostics of a batch of outputs ``Z`` (n, h); ``finite_outputs`` False if not finite.

    The std of the l2-normalised outputs, the stable rank, the effective rank, RankMe and the
    leading covariance eigenvalues (see the module docstring for their definitions). A batch with
    a NaN or an infinity is reported (``finite_outputs`` False, every diagnostic ``None``), not raised.

    Parameters
    ----------
    Z : array_like or torch.Tensor
        The outputs, one row per sample: shape ``(n, h)``, converted to float64.
    n_cov : int, optional
        How many of the largest covariance eigenvalues to keep in ``cov_spectrum``.

    Returns
    -------
    dict
        ``finite_outputs`` (bool); ``std_l2``, ``stable_rank``, ``effective_rank``, ``rankme``
        (floats); ``cov_spectrum`` (list of at most ``n_cov`` floats, descending). JSON-ready.

    Raises
    ------
    symbolic.errors.ParameterError
        If ``Z`` is not two-dimensional, or is finite with fewer than two rows (a covariance needs two
        samples).

    Examples
    --------
    Six outputs along :math:`\pm e_1,\pm e_2,\pm e_3` are isotropic: rank 3, every normalised
    coordinate has std :math:`\sqrt{2/5}` (ddof 1), the covariance is :math:`0.4I`:

    >>> import numpy as np
    >>> from sims import collapse_diagnostics
    >>> Z = np.vstack([np.eye(3), -np.eye(3)])
    >>> d = collapse_diagnostics(Z)
    >>> d["finite_outputs"], round(d["std_l2"], 4), round(d["stable_rank"], 4), round(d["effective_rank"], 4)
    (True, 0.6325, 3.0, 3.0)
    >>> round(d["rankme"], 4), [round(v, 4) for v in d["cov_spectrum"]]
    (3.0, [0.4, 0.4, 0.4])

    Complete collapse (every output the same) has rank 1 and no spread; a NaN is reported:

    >>> d = collapse_diagnostics(np.ones((4, 3)))
    >>> round(d["std_l2"], 4), round(d["stable_rank"], 4), round(d["effective_rank"], 4)
    (0.0, 1.0, 1.0)
    >>> collapse_diagnostics(np.array([[np.nan, 1.0]]))["rankme"] is None
    True
    """
    from symbolic.errors import ParameterError

    Z = _array(Z)
    bad_shape = f"Z must be a (batch, dim) array with at least 2 rows and 1 column; got shape {Z.shape}"
    if Z.ndim != 2 or Z.shape[1] < 1:
        raise ParameterError(bad_shape)
    if not np.all(np.isfinite(Z)):         # reported before the row count: one bad row is a finding
        return {"finite_outputs": False, "std_l2": None, "stable_rank": None,
                "effective_rank": None, "rankme": None, "cov_spectrum": None}
    if Z.shape[0] < 2:
        raise ParameterError(bad_shape)
    sv = _singular_values(Z)                # one decomposition for the three ranks
    return {"finite_outputs": True, "std_l2": std_l2_normalized(Z), "stable_rank": _stable_rank(sv),
            "effective_rank": _entropy_rank(sv), "rankme": _entropy_rank(sv, RANKME_EPS),
            "cov_spectrum": covariance_spectrum(Z)[:n_cov].tolist()}


def eigenvalue_ratio(Z) -> float:
    """Largest over smallest eigenvalue of the output covariance (inf when the smallest is 0)."""
    ev = covariance_spectrum(Z)
    return float(ev[0] / ev[-1]) if ev[-1] > 0 else float("inf")


def explained_variance(Z) -> np.ndarray:
    """Cumulative fraction of the output variance in the leading k covariance eigenvalues, k = 1..h."""
    ev = np.clip(covariance_spectrum(Z), 0.0, None)
    return np.cumsum(ev) / ev.sum() if ev.sum() > 0 else np.zeros_like(ev)
