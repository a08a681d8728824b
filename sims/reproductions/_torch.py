"""Shared torch helpers for the reproductions: deterministic single-threaded context, losses."""
from __future__ import annotations

import contextlib
import math


def check_device(device: str) -> str:
    """``device`` if torch can use it: ``cpu`` or ``cuda[:N]`` with a visible GPU; else ParameterError."""
    from symbolic.errors import ParameterError

    from ..io import require_cuda

    if device == "cpu":
        return device
    if not (device == "cuda" or device.startswith("cuda:")):
        raise ParameterError(f"device must be one of cpu, cuda, cuda:N; got {device!r}")
    require_cuda(f"device {device}")
    return device


@contextlib.contextmanager
def deterministic(seed: int):
    """Seed NumPy and torch, run single-threaded with deterministic algorithms; restore on exit.

    Random numbers come from a CPU generator on every device, so a CUDA run sees the same data,
    initialisation and noise draws as the CPU run (its arithmetic differs in the last bits).
    """
    import os

    import numpy as np
    import torch

    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")     # deterministic cuBLAS, if CUDA is used

    threads, det = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    np.random.seed(seed)    # noqa: NPY002  (code that draws from the legacy global generator is seeded too)
    torch.manual_seed(seed)
    try:
        yield torch.Generator().manual_seed(seed)
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(det)


def logits(z1, z2, kernel: str = "gaussian", tau: float = 0.1):
    r"""Pairwise logits :math:`\ell_{ij}`: Gaussian kernel :math:`-|z_i-z'_j|^2/2` (the papers' InfoNCE) or
    dot product :math:`z_i\cdot z'_j/\tau` (the authors' toy code, :math:`\tau=0.1`). Leading dims batch."""
    if kernel == "gaussian":
        sq = (z1 * z1).sum(-1)[..., :, None] + (z2 * z2).sum(-1)[..., None, :] - 2 * z1 @ z2.transpose(-1, -2)
        return -0.5 * sq
    return z1 @ z2.transpose(-1, -2) / tau


def infonce(z1, z2, kernel: str = "gaussian", tau: float = 0.1):
    r"""InfoNCE, :math:`-\frac1N\sum_i\log\frac{e^{\ell_{ii}}}{\sum_j e^{\ell_{ij}}}`.

    Ziyin eq. 1, Jing eq. 2 (mean over i instead of the sum)."""
    import torch

    lg = logits(z1, z2, kernel, tau)
    return (torch.logsumexp(lg, -1) - torch.diagonal(lg, dim1=-2, dim2=-1)).mean()


def weighted_infonce(z1, z2, alpha: float, self_term: bool):
    r"""Weighted InfoNCE (Ziyin eq. 3), Gaussian kernel:
    :math:`-\log\frac{e^{\ell_{ii}}}{\sum_{j\ne i}e^{\ell_{ij}}+\alpha e^{\ell_{ii}}\,[+(1-\alpha)e^{0}]}`.

    ``self_term=False`` is eq. 3 as printed (its quadratic part is :math:`\frac{N}{N-1+\alpha}A_0`: the
    augmentation term cancels); ``self_term=True`` adds a zero-distance term of weight :math:`1-\alpha`,
    which reproduces eq. 4's :math:`A_0-\frac{1-\alpha}N C` exactly.
    """
    import torch

    lg = logits(z1, z2, "gaussian")
    n = lg.shape[-1]
    pos = torch.diagonal(lg, dim1=-2, dim2=-1)
    off = lg.masked_fill(torch.eye(n, dtype=torch.bool, device=lg.device), -math.inf)
    parts = [off]
    if alpha > 0:
        parts.append((pos + math.log(alpha))[..., None])
    if self_term and alpha < 1:
        parts.append(torch.full_like(pos, math.log(1 - alpha))[..., None])
    return (torch.logsumexp(torch.cat(parts, -1), -1) - pos).mean()
